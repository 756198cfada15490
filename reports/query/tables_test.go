package query_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata/filter"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/query"
	"github.com/chime-reports/chime-reports/reports/store"
)

// completeTable computes a time-series report set the independent way: the
// native report of each visible queue over one window from the local day
// of the first session (started_at or queued_at) of the visible queues to
// the end of today, in one run, rows keyed "queue|local date".
func completeTable(t *testing.T, eng *reports.Engine, name string, visible []uint32, zone *time.Location, iv store.Interval) map[string]map[string]string {
	t.Helper()
	ctx := context.Background()
	var first time.Time
	for _, col := range []string{"started_at", "queued_at"} {
		var ts []time.Time
		if err := eng.DB().Table("chat_sessions").Where("queue_id IN ? AND "+col+" IS NOT NULL", visible).Pluck(col, &ts).Error; err != nil {
			t.Fatal(err)
		}
		for _, x := range ts {
			if first.IsZero() || x.Before(first) {
				first = x
			}
		}
	}
	l := first.In(zone)
	start := reports.LocalMidnight(l.Year(), l.Month(), l.Day(), zone)
	n := golden.Now.In(zone)
	stop := reports.LocalMidnight(n.Year(), n.Month(), n.Day()+1, zone)
	switch iv {
	case store.P1W:
		start = reports.LocalMidnight(l.Year(), l.Month(), l.Day()-(int(l.Weekday())+6)%7, zone)
		stop = reports.LocalMidnight(n.Year(), n.Month(), n.Day()+7-(int(n.Weekday())+6)%7, zone)
	case store.P1M:
		start = reports.LocalMidnight(l.Year(), l.Month(), 1, zone)
		stop = reports.LocalMidnight(n.Year(), n.Month()+1, 1, zone)
	}
	rep, _ := reports.Lookup(name)
	out := map[string]map[string]string{}
	for _, q := range visible {
		res, err := eng.Run(ctx, reports.Query{Report: rep, Window: reports.Window{Start: start.UTC(), Stop: stop.UTC(), Zone: zone},
			QueueID: q, Visible: visible, Interval: iv})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := reports.Collect(res.Rows)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			m := map[string]string{"QueueId": fmt.Sprint(q)}
			for i, c := range res.Report.Columns {
				m[c.Name] = show(r[i])
			}
			if ps, ok := r[0].(time.Time); ok && iv != "" {
				m["PeriodStart"] = ps.UTC().Format(time.RFC3339)
				m["Date"] = ps.In(zone).Format(time.DateOnly)
			}
			out[m["QueueId"]+"|"+m["Date"]] = m
		}
	}
	return out
}

func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case time.Time:
		return x.Format(time.DateOnly)
	case float64:
		return fmt.Sprintf("%.1f", reports.Round(x, 1))
	case int64, int, int32, uint32:
		return fmt.Sprintf("%d.0", x)
	}
	return fmt.Sprint(v)
}

// TestReportSetsAreTables: every $filter on a day-grain report set returns
// exactly the rows of the complete table (the native report over the
// whole history, computed independently) that the filter keeps — calendar
// functions, in lists, or of ranges, open ranges far in the past, measure
// comparisons, QueueId — whether the range is computed in one piece or in
// chunks; and a range that cannot be computed is a 400, never a partial
// answer.
func TestReportSetsAreTables(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	date := func(m map[string]string) time.Time { d, _ := time.Parse(time.DateOnly, m["Date"]); return d }
	ps := func(m map[string]string) time.Time {
		return reports.LocalMidnight(date(m).Year(), date(m).Month(), date(m).Day(), ny)
	}
	in := func(m map[string]string, days ...string) bool { return slices.Contains(days, m["Date"]) }
	inbound := func(m map[string]string) float64 { var f float64; fmt.Sscan(m["Inbound"], &f); return f }
	cases := []struct {
		filter string
		keep   func(m map[string]string) bool
		min    int // rows the answer must at least have, so the case tests something
	}{
		{"year(PeriodStart) eq 2020 and month(PeriodStart) eq 12", func(m map[string]string) bool {
			u := ps(m).UTC()
			return u.Year() == 2020 && u.Month() == 12
		}, 62},
		{"Date in (2020-12-01, 2024-11-03, 2023-05-05)", func(m map[string]string) bool { return in(m, "2020-12-01", "2024-11-03", "2023-05-05") }, 6},
		{"(Date ge 2020-11-01 and Date le 2020-11-03) or (Date ge 2024-11-02 and Date lt 2024-11-04)", func(m map[string]string) bool {
			d := m["Date"]
			return d >= "2020-11-01" && d <= "2020-11-03" || d >= "2024-11-02" && d < "2024-11-04"
		}, 10},
		{"Date lt 2021-01-01", func(m map[string]string) bool { return m["Date"] < "2021-01-01" }, 60},
		{"PeriodStart ge 2020-11-15T00:00:00Z and Inbound gt 0", func(m map[string]string) bool {
			return !ps(m).Before(time.Date(2020, 11, 15, 0, 0, 0, 0, time.UTC)) && inbound(m) > 0
		}, 4},
		{"Inbound ge 2 and QueueId eq 1", func(m map[string]string) bool { return inbound(m) >= 2 && m["QueueId"] == "1" }, 4},
		{"QueueId eq 2", func(m map[string]string) bool { return m["QueueId"] == "2" }, 1400},
	}
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if err := golden.Load(ctx, b.DB); err != nil {
			t.Fatal(err)
		}
		eng := reports.NewEngine(b.DB, func() time.Time { return golden.Now })
		e := query.NewEngine(eng)
		visible := []uint32{1, 2}
		set, _ := query.LookupSet("InboundVsAnsweredChats")
		table := completeTable(t, eng, set.Name, visible, ny, "")
		if len(table) < 2*1400 {
			t.Fatalf("the complete table has %d rows", len(table))
		}
		for _, c := range cases {
			x, err := filter.Parse(c.filter)
			if err != nil {
				t.Fatal(err)
			}
			if err := set.CheckPredicate(x); err != nil {
				t.Fatal(err)
			}
			var want []string
			for k, m := range table {
				if c.keep(m) {
					want = append(want, k+"|"+m["Inbound"]+"|"+m["Answered"])
				}
			}
			slices.Sort(want)
			if len(want) < c.min {
				t.Fatalf("%s: the complete table keeps %d rows, the case wants %d", c.filter, len(want), c.min)
			}
			for _, maxDays := range []int{0, 45} { // one piece per 400 days, and many pieces
				res, err := e.QuerySet(ctx, query.SetQuery{Set: set, Filter: x, Zone: ny, Visible: visible, Top: -1, MaxDays: maxDays})
				if err != nil {
					t.Fatalf("%s: %v", c.filter, err)
				}
				rows, _ := reports.Collect(res.Rows)
				var got []string
				for _, r := range rows {
					got = append(got, fmt.Sprintf("%v|%s|%s|%s", r[set.Index("QueueId")], show(r[set.Index("Date")]), show(r[set.Index("Inbound")]), show(r[set.Index("Answered")])))
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s (cap %d): %d rows, the filtered complete table %d", c.filter, maxDays, len(got), len(want))
				}
				n, err := e.CountSet(ctx, query.SetQuery{Set: set, Filter: x, Zone: ny, Visible: visible, Top: -1, MaxDays: maxDays})
				if err != nil || n != int64(len(want)) {
					t.Errorf("%s (cap %d): count %d, %v; want %d", c.filter, maxDays, n, err, len(want))
				}
			}
		}

		// Sets whose rows depend on their whole range refuse a range over
		// the cap, with a message that says how to narrow it.
		for _, c := range []struct{ set, filter, start, stop string }{
			{"KeywordTrendByDay", "PeriodStart ge 2020-01-01T00:00:00Z", "", ""},
			{"AgentChatsPerDay", "", "", ""},
			{"GlobalQueueSummary", "", "", ""},
			{"ChatsByEntryPoint", "", "2021-01-01", ""},
		} {
			s, _ := query.LookupSet(c.set)
			q := query.SetQuery{Set: s, Zone: ny, Visible: visible, Top: -1, Start: c.start, Stop: c.stop}
			if c.filter != "" {
				q.Filter, _ = filter.Parse(c.filter)
			}
			_, err := e.QuerySet(ctx, q)
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.InvalidParameter || !strings.Contains(ae.Message, "more than 400 days") {
				t.Errorf("%s %q: %v, want a 400 that says how to narrow it", c.set, c.filter, err)
			}
			q.Start, q.Stop = "2024-10-01", "2024-11-04"
			if _, err := e.QuerySet(ctx, q); err != nil {
				t.Errorf("%s with a range: %v", c.set, err)
			}
		}
	})
}

// TestReportSetInterval: the interval option gives the rows of the native
// report at that interval over the whole history, PeriodStart the UTC
// start of each bucket and Date its local day, computed piecewise at the
// interval's boundaries when the range is long; a set that is not a time
// series refuses it.
func TestReportSetInterval(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if err := golden.Load(ctx, b.DB); err != nil {
			t.Fatal(err)
		}
		eng := reports.NewEngine(b.DB, func() time.Time { return golden.Now })
		e := query.NewEngine(eng)
		visible := []uint32{1, 2}
		set, _ := query.LookupSet("InboundVsAnsweredChats")
		for _, iv := range []store.Interval{store.P1W, store.P1M} {
			table := completeTable(t, eng, set.Name, visible, ny, iv)
			x, _ := filter.Parse("year(PeriodStart) ge 2024 or PeriodStart lt 2021-01-01T00:00:00Z")
			var want []string
			for _, m := range table {
				if m["PeriodStart"] >= "2024" || m["PeriodStart"] < "2021-01-01T00:00:00Z" {
					want = append(want, m["QueueId"]+"|"+m["PeriodStart"]+"|"+m["Date"]+"|"+m["Inbound"])
				}
			}
			slices.Sort(want)
			if len(want) < 4 {
				t.Fatalf("%s: %d rows", iv, len(want))
			}
			for _, maxDays := range []int{0, 70} {
				res, err := e.QuerySet(ctx, query.SetQuery{Set: set, Filter: x, Zone: ny, Visible: visible, Top: -1, MaxDays: maxDays, Interval: iv})
				if err != nil {
					t.Fatal(err)
				}
				rows, _ := reports.Collect(res.Rows)
				var got []string
				for _, r := range rows {
					got = append(got, fmt.Sprintf("%v|%s|%s|%s", r[set.Index("QueueId")], r[set.Index("PeriodStart")].(time.Time).UTC().Format(time.RFC3339),
						show(r[set.Index("Date")]), show(r[set.Index("Inbound")])))
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s (cap %d): got %d rows %v…, want %d %v…", iv, maxDays, len(got), got[:min(3, len(got))], len(want), want[:3])
				}
			}
		}
		s, _ := query.LookupSet("GlobalQueueSummary")
		_, err := e.QuerySet(ctx, query.SetQuery{Set: s, Zone: ny, Visible: visible, Top: -1, Interval: store.P1D, Start: "2024-10-01", Stop: "2024-11-01"})
		var ae *apierror.Error
		if !errors.As(err, &ae) || ae.Target != "interval" {
			t.Errorf("interval on a set that is not a time series: %v", err)
		}
	})
}

// TestSessionLogWindow: the start and stop options bound the session sets
// by started_at, with the native rules, as they bound a report set.
func TestSessionLogWindow(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if err := golden.Load(ctx, b.DB); err != nil {
			t.Fatal(err)
		}
		e := query.NewEngine(reports.NewEngine(b.DB, func() time.Time { return golden.Now }))
		visible := []uint32{1, 2, 3}
		sessions, _ := query.LookupSet("Sessions")
		lo := reports.LocalMidnight(2024, 11, 3, ny)
		hi := reports.LocalMidnight(2024, 11, 4, ny)
		x, _ := filter.Parse(fmt.Sprintf("StartedAt ge %s and StartedAt lt %s", lo.UTC().Format(time.RFC3339), hi.UTC().Format(time.RFC3339)))
		want, err := e.CountSet(ctx, query.SetQuery{Set: sessions, Filter: x, Visible: visible, Top: -1})
		if err != nil {
			t.Fatal(err)
		}
		all, _ := e.CountSet(ctx, query.SetQuery{Set: sessions, Visible: visible, Top: -1})
		if want == 0 || want == all {
			t.Fatalf("%d of %d sessions on the day", want, all)
		}
		for _, name := range []string{"Sessions", "GlobalChatSessionLog", "QueueChatSessionLog"} {
			s, _ := query.LookupSet(name)
			q := query.SetQuery{Set: s, Zone: ny, Visible: visible, Top: -1, Start: "2024-11-03", Stop: "2024-11-03"}
			n, err := e.CountSet(ctx, q)
			if err != nil || n != want {
				t.Errorf("%s count: %d, %v; want %d", name, n, err, want)
			}
			res, err := e.QuerySet(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := reports.Collect(res.Rows)
			if int64(len(rows)) != want {
				t.Errorf("%s: %d rows, want %d", name, len(rows), want)
			}
			q.Apply = []query.Transform{{Aggregates: []query.Aggregate{{Method: "count", As: "N"}}}}
			res, err = e.QuerySet(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			rows, _ = reports.Collect(res.Rows)
			if len(rows) != 1 || fmt.Sprint(rows[0][0]) != fmt.Sprint(want) {
				t.Errorf("%s aggregate: %v, want %d", name, rows, want)
			}
			q.Apply, q.Start, q.Stop = nil, "2024-13-01", ""
			if _, err := e.QuerySet(ctx, q); err == nil {
				t.Errorf("%s: a malformed start is accepted", name)
			}
		}
	})
}

// TestHandWrittenSetsTakeInterval: the agent series and queue depth sets
// take the interval option: over a start/stop range their rows are the
// native report's at that interval, PeriodStart the bucket's UTC start,
// Date its local day and HourStart its local start; a PeriodStart filter
// narrows the buckets. Queue depth is computed piecewise when the range
// is longer than the cap; the agent series are not (their agents are the
// range's) and refuse it with a 400.
func TestHandWrittenSetsTakeInterval(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if err := golden.Load(ctx, b.DB); err != nil {
			t.Fatal(err)
		}
		eng := reports.NewEngine(b.DB, func() time.Time { return golden.Now })
		e := query.NewEngine(eng)
		visible := []uint32{1, 2, 3}
		w, _ := reports.ParseWindow(reports.WindowSpec{Start: "2024-11-03", Stop: "2024-11-04", Zone: ny, Now: golden.Now})
		for _, name := range []string{"AgentChatsPerDay", "AgentConcurrency", "AgentUtilization", "QueueDepthByHour"} {
			set, _ := query.LookupSet(name)
			rep, _ := reports.Lookup(name)
			for _, iv := range []store.Interval{store.PT15M, store.PT30M, store.P1W, store.Total} {
				var want []string
				for _, q := range visible {
					res, err := eng.Run(ctx, reports.Query{Report: rep, Window: w, QueueID: q, Visible: visible, Interval: iv})
					if err != nil {
						t.Fatal(err)
					}
					rows, _ := reports.Collect(res.Rows)
					for _, r := range rows {
						start := r[0].(time.Time)
						bucket := start.Format(time.RFC3339) // HourStart: the local start
						if rep.Columns[0].Type == reports.Date {
							bucket = start.In(ny).Format(time.DateOnly)
						}
						line := fmt.Sprintf("%d|%s|%s", q, start.UTC().Format(time.RFC3339), bucket)
						for _, v := range r[1:] {
							line += "|" + show(v)
						}
						want = append(want, line)
					}
				}
				res, err := e.QuerySet(ctx, query.SetQuery{Set: set, Zone: ny, Visible: visible, Top: -1, Interval: iv, Start: "2024-11-03", Stop: "2024-11-04"})
				if err != nil {
					t.Fatalf("%s at %s: %v", name, iv, err)
				}
				rows, _ := reports.Collect(res.Rows)
				var got []string
				for _, r := range rows {
					bucket := r[set.Index(rep.Columns[0].Name)].(time.Time)
					text := bucket.Format(time.RFC3339)
					if rep.Columns[0].Type == reports.Date {
						text = bucket.Format(time.DateOnly)
					}
					line := fmt.Sprintf("%v|%s|%s", r[set.Index("QueueId")], r[set.Index("PeriodStart")].(time.Time).UTC().Format(time.RFC3339), text)
					for _, c := range rep.Columns[1:] {
						line += "|" + show(r[set.Index(c.Name)])
					}
					got = append(got, line)
				}
				slices.Sort(got)
				slices.Sort(want)
				if len(want) == 0 || !slices.Equal(got, want) {
					t.Errorf("%s at %s: set rows\n%s\nnative rows\n%s", name, iv, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		}
		depth, _ := query.LookupSet("QueueDepthByHour")
		x, _ := filter.Parse("PeriodStart ge 2024-11-03T06:00:00Z and PeriodStart lt 2024-11-03T07:00:00Z and QueueId eq 1")
		for _, maxDays := range []int{0, 1} {
			res, err := e.QuerySet(ctx, query.SetQuery{Set: depth, Filter: x, Zone: ny, Visible: visible, Top: -1, Interval: store.PT15M, MaxDays: maxDays})
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := reports.Collect(res.Rows)
			// The second 01:00 hour of the fall-back day (EST): S5 arrives
			// in its 01:30 quarter.
			if len(rows) != 4 || rows[2][depth.Index("HourStart")].(time.Time).Format(time.RFC3339) != "2024-11-03T01:30:00-05:00" || rows[2][depth.Index("Arrivals")] != int64(1) {
				t.Errorf("filtered quarter-hours (cap %d): %v", maxDays, rows)
			}
		}
		// Two days over a one-day cap: depth in pieces, the agent series refused.
		long := query.SetQuery{Zone: ny, Visible: visible, Top: -1, Interval: store.PT15M, Start: "2024-11-03", Stop: "2024-11-04", MaxDays: 1}
		long.Set = depth
		pieces, err := e.QuerySet(ctx, long)
		if err != nil {
			t.Fatal(err)
		}
		if rows, _ := reports.Collect(pieces.Rows); len(rows) != 3*(100+96) {
			t.Errorf("queue depth in pieces: %d rows, want 3 queues × 196 quarter-hours", len(rows))
		}
		long.Set, _ = query.LookupSet("AgentConcurrency")
		var ae *apierror.Error
		if _, err := e.QuerySet(ctx, long); !errors.As(err, &ae) || ae.Code != apierror.InvalidParameter {
			t.Errorf("an agent series over a range longer than the cap: %v, want a 400", err)
		}
	})
}
