package reports

import (
	"sort"
	"time"

	"github.com/chime-reports/chime-reports/reports/store"
)

// The hand-written time series (the agent series and queue depth) take an
// interval as the measured ones do: they split their intervals (chats,
// presence, waiting and connected time) across the buckets of the run's
// interval instead of local days or hours. The buckets are the measured
// series' own: local days as Window.Days, hours as Window.Hours, the
// other grains as store.Cut (sub-day buckets step by UTC time from the
// local boundary at or before the start, weeks and months run between
// local midnights, total is the window).

// timeBuckets are the buckets of a hand-written time series' run, in
// order, the first and last clipped to the window.
func (x *execution) timeBuckets() []Bucket {
	w := x.q.Window
	switch iv := x.interval(); iv {
	case store.P1D:
		return w.Days()
	case store.PT1H:
		return w.Hours()
	default:
		bs, err := store.Cut(iv, w.Start, w.Stop, w.Zone)
		if err != nil { // a window is never empty, the interval is checked by Run
			panic(err)
		}
		out := make([]Bucket, len(bs))
		for i, b := range bs {
			out[i] = Bucket{Start: b.Start, End: b.End, Label: b.Label}
		}
		return out
	}
}

// firstBucket is the index of the first bucket ending after t (len(b)
// when none does): where an interval starting at t first appears.
func firstBucket(b []Bucket, t time.Time) int {
	return sort.Search(len(b), func(i int) bool { return b[i].End.After(t) })
}

// genRows streams rows made one at a time by next, which fills the
// current row with put and reports whether there was one; the rows of a
// report whose row count is the product of buckets and agents (a year of
// quarter-hours) are never all held at once.
type genRows struct {
	b    *rowBuilder
	next func(put func(string, any)) bool
	row  []any
}

func (g *genRows) Next() bool {
	if g.next == nil || !g.next(g.b.put) {
		g.next = nil
		return false
	}
	g.row = g.b.finish()
	return true
}
func (g *genRows) Row() []any   { return g.row }
func (g *genRows) Err() error   { return nil }
func (g *genRows) Close() error { g.next = nil; return nil }
