package reports_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/store"
)

// handSeries are the hand-written time series: they split chats, presence
// and waiting time across the buckets of an interval themselves.
var handSeries = []string{"AgentChatsPerDay", "AgentConcurrency", "AgentUtilization", "QueueDepthByHour"}

// seriesTotals are the quantities of a hand-written series that any
// interval must split without loss, per agent ("" for queue depth):
// sums of additive columns, maxima of peaks (the peak over a window is
// the largest of its buckets' peaks, since a bucket's peak counts what is
// open when it starts), and time-weighted averages times their bucket's
// length.
type seriesTotals map[string]map[string]float64

// totalsOf adds up the rows of rep at some interval; buckets are
// contiguous, so a bucket runs from its label (clipped to the window) to
// the next bucket's start.
func totalsOf(t *testing.T, rep *reports.Report, w reports.Window, rows [][]any) seriesTotals {
	t.Helper()
	idx := map[string]int{}
	for i, c := range rep.Columns {
		idx[c.Name] = i
	}
	f := func(row []any, name string) float64 {
		switch v := row[idx[name]].(type) {
		case int64:
			return float64(v)
		case float64:
			return v
		case nil:
			return 0
		}
		t.Fatalf("%s: %s is %T", rep.Name, name, row[idx[name]])
		return 0
	}
	var starts []time.Time
	for _, row := range rows {
		l := row[0].(time.Time)
		if l.Before(w.Start) {
			l = w.Start
		}
		if n := len(starts); n == 0 || !starts[n-1].Equal(l) {
			starts = append(starts, l)
		}
	}
	length := func(row []any) float64 {
		l := row[0].(time.Time)
		for i, s := range starts {
			if s.Equal(l) || i == 0 && l.Before(w.Start) {
				end := w.Stop
				if i+1 < len(starts) {
					end = starts[i+1]
				}
				return end.Sub(s).Seconds()
			}
		}
		t.Fatalf("%s: no bucket at %s", rep.Name, l)
		return 0
	}
	out := seriesTotals{}
	for _, row := range rows {
		key := ""
		if _, ok := idx["AgentId"]; ok {
			key = fmt.Sprint(row[idx["AgentId"]])
		}
		m := out[key]
		if m == nil {
			m = map[string]float64{}
			out[key] = m
		}
		add := func(name string, v float64) { m[name] += v }
		peak := func(name string) { m[name] = math.Max(m[name], f(row, name)) }
		switch rep.Name {
		case "QueueDepthByHour":
			add("Arrivals", f(row, "Arrivals"))
			add("WaitingSeconds", f(row, "AvgWaiting")*length(row))
			peak("PeakWaiting")
			peak("PeakConnected")
		case "AgentChatsPerDay":
			for _, c := range []string{"ChatsAnswered", "ChatsHandled", "HandleSeconds"} {
				add(c, f(row, c))
			}
			add("rows", 1)
		case "AgentConcurrency":
			add("ChatSeconds", f(row, "ChatSeconds"))
			add("BusySeconds", f(row, "BusySeconds"))
			peak("PeakConcurrency")
			peak("MaxConcurrentLimit")
		case "AgentUtilization":
			on := f(row, "OnlineSeconds")
			add("OnlineSeconds", on)
			add("AvailableSeconds", f(row, "AvailableSeconds"))
			add("BusySeconds", f(row, "BusySeconds"))
			add("OccupiedSeconds", f(row, "OccupancyPct")*on/100)
			add("CapacitySeconds", f(row, "CapacityUtilizationPct")*on/100)
		}
	}
	if rep.Name == "AgentChatsPerDay" {
		for _, m := range out {
			m["rows"] /= float64(len(starts)) // one row per bucket for each agent
		}
	}
	return out
}

// same compares totals to the 1e-9 relative (sums of float seconds in
// another order).
func (a seriesTotals) same(b seriesTotals) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d agents, total has %d", len(a), len(b))
	}
	for k, m := range b {
		for name, want := range m {
			got := a[k][name]
			if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				return fmt.Errorf("agent %q %s: %v, total %v", k, name, got, want)
			}
		}
	}
	return nil
}

// TestHandWrittenSeriesAtEveryInterval: the agent series and queue depth
// at every interval, on generated data around the fall-back days of
// London and New York, in zones with whole, +05:45 and half-hour-DST
// offsets and in a window off the quarter-hour grid: without interval
// and with their own they answer the same; at every interval their
// buckets split the window's totals without loss (sums equal, peaks'
// maximum equal), sub-day buckets step by their UTC length from the local
// boundary, and every back end gives identical output.
func TestHandWrittenSeriesAtEveryInterval(t *testing.T) {
	outputs := map[string]map[string]string{}
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: genStart, End: genEnd, Sessions: 3000, Seed: 11, Now: genNow}); err != nil {
			t.Fatal(err)
		}
		e := reports.NewEngine(b.DB, func() time.Time { return genNow })
		windows := [][2]string{{"2024-10-26", "2024-11-08"}, {"2024-11-02T10:07:13", "2024-11-04T17:59:59.999"}}
		nonEmpty := map[string]bool{}
		for _, name := range handSeries {
			rep, _ := reports.Lookup(name)
			if !rep.TakesInterval() {
				t.Fatalf("%s takes no interval", name)
			}
			for _, zoneName := range []string{"America/New_York", "Europe/London", "Asia/Kathmandu", "Australia/Lord_Howe"} {
				zone, _ := time.LoadLocation(zoneName)
				for _, win := range windows {
					w, err := reports.ParseWindow(reports.WindowSpec{Start: win[0], Stop: win[1], Zone: zone, Now: genNow})
					if err != nil {
						t.Fatal(err)
					}
					what := fmt.Sprintf("%s %s %s–%s", name, zoneName, win[0], win[1])
					q := reports.Query{Report: rep, Window: w, QueueID: 1, Visible: []uint32{1, 2, 3, 4, 5}}
					own := outputText(t, e, q)
					q.Interval = rep.DefaultInterval()
					if explicit := outputText(t, e, q); explicit != own {
						t.Errorf("%s: interval=%s differs from no interval:\n%s\n%s", what, q.Interval, explicit, own)
					}
					q.Interval = store.Total
					atTotal, _ := rep.AtInterval(store.Total)
					total := totalsOf(t, atTotal, w, runRows(t, e, q))
					for k := range total {
						nonEmpty[name] = nonEmpty[name] || k != "" || total[k]["Arrivals"] > 0
					}
					for _, iv := range store.Intervals {
						q.Interval = iv
						at, _ := rep.AtInterval(iv)
						rows := runRows(t, e, q)
						if err := totalsOf(t, at, w, rows).same(total); err != nil {
							t.Errorf("%s at %s: %v", what, iv, err)
						}
						if name == "QueueDepthByHour" {
							checkSubDayLabels(t, what, iv, w, rows)
						}
						key := what + " " + string(iv)
						if outputs[key] == nil {
							outputs[key] = map[string]string{}
						}
						outputs[key][b.Name] = outputText(t, e, q)
					}
				}
			}
		}
		for _, name := range handSeries {
			if !nonEmpty[name] {
				t.Errorf("%s has no data in the windows: the test checks nothing", name)
			}
		}
	})
	for key, by := range outputs {
		var first, firstName string
		for name, out := range by {
			if firstName == "" {
				first, firstName = out, name
			} else if out != first {
				t.Errorf("%s: %s and %s differ", key, firstName, name)
			}
		}
	}
}

// checkSubDayLabels: a sub-day bucket starts on the local grid at or
// before the window's start and steps by its UTC length (two 01:00 hours
// on a fall-back day, quarter-hours at :00/:15/:30/:45 local in
// Kathmandu); one row per bucket.
func checkSubDayLabels(t *testing.T, what string, iv store.Interval, w reports.Window, rows [][]any) {
	t.Helper()
	step := map[store.Interval]time.Duration{store.PT15M: 15 * time.Minute, store.PT30M: 30 * time.Minute, store.PT1H: time.Hour}[iv]
	if step == 0 {
		return
	}
	first := rows[0][0].(time.Time)
	if first.After(w.Start) || !first.Add(step).After(w.Start) || first.In(w.Zone).Minute()%int(step/time.Minute) != 0 {
		t.Errorf("%s at %s: first bucket %s for a window from %s", what, iv, first, w.Start.In(w.Zone))
	}
	for i, row := range rows {
		if l := row[0].(time.Time); !l.Equal(first.Add(time.Duration(i) * step)) {
			t.Fatalf("%s at %s: bucket %d starts %s", what, iv, i, l)
		}
	}
	if last := rows[len(rows)-1][0].(time.Time); !last.Before(w.Stop) || last.Add(step).Before(w.Stop) {
		t.Errorf("%s at %s: last bucket %s for a window to %s", what, iv, last, w.Stop)
	}
}

// outputText is a report's rows as its CSV cells would show them.
func outputText(t *testing.T, e *reports.Engine, q reports.Query) string {
	t.Helper()
	res, err := e.Run(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := reports.Collect(res.Rows)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range res.Report.Columns {
		b.WriteString(c.Name + "|")
	}
	for _, row := range rows {
		b.WriteString("\n")
		for i, v := range row {
			if v == nil {
				b.WriteString("null|")
				continue
			}
			b.WriteString(export.Text(res.Report.Columns[i], v) + "|")
		}
	}
	return b.String()
}

// TestSeriesQuarterHoursOverAYear: a 15-minute grain over a whole year
// (2024 in New York: 366 days, one 23- and one 25-hour day, 35,136
// quarter-hours) works for every hand-written series: queue depth has one
// row per quarter-hour, AgentChatsPerDay one per quarter-hour and agent,
// and the quarter-hours split the year's totals without loss.
func TestSeriesQuarterHoursOverAYear(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) { seriesYear(t, b) })
}

func seriesYear(t *testing.T, b dbtest.Backend) {
	ctx := context.Background()
	start, end := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: start, End: end, Sessions: 1500, Seed: 5, Now: end}); err != nil {
		t.Fatal(err)
	}
	e := reports.NewEngine(b.DB, func() time.Time { return end })
	ny, _ := time.LoadLocation("America/New_York")
	w, err := reports.ParseWindow(reports.WindowSpec{Start: "2024-01-01", Stop: "2024-12-31", Zone: ny, Now: end})
	if err != nil {
		t.Fatal(err)
	}
	const quarters = 366*96 - 4 + 4
	for _, name := range handSeries {
		rep, _ := reports.Lookup(name)
		q := reports.Query{Report: rep, Window: w, QueueID: 1, Visible: []uint32{1, 2, 3, 4, 5}, Interval: store.Total}
		atTotal, _ := rep.AtInterval(store.Total)
		total := totalsOf(t, atTotal, w, runRows(t, e, q))
		q.Interval = store.PT15M
		at, _ := rep.AtInterval(store.PT15M)
		rows := runRows(t, e, q)
		if err := totalsOf(t, at, w, rows).same(total); err != nil {
			t.Errorf("%s, a year of quarter-hours: %v", name, err)
		}
		switch name {
		case "QueueDepthByHour":
			if len(rows) != quarters || total[""]["Arrivals"] < 100 {
				t.Errorf("%s: %d rows for %d quarter-hours, %v arrivals", name, len(rows), quarters, total[""]["Arrivals"])
			}
		case "AgentChatsPerDay":
			if len(total) == 0 || len(rows) != quarters*len(total) {
				t.Errorf("%s: %d rows for %d agents × %d quarter-hours", name, len(rows), len(total), quarters)
			}
		default:
			if len(rows) == 0 {
				t.Errorf("%s: no rows in a year", name)
			}
		}
	}
}
