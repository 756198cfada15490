package store

import (
	"fmt"
	"regexp"
)

// The store's own tests run on a declaration of their own: 68 measures
// over every attribution time, every aggregate and every threshold
// predicate, written with {placeholders}. (In the service the reports
// declare the stored measures: reports/stored.go, tested in package
// reports.)
func init() {
	for _, m := range testMeasures() {
		Declare(m)
	}
	DeclareKeywords("seeker", "question")
}

// expanded is a measure SQL written with placeholders.
func expanded(sql string) func(Dialect) string {
	return func(d Dialect) string { return expand(dialect{mysql: d.MySQL, thresh: d.Thresholds}, sql) }
}

// waitBands are the starts, in seconds, of the wait bands of the
// answered_band_* and abandoned_band_* measures.
var waitBands = []int64{0, 15, 30, 60, 120, 300}

func testMeasures() []Measure {
	q := func(name string, agg Agg, sql string) Measure { return Measure{name, Queued, agg, expanded(sql)} }
	st := func(name string, agg Agg, sql string) Measure { return Measure{name, Started, agg, expanded(sql)} }
	bo := func(name string, agg Agg, sql string) Measure { return Measure{name, Bot, agg, expanded(sql)} }
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
	for i, from := range waitBands {
		band := fmt.Sprintf("{band_wait} >= %d", from*1000)
		if i+1 < len(waitBands) {
			band += fmt.Sprintf(" AND {band_wait} < %d", waitBands[i+1]*1000)
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

// predicates are session predicates as SQL over chat_sessions s, by
// name, for the {placeholders} of the test measures.
func predicates(d dialect) map[string]string {
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
func expand(d dialect, sql string) string {
	return placeholder.ReplaceAllStringFunc(sql, func(m string) string {
		g := placeholder.FindStringSubmatch(m)
		if g[1] == "ms" && g[2] != "" {
			return d.ms(g[2], g[3])
		}
		v, ok := predicates(d)[g[1]]
		if !ok {
			panic("store: unknown placeholder " + m)
		}
		return v
	})
}
