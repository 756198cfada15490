package odata

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/query"
)

// A $skiptoken is the keyset position of a page: the values of the sort
// keys (the $orderby properties, then the set's key) of the last row sent,
// as base64url JSON, followed by "." and an HMAC-SHA256 tag over the set,
// the sort and the values. A token that was not minted by this server for
// this set and order is a 400; it carries no key and no filter.

func sortSpec(set *query.Set, sort []query.SortKey) string {
	var b strings.Builder
	b.WriteString(set.Name)
	for _, k := range sort {
		b.WriteString("|" + k.Prop)
		if k.Desc {
			b.WriteString(" desc")
		}
	}
	return b.String()
}

func (s *Service) tag(spec string, payload []byte) []byte {
	m := hmac.New(sha256.New, s.opt.TokenKey)
	m.Write([]byte(spec))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// mintToken encodes the sort values of a row.
func (s *Service) mintToken(set *query.Set, sort []query.SortKey, row []any) string {
	payload := keysetPayload(set, sort, row)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(s.tag(sortSpec(set, sort), payload))
}

// keysetPayload is the JSON of a row's sort values (a token's payload).
func keysetPayload(set *query.Set, sort []query.SortKey, row []any) []byte {
	vals := make([]any, len(sort))
	for i, k := range sort {
		v := row[set.Index(k.Prop)]
		if t, ok := v.(time.Time); ok {
			if c, _ := set.Property(k.Prop); c.Type == reports.Date {
				v = t.Format(time.DateOnly)
			} else {
				v = t.UTC().Format(time.RFC3339Nano)
			}
		}
		vals[i] = v
	}
	payload, _ := json.Marshal(vals)
	return payload
}

// readToken checks a token and returns its typed sort values.
func (s *Service) readToken(set *query.Set, sort []query.SortKey, token string) ([]any, error) {
	bad := apierror.Invalid("$skiptoken", "the $skiptoken is not valid for this query (follow @odata.nextLink as given)")
	enc := base64.RawURLEncoding
	p, t, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 {
		return nil, bad
	}
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(t)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.tag(sortSpec(set, sort), payload)) {
		return nil, bad
	}
	return parseKeyset(set, sort, payload, bad)
}

// parseKeyset reads the typed sort values of a keyset payload; a payload
// that does not fit is bad.
func parseKeyset(set *query.Set, sort []query.SortKey, payload []byte, bad error) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil || len(raw) != len(sort) {
		return nil, bad
	}
	out := make([]any, len(raw))
	for i, v := range raw {
		if v == nil {
			continue
		}
		c, _ := set.Property(sort[i].Prop)
		var err error
		switch c.Type {
		case reports.Int:
			n, ok := v.(json.Number)
			if !ok {
				return nil, bad
			}
			out[i], err = n.Int64()
		case reports.Seconds, reports.Pct, reports.Decimal:
			n, ok := v.(json.Number)
			if !ok {
				return nil, bad
			}
			out[i], err = n.Float64()
		case reports.Date, reports.DateTime:
			str, ok := v.(string)
			if !ok {
				return nil, bad
			}
			layout := time.RFC3339Nano
			if c.Type == reports.Date {
				layout = time.DateOnly
			}
			var tm time.Time
			tm, err = time.Parse(layout, str)
			out[i] = tm
		default:
			str, ok := v.(string)
			if !ok {
				return nil, bad
			}
			out[i] = str
		}
		if err != nil {
			return nil, bad
		}
	}
	return out, nil
}
