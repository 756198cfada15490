package reports

import (
	"time"
)

// Per-hour counts in SQL. A report whose day columns are plain counts
// (COUNT and integer SUMs) need not stream every session: the database
// counts per UTC hour and the hours fold into local days in Go. That is
// exact whenever every day starts and ends on a whole UTC hour — always
// for UTC and for zones with whole-hour offsets, DST days included (a day
// of 23 or 25 hours is 23 or 25 whole hours). Zones with half-hour offsets
// (Asia/Kolkata) and windows that start or stop inside an hour take the
// row stream instead. No time zone is needed in SQL: the hour is counted
// from a UTC instant passed as a parameter.

// hourAligned reports whether every bucket starts and ends on a whole UTC
// hour.
func hourAligned(bs []Bucket) bool {
	on := func(t time.Time) bool { return t.Equal(t.Truncate(time.Hour)) }
	for _, b := range bs {
		if !on(b.Start) || !on(b.End) {
			return false
		}
	}
	return len(bs) > 0
}

// countByHour aggregates the sessions of the run's queues whose timeCol
// lies in the window, per UTC hour of timeCol: fn gets each hour's start
// and the values of sums (SQL aggregates of integers, such as COUNT(*) or
// SUM(CASE … THEN 1 ELSE 0 END)), in hour order. Only call it when the
// window starts on a whole hour.
func (x *execution) countByHour(timeCol string, sums []string, fn func(hour time.Time, v []int64)) error {
	ref := x.q.Window.Start.UTC()
	var hour string
	var arg any
	if x.engine.mysql() {
		hour, arg = "TIMESTAMPDIFF(HOUR, ?, "+timeCol+")", ref
	} else { // SQLite stores UTC text with its offset; %s reads it as an instant
		hour, arg = "(CAST(strftime('%s', "+timeCol+") AS INTEGER) - ?) / 3600", ref.Unix()
	}
	sel := hour + " AS h"
	for _, s := range sums {
		sel += ", " + s
	}
	rows, err := x.db.Table("chat_sessions AS s").Select(sel, arg).
		Where("s.queue_id IN ?", nonEmpty(x.queueIDs())).
		Where(timeCol+" >= ? AND "+timeCol+" < ?", x.q.Window.Start, x.q.Window.Stop).
		Group("h").Order("h").Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	v := make([]int64, len(sums))
	dest := make([]any, len(sums)+1)
	var h int64
	dest[0] = &h
	for i := range v {
		dest[i+1] = &v[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn(ref.Add(time.Duration(h)*time.Hour), v)
	}
	return rows.Err()
}
