package query

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/store"
)

// A report set is a table over the whole history (docs/powerbi.md,
// "Report sets are tables"): its rows are those of the report over the
// set's range — the custom start/stop options where given, else from the
// local day of the first session of the caller's queues (the data's
// extent) to the end of today. A request computes the report over the part of that
// range its filter can reach (a covering span, cover) and applies the
// whole filter to the rows, so the answer is the filtered table exactly.
// Ranges longer than the window cap are computed in chunks when a row
// depends only on its own bucket (chunkable), and refused with a 400
// otherwise: never a 200 with rows missing.

// Extent caches the data's first instant for one request (the answer and
// its count share it). The zero value is ready; a nil *Extent reads the
// database each time.
type Extent struct {
	mu    sync.Mutex
	done  bool
	first *time.Time // nil: no session
}

// firstActivity is the earliest started_at or queued_at of the sessions
// of queues, nil when there is none. Each MIN is an index probe per queue
// (ix_cs_q_started, ix_cs_q_queued), a few queues per statement.
func (e *Engine) firstActivity(ctx context.Context, x *Extent, queues []uint32) (*time.Time, error) {
	if x == nil {
		x = &Extent{}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done {
		return x.first, nil
	}
	const batch = 50
	for i := 0; i < len(queues); i += batch {
		var parts []string
		var args []any
		for _, id := range queues[i:min(i+batch, len(queues))] {
			parts = append(parts, "SELECT (SELECT MIN(started_at) FROM chat_sessions WHERE queue_id = ?), (SELECT MIN(queued_at) FROM chat_sessions WHERE queue_id = ?)")
			args = append(args, id, id)
		}
		rows, err := e.DB().WithContext(ctx).Raw(strings.Join(parts, " UNION ALL "), args...).Rows()
		if err != nil {
			return nil, models.Classify(err)
		}
		for rows.Next() {
			var started, queued *time.Time
			if err := rows.Scan(&started, &queued); err != nil {
				rows.Close()
				return nil, models.Classify(err)
			}
			for _, t := range []*time.Time{started, queued} {
				if t != nil && (x.first == nil || t.Before(*x.first)) {
					u := t.UTC()
					x.first = &u
				}
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, models.Classify(err)
		}
	}
	x.done = true
	return x.first, nil
}

// setRun is one report computation of a set: a queue (per-queue reports)
// or the queues of a global report, over one window.
type setRun struct {
	queue  uint32
	queues []uint32
	window reports.Window
}

// setPlan is how a report-set query is computed.
type setPlan struct {
	runs []setRun
	// lo and hi bound the rows asked for without the data's extent (nil:
	// open), and extent is where the table starts, for the data
	// fingerprint.
	lo, hi *time.Time
	extent string
}

// interval is the grain of a query on a time-series set: the interval
// option, else the set's own.
func (s *Set) interval(q *SetQuery) store.Interval {
	if q.Interval != "" {
		return q.Interval
	}
	if s.Report != nil && s.Report.TakesInterval() {
		return s.Report.DefaultInterval()
	}
	return ""
}

// chunkable reports whether a row of the set at interval iv depends only
// on the sessions of its own bucket, so that a long range may be computed
// piecewise: the measured time series (at any interval but total) and the
// hourly queue depth. Window-grain sets (distributions, summaries, agent
// totals), the keyword trend (its keywords are the window's top ten) and
// the agent-day sets (their agents are those of the window) are not.
func (s *Set) chunkable(iv store.Interval) bool {
	if s.Report == nil || s.Bucket == "" {
		return false
	}
	if s.Report.TakesInterval() {
		return iv != store.Total && s.Report.Piecewise()
	}
	return s.Report.Grain == reports.GrainHour
}

// floor is the start of the bucket-aligned range holding t: the local
// midnight for days, hours and sub-day intervals, the Monday for weeks,
// the first of the month for months.
func floor(iv store.Interval, t time.Time, zone *time.Location) time.Time {
	l := t.In(zone)
	switch iv {
	case store.P1W:
		wd := int(l.Weekday()+6) % 7 // Monday = 0
		return reports.LocalMidnight(l.Year(), l.Month(), l.Day()-wd, zone)
	case store.P1M:
		return reports.LocalMidnight(l.Year(), l.Month(), 1, zone)
	}
	return reports.LocalMidnight(l.Year(), l.Month(), l.Day(), zone)
}

// ceil is the first aligned boundary at or after t.
func ceil(iv store.Interval, t time.Time, zone *time.Location) time.Time {
	f := floor(iv, t, zone)
	if f.Equal(t) {
		return f
	}
	l := f.In(zone)
	switch iv {
	case store.P1W:
		return reports.LocalMidnight(l.Year(), l.Month(), l.Day()+7, zone)
	case store.P1M:
		return reports.LocalMidnight(l.Year(), l.Month()+1, 1, zone)
	}
	return reports.LocalMidnight(l.Year(), l.Month(), l.Day()+1, zone)
}

// optionBound reads the custom start or stop option of a report set with
// the native rules (a date-only stop is the whole local day); nil when
// absent.
func optionBound(q *SetQuery, zone *time.Location, now time.Time) (lo, hi *time.Time, err error) {
	const unbounded = 1 << 22 // days: the options are bounds here, the cap applies to the range
	if q.Start != "" {
		w, err := reports.ParseWindow(reports.WindowSpec{Start: q.Start, Stop: q.Stop, Zone: zone, Now: now, MaxDays: unbounded})
		if err != nil {
			return nil, nil, err
		}
		lo = &w.Start
		if q.Stop != "" {
			hi = &w.Stop
		}
		return lo, hi, nil
	}
	if q.Stop != "" {
		w, err := reports.ParseWindow(reports.WindowSpec{Stop: q.Stop, Zone: zone, Now: now, MaxDays: unbounded})
		if err != nil {
			return nil, nil, err
		}
		hi = &w.Stop
	}
	return lo, hi, nil
}

// plan computes the runs of a report-set query.
func (e *Engine) plan(ctx context.Context, q *SetQuery) (*setPlan, error) {
	s := q.Set
	zone := q.Zone
	if zone == nil {
		zone = time.UTC
	}
	now := e.Now()
	iv := s.interval(q)
	if q.Interval != "" && (s.Report == nil || !s.Report.TakesInterval()) {
		return nil, apierror.Invalid("interval", fmt.Sprintf("interval: %s is not a time series; the sets that take an interval are listed in docs/reports.md", s.Name))
	}
	optLo, optHi, err := optionBound(q, zone, now)
	if err != nil {
		return nil, err
	}
	p := &setPlan{lo: optLo, hi: optHi}
	sp := everything
	if s.Bucket != "" && iv != store.Total { // a total row stands for the whole range
		sp = s.cover(q.Filter, zone)
		if sp.none {
			return p, nil
		}
		if sp.lo != nil {
			t := floor(iv, *sp.lo, zone)
			sp.lo = &t
		}
		if sp.hi != nil {
			t := ceil(iv, *sp.hi, zone)
			sp.hi = &t
		}
	}
	asked := span{lo: optLo, hi: optHi}.and(sp)
	if asked.none {
		return p, nil
	}
	p.lo, p.hi = asked.lo, asked.hi
	queues := narrowQueues(q.Visible, q.Filter)
	var groups [][]uint32
	if s.Report.RequiresQueue() {
		for _, id := range queues {
			groups = append(groups, []uint32{id})
		}
	} else {
		groups = [][]uint32{queues}
	}
	// The table starts at the data's first day over every visible queue
	// (not only those the filter names: a filter on QueueId selects rows
	// of the same table).
	start := optLo
	if start == nil {
		earliest, err := e.firstActivity(ctx, q.Extent, q.Visible)
		if err != nil {
			return nil, err
		}
		if earliest == nil {
			p.extent = "-"
			return p, nil // no history: an empty table
		}
		t := floor(iv, *earliest, zone)
		start = &t
		p.extent = t.Format(time.RFC3339)
	}
	maxDays := q.MaxDays
	if maxDays <= 0 {
		maxDays = reports.DefaultMaxDays
	}
	end := reports.EndOfDay(now, zone)
	if s.Bucket != "" {
		end = ceil(iv, end, zone)
	}
	for _, g := range groups {
		stop := optHi
		if stop == nil {
			stop = &end
		}
		r := span{lo: start, hi: stop}.and(asked)
		if r.none {
			continue
		}
		w := reports.Window{Start: r.lo.UTC(), Stop: r.hi.UTC(), Zone: zone}
		ws, err := s.chunks(w, iv, maxDays, g)
		if err != nil {
			return nil, err
		}
		for _, cw := range ws {
			run := setRun{queues: g, window: cw}
			if s.Report.RequiresQueue() {
				run.queue = g[0]
			}
			p.runs = append(p.runs, run)
		}
	}
	return p, nil
}

// chunks cuts w into windows of at most maxDays local days at aligned
// boundaries when the set is chunkable, and refuses a longer window
// otherwise.
func (s *Set) chunks(w reports.Window, iv store.Interval, maxDays int, queues []uint32) ([]reports.Window, error) {
	if !reports.TooLong(w.Start, w.Stop, w.Zone, maxDays) {
		return []reports.Window{w}, nil
	}
	tooLong := func() error {
		which := ""
		if s.Report.RequiresQueue() && len(queues) == 1 {
			which = fmt.Sprintf(" for queue %d", queues[0])
		}
		target, how := "start", fmt.Sprintf("give the start and stop options a range of at most %d days (e.g. ?start=2024-01-01&stop=2024-12-31)", maxDays)
		if s.Bucket != "" {
			target, how = "filter", fmt.Sprintf("filter PeriodStart (or Date) to at most %d days, or give the start and stop options such a range (Power BI: incremental refresh partitions)", maxDays)
		}
		return apierror.Invalid(target, fmt.Sprintf("%s is computed over its whole range, and the range%s runs from %s to %s, more than %d days; %s",
			s.Name, which, w.Start.In(w.Zone).Format(time.DateOnly), w.Stop.Add(-time.Millisecond).In(w.Zone).Format(time.DateOnly), maxDays, how))
	}
	if !s.chunkable(iv) {
		return nil, tooLong()
	}
	var out []reports.Window
	grid := time.Duration(0)
	switch iv {
	case store.PT15M:
		grid = 15 * time.Minute
	case store.PT30M:
		grid = 30 * time.Minute
	case store.PT1H:
		grid = time.Hour
	}
	anchor := w.Start
	if grid > 0 {
		bs, err := store.Cut(iv, w.Start, w.Start.Add(grid), w.Zone)
		if err != nil {
			return nil, err
		}
		anchor = bs[0].Label
	}
	for start := w.Start; start.Before(w.Stop); {
		l := start.In(w.Zone)
		stop := floor(iv, reports.LocalMidnight(l.Year(), l.Month(), l.Day()+maxDays, w.Zone), w.Zone)
		if !stop.After(start) {
			return nil, tooLong()
		}
		if !stop.Before(w.Stop) {
			stop = w.Stop
		}
		// Sub-day buckets step by UTC time from the range's first bucket; a
		// chunk must begin on that grid (a 30-minute DST shift puts midnight
		// off an hourly grid).
		if grid > 0 && start.Sub(anchor)%grid != 0 {
			return nil, tooLong()
		}
		out = append(out, reports.Window{Start: start.UTC(), Stop: stop.UTC(), Zone: w.Zone})
		start = stop
	}
	return out, nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
