package store

import (
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// IntervalMs is the length of a store interval: every IANA offset in use
// is a multiple of 15 minutes, so local days, hours and quarter-hours are
// unions of whole intervals.
const IntervalMs = 15 * 60 * 1000

// Thresholds are the per-queue settings some predicates compare with, in
// milliseconds.
type Thresholds struct {
	SLAMs, ShortAbandonMs int64
}

// dialect writes the SQL of one run: the database's functions and the
// thresholds of the queues it reads.
type dialect struct {
	mysql  bool
	thresh map[uint32]Thresholds
}

func newDialect(db *gorm.DB, thresh map[uint32]Thresholds) dialect {
	return dialect{mysql: db.Dialector.Name() == "mysql", thresh: thresh}
}

// iv is the 15-minute interval number (since the Unix epoch) of col.
func (d dialect) iv(col string) string {
	if d.mysql {
		return "(TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', " + col + ") DIV 900)"
	}
	return "(CAST(unixepoch(" + col + ") AS INTEGER) / 900)"
}

// ms is b − a in milliseconds, 0 when negative, NULL when either is
// NULL (as the reports' durations).
func (d dialect) ms(a, b string) string {
	if d.mysql {
		return "GREATEST(TIMESTAMPDIFF(MICROSECOND, " + a + ", " + b + ") DIV 1000, 0)"
	}
	return "MAX(CAST(ROUND((unixepoch(" + b + ", 'subsec') - unixepoch(" + a + ", 'subsec')) * 1000) AS INTEGER), 0)"
}

// div is integer division of non-negative operands.
func (d dialect) div(a string, b int64) string {
	if d.mysql {
		return fmt.Sprintf("((%s) DIV %d)", a, b)
	}
	return fmt.Sprintf("((%s) / %d)", a, b)
}

// perQueue is a CASE giving each queue of the run its threshold.
func (d dialect) perQueue(col string, v func(Thresholds) int64) string {
	if len(d.thresh) == 0 {
		return "NULL"
	}
	ids := make([]int, 0, len(d.thresh))
	for id := range d.thresh {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	var b strings.Builder
	b.WriteString("CASE " + col)
	for _, id := range ids {
		fmt.Fprintf(&b, " WHEN %d THEN %d", id, v(d.thresh[uint32(id)]))
	}
	b.WriteString(" END")
	return b.String()
}

// aggregates are the SQL aggregates of ms, in order.
func (d dialect) aggregates(ms []Measure) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.aggregate(d)
	}
	return strings.Join(s, ", ")
}
