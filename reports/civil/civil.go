package civil

import "time"

// WallTime is the instant at which the wall clock of loc shows the given
// date and time (fields out of range are normalised as time.Date does).
// A wall time that a transition skips (spring forward) moves forward by
// the gap: 02:30 on a day New York jumps from 02:00 to 03:00 is 03:30-04:00.
// A wall time that happens twice (fall back) is its first occurrence:
// 01:30 on a day London goes back from 02:00 to 01:00 is 01:30+01:00.
// time.Date leaves both cases unspecified (in practice it can move a
// skipped time backward and pick the second occurrence), so every local
// time a window or bucket is built from goes through here.
func WallTime(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	u := time.Date(year, month, day, hour, min, sec, nsec, time.UTC) // the wall clock read as UTC
	if loc == time.UTC {
		return u
	}
	// UTC offsets stay within ±26 hours, so every instant showing this wall
	// time lies in [u-26h, u+26h]. Walk the zone's periods (spans of one
	// offset) over that range in order: the first period that contains
	// u-offset holds the first occurrence. If none does, the wall time
	// falls into a gap between two periods and is read with the offset in
	// effect before the gap, which moves it forward by the gap.
	const reach = 26 * time.Hour
	var gap time.Time
	at := u.Add(-reach)
	for !at.After(u.Add(reach)) {
		l := at.In(loc)
		_, off := l.Zone()
		start, end := l.ZoneBounds()
		c := u.Add(-time.Duration(off) * time.Second)
		if (start.IsZero() || !c.Before(start)) && (end.IsZero() || c.Before(end)) {
			return c.In(loc)
		}
		if end.IsZero() {
			break
		}
		_, next := end.In(loc).Zone()
		if gap.IsZero() && next > off && !c.Before(end) && u.Before(end.Add(time.Duration(next)*time.Second)) {
			gap = c
		}
		at = end
	}
	if gap.IsZero() { // unreachable for real zones; keep Go's reading
		return time.Date(year, month, day, hour, min, sec, nsec, loc)
	}
	return gap.In(loc)
}

// LocalMidnight is the start of a local calendar day: WallTime at 00:00,
// so a day whose midnight is skipped starts when the clock jumps, and a
// midnight that happens twice starts the day at its first occurrence.
func LocalMidnight(year int, month time.Month, day int, loc *time.Location) time.Time {
	return WallTime(year, month, day, 0, 0, 0, 0, loc)
}
