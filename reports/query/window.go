package query

import (
	"fmt"
	"slices"
	"time"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// flip mirrors a comparison so the property is on the left: 5 lt X is X gt 5.
var flip = map[string]string{"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}

// propLit matches "Prop op Lit" or "Lit op Prop" and returns them with the
// operator as seen from the property.
func propLit(x Expr) (name, op string, lit Lit, ok bool) {
	b, isBin := x.(Binary)
	if !isBin {
		return "", "", Lit{}, false
	}
	if _, cmp := flip[b.Op]; !cmp {
		return "", "", Lit{}, false
	}
	if p, ok := b.L.(Prop); ok {
		if l, ok := b.R.(Lit); ok {
			return p.Name, b.Op, l, true
		}
	}
	if p, ok := b.R.(Prop); ok {
		if l, ok := b.L.(Lit); ok {
			return p.Name, flip[b.Op], l, true
		}
	}
	return "", "", Lit{}, false
}

// narrowQueues intersects the caller's visible queues with the QueueId
// conditions AND-ed at the top of the filter (QueueId eq N, QueueId in
// (…)). Anything else about QueueId is left to the filter itself, which
// can only narrow further: rows of invisible queues are never read.
func narrowQueues(visible []uint32, filter Expr) []uint32 {
	out := slices.Clone(visible)
	for _, c := range Conjuncts(filter) {
		var ids []int64
		if name, op, lit, ok := propLit(c); ok && name == "QueueId" && op == "eq" {
			n, _ := lit.V.(int64)
			ids = []int64{n}
		} else if in, ok := c.(In); ok && in.X == (Prop{Name: "QueueId"}) {
			for _, v := range in.List {
				l, isLit := v.(Lit)
				if !isLit {
					ids = nil
					break
				}
				n, _ := l.V.(int64)
				ids = append(ids, n)
			}
			if ids == nil {
				continue
			}
		} else {
			continue
		}
		out = slices.DeleteFunc(out, func(q uint32) bool { return !slices.Contains(ids, int64(q)) })
	}
	return out
}

// buckets are the time buckets of a time-series set, cut as the report
// engine cuts them (reports.BucketAt).
type buckets struct {
	grain reports.Grain
	zone  *time.Location
}

// next is the start of the bucket after the one holding t.
func (b buckets) next(t time.Time) time.Time { return reports.BucketAt(b.grain, t, b.zone).End }

// ceil is the first bucket start at or after t.
func (b buckets) ceil(t time.Time) time.Time {
	if c := reports.BucketAt(b.grain, t, b.zone); !c.Label.Equal(t) {
		return c.End
	}
	return t
}

// reportWindow derives the window of a report set from the custom start
// and stop options and from the ranges AND-ed at the top of the filter on
// PeriodStart, Date (local dates) or HourStart. A range selects whole
// buckets — those whose start satisfies it — so the window is snapped to
// bucket boundaries and every row is computed over its full bucket. It
// reports empty when the conditions leave no bucket.
func (s *Set) reportWindow(q *SetQuery, now time.Time) (w reports.Window, empty bool, err error) {
	zone := q.Zone
	if zone == nil {
		zone = time.UTC
	}
	spec := reports.WindowSpec{Start: q.Start, Stop: q.Stop, Zone: zone, Now: now, MaxDays: q.MaxDays}
	var lo, hi *time.Time
	if s.Bucket != "" {
		b := buckets{grain: s.Bucket, zone: zone}
		raise := func(t time.Time) {
			if lo == nil || t.After(*lo) {
				lo = &t
			}
		}
		lower := func(t time.Time) {
			if hi == nil || t.Before(*hi) {
				hi = &t
			}
		}
		for _, c := range Conjuncts(q.Filter) {
			name, op, lit, ok := propLit(c)
			if !ok || lit.V == nil {
				continue
			}
			t, isTime := lit.V.(time.Time)
			if !isTime {
				continue
			}
			var from, to time.Time // [from, to) of the buckets matching "= value"
			switch {
			case (name == "PeriodStart" || name == "HourStart") && lit.Kind == KindDateTime:
				from, to = b.ceil(t), b.next(t)
				if op == "gt" {
					op, from = "ge", b.next(t)
				}
				if op == "lt" {
					op, to = "le", b.ceil(t)
				}
			case name == "Date" && lit.Kind == KindDate && s.Bucket == reports.GrainDay:
				day := reports.BucketAt(reports.GrainDay, reports.LocalMidnight(t.Year(), t.Month(), t.Day(), zone), zone)
				from, to = day.Label, day.End
				if op == "gt" {
					op, from = "ge", to
				}
				if op == "lt" {
					op, to = "le", from
				}
			default:
				continue
			}
			switch op {
			case "eq":
				raise(from)
				lower(to)
			case "ge":
				raise(from)
			case "le":
				lower(to)
			}
		}
	}
	if lo == nil && hi == nil {
		w, err = reports.ParseWindow(spec)
		return w, false, err
	}
	var base *reports.Window
	if q.Start != "" || q.Stop != "" {
		bw, err := reports.ParseWindow(spec)
		if err != nil {
			return reports.Window{}, false, err
		}
		base = &bw
	}
	var start, stop time.Time
	switch {
	case hi != nil:
		stop = *hi
	case base != nil:
		stop = base.Stop
	default:
		stop = reports.EndOfDay(now, zone)
	}
	switch {
	case lo != nil:
		start = *lo
	case base != nil && q.Start != "":
		start = base.Start
	default:
		start = reports.DefaultStart(stop, zone)
	}
	if base != nil {
		start, stop = latest(start, base.Start), earliest(stop, base.Stop)
	}
	w = reports.Window{Start: start.UTC(), Stop: stop.UTC(), Zone: zone}
	if !w.Start.Before(w.Stop) {
		return w, true, nil
	}
	maxDays := q.MaxDays
	if maxDays <= 0 {
		maxDays = reports.DefaultMaxDays
	}
	if reports.TooLong(start, stop, zone, maxDays) {
		return reports.Window{}, false, apierror.Invalid("filter", fmt.Sprintf("the range covers more than %d days; split it (Power BI: use incremental refresh partitions)", maxDays))
	}
	return w, false, nil
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
