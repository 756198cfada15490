package store

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The hour tables hold each interval table summed per queue and UTC hour
// (iv the hour's first interval; counts and sums add, minima and maxima
// combine). They are derived data: every statement that rewrites
// intervals rewrites the hours over them from the intervals, in the same
// transaction (deriveHours), so an hour row always equals the sum of its
// four interval rows.
//
// A read whose rows depend on an interval only through its UTC hour — per
// queue, a total, hourly or longer buckets starting on UTC hours, or local
// days, hours and weekdays in a zone whose offsets in the range are whole
// hours, changing on UTC hours — reads the whole hours of its range from
// the hour table (a quarter of the rows) and the quarter-hours at its
// ends, and around intervals the store does not hold exactly, from the
// interval table (storeParts).

// deriveHours rewrites the hour rows of a over the intervals [lo, hi) (of
// queue q, or every queue when q is nil) from the interval rows.
func deriveHours(tx *gorm.DB, a Attr, q *uint32, lo, hi int64) error {
	if lo != math.MinInt64 {
		lo = floorTo(lo, hourIvs)
	}
	if hi != math.MaxInt64 {
		hi = ceilTo(hi, hourIvs)
	}
	where, args := "iv >= ? AND iv < ?", []any{lo, hi}
	if q != nil {
		where, args = "queue_id = ? AND "+where, append([]any{*q}, args...)
	}
	if err := tx.Exec("DELETE FROM "+a.HourTable()+" WHERE "+where, args...).Error; err != nil {
		return err
	}
	ms := Of(a)
	sels := make([]string, len(ms))
	for i, m := range ms {
		sels[i] = m.combine(m.Name)
	}
	hour := "iv - (iv % " + strconv.Itoa(hourIvs) + ")"
	return tx.Exec("INSERT INTO "+a.HourTable()+" (queue_id, iv, "+names(ms)+") SELECT queue_id, "+hour+" AS hx, "+strings.Join(sels, ", ")+
		" FROM "+a.Table()+" WHERE "+where+" GROUP BY queue_id, hx", args...).Error
}

// hourly reports whether q's rows depend on an interval only through its
// UTC hour, so that an hour row stands for its four intervals.
func hourly(q Query, res *Result) bool {
	switch {
	case q.Group == ByQueue, q.Group == ByBucket && q.Interval == Total:
		return true
	case q.Group == ByBucket && q.Interval.step() > 0:
		// Fixed-length buckets from the first one's start (a local hour,
		// which is not a UTC hour in Kolkata): whole hours from a UTC hour.
		return q.Interval.step()%time.Hour == 0 && len(res.Buckets) > 0 && res.Buckets[0].Label.UnixMilli()%(hourIvs*IntervalMs) == 0
	}
	for _, s := range Segments(q.Zone, q.Start, q.Stop) {
		if s.Offset%time.Hour != 0 || (!s.End.IsZero() && s.End.UnixMilli()%(hourIvs*IntervalMs) != 0) {
			return false
		}
	}
	return true
}

// storePart is one statement of a store read: the rows of table meeting
// where (after the queue condition), less the excluded intervals (or
// hours) of each queue.
type storePart struct {
	table   string
	where   string
	args    []any
	queues  []uint32
	exclude map[uint32]map[int64]bool
}

// storeParts splits the store's share of a read of [lo, hi) into
// statements: on the interval table alone, or (hourly reads) the whole
// hours without an interval the store does not hold exactly from the
// hour table, and the rest from the interval table.
func storeParts(q Query, res *Result, queues []uint32, raw map[uint32]map[int64]bool, lo, hi int64) []storePart {
	t := q.Attr.Table()
	hlo, hhi := ceilTo(lo, hourIvs), floorTo(hi, hourIvs)
	if !hourly(q, res) || hlo >= hhi {
		return []storePart{{table: t, where: "iv >= ? AND iv < ?", args: []any{lo, hi}, queues: queues, exclude: raw}}
	}
	parts := []storePart{{table: q.Attr.HourTable(), where: "iv >= ? AND iv < ?", args: []any{hlo, hhi}, queues: queues}}
	if lo < hlo || hhi < hi {
		parts = append(parts, storePart{table: t, where: "(iv >= ? AND iv < ? OR iv >= ? AND iv < ?)", args: []any{lo, hlo, hhi, hi},
			queues: queues, exclude: raw})
	}
	// The hours holding raw intervals: left out of the hour read, their
	// other intervals read one by one.
	rawHours := map[uint32]map[int64]bool{}
	for _, id := range queues {
		var ivs []int64
		for iv := range raw[id] {
			if h := floorTo(iv, hourIvs); h >= hlo && h < hhi {
				if rawHours[id] == nil {
					rawHours[id] = map[int64]bool{}
				}
				if !rawHours[id][h] {
					rawHours[id][h] = true
					for i := range int64(hourIvs) {
						ivs = append(ivs, h+i)
					}
				}
			}
		}
		if len(ivs) > 0 {
			slices.Sort(ivs)
			parts = append(parts, storePart{table: t, where: "iv IN ?", args: []any{ivs}, queues: []uint32{id}, exclude: raw})
		}
	}
	parts[0].exclude = rawHours
	return parts
}
