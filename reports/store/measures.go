// Package store is the interval store: per-queue aggregates of the
// additive report measures (counts, sums, minima, maxima) in 15-minute UTC
// intervals, one table per attribution time, built by Rebuild, kept
// current by Maintainer and read by Read, which combines stored intervals
// with raw rows for the intervals the store does not hold exactly, so that
// every answer equals the raw computation (docs/architecture.md, "The
// interval store").
package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Attr is an attribution time: which instant puts a row in an interval.
type Attr uint8

const (
	// Queued attributes a session to its arrival in the queue (queued_at):
	// volume, outcomes, wait, service level, handle time, ratings,
	// transfers.
	Queued Attr = 1
	// Started attributes a session to its start (started_at): session
	// totals, terminal states, sentiment.
	Started Attr = 2
	// Bot attributes a bot interaction to its start (bot_interactions.started_at).
	Bot Attr = 3
)

// Attrs lists every attribution time.
var Attrs = []Attr{Queued, Started, Bot}

func (a Attr) String() string {
	switch a {
	case Queued:
		return "queued"
	case Started:
		return "started"
	case Bot:
		return "bot"
	}
	return fmt.Sprintf("attr%d", uint8(a))
}

// source is where the rows of an attribution time come from.
type source struct {
	from     string // FROM clause (aliases s, r, b)
	queueCol string
	timeCol  string
	where    string // rows that have the attribution time at all
	idCol    string // the session id, for batches by id
}

func (a Attr) source() source {
	switch a {
	case Queued:
		return source{from: "chat_sessions s LEFT JOIN session_ratings r ON r.session_id = s.id", queueCol: "s.queue_id",
			timeCol: "s.queued_at", where: "s.queued_at IS NOT NULL", idCol: "s.id"}
	case Started:
		return source{from: "chat_sessions s", queueCol: "s.queue_id", timeCol: "s.started_at", where: "1 = 1", idCol: "s.id"}
	default:
		// An interaction counts only with its session, as in the bot reports.
		return source{from: "bot_interactions b JOIN chat_sessions s ON s.id = b.session_id", queueCol: "b.queue_id",
			timeCol: "b.started_at", where: "1 = 1", idCol: "s.id"}
	}
}

// Table is the interval table of a.
func (a Attr) Table() string { return "report_intervals_" + a.String() }

// Agg is how a measure aggregates, within an interval and across them.
type Agg uint8

const (
	Count Agg = iota // rows meeting the predicate
	Sum              // sum of an integer expression (NULL adds nothing)
	Min              // least value (NULL when no row has one)
	Max              // greatest value
)

// Measure is one stored column: an aggregate of a per-row SQL expression
// over the rows of its attribution time. For Count, SQL is the predicate;
// otherwise an integer expression (milliseconds for durations). The SQL
// uses the aliases of the source (s = chat_sessions, r = session_ratings,
// b = bot_interactions) and the {placeholders} of the session predicates
// (predicates in sql.go), which are the SQL of the reports' predicates.
type Measure struct {
	Name string
	Attr Attr
	Agg  Agg
	SQL  string
}

// Measures is the declaration of every stored measure. Changing it
// changes the fingerprint: the store drops its interval tables and is
// rebuilt (reads stay exact meanwhile, from raw rows).
var Measures = buildMeasures()

func buildMeasures() []Measure {
	q := func(name string, agg Agg, sql string) Measure { return Measure{name, Queued, agg, sql} }
	st := func(name string, agg Agg, sql string) Measure { return Measure{name, Started, agg, sql} }
	bo := func(name string, agg Agg, sql string) Measure { return Measure{name, Bot, agg, sql} }
	m := []Measure{
		// Arrivals in the queue (the set O of the reports).
		q("inbound", Count, "1 = 1"),
		q("answered", Count, "{answered}"),
		q("abandoned", Count, "{abandoned}"),
		q("short_abandoned", Count, "{short_abandoned}"),
		q("long_abandoned", Count, "{long_abandoned}"),
		q("timed_out", Count, "{timed_out}"),
		q("flowed_out", Count, "{flowed_out}"),
		q("transferred_out", Count, "s.state = 'Transferred'"),
		q("transferred_in", Count, "s.parent_session_id IS NOT NULL"),
		q("agent_transfers", Sum, "s.agent_transfer_count"),
		q("transfer_answered", Count, "{answered} AND (s.state = 'Transferred' OR s.agent_transfer_count > 0)"),
		q("resolved", Count, "{resolved}"),
		q("sl_offered", Count, "{sl_offered}"),
		q("sl_met", Count, "{sl_met}"),
		q("wait_answered_ms", Sum, "CASE WHEN {answered} THEN {wait} END"),
		q("wait_min_ms", Min, "{wait}"),
		q("wait_max_ms", Max, "{wait}"),
		q("long_abandon_wait_ms", Sum, "CASE WHEN {long_abandoned} THEN COALESCE({wait}, 0) END"),
		q("long_abandon_wait_max_ms", Max, "CASE WHEN {long_abandoned} THEN COALESCE({wait}, 0) END"),
		q("first_response_n", Count, "{answered} AND s.first_agent_message_at IS NOT NULL"),
		q("first_response_ms", Sum, "CASE WHEN {answered} AND s.first_agent_message_at IS NOT NULL THEN {ms:s.queued_at:s.first_agent_message_at} END"),
		q("handled", Count, "{answered} AND {closed}"),
		q("handle_ms", Sum, "{handle}"),
		q("handle_min_ms", Min, "{handle}"),
		q("handle_max_ms", Max, "{handle}"),
		q("handled_messages", Sum, "CASE WHEN {answered} AND {closed} THEN s.message_count END"),
		q("dropped", Count, "{answered} AND {closed} AND s.end_reason = 'connection_error'"),
		q("ratings", Count, "r.rating IS NOT NULL"),
		q("rating_sum", Sum, "r.rating"),
	}
	for k := 1; k <= 5; k++ {
		m = append(m, q(fmt.Sprintf("rated_%d", k), Count, fmt.Sprintf("r.rating = %d", k)))
	}
	// Wait bands of WaitTimeDistribution: [0,15), [15,30), [30,60), [60,120), [120,300), [300,∞) s.
	for i, from := range WaitBands {
		band := fmt.Sprintf("{band_wait} >= %d", from*1000)
		if i+1 < len(WaitBands) {
			band += fmt.Sprintf(" AND {band_wait} < %d", WaitBands[i+1]*1000)
		}
		m = append(m,
			q(fmt.Sprintf("answered_band_%d", i), Count, "{answered} AND {wait} IS NOT NULL AND "+band),
			q(fmt.Sprintf("abandoned_band_%d", i), Count, "{abandoned} AND {wait} IS NOT NULL AND "+band))
	}
	m = append(m,
		// Sessions by start (the set S).
		st("sessions", Count, "1 = 1"),
		st("deflected", Count, "s.state = 'Deflected'"),
		st("bot_abandoned_state", Count, "s.state = 'BotAbandoned'"),
		st("completed", Count, "s.state = 'Completed'"),
		st("abandoned_state", Count, "s.state = 'Abandoned'"),
		st("short_abandoned_started", Count, "{short_abandoned}"),
		st("timed_out_state", Count, "s.state = 'TimedOut'"),
		st("transferred_state", Count, "s.state = 'Transferred'"),
		st("in_progress", Count, "s.state IN ('Bot', 'Waiting', 'Connected')"),
		st("sentiment_n", Count, "s.sentiment_score IS NOT NULL"),
		st("sentiment_milli", Sum, "{sentiment_milli}"),
		st("sentiment_positive", Count, "s.sentiment_score > 0.25"),
		st("sentiment_negative", Count, "s.sentiment_score < -0.25"),
		// Bot interactions by their start.
		bo("bot_sessions", Count, "1 = 1"),
		bo("bot_deflected", Count, "b.outcome = 'deflected'"),
		bo("bot_handoffs", Count, "b.outcome = 'handoff'"),
		bo("bot_abandoned", Count, "b.outcome IN ('abandoned', 'timeout', 'error')"),
		bo("bot_in_progress", Count, "b.outcome IS NULL OR b.outcome = ''"),
		bo("bot_ended", Count, "b.ended_at IS NOT NULL"),
		bo("bot_ms", Sum, "{ms:b.started_at:b.ended_at}"),
		bo("bot_turns", Sum, "b.turns"),
		bo("handoff_offered", Count, "s.queued_at IS NOT NULL"),
		bo("handoff_answered", Count, "s.queued_at IS NOT NULL AND {answered}"),
		bo("handoff_abandoned", Count, "s.queued_at IS NOT NULL AND {abandoned}"),
		bo("handoff_timed_out", Count, "s.queued_at IS NOT NULL AND {timed_out}"),
		bo("handoff_wait_answered_ms", Sum, "CASE WHEN s.queued_at IS NOT NULL AND {answered} THEN {wait} END"),
	)
	return m
}

// WaitBands are the starts, in seconds, of the wait bands of the
// answered_band_* and abandoned_band_* measures (Amazon Connect's).
var WaitBands = []int64{0, 15, 30, 60, 120, 300}

// Of returns the measures of an attribution time, in declaration order.
func Of(a Attr) []Measure {
	var out []Measure
	for _, m := range Measures {
		if m.Attr == a {
			out = append(out, m)
		}
	}
	return out
}

// Fingerprint identifies the declaration: the interval tables were
// created from it.
func Fingerprint() string {
	h := sha256.New()
	for _, m := range Measures {
		fmt.Fprintf(h, "%s|%d|%d|%s\n", m.Name, m.Attr, m.Agg, m.SQL)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// aggregate is the SQL aggregate of m over rows, with d's predicates.
func (m Measure) aggregate(d dialect) string {
	e := d.expand(m.SQL)
	switch m.Agg {
	case Count:
		return "COALESCE(SUM(CASE WHEN " + e + " THEN 1 ELSE 0 END), 0)"
	case Sum:
		return "COALESCE(SUM(" + e + "), 0)"
	case Min:
		return "MIN(" + e + ")"
	default:
		return "MAX(" + e + ")"
	}
}

// combine is the SQL aggregate that combines stored values of m (col).
func (m Measure) combine(col string) string {
	switch m.Agg {
	case Min:
		return "MIN(" + col + ")"
	case Max:
		return "MAX(" + col + ")"
	default:
		return "COALESCE(SUM(" + col + "), 0)"
	}
}

func names(ms []Measure) string {
	n := make([]string, len(ms))
	for i, m := range ms {
		n[i] = m.Name
	}
	return strings.Join(n, ", ")
}
