package odata

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/query"
)

// tokenCase is one set and $orderby a token may belong to.
type tokenCase struct {
	set  *query.Set
	sort []query.SortKey
}

func tokenCases(t testing.TB) []tokenCase {
	var out []tokenCase
	for _, c := range []struct{ set, orderBy string }{
		{"Sessions", ""}, {"Sessions", "StartedAt desc"}, {"Sessions", "QueueId,Rating desc,Question"},
		{"Queues", ""}, {"Agents", "AgentName desc"}, {"InboundVsAnsweredChats", "Date desc"},
	} {
		set, ok := query.LookupSet(c.set)
		if !ok {
			t.Fatalf("no set %s", c.set)
		}
		ob, err := parseOrderBy(set, c.orderBy, nil, false)
		if err != nil {
			t.Fatalf("%s $orderby=%s: %v", c.set, c.orderBy, err)
		}
		out = append(out, tokenCase{set, set.Sort(ob)})
	}
	return out
}

// sampleRow is a row of set with a typed value in every property (nil in
// every third one when withNulls).
func sampleRow(set *query.Set, withNulls bool) []any {
	row := make([]any, len(set.Props))
	for i, c := range set.Props {
		if withNulls && i%3 == 1 {
			continue
		}
		switch c.Type {
		case reports.Int:
			row[i] = int64(42 + i)
		case reports.Seconds, reports.Pct, reports.Decimal:
			row[i] = 12.5 + float64(i)
		case reports.Date, reports.DateTime:
			row[i] = time.Date(2024, 11, 3, 1, 30, 0, 250e6, time.UTC)
		default:
			row[i] = "a'b\"c; DROP TABLE chat_sessions;--"
		}
	}
	return row
}

// FuzzSkiptoken: a $skiptoken that this server did not mint for the set
// and order is a 400 about $skiptoken, never a panic and never accepted;
// a token whose payload is signed but garbled (as a leaked signing key
// would allow) is a 400 or becomes a keyset predicate that compiles to
// SQL with one placeholder per argument.
func FuzzSkiptoken(f *testing.F) {
	s := New(nil, slog.New(slog.DiscardHandler), Options{TokenKey: []byte("fuzz-token-key-0123456789abcdef!")})
	cases := tokenCases(f)
	minted := map[int]map[string]bool{} // case → payloads this server signed
	for i, c := range cases {
		minted[i] = map[string]bool{}
		for _, nulls := range []bool{false, true} {
			tok := s.mintToken(c.set, c.sort, sampleRow(c.set, nulls))
			p, _, _ := strings.Cut(tok, ".")
			payload, _ := base64.RawURLEncoding.DecodeString(p)
			minted[i][string(payload)] = true
			f.Add(uint8(i), tok, payload)
		}
	}
	f.Add(uint8(0), "", []byte(`[1]`))
	f.Add(uint8(0), ".", []byte(`["2024-11-03T01:30:00Z",1e400]`))
	f.Add(uint8(1), "W10.AAAA", []byte(`[null]`))
	f.Add(uint8(2), "bm90IGpzb24.c2ln", []byte(`[99999999999999999999,"x",{"a":1}]`))
	f.Add(uint8(5), "%2e%2e.%00", []byte(`["0000-01-01",1]`))
	f.Add(uint8(5), "W1tbW1tbW1tbW1tbW1tbW10.", []byte(strings.Repeat("[", 10000)))

	badToken := func(t *testing.T, err error) {
		t.Helper()
		var ae *apierror.Error
		if !errors.As(asOption(err), &ae) || ae.Status() != 400 || ae.Target != "$skiptoken" {
			t.Fatalf("not a 400 about $skiptoken: %#v", err)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, token string, payload []byte) {
		i := int(which) % len(cases)
		c := cases[i]

		// Garbled or forged: refused unless it carries a payload we signed.
		if vals, err := s.readToken(c.set, c.sort, token); err != nil {
			badToken(t, err)
		} else {
			p, _, _ := strings.Cut(token, ".")
			got, _ := base64.RawURLEncoding.DecodeString(p)
			if !minted[i][string(got)] {
				t.Fatalf("accepted a token this server never minted: %q → %v", token, vals)
			}
		}

		// Signed but garbled payload.
		enc := base64.RawURLEncoding
		signed := enc.EncodeToString(payload) + "." + enc.EncodeToString(s.tag(sortSpec(c.set, c.sort), payload))
		vals, err := s.readToken(c.set, c.sort, signed)
		if err != nil {
			badToken(t, err)
			return
		}
		pred, err := c.set.AfterPredicate(c.sort, vals)
		if err != nil {
			badToken(t, err)
			return
		}
		if !c.set.SQLBacked() {
			return
		}
		where, args, err := c.set.WhereSQL(pred, false, time.Unix(0, 0))
		if err != nil {
			badToken(t, err)
			return
		}
		if n := strings.Count(where, "?"); n != len(args) {
			t.Fatalf("%d placeholders for %d arguments: %s", n, len(args), where)
		}
	})
}
