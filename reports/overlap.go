package reports

import (
	"slices"
	"time"
)

// interval is a half-open time interval [from, to).
type interval struct{ from, to time.Time }

// overlapStats are the overlap metrics of a set of intervals in one bucket.
type overlapStats struct {
	// Peak is the largest number of intervals open at one instant.
	Peak int64
	// Sum is Σ |interval ∩ bucket| in seconds (time-weighted count).
	Sum float64
	// Union is |∪ intervals ∩ bucket| in seconds.
	Union float64
}

// sweep splits intervals across buckets with a sweep line: each interval
// contributes its overlap with every bucket it touches (the "agent
// activity" rule), and intervals already open when a bucket starts count
// in that bucket's peak. Buckets must be sorted and not overlap.
func sweep(ivs []interval, buckets []Bucket) []overlapStats {
	out := make([]overlapStats, len(buckets))
	sweepEach(ivs, buckets, func(i int, st overlapStats) { out[i] = st })
	return out
}

// sweepEach is sweep for many buckets and few intervals (an agent's
// quarter-hours over a year): it calls visit, in bucket order, only for
// the buckets some interval touches, skipping the empty ones (all zero)
// by binary search, so its work grows with the intervals and the buckets
// they cover, not with the window's buckets.
func sweepEach(ivs []interval, buckets []Bucket, visit func(i int, st overlapStats)) {
	type event struct {
		at    time.Time
		delta int64
	}
	events := make([]event, 0, 2*len(ivs))
	for _, iv := range ivs {
		if !iv.to.After(iv.from) {
			continue
		}
		events = append(events, event{iv.from, +1}, event{iv.to, -1})
	}
	// At one instant, ends come before starts: [a,b) and [b,c) never overlap.
	slices.SortFunc(events, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return int(a.delta - b.delta)
	})
	var open int64
	e := 0
	for i := 0; i < len(buckets); i++ {
		b := buckets[i]
		for e < len(events) && !events[e].at.After(b.Start) {
			open += events[e].delta
			e++
		}
		if open == 0 && (e == len(events) || !events[e].at.Before(b.End)) {
			// Nothing open and no event inside: an empty bucket. Jump to
			// the bucket of the next event.
			if e == len(events) {
				return
			}
			if j := firstBucket(buckets, events[e].at); j > i+1 {
				i = j - 1
			}
			continue
		}
		var st overlapStats
		st.Peak = open
		cursor := b.Start
		for ; e < len(events) && events[e].at.Before(b.End); e++ {
			span := events[e].at.Sub(cursor).Seconds()
			st.Sum += float64(open) * span
			if open > 0 {
				st.Union += span
			}
			cursor = events[e].at
			open += events[e].delta
			st.Peak = max(st.Peak, open)
		}
		span := b.End.Sub(cursor).Seconds()
		st.Sum += float64(open) * span
		if open > 0 {
			st.Union += span
		}
		visit(i, st)
	}
}
