package store

import (
	"fmt"
	"regexp"
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
	preds  map[string]string
}

func newDialect(db *gorm.DB, thresh map[uint32]Thresholds) dialect {
	d := dialect{mysql: db.Dialector.Name() == "mysql", thresh: thresh}
	d.preds = d.predicates()
	return d
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

// predicates are the session predicates of the reports (reports/daily.go,
// sessionPreds, and their Go twins in reports/sessions.go) as SQL over
// chat_sessions s.
func (d dialect) predicates() map[string]string {
	unanswered := func(state string) string {
		return "(s.queued_at IS NOT NULL AND s.accepted_at IS NULL AND s.state = '" + state + "')"
	}
	p := map[string]string{
		"answered":   "(s.accepted_at IS NOT NULL)",
		"closed":     "(s.ended_at IS NOT NULL)",
		"abandoned":  unanswered("Abandoned"),
		"timed_out":  unanswered("TimedOut"),
		"flowed_out": unanswered("Transferred"),
		"handle":     "(CASE WHEN s.accepted_at IS NOT NULL AND s.ended_at IS NOT NULL THEN " + d.ms("s.accepted_at", "s.ended_at") + " END)",
		"resolved":   "(s.queued_at IS NOT NULL AND (s.accepted_at IS NOT NULL OR s.state IN ('Abandoned', 'TimedOut', 'Transferred')))",
	}
	p["wait"] = "(CASE WHEN " + p["resolved"] + " THEN " + d.ms("s.queued_at", "COALESCE(s.accepted_at, s.ended_at)") + " END)"
	p["band_wait"] = p["wait"]
	short := d.perQueue("s.queue_id", func(t Thresholds) int64 { return t.ShortAbandonMs })
	p["short_abandoned"] = "(" + p["abandoned"] + " AND " + p["wait"] + " < " + short + ")"
	p["long_abandoned"] = "(" + p["abandoned"] + " AND (" + p["wait"] + " IS NULL OR " + p["wait"] + " >= " + short + "))"
	p["sl_offered"] = "(" + p["answered"] + " OR " + p["long_abandoned"] + " OR " + p["timed_out"] + ")"
	p["sl_met"] = "(" + p["answered"] + " AND " + p["wait"] + " <= " + d.perQueue("s.queue_id", func(t Thresholds) int64 { return t.SLAMs }) + ")"
	if d.mysql {
		p["sentiment_milli"] = "CAST(ROUND(s.sentiment_score * 1000) AS SIGNED)"
	} else {
		p["sentiment_milli"] = "CAST(ROUND(s.sentiment_score * 1000) AS INTEGER)"
	}
	return p
}

var placeholder = regexp.MustCompile(`\{([a-z_]+)(?::([a-z_.]+):([a-z_.]+))?\}`)

// expand replaces the {placeholders} of a measure's SQL: a predicate or
// duration by name, or {ms:a:b} for b − a in milliseconds.
func (d dialect) expand(sql string) string {
	return placeholder.ReplaceAllStringFunc(sql, func(m string) string {
		g := placeholder.FindStringSubmatch(m)
		if g[1] == "ms" && g[2] != "" {
			return d.ms(g[2], g[3])
		}
		v, ok := d.preds[g[1]]
		if !ok {
			panic("store: unknown placeholder " + m)
		}
		return v
	})
}

// aggregates are the SQL aggregates of ms, in order.
func (d dialect) aggregates(ms []Measure) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.aggregate(d)
	}
	return strings.Join(s, ", ")
}
