package reports

import "time"

// The boundary arithmetic of report windows, shared by ParseWindow and by
// the entity sets (reports/query), which derive a window from a range
// filter: one implementation of "end of the local day", "the default
// window", "longer than the cap" and "the bucket holding an instant".

// EndOfDay is the local midnight that ends the local day holding t.
func EndOfDay(t time.Time, zone *time.Location) time.Time {
	l := t.In(zone)
	return LocalMidnight(l.Year(), l.Month(), l.Day()+1, zone)
}

// DefaultStart is the start of the default window ending at stop: local
// midnight DefaultDays-1 local days before the last day of the window.
func DefaultStart(stop time.Time, zone *time.Location) time.Time {
	l := stop.Add(-time.Millisecond).In(zone)
	return LocalMidnight(l.Year(), l.Month(), l.Day()-(DefaultDays-1), zone)
}

// TooLong reports whether [start, stop) covers more than maxDays local
// days (0: DefaultMaxDays).
func TooLong(start, stop time.Time, zone *time.Location, maxDays int) bool {
	if maxDays <= 0 {
		maxDays = DefaultMaxDays
	}
	ls := start.In(zone)
	limit := WallTime(ls.Year(), ls.Month(), ls.Day()+maxDays, ls.Hour(), ls.Minute(), ls.Second(), ls.Nanosecond(), zone)
	return stop.After(limit)
}

// BucketAt is the day (GrainDay) or hour (GrainHour) bucket holding t, cut
// as Days and Hours cut a window: Label is its local start, End the start
// of the next bucket, and Start is t.
func BucketAt(g Grain, t time.Time, zone *time.Location) Bucket {
	w := Window{Start: t, Stop: t.Add(26 * time.Hour), Zone: zone} // longer than any local day
	if g == GrainHour {
		return w.Hours()[0]
	}
	return w.Days()[0]
}
