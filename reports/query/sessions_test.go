package query

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
)

// TestFilteredPagesReadIdsFirst: a filtered page of a session set selects
// its ids first (filter, order, $skip and the limit over only the joins
// they read) and reads the rows for those ids; every page, followed by its
// keyset predicate, is the Go evaluation's page of the full read: same
// rows, same order, whatever the filter, order and joins.
func TestFilteredPagesReadIdsFirst(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		now := time.Date(2024, 10, 14, 12, 0, 0, 0, time.UTC)
		if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: now.AddDate(0, 0, -10), End: now, Sessions: 600, Seed: 5, Now: now}); err != nil {
			t.Fatal(err)
		}
		e := NewEngine(reports.NewEngine(b.DB, func() time.Time { return now }))
		log := &sqlLog{}
		log.attach(t, b.DB)
		set, _ := LookupSet("Sessions")
		visible := []uint32{1, 3}
		full, err := e.QuerySet(ctx, SetQuery{Set: set, Visible: visible, Top: -1})
		if err != nil {
			t.Fatal(err)
		}
		all, _ := reports.Collect(full.Rows)
		from := lit(now.AddDate(0, 0, -6))
		cases := []struct {
			filter Expr
			order  []SortKey
			skip   int
		}{
			{bin("ge", p("StartedAt"), from), nil, 0},
			{bin("ge", p("StartedAt"), from), []SortKey{{Prop: "StartedAt", Desc: true}}, 0},
			{bin("eq", p("State"), lit("Completed")), []SortKey{{Prop: "QueueName"}, {Prop: "EndedAt"}}, 3},
			{call("contains", p("GuestName"), lit("a")), []SortKey{{Prop: "AgentName", Desc: true}}, 0},
			{bin("ne", p("Rating"), lit(nil)), []SortKey{{Prop: "Rating"}}, 0},
		}
		for i, c := range cases {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				ev := &evaluator{index: set.index, now: now}
				sort := set.Sort(c.order)
				want := filterRows(slices.Clone(all), ev, c.filter) // filters in place
				if err := sortRows(want, set.index, sort); err != nil {
					t.Fatal(err)
				}
				want = window(want, c.skip, -1)
				if len(want) < 20 {
					t.Fatalf("only %d rows match", len(want))
				}
				const size = 7
				var got [][]any
				var after []any
				for page := 0; ; page++ {
					log.take()
					q := SetQuery{Set: set, Visible: visible, Filter: c.filter, OrderBy: c.order, Top: size, After: after}
					if page == 0 {
						q.Skip = c.skip
					}
					res, err := e.QuerySet(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					rows, err := reports.Collect(res.Rows)
					if err != nil {
						t.Fatal(err)
					}
					stmts := strings.Join(log.take(), "\n")
					if !strings.Contains(stmts, "SELECT s.id FROM chat_sessions") {
						t.Fatalf("page %d was not read by its ids first:\n%s", page, stmts)
					}
					got = append(got, rows...)
					if len(rows) < size {
						break
					}
					last := rows[len(rows)-1]
					after = make([]any, len(sort))
					for k, s := range sort {
						after[k] = last[set.Index(s.Prop)]
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%d rows paged, want %d", len(got), len(want))
				}
				for k := range want {
					for j, v := range want[k] {
						if !sameValue(got[k][j], v) {
							t.Fatalf("row %d %s: %v, want %v", k, set.Props[j].Name, got[k][j], v)
						}
					}
				}
			})
		}
	})
}
