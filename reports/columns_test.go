package reports_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

// TestRowsMatchColumns runs every report on generated data, on every back
// end, over a DST change and with a window whose stop is after the
// clock's now (open sessions), and checks every row against the report's
// declared columns: the width, the Go type of each value (int → int64;
// seconds, pct and decimal → float64; string → string; date and datetime
// → time.Time in the window's zone) and that only nullable columns are
// ever null. Writers index rows by column position, so a row that does not
// match its declaration would be written under the wrong header.
func TestRowsMatchColumns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: genStart, End: genEnd, Sessions: 2000, Seed: 3, Now: genNow}); err != nil {
			t.Fatal(err)
		}
		e := reports.NewEngine(b.DB, func() time.Time { return genNow })
		zone, err := reports.ParseZone("America/New_York")
		if err != nil {
			t.Fatal(err)
		}
		win, err := reports.ParseWindow(reports.WindowSpec{Start: "2024-10-25", Stop: "2024-11-30", Zone: zone, Now: genNow})
		if err != nil {
			t.Fatal(err)
		}
		all := []uint32{1, 2, 3, 4, 5}
		for _, r := range reports.All() {
			ivs := []store.Interval{""}
			if r.TakesInterval() { // and at another grain: PeriodStart in place of the bucket column
				ivs = append(ivs, store.PT15M)
			}
			for _, iv := range ivs {
				t.Run(r.Name+string(iv), func(t *testing.T) {
					q := reports.Query{Report: r, Window: win, Visible: all, Interval: iv}
					if r.RequiresQueue() {
						q.QueueID = 1
					}
					res, err := e.Run(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					cols := res.Report.Columns
					rows, err := reports.Collect(res.Rows)
					if err != nil {
						t.Fatal(err)
					}
					if len(rows) == 0 {
						t.Fatal("no rows: the check needs some")
					}
					nonNull := make([]bool, len(cols))
					for i, row := range rows {
						if len(row) != len(cols) {
							t.Fatalf("row %d has %d values for %d columns", i, len(row), len(cols))
						}
						for j, c := range cols {
							if err := checkValue(c, row[j], zone); err != nil {
								t.Errorf("row %d column %s: %v", i, c.Name, err)
							}
							nonNull[j] = nonNull[j] || row[j] != nil
						}
					}
					for j, c := range cols {
						if !nonNull[j] && len(rows) > 3 && c.Type != reports.Int {
							t.Logf("column %s is null in every row", c.Name)
						}
					}
				})
			}
		}
	})
}

// checkValue checks one value against its column's declaration.
func checkValue(c reports.Column, v any, zone *time.Location) error {
	if v == nil {
		if !c.Nullable() {
			return fmt.Errorf("null in a column that is never null")
		}
		return nil
	}
	ok := false
	switch c.Type {
	case reports.Int:
		_, ok = v.(int64)
	case reports.Seconds, reports.Pct, reports.Decimal:
		_, ok = v.(float64)
	case reports.String:
		_, ok = v.(string)
	case reports.Date, reports.DateTime:
		var at time.Time
		at, ok = v.(time.Time)
		if ok && at.Location() != zone {
			return fmt.Errorf("%s is in %s, not in the window's zone", at, at.Location())
		}
	}
	if !ok {
		return fmt.Errorf("%T (%v) in a %s column", v, v, c.Type)
	}
	return nil
}
