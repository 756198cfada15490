package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/reports/civil"
)

// Interval is the grain of a read: the ISO-8601 durations of the
// time-series reports, or "total".
type Interval string

const (
	PT15M Interval = "PT15M"
	PT30M Interval = "PT30M"
	PT1H  Interval = "PT1H"
	P1D   Interval = "P1D"
	P1W   Interval = "P1W" // ISO weeks (Monday to Monday), local
	P1M   Interval = "P1M" // local calendar months
	Total Interval = "total"
)

// Intervals lists every grain.
var Intervals = []Interval{PT15M, PT30M, PT1H, P1D, P1W, P1M, Total}

// ParseInterval reads a grain, case-insensitively.
func ParseInterval(s string) (Interval, error) {
	for _, i := range Intervals {
		if strings.EqualFold(s, string(i)) {
			return i, nil
		}
	}
	return "", fmt.Errorf("interval: expected one of PT15M, PT30M, PT1H, P1D, P1W, P1M or total, not %q", s)
}

// Bucket is one bucket of a read: the UTC interval [Start, End), clipped
// to the range, and Label, its unclipped local start.
type Bucket struct {
	Start, End time.Time
	Label      time.Time
}

// step is the fixed UTC length of a sub-day grain (0 for calendar grains).
func (i Interval) step() time.Duration {
	switch i {
	case PT15M:
		return 15 * time.Minute
	case PT30M:
		return 30 * time.Minute
	case PT1H:
		return time.Hour
	}
	return 0
}

// Buckets is Cut for a read of the store: every bucket must be made of
// whole 15-minute intervals.
func Buckets(i Interval, start, stop time.Time, zone *time.Location) ([]Bucket, error) {
	out, err := Cut(i, start, stop, zone)
	if err != nil {
		return nil, err
	}
	for _, b := range out {
		if b.Start.UnixMilli()%IntervalMs != 0 || b.End.UnixMilli()%IntervalMs != 0 {
			return nil, fmt.Errorf("store: bucket %s–%s is not made of whole 15-minute intervals (zone %s)", b.Start, b.End, zone)
		}
	}
	return out, nil
}

// Cut splits [start, stop) into the buckets of grain i in zone.
// Sub-day buckets step by UTC time from the local boundary at or before
// start (a fall-back day has two 01:00 hours, a spring-forward day none
// for the skipped hour, as the reports' hours); days, ISO weeks and months
// run between local midnights (23- or 25-hour days included). The first
// and last buckets are clipped.
func Cut(i Interval, start, stop time.Time, zone *time.Location) ([]Bucket, error) {
	if !start.Before(stop) {
		return nil, fmt.Errorf("store: empty range %s–%s", start, stop)
	}
	var out []Bucket
	add := func(a, b time.Time) {
		out = append(out, Bucket{Start: maxTime(a, start).UTC(), End: minTime(b, stop).UTC(), Label: a.In(zone)})
	}
	l := start.In(zone)
	switch i {
	case Total:
		out = []Bucket{{Start: start.UTC(), End: stop.UTC(), Label: l}}
	case PT15M, PT30M, PT1H:
		st := i.step()
		m := l.Minute() - l.Minute()%int(st/time.Minute)
		if st == time.Hour {
			m = 0
		}
		b := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), m, 0, 0, zone)
		for b.After(start) { // a repeated local time resolved to its first occurrence
			b = b.Add(-st)
		}
		for ; b.Before(stop); b = b.Add(st) {
			add(b, b.Add(st))
		}
	case P1D, P1W, P1M:
		// Calendar arithmetic on the local date, resolved to an instant by
		// civil.LocalMidnight: a midnight the clocks skip (Santiago in
		// September) starts its day when the clock jumps, never an hour
		// early on the day before.
		y, m, dd := l.Date()
		step := func(y int, m time.Month, dd int) (int, time.Month, int) { return y, m, dd + 1 }
		switch i {
		case P1W:
			dd -= (int(time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Weekday()) + 6) % 7
			step = func(y int, m time.Month, dd int) (int, time.Month, int) { return y, m, dd + 7 }
		case P1M:
			dd = 1
			step = func(y int, m time.Month, dd int) (int, time.Month, int) { return y, m + 1, 1 }
		}
		d := civil.LocalMidnight(y, m, dd, zone)
		for d.Before(stop) {
			ny, nm, nd := step(y, m, dd)
			next := civil.LocalMidnight(ny, nm, nd, zone)
			if !next.After(d) {
				return nil, fmt.Errorf("store: %s bucket at %s in %s does not advance", i, d, zone)
			}
			add(d, next)
			d = next
			y, m, dd = time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC).Date()
		}
	default:
		return nil, fmt.Errorf("store: unknown interval %q", i)
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Segment is a stretch of a zone's time with one UTC offset.
type Segment struct {
	End    time.Time // exclusive; zero for the last
	Offset time.Duration
}

// Segments returns the offsets of zone over [start, stop), from the
// transitions Go knows (time.Time.ZoneBounds): the local calendar day of
// an instant in a segment is that of the instant plus the offset.
func Segments(zone *time.Location, start, stop time.Time) []Segment {
	var out []Segment
	for at := start; ; {
		_, off := at.In(zone).Zone()
		_, end := at.In(zone).ZoneBounds()
		if end.IsZero() || !end.Before(stop) {
			return append(out, Segment{Offset: time.Duration(off) * time.Second})
		}
		out = append(out, Segment{End: end.UTC(), Offset: time.Duration(off) * time.Second})
		at = end
	}
}
