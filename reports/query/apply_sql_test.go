package query

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
)

// sqlLog records the SQL of every query run through db's Rows and Count.
type sqlLog struct {
	mu   sync.Mutex
	stmt []string
}

func (l *sqlLog) attach(t *testing.T, db *gorm.DB) {
	rec := func(tx *gorm.DB) {
		l.mu.Lock()
		l.stmt = append(l.stmt, tx.Statement.SQL.String())
		l.mu.Unlock()
	}
	name := "test:sqllog:" + t.Name()
	if err := db.Callback().Row().After("gorm:row").Register(name, rec); err != nil {
		t.Fatal(err)
	}
	if err := db.Callback().Query().After("gorm:query").Register(name, rec); err != nil {
		t.Fatal(err)
	}
}

func (l *sqlLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.stmt
	l.stmt = nil
	return out
}

// TestApplySQLMatchesGo runs $apply pipelines on the session and table sets twice
// over generated sessions — compiled to one SQL GROUP BY, and grouped by
// the Go evaluator over every row — and requires the same rows on each
// back end: nulls, empty inputs, averages of integers, the derived
// durations, text keys that differ only in case, local instants of a
// session log, steps chained after the grouping, and a navigation's scope.
func TestApplySQLMatchesGo(t *testing.T) {
	start := time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2024, 10, 15, 0, 0, 0, 0, time.UTC)
	now := time.Date(2024, 10, 14, 12, 0, 0, 0, time.UTC)
	f := func(x Expr) Transform { return Transform{Filter: x} }
	at := func(s string) Lit { v, _ := time.Parse(time.RFC3339, s); return lit(v) }
	g := func(keys []string, aggs ...Aggregate) Transform {
		return Transform{GroupBy: keys, Grouped: true, Aggregates: aggs}
	}
	agg := func(aggs ...Aggregate) Transform { return Transform{Aggregates: aggs} }
	cnt := Aggregate{Method: "count", As: "N"}
	ag := func(prop, method, as string) Aggregate { return Aggregate{Prop: prop, Method: method, As: as} }
	cases := []struct {
		name  string
		set   string
		steps []Transform
		order []SortKey
		top   int
		min   int // at least this many result rows (0: may be empty)
	}{
		{"count by queue", "Sessions", []Transform{g([]string{"QueueId"}, cnt)}, nil, -1, 3},
		{"every aggregate of an integer", "Sessions", []Transform{g([]string{"QueueId", "State"}, cnt,
			ag("Messages", "sum", "S"), ag("Messages", "average", "A"), ag("Messages", "min", "Lo"),
			ag("Messages", "max", "Hi"), ag("Messages", "countdistinct", "D"))}, nil, -1, 10},
		{"durations", "Sessions", []Transform{g([]string{"EntryPoint"},
			ag("WaitSeconds", "average", "AvgWait"), ag("WaitSeconds", "sum", "SumWait"), ag("WaitSeconds", "min", "MinWait"),
			ag("WaitSeconds", "max", "MaxWait"), ag("HandleSeconds", "average", "AvgHandle"),
			ag("DurationSeconds", "countdistinct", "D"), ag("DurationSeconds", "max", "MaxDur"))}, nil, -1, 3},
		{"grouped by a duration", "Sessions", []Transform{f(bin("eq", p("QueueId"), lit(2))), g([]string{"HandleSeconds"}, cnt)}, nil, -1, 20},
		{"null keys group together", "Sessions", []Transform{g([]string{"Rating", "SkillTag"}, cnt, ag("Rating", "average", "A"))}, nil, -1, 5},
		{"joined text keys", "Sessions", []Transform{g([]string{"QueueName", "AgentName"}, cnt, ag("GuestEmail", "countdistinct", "Guests"))}, nil, -1, 5},
		{"derived guest name", "Sessions", []Transform{g([]string{"GuestName"}, cnt, ag("GuestName", "min", "Lo"))}, nil, -1, 5},
		{"case-sensitive text keys", "Sessions", []Transform{g([]string{"SkillTag"}, cnt, ag("Question", "min", "Q"), ag("Question", "max", "QMax"), ag("SkillTag", "countdistinct", "D"))}, nil, -1, 4},
		{"instants", "Sessions", []Transform{g([]string{"QueueId"}, ag("StartedAt", "min", "First"), ag("EndedAt", "max", "Last"), ag("AcceptedAt", "countdistinct", "D"))}, nil, -1, 3},
		{"aggregate without groupby", "Sessions", []Transform{agg(cnt, ag("Files", "sum", "F"), ag("WaitSeconds", "average", "W"), ag("Rating", "max", "R"))}, nil, -1, 1},
		{"filtered then aggregated", "Sessions", []Transform{f(And(bin("ge", p("StartedAt"), at("2024-10-03T00:00:00Z")), bin("lt", p("StartedAt"), at("2024-10-05T00:00:00Z")), call("contains", p("GuestName"), lit("a")))),
			g([]string{"QueueId"}, ag("WaitSeconds", "average", "AvgWait"), cnt)}, nil, -1, 3},
		{"two filters", "Sessions", []Transform{f(bin("ne", p("QueueId"), lit(1))), f(bin("ge", p("Rating"), lit(3))), agg(cnt, ag("Rating", "average", "A"))}, nil, -1, 1},
		{"aggregate over nothing is one row", "Sessions", []Transform{f(bin("lt", p("StartedAt"), at("2000-01-01T00:00:00Z"))),
			agg(cnt, ag("Messages", "sum", "S"), ag("Messages", "average", "A"), ag("QueuedAt", "min", "Q"), ag("Messages", "countdistinct", "D"))}, nil, -1, 1},
		{"groupby over nothing is no row", "Sessions", []Transform{f(bin("lt", p("StartedAt"), at("2000-01-01T00:00:00Z"))), g([]string{"QueueId"}, cnt)}, nil, -1, 0},
		{"groupby without aggregate", "Sessions", []Transform{g([]string{"State", "EntryPoint"})}, nil, -1, 5},
		{"filter after grouping", "Sessions", []Transform{g([]string{"QueueId", "State"}, cnt), f(bin("gt", p("N"), lit(20)))}, nil, -1, 3},
		{"filter after grouping on text and integers", "Sessions", []Transform{g([]string{"State", "SkillTag"}, cnt, ag("Messages", "sum", "S"), ag("Question", "min", "Q"), ag("Rating", "countdistinct", "D")),
			f(bin("or", bin("or", And(bin("ne", p("SkillTag"), lit("vpn")), bin("ge", p("S"), lit(100))), bin("eq", p("SkillTag"), lit(nil))),
				bin("or", Unary{Op: "not", X: bin("lt", p("D"), lit(3))}, call("startswith", p("Q"), lit("VPN")))))}, nil, -1, 3},
		{"filter after grouping on an average stays in Go", "Sessions", []Transform{g([]string{"QueueId"}, ag("WaitSeconds", "average", "W"), cnt), f(bin("gt", p("W"), lit(30.0)))}, nil, -1, 1},
		{"filter after an aggregate without groupby", "Sessions", []Transform{agg(cnt, ag("Files", "max", "F")), f(bin("gt", p("N"), lit(1000000)))}, nil, -1, 0},
		{"filter after grouping, then more steps", "Sessions", []Transform{g([]string{"QueueId", "EntryPoint"}, cnt), f(In{X: p("EntryPoint"), List: []Expr{lit("teams"), lit("api")}}), g([]string{"QueueId"}, ag("N", "sum", "T"))}, nil, -1, 3},
		{"groupby after groupby", "Sessions", []Transform{g([]string{"QueueId", "State"}, cnt), g([]string{"QueueId"}, ag("N", "sum", "T"), ag("N", "max", "Most"))}, nil, -1, 3},
		{"ordered and topped", "Sessions", []Transform{g([]string{"State"}, cnt)}, []SortKey{{Prop: "N", Desc: true}}, 3, 3},
		{"zoned session log", "GlobalChatSessionLog", []Transform{g([]string{"QueueId"}, cnt, ag("SessionStarted", "min", "First"), ag("EndedAt", "max", "Last"))}, nil, -1, 3},
		{"messages by sender", "Messages", []Transform{g([]string{"SenderType", "Visibility"}, cnt, ag("Seq", "max", "MaxSeq"), ag("Seq", "average", "AvgSeq"),
			ag("SentAt", "min", "First"), ag("SessionId", "countdistinct", "Sessions"), ag("SenderName", "max", "Name"))}, nil, -1, 3},
		{"messages of some sessions", "Messages", []Transform{agg(cnt, ag("Seq", "sum", "S"), ag("Body", "min", "B"))}, nil, -1, 1},
		{"participants", "Participants", []Transform{g([]string{"Role", "JoinReason"}, ag("MessageCount", "sum", "S"), ag("MessageCount", "average", "A"),
			ag("JoinedAt", "max", "Last"), ag("LeftAt", "min", "FirstLeft"), ag("AgentId", "countdistinct", "Agents"))}, nil, -1, 2},
		{"offers", "Offers", []Transform{f(bin("ne", p("Outcome"), lit(nil))), g([]string{"Outcome"}, cnt, ag("AgentId", "countdistinct", "Agents"), ag("RespondedAt", "max", "R"))}, nil, -1, 2},
		{"ratings with a filter after", "Ratings", []Transform{g([]string{"QueueId", "Rating"}, cnt, ag("SubmittedAt", "min", "First")), f(bin("gt", p("N"), lit(5)))}, nil, -1, 3},
		{"bot interactions", "BotInteractions", []Transform{g([]string{"Outcome", "HandoffReason"}, cnt, ag("Turns", "average", "T"), ag("TopIntent", "countdistinct", "Intents"))}, nil, -1, 2},
		{"messages by sender name", "Messages", []Transform{g([]string{"SenderName"}, cnt, ag("Body", "countdistinct", "Bodies"))}, nil, -1, 3},
		{"text functions after grouping", "Sessions", []Transform{g([]string{"SkillTag"}, cnt, ag("Question", "max", "Q")),
			f(bin("or", bin("eq", call("tolower", p("SkillTag")), lit("vpn ")), bin("eq", call("length", p("Q")), lit(10))))}, nil, -1, 1},
		{"keywords", "Keywords", []Transform{g([]string{"Source"}, ag("Occurrences", "sum", "S"), ag("Keyword", "countdistinct", "K"), ag("Keyword", "min", "First"))}, nil, -1, 1},
	}
	// A navigation's scope (Sessions(n)/Transcript) comes with $apply as
	// the query's filter.
	scopes := map[string]Expr{"messages of some sessions": In{X: p("SessionId"), List: []Expr{lit(3), lit(40), lit(41), lit(900)}}}
	havingCases := map[string]bool{"filter after grouping": true, "filter after grouping on text and integers": true,
		"filter after an aggregate without groupby": true, "filter after grouping, then more steps": true,
		"ratings with a filter after": true, "text functions after grouping": true}
	// The same generated data on each back end: the answers must be the
	// same on all of them, not only each equal to its own Go grouping.
	first := map[string][][]any{}
	firstName := ""
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if firstName == "" {
			firstName = b.Name
		}
		if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: start, End: end, Sessions: 1500, Seed: 11, Now: now}); err != nil {
			t.Fatal(err)
		}
		// Text that differs only in case, and by a trailing letter, must
		// stay apart (MySQL's default collation would merge it).
		for _, u := range []string{
			"UPDATE chat_sessions SET skill_tag = 'VPN' WHERE id % 5 = 0",
			"UPDATE chat_sessions SET skill_tag = 'vpn', question = 'vpn drops' WHERE id % 5 = 1",
			"UPDATE chat_sessions SET skill_tag = 'Vpn', question = 'VPN drops' WHERE id % 5 = 2",
			// … and text that differs only by a trailing space (MySQL's
			// binary collations would merge these too).
			"UPDATE chat_sessions SET skill_tag = 'vpn ', question = 'vpn drops ' WHERE id % 5 = 3",
			"UPDATE session_messages SET sender_name = 'Ann' WHERE id % 7 = 0",
			"UPDATE session_messages SET sender_name = 'Ann ' WHERE id % 7 = 1",
		} {
			if err := b.DB.Exec(u).Error; err != nil {
				t.Fatal(err)
			}
		}
		ny, _ := time.LoadLocation("America/New_York")
		re := reports.NewEngine(b.DB, func() time.Time { return now })
		sqlE, goE := NewEngine(re), NewEngine(re)
		goE.goApply = true
		log := &sqlLog{}
		log.attach(t, b.DB)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				set, _ := LookupSet(c.set)
				q := SetQuery{Set: set, Visible: []uint32{1, 2, 3, 4}, Apply: c.steps, OrderBy: c.order, Top: c.top, Zone: ny, Filter: scopes[c.name]}
				table, acl := "chat_sessions", "s.queue_id IN ("
				if t, ok := tables[c.set]; ok {
					table, _, _ = strings.Cut(t.from, " ")
					acl = t.queue + " IN ("
				}
				want, err := goE.QuerySet(ctx, q)
				if err != nil {
					t.Fatalf("Go: %v", err)
				}
				wantRows, _ := reports.Collect(want.Rows)
				log.take()
				got, err := sqlE.QuerySet(ctx, q)
				if err != nil {
					t.Fatalf("SQL: %v", err)
				}
				gotRows, _ := reports.Collect(got.Rows)
				var stmts []string // the reads of the set's table (the queues' settings are read too)
				for _, s := range log.take() {
					if strings.Contains(s, table) {
						stmts = append(stmts, s)
					}
				}
				// A filter right after the grouping is its HAVING when it
				// reads exact values only.
				if wantHaving := havingCases[c.name]; len(stmts) == 1 && strings.Contains(stmts[0], "HAVING") != wantHaving {
					t.Errorf("HAVING in the SQL: %v, want %v: %s", !wantHaving, wantHaving, stmts[0])
				}
				if len(stmts) != 1 || !strings.Contains(stmts[0], acl) ||
					!strings.Contains(stmts[0], "GROUP BY") && !strings.Contains(stmts[0], "COUNT(") && !strings.Contains(stmts[0], "SUM(") {
					t.Errorf("want one aggregating SQL query with the ACL, ran %d: %q", len(stmts), stmts)
				}
				if !slices.EqualFunc(got.Props, want.Props, func(a, b reports.Column) bool { return a.Name == b.Name && a.Type == b.Type }) {
					t.Fatalf("props %v, want %v", got.Props, want.Props)
				}
				if len(gotRows) != len(wantRows) {
					t.Fatalf("%d rows, want %d\nSQL %v\nGo  %v", len(gotRows), len(wantRows), gotRows, wantRows)
				}
				if len(wantRows) < c.min {
					t.Errorf("only %d rows; the case needs at least %d to mean something", len(wantRows), c.min)
				}
				if scopes[c.name] != nil && (len(wantRows) != 1 || wantRows[0][0] == int64(0)) {
					t.Errorf("the scoped aggregate counted no row: %v", wantRows)
				}
				for i := range wantRows {
					for j := range wantRows[i] {
						if !sameValue(gotRows[i][j], wantRows[i][j]) {
							t.Errorf("row %d %s: SQL %#v, Go %#v\nSQL %v\nGo  %v", i, got.Props[j].Name, gotRows[i][j], wantRows[i][j], gotRows[i], wantRows[i])
						}
					}
				}
				if b.Name == firstName {
					first[c.name] = gotRows
				} else if other, ok := first[c.name]; !ok || len(other) != len(gotRows) {
					t.Errorf("%d rows on %s, %d here", len(other), firstName, len(gotRows))
				} else {
					for i := range other {
						for j := range other[i] {
							if !sameValue(gotRows[i][j], other[i][j]) {
								t.Errorf("row %d %s: %#v here, %#v on %s", i, got.Props[j].Name, gotRows[i][j], other[i][j], firstName)
							}
						}
					}
				}
				n, err := sqlE.CountSet(ctx, q)
				if q.Top < 0 && (err != nil || n != int64(len(wantRows))) {
					t.Errorf("count %d (%v), want %d", n, err, len(wantRows))
				}
			})
		}
		t.Run("case kept apart", func(t *testing.T) {
			set, _ := LookupSet("Sessions")
			res, err := sqlE.QuerySet(ctx, SetQuery{Set: set, Visible: []uint32{1, 2, 3, 4}, Top: -1,
				Apply: []Transform{g([]string{"SkillTag"}, cnt)}})
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := reports.Collect(res.Rows)
			var tags []any
			for _, r := range rows {
				tags = append(tags, r[0])
			}
			for _, want := range []string{"VPN", "Vpn", "vpn", "vpn "} {
				if !slices.Contains(tags, any(want)) {
					t.Errorf("no group %q in %v", want, tags)
				}
			}
		})
	})
}

// sameValue compares result cells: floats to 1e-9 relative (sums of
// tenths are exact in SQL and summed in float64 in Go), instants as the
// same instant in the same zone, the rest exactly.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && x.Location().String() == y.Location().String()
	}
	return fmt.Sprintf("%T %v", a, a) == fmt.Sprintf("%T %v", b, b)
}

// TestDurationTenths: the SQL rounding of whole milliseconds to tenths of
// a second, (ms + 50) div 100, is the row's Round(seconds, 1) for every
// duration up to two days.
func TestDurationTenths(t *testing.T) {
	for ms := int64(0); ms < 2*86_400_000; ms += 7 {
		for _, m := range []int64{ms, ms + 50 - ms%100} { // every half-way case too
			sec := (time.Duration(m) * time.Millisecond).Seconds()
			if got, want := float64((m+50)/100)/10, reports.Round(sec, 1); got != want {
				t.Fatalf("%d ms: %v, want %v", m, got, want)
			}
		}
	}
}

// TestSelectAndCountReadOnlyTheirJoins: a read with Select gives the
// selected values of the full read, row for row, from a query without the
// joins only the other properties need; a count joins only what its
// filter reads; the queue name never needs its join.
func TestSelectAndCountReadOnlyTheirJoins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		now := time.Date(2024, 10, 14, 12, 0, 0, 0, time.UTC)
		if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: now.AddDate(0, 0, -10), End: now, Sessions: 600, Seed: 3, Now: now}); err != nil {
			t.Fatal(err)
		}
		e := NewEngine(reports.NewEngine(b.DB, func() time.Time { return now }))
		log := &sqlLog{}
		log.attach(t, b.DB)
		set, _ := LookupSet("Sessions")
		visible := []uint32{1, 2, 3}
		full, err := e.QuerySet(ctx, SetQuery{Set: set, Visible: visible, Top: -1})
		if err != nil {
			t.Fatal(err)
		}
		all, _ := reports.Collect(full.Rows)
		if len(all) < 100 {
			t.Fatalf("only %d sessions", len(all))
		}
		joinsIn := func() []string {
			var out []string
			for _, s := range log.take() {
				if !strings.Contains(s, "chat_sessions") {
					continue
				}
				for _, tbl := range []string{"queues", "seekers", "users", "session_ratings"} {
					if strings.Contains(s, "JOIN "+tbl+" ") {
						out = append(out, tbl)
					}
				}
			}
			return out
		}
		cases := []struct {
			sel    []string
			filter Expr
			joins  []string
		}{
			{[]string{"SessionId", "StartedAt", "QueueName", "WaitSeconds", "HandleSeconds", "DurationSeconds", "EndedAt"}, nil, nil},
			{[]string{"SessionId", "GuestName", "Rating"}, nil, []string{"seekers", "session_ratings"}},
			{[]string{"SessionId", "AgentName"}, bin("ge", p("Rating"), lit(4)), []string{"users", "session_ratings"}},
			{[]string{"SessionId", "State"}, bin("ne", p("QueueName"), lit("")), []string{"queues"}},
			{nil, nil, []string{"seekers", "users", "session_ratings"}},
		}
		for i, c := range cases {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				ev := &evaluator{index: set.index, now: now}
				var want [][]any
				for _, r := range all {
					if c.filter == nil || ev.test(c.filter, r) {
						want = append(want, r)
					}
				}
				log.take()
				res, err := e.QuerySet(ctx, SetQuery{Set: set, Visible: visible, Top: -1, Select: c.sel, Filter: c.filter})
				if err != nil {
					t.Fatal(err)
				}
				got, _ := reports.Collect(res.Rows)
				if joins := joinsIn(); !slices.Equal(joins, c.joins) {
					t.Errorf("joins %v, want %v", joins, c.joins)
				}
				if len(got) != len(want) || len(want) < 10 {
					t.Fatalf("%d rows, want %d (at least 10)", len(got), len(want))
				}
				names := c.sel
				if names == nil {
					names = set.propNames()
				}
				for k := range want {
					for _, n := range names {
						j := set.Index(n)
						if !sameValue(got[k][j], want[k][j]) {
							t.Fatalf("row %d %s: %v, want %v", k, n, got[k][j], want[k][j])
						}
					}
				}
			})
		}
		for _, c := range []struct {
			filter Expr
			joins  []string
		}{
			{nil, nil},
			{bin("eq", p("State"), lit("Completed")), nil},
			{call("contains", p("GuestName"), lit("a")), []string{"seekers"}},
			{bin("eq", p("Rating"), lit(nil)), []string{"session_ratings"}},
		} {
			log.take()
			n, err := e.CountSet(ctx, SetQuery{Set: set, Visible: visible, Filter: c.filter})
			ev := &evaluator{index: set.index, now: now}
			var want int64
			for _, r := range all {
				if c.filter == nil || ev.test(c.filter, r) {
					want++
				}
			}
			if err != nil || n != want {
				t.Errorf("count %v: %d (%v), want %d", c.filter, n, err, want)
			}
			if joins := joinsIn(); !slices.Equal(joins, c.joins) {
				t.Errorf("count %v joins %v, want %v", c.filter, joins, c.joins)
			}
		}
	})
}
