package query

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

func lit(v any) Lit {
	switch x := v.(type) {
	case nil:
		return Lit{Kind: KindNull}
	case int:
		return Lit{Kind: KindInt, V: int64(x)}
	case float64:
		return Lit{Kind: KindFloat, V: x}
	case string:
		return Lit{Kind: KindString, V: x}
	case bool:
		return Lit{Kind: KindBool, V: x}
	case time.Time:
		return Lit{Kind: KindDateTime, V: x}
	}
	panic("lit")
}

func bin(op string, l, r Expr) Expr { return Binary{Op: op, L: l, R: r} }
func p(name string) Prop            { return Prop{Name: name} }
func call(fn string, args ...Expr) Expr {
	return Call{Func: fn, Args: args}
}

// TestSessionFilterSQLMatchesGo runs each predicate twice over the golden
// sessions — compiled to SQL by the engine, and evaluated in Go over every
// row — and requires the same rows on each back end: the SQL compiler must
// keep OData's semantics (two-valued logic, null-safe eq/ne, case-sensitive
// byte-wise strings, characters not bytes).
func TestSessionFilterSQLMatchesGo(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	cases := []struct {
		name string
		x    Expr
		min  int // at least this many rows match (so the case tests something)
	}{
		{"range", bin("and", bin("ge", p("StartedAt"), lit(at("2024-11-03T00:00:00Z"))), bin("lt", p("StartedAt"), lit(at("2024-11-04T00:00:00Z")))), 5},
		{"range with offset", bin("ge", p("StartedAt"), lit(at("2024-11-03T12:00:00+05:00"))), 5},
		{"eq null", bin("eq", p("AcceptedAt"), lit(nil)), 3},
		{"ne null", bin("ne", p("Rating"), lit(nil)), 2},
		{"ne value keeps nulls", bin("ne", p("Rating"), lit(5)), 10},
		{"not over null", Unary{Op: "not", X: bin("gt", p("Rating"), lit(3))}, 10},
		{"not not", Unary{Op: "not", X: Unary{Op: "not", X: bin("gt", p("Rating"), lit(3))}}, 1},
		{"prop eq prop null-safe", bin("eq", p("AcceptedAt"), p("EndedAt")), 1},
		{"prop ne prop", bin("ne", p("QueuedAt"), p("StartedAt")), 1},
		{"contains is case-sensitive", call("contains", p("Question"), lit("VPN")), 1},
		{"contains lower finds nothing upper", call("contains", p("Question"), lit("vpn")), 0},
		{"startswith", call("startswith", p("Question"), lit("Out")), 1},
		{"endswith", call("endswith", p("GuestName"), lit("son")), 1},
		{"endswith empty", call("endswith", p("Question"), lit("")), 2},
		{"like metacharacters are literal", call("contains", p("Question"), lit("%")), 0},
		{"underscore literal", call("contains", p("SkillTag"), lit("_")), 0},
		{"tolower", bin("eq", call("tolower", p("Question")), lit("vpn drops")), 1},
		{"toupper", bin("eq", call("toupper", p("State")), lit("COMPLETED")), 3},
		{"eq is case-sensitive", bin("eq", p("State"), lit("completed")), 0},
		{"string order is byte order", bin("lt", p("EntryPoint"), lit("teams")), 1},
		{"length", bin("gt", call("length", p("Question")), lit(10)), 1},
		{"indexof", bin("eq", call("indexof", p("Question"), lit("password")), lit(8)), 1},
		{"substring", bin("eq", call("substring", p("Question"), lit(0), lit(3)), lit("VPN")), 1},
		{"substring from", bin("eq", call("substring", p("State"), lit(3)), lit("pleted")), 3},
		{"concat", bin("eq", call("concat", p("State"), p("EntryPoint")), lit("Completedteams")), 3},
		{"trim", bin("eq", call("trim", p("State")), lit("Completed")), 3},
		{"year month day", bin("and", bin("eq", call("year", p("StartedAt")), lit(2024)), bin("and", bin("eq", call("month", p("StartedAt")), lit(11)), bin("eq", call("day", p("StartedAt")), lit(3)))), 5},
		{"hour minute second", bin("and", bin("eq", call("hour", p("StartedAt")), lit(3)), bin("and", bin("eq", call("minute", p("StartedAt")), lit(59)), bin("eq", call("second", p("StartedAt")), lit(59)))), 1},
		{"arithmetic", bin("gt", bin("add", p("Messages"), bin("mul", p("Files"), lit(2))), lit(11)), 3},
		{"integer division", bin("eq", bin("div", p("Messages"), lit(7)), lit(1)), 1},
		{"float division", bin("gt", bin("div", p("Messages"), lit(7.0)), lit(1.5)), 1},
		{"mod", bin("eq", bin("mod", p("Messages"), lit(2)), lit(1)), 1},
		{"division by zero is null", bin("eq", bin("div", p("Messages"), lit(0)), lit(nil)), 5},
		{"in", In{X: p("QueueId"), List: []Expr{lit(2), lit(3)}}, 3},
		{"in strings", In{X: p("EntryPoint"), List: []Expr{lit("teams"), lit("webclient")}}, 3},
		{"in with null", In{X: p("SkillTag"), List: []Expr{lit(nil), lit("vpn")}}, 3},
		{"not in", Unary{Op: "not", X: In{X: p("SkillTag"), List: []Expr{lit("vpn")}}}, 3},
		{"round floor ceiling on ints", bin("eq", call("round", p("Messages")), call("floor", call("ceiling", p("Messages")))), 10},
		{"negation", bin("lt", Unary{Op: "-", X: p("Messages")}, lit(-20)), 1},
		{"or across columns", bin("or", bin("eq", p("QueueId"), lit(2)), call("contains", p("GuestName"), lit("Wil"))), 3},
		{"now", bin("lt", p("StartedAt"), Call{Func: "now"}), 10},
		{"guest name derived", bin("eq", p("GuestName"), lit("Peyton Wilson")), 1},
		{"date", bin("eq", call("date", p("StartedAt")), Lit{Kind: KindDate, V: time.Date(2024, 11, 3, 0, 0, 0, 0, time.UTC)}), 5},
		{"date range", bin("and", bin("ge", call("date", p("EndedAt")), Lit{Kind: KindDate, V: time.Date(2024, 11, 3, 0, 0, 0, 0, time.UTC)}), bin("lt", call("date", p("EndedAt")), Lit{Kind: KindDate, V: time.Date(2024, 11, 5, 0, 0, 0, 0, time.UTC)})), 3},
		{"year of date", bin("eq", call("year", call("date", p("StartedAt"))), lit(2024)), 10},
		{"now minus duration", bin("ge", p("StartedAt"), bin("sub", Call{Func: "now"}, Lit{Kind: KindDuration, V: 40 * 24 * time.Hour})), 10},
		{"instant plus duration", bin("lt", p("StartedAt"), bin("add", lit(at("2024-11-02T23:00:00Z")), Lit{Kind: KindDuration, V: 25 * time.Hour})), 5},
	}
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if err := golden.Load(ctx, b.DB); err != nil {
			t.Fatal(err)
		}
		e := NewEngine(reports.NewEngine(b.DB, func() time.Time { return golden.Now }))
		set, _ := LookupSet("Sessions")
		visible := []uint32{1, 2, 3}
		all, err := e.QuerySet(ctx, SetQuery{Set: set, Visible: visible, Top: -1})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := reports.Collect(all.Rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) < 20 {
			t.Fatalf("only %d golden sessions", len(rows))
		}
		ev := &evaluator{index: set.index, now: golden.Now}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if err := set.CheckPredicate(c.x); err != nil {
					t.Fatalf("check: %v", err)
				}
				var want []int64
				for _, r := range rows {
					if ev.test(c.x, r) {
						want = append(want, r[0].(int64))
					}
				}
				res, err := e.QuerySet(ctx, SetQuery{Set: set, Visible: visible, Filter: c.x, Top: -1})
				if err != nil {
					t.Fatalf("SQL: %v", err)
				}
				got, err := reports.Collect(res.Rows)
				if err != nil {
					t.Fatalf("SQL rows: %v", err)
				}
				var ids []int64
				for _, r := range got {
					ids = append(ids, r[0].(int64))
				}
				if !slices.Equal(ids, want) {
					where, args, _ := set.WhereSQL(c.x, b.Name == "mysql", golden.Now)
					t.Errorf("SQL gives %v, Go gives %v\n%s %v", ids, want, where, args)
				}
				if len(want) < c.min {
					t.Errorf("only %d rows match; the case needs at least %d to mean something", len(want), c.min)
				}
				n, err := e.CountSet(ctx, SetQuery{Set: set, Visible: visible, Filter: c.x})
				if err != nil || n != int64(len(want)) {
					t.Errorf("count %d (%v), want %d", n, err, len(want))
				}
			})
		}
	})
}

// TestWhereSQLHasOnlyPlaceholders: values never reach the SQL text.
func TestWhereSQLHasOnlyPlaceholders(t *testing.T) {
	set, _ := LookupSet("Sessions")
	evil := "x' OR 1=1; DROP TABLE chat_sessions; --"
	x := bin("or", bin("eq", p("Question"), lit(evil)), call("contains", p("GuestName"), lit(evil)))
	for _, mysql := range []bool{false, true} {
		where, args, err := set.WhereSQL(x, mysql, golden.Now)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(where, "DROP") || strings.Count(where, "?") != len(args) {
			t.Errorf("mysql=%v: %s %v", mysql, where, args)
		}
	}
}

// TestCoverSpansTheFilter: the covering range of a filter holds every
// bucket the filter may keep, widened to whole local days; conditions it
// cannot read (measures, not) leave it open, never narrower.
func TestCoverSpansTheFilter(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	set, _ := LookupSet("InboundVsAnsweredChats")
	hours, _ := LookupSet("QueueDepthByHour")
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	date := func(s string) Lit { v, _ := time.Parse(time.DateOnly, s); return Lit{Kind: KindDate, V: v} }
	day := func(d string) Expr { return bin("eq", p("Date"), date(d)) }
	cases := []struct {
		name   string
		set    *Set
		x      Expr
		lo, hi string // "" = open
		none   bool
	}{
		{"UTC partition over NY days", set, bin("and", bin("ge", p("PeriodStart"), lit(at("2024-11-01T00:00:00Z"))), bin("lt", p("PeriodStart"), lit(at("2024-12-01T00:00:00Z")))),
			"2024-10-31T04:00:00Z", "2024-12-01T05:00:00Z", false},
		{"reversed comparison, open lower side", set, bin("gt", lit(at("2024-11-03T04:00:00Z")), p("PeriodStart")), "", "2024-11-03T04:00:00Z", false},
		{"dates, fall-back day is 25 hours", set, bin("and", bin("ge", p("Date"), date("2024-11-03")), bin("le", p("Date"), date("2024-11-03"))),
			"2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z", false},
		{"year and month", set, bin("and", bin("eq", call("year", p("PeriodStart")), lit(2020)), bin("eq", call("month", p("PeriodStart")), lit(12))),
			"2020-11-29T05:00:00Z", "2021-01-02T05:00:00Z", false},
		{"or of two ranges is their hull", set, bin("or", day("2020-12-01"), bin("and", bin("ge", p("Date"), date("2024-11-02")), bin("lt", p("Date"), date("2024-11-04")))),
			"2020-12-01T05:00:00Z", "2024-11-04T05:00:00Z", false},
		{"in list", set, In{X: p("Date"), List: []Expr{date("2023-05-05"), date("2020-12-01")}}, "2020-12-01T05:00:00Z", "2023-05-06T04:00:00Z", false},
		{"open upper side", set, bin("ge", p("PeriodStart"), lit(at("2020-01-01T00:00:00Z"))), "2019-12-31T05:00:00Z", "", false},
		{"a measure leaves it open", set, bin("gt", p("Inbound"), lit(3)), "", "", false},
		{"not leaves it open", set, Unary{Op: "not", X: day("2024-11-03")}, "", "", false},
		{"or with a measure is open", set, bin("or", day("2024-11-03"), bin("gt", p("Inbound"), lit(3))), "", "", false},
		{"disjoint ranges", set, bin("and", day("2024-11-03"), day("2024-11-05")), "", "", true},
		{"hours widen to the day", hours, bin("and", bin("ge", p("PeriodStart"), lit(at("2024-11-03T05:30:00Z"))), bin("le", p("PeriodStart"), lit(at("2024-11-03T07:00:00Z")))),
			"2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.set.CheckPredicate(c.x); err != nil {
				t.Fatal(err)
			}
			sp := c.set.cover(c.x, ny)
			if sp.none != c.none {
				t.Fatalf("none = %v", sp.none)
			}
			show := func(x *time.Time, snap func(store.Interval, time.Time, *time.Location) time.Time) string {
				if x == nil {
					return ""
				}
				return snap(store.P1D, *x, ny).UTC().Format(time.RFC3339)
			}
			if lo, hi := show(sp.lo, floor), show(sp.hi, ceil); !c.none && (lo != c.lo || hi != c.hi) {
				t.Errorf("covers [%s, %s), want [%s, %s)", lo, hi, c.lo, c.hi)
			}
		})
	}
}

// TestSetKeys: every set has a key of existing properties.
func TestSetKeys(t *testing.T) {
	if n := len(Sets()); n != len(reports.All())+9 { // + Sessions, Queues, Agents and the six raw tables beside them
		t.Fatalf("%d sets for %d reports", n, len(reports.All()))
	}
	for _, s := range Sets() {
		if len(s.Key) == 0 {
			t.Errorf("%s has no key", s.Name)
		}
		for _, k := range s.Key {
			if s.Index(k) < 0 {
				t.Errorf("%s: key %s is not a property", s.Name, k)
			}
		}
		if s.Report != nil && s.Report.RequiresQueue() && s.Index("QueueId") < 0 {
			t.Errorf("%s has no QueueId", s.Name)
		}
	}
}

// TestNarrowQueuesReadsNumbers: a QueueId compared with a number of
// integral value names that queue (QueueId eq 3.0 is not an empty set);
// other values name none.
func TestNarrowQueuesReadsNumbers(t *testing.T) {
	visible := []uint32{1, 2, 3, 4}
	for _, c := range []struct {
		filter Expr
		want   []uint32
	}{
		{bin("eq", p("QueueId"), lit(3)), []uint32{3}},
		{bin("eq", p("QueueId"), lit(3.0)), []uint32{3}},
		{bin("eq", p("QueueId"), lit(3.5)), nil},
		{In{X: p("QueueId"), List: []Expr{lit(2), lit(4.0)}}, []uint32{2, 4}},
		{bin("eq", p("QueueId"), lit(9)), nil},
	} {
		if got := narrowQueues(visible, c.filter); !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, want %v", c.filter, got, c.want)
		}
	}
}
