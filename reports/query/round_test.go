package query

import (
	"testing"

	"github.com/chime-reports/chime-reports/reports"
)

// TestRoundSetRows: set rows (OData, $apply) round with the rule of every
// surface, half away from zero on the exact value.
func TestRoundSetRows(t *testing.T) {
	if got := normalise(reports.Column{Type: reports.Pct, Decimals: 1}, float64(23)/float64(80)*100); got != 28.8 {
		t.Errorf("set row ContainmentPct: %v, want 28.8", got)
	}
	if got := normalise(reports.Column{Type: reports.Decimal, Decimals: 2}, float64(161)/float64(40)); got != 4.03 {
		t.Errorf("set row AvgRating: %v, want 4.03", got)
	}
	if got := normalise(reports.Column{Type: reports.Int}, 2.4999999999999996); got != int64(3) {
		t.Errorf("set row Int: %v, want 3", got)
	}
}

// TestTableFirstOnKeyOrder: on MySQL an unfiltered page of a table set
// sorted by its key reads the table first, in key order (the planner
// otherwise sorts every visible row of the joined sessions before the
// LIMIT); a filter, any other order, a descending key and SQLite leave
// the plan to the planner.
func TestTableFirstOnKeyOrder(t *testing.T) {
	msgs, ok := LookupSet("Messages")
	if !ok {
		t.Fatal("no Messages set")
	}
	key := msgs.Sort(nil)
	var filter Expr = Binary{Op: "gt", L: Prop{Name: "SessionId"}, R: Lit{V: int64(5)}}
	for _, c := range []struct {
		mysql  bool
		sort   []SortKey
		filter Expr
		want   string
	}{
		{true, key, nil, "STRAIGHT_JOIN "},
		{false, key, nil, ""},
		{true, key, filter, ""},
		{true, []SortKey{{Prop: "SentAt"}}, nil, ""},
		{true, []SortKey{{Prop: key[0].Prop, Desc: true}}, nil, ""},
		{true, nil, nil, ""},
	} {
		if got := tableFirst(c.mysql, msgs, c.sort, c.filter); got != c.want {
			t.Errorf("tableFirst(mysql %v, %v) = %q, want %q", c.mysql, c.sort, got, c.want)
		}
	}
}
