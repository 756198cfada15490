package reports

import (
	"context"
	"fmt"
	"strconv"

	"github.com/chime-reports/chime-reports/models"
)

func init() {
	dateCol := Column{Name: "Date", Type: Date, Description: "Local day of queued_at in the report zone"}
	register(&Report{
		Name: "ServiceLevelByDay", Title: "Service Level by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "% of chats answered within the queue's service-level threshold, per day",
		Columns: []Column{dateCol,
			{Name: "ThresholdSeconds", Type: Int, Unit: "s", Description: "The queue's service-level threshold T used"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue"},
			{Name: "AnsweredWithinThreshold", Type: Int, Description: "Answered with a wait ≤ T"},
			{Name: "Answered", Type: Int, Description: "Answered sessions"},
			{Name: "Abandoned", Type: Int, Description: "Long abandons (wait ≥ the short-abandon threshold)"},
			{Name: "ShortAbandoned", Type: Int, Description: "Abandons before the short-abandon threshold (excluded from the service level)"},
			{Name: "TimedOut", Type: Int, Description: "Ended by the system before an answer (counted as failures)"},
			{Name: "TransferredOut", Type: Int, Description: "Transferred to another queue before an answer (excluded)"},
			{Name: "ServiceLevelPct", Type: Pct, Description: "AnsweredWithinThreshold / (Answered + Abandoned + TimedOut) · 100"},
			{Name: "TargetPct", Type: Pct, Description: "The queue's service-level target"},
		},
		Formula: "Genesys formula with abandons included: numerator = answered within T; denominator = answered + long abandons + time-outs. Short abandons, flow-outs and sessions still waiting are excluded.",
		run:     serviceLevelByDay,
	})
	register(&Report{
		Name: "AbandonedChatsByDay", Title: "Abandoned Chats by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "Abandonment detail per day",
		Columns: []Column{dateCol,
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue"},
			{Name: "Abandoned", Type: Int, Description: "Long abandons"},
			{Name: "ShortAbandoned", Type: Int, Description: "Short abandons"},
			{Name: "AbandonRatePct", Type: Pct, Description: "Abandoned / (resolved in queue − short abandons) · 100"},
			{Name: "AvgAbandonSeconds", Type: Seconds, Description: "Mean wait of long abandons"},
			{Name: "MaxAbandonSeconds", Type: Seconds, Description: "Longest wait of a long abandon"},
		},
		Formula: "Resolved in queue = answered, abandoned, timed out or transferred before answer; short abandons are removed from both sides; sessions still waiting are excluded (Google CCAI's denominator).",
		run:     abandonedByDay,
	})
	register(&Report{
		Name: "WaitTimeByDay", Title: "Wait Time by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "Speed of answer and wait spread per day",
		Columns: []Column{dateCol,
			{Name: "Answered", Type: Int, Description: "Answered sessions"},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of answered sessions (ASA)"},
			{Name: "MedianWaitSeconds", Type: Seconds, Description: "Median wait of answered sessions (nearest rank)"},
			{Name: "P90WaitSeconds", Type: Seconds, Description: "90th percentile wait of answered sessions (nearest rank)"},
			{Name: "MaxWaitSeconds", Type: Seconds, Description: "Longest wait of any session resolved in the queue (abandons included)"},
			{Name: "AvgFirstResponseSeconds", Type: Seconds, Description: "Mean queued_at → first agent message, over answered sessions with one"},
		},
		Formula: "Waits of answered sessions by day of queued_at; percentiles are exact nearest-rank values; the maximum also covers abandoned, timed-out and transferred-away sessions.",
		run:     waitTimeByDay,
	})
	register(&Report{
		Name: "WaitTimeDistribution", Title: "Wait Time Distribution", Category: QueuePerformance, Grain: GrainWindow,
		Description: "How long guests waited, in bands",
		Columns: []Column{
			{Name: "Band", Type: String, Description: "Wait band, e.g. 15-30s"},
			{Name: "FromSeconds", Type: Int, Description: "Band start (inclusive)"},
			{Name: "ToSeconds", Type: Int, Description: "Band end (exclusive); empty for the open last band"},
			{Name: "Answered", Type: Int, Description: "Answered sessions whose wait falls in the band"},
			{Name: "Abandoned", Type: Int, Description: "Abandoned sessions (short and long) whose wait falls in the band"},
			{Name: "AnsweredCumulativePct", Type: Pct, Description: "Answered with wait < ToSeconds / all answered · 100"},
		},
		Formula: "Bands [0,15), [15,30), [30,60), [60,120), [120,300), [300,∞) over the whole window (Amazon Connect's bands).",
		run:     waitTimeDistribution,
	})
	register(&Report{
		Name: "ChatDurationByDay", Title: "Chat Duration by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "Handle time of answered chats per day",
		Columns: []Column{dateCol,
			{Name: "CompletedChats", Type: Int, Description: "Answered and closed sessions"},
			{Name: "AvgHandleSeconds", Type: Seconds, Description: "Mean accepted_at → ended_at"},
			{Name: "MedianHandleSeconds", Type: Seconds, Description: "Median handle time (nearest rank)"},
			{Name: "P90HandleSeconds", Type: Seconds, Description: "90th percentile handle time (nearest rank)"},
			{Name: "MaxHandleSeconds", Type: Seconds, Description: "Longest handle time"},
			{Name: "AvgMessagesPerChat", Type: Decimal, Description: "Mean messages per chat (system and internal excluded)"},
			{Name: "DroppedChats", Type: Int, Description: "Chats that ended on a connection error after the answer"},
		},
		Formula: "Over sessions that entered the queue in the day, were answered and are closed; durations are not split at midnight.",
		run:     chatDurationByDay,
	})
	register(&Report{
		Name: "TransfersByDay", Title: "Transfers by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "Queue and agent transfers per day",
		Columns: []Column{dateCol,
			{Name: "Answered", Type: Int, Description: "Answered sessions"},
			{Name: "TransferredOut", Type: Int, Description: "Sessions transferred to another queue (before or after an answer)"},
			{Name: "TransferredIn", Type: Int, Description: "Sessions that arrived by transfer from another queue"},
			{Name: "AgentTransfers", Type: Int, Description: "Agent-to-agent transfers inside the queue"},
			{Name: "TransferRatePct", Type: Pct, Description: "Answered sessions transferred (queue or agent) / Answered · 100"},
		},
		Formula: "TransferRatePct counts answered sessions that were transferred to another queue or between agents.",
		run:     transfersByDay,
	})
	register(&Report{
		Name: "CustomerSatisfactionByDay", Title: "Customer Satisfaction by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "Post-chat survey results per day",
		Columns: []Column{dateCol,
			{Name: "ChatsEnded", Type: Int, Description: "Answered and closed sessions"},
			{Name: "Ratings", Type: Int, Description: "Survey answers for sessions that entered the queue that day"},
			{Name: "ResponseRatePct", Type: Pct, Description: "Ratings / ChatsEnded · 100"},
			{Name: "AvgRating", Type: Decimal, Description: "Mean rating (1–5)"},
			{Name: "CsatPct", Type: Pct, Description: "Ratings of 4 or 5 / Ratings · 100"},
			{Name: "Rated1", Type: Int, Description: "Ratings of 1 (Bad)"},
			{Name: "Rated2", Type: Int, Description: "Ratings of 2 (Poor)"},
			{Name: "Rated3", Type: Int, Description: "Ratings of 3 (OK)"},
			{Name: "Rated4", Type: Int, Description: "Ratings of 4 (Good)"},
			{Name: "Rated5", Type: Int, Description: "Ratings of 5 (Excellent)"},
		},
		Formula: "Ratings are bucketed by their session's queued_at (not submitted_at), so numerator and denominator cover the same sessions.",
		run:     satisfactionByDay,
	})
}

// GrainWindow: one row per entity or band for the whole window.
const GrainWindow Grain = "window"

func serviceLevelByDay(_ context.Context, x *execution) (Rows, error) {
	p := x.sessionPreds()
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "s.queued_at", sels: []string{
		"COUNT(*)", count(p.slMet), count(p.answered), count(p.longAbandon), count(p.shortAbandon),
		count(p.timedOut), count(p.xferOut), count(p.slIn),
	}})
	if err != nil {
		return nil, err
	}
	q := x.info[x.q.QueueID]
	return v.rows(days, func(d Bucket, i int) []any {
		return []any{d.Label, int64(q.SLASeconds), v.n(i, 0), v.n(i, 1), v.n(i, 2), v.n(i, 3), v.n(i, 4), v.n(i, 5), v.n(i, 6),
			ratio(v.n(i, 1), v.n(i, 7)), q.SLATarget}
	}), nil
}

func abandonedByDay(_ context.Context, x *execution) (Rows, error) {
	p := x.sessionPreds()
	// A long abandon without an end has no wait: it counts as 0 s.
	longWait := "CASE WHEN " + p.longAbandon + " THEN COALESCE(" + p.wait + ", 0) END"
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "s.queued_at", sels: []string{
		"COUNT(*)", count(p.longAbandon), count(p.shortAbandon), count(p.resolvedQ), "SUM(" + longWait + ")", "MAX(" + longWait + ")",
	}})
	if err != nil {
		return nil, err
	}
	return v.rows(days, func(d Bucket, i int) []any {
		long, short := v.n(i, 1), v.n(i, 2)
		return []any{d.Label, v.n(i, 0), long, short, ratio(long, v.n(i, 3)-short), v.meanOf(i, 4, 1, 1000), v.seconds(i, 5)}
	}), nil
}

func waitTimeByDay(_ context.Context, x *execution) (Rows, error) {
	p := x.sessionPreds()
	firstResponse := "CASE WHEN " + p.answered + " AND s.first_agent_message_at IS NOT NULL THEN " +
		x.daySQL().ms("s.queued_at", "s.first_agent_message_at") + " END"
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "s.queued_at",
		values: []string{"CASE WHEN " + p.answered + " THEN 1 ELSE 0 END AS a", p.wait + " AS w", firstResponse + " AS fr"},
		sels:   []string{"SUM(s.a)", "SUM(CASE WHEN s.a = 1 THEN s.w END)", "MAX(s.w)", "SUM(s.fr)", "COUNT(s.fr)"},
		rank:   "CASE WHEN s.a = 1 THEN s.w END", pcts: []int{50, 90},
	})
	if err != nil {
		return nil, err
	}
	return v.rows(days, func(d Bucket, i int) []any {
		return []any{d.Label, v.n(i, 0), v.meanOf(i, 1, 0, 1000), v.seconds(i, 5), v.seconds(i, 6), v.seconds(i, 2), v.meanOf(i, 3, 4, 1000)}
	}), nil
}

// waitBands are Amazon Connect's wait bands, in seconds; the last is open.
var waitBands = []int64{0, 15, 30, 60, 120, 300}

func waitTimeDistribution(_ context.Context, x *execution) (Rows, error) {
	p := x.sessionPreds()
	// The band of each wait, in SQL: the last band whose start it reaches.
	// Only answered and abandoned sessions with a wait count, so the wait is
	// plainly queued_at → accept or end: with p.wait (its resolvedQ guard
	// repeated in every WHEN) the report took 1.22× its floor, with this
	// 1.11× (MariaDB, queue-year).
	wait := x.daySQL().ms("s.queued_at", "COALESCE(s.accepted_at, s.ended_at)")
	band := "CASE"
	for i := len(waitBands) - 1; i > 0; i-- {
		band += fmt.Sprintf(" WHEN %s >= %d THEN %d", wait, waitBands[i]*1000, i)
	}
	band += " ELSE 0 END"
	v, err := x.aggregateBy(dayQuery{timeCol: "s.queued_at",
		where: "(" + p.answered + " OR " + p.abandoned + ") AND " + p.wait + " IS NOT NULL",
		sels:  []string{count(p.answered), count(p.abandoned)}}, band, len(waitBands))
	if err != nil {
		return nil, err
	}
	var total int64
	for i := range waitBands {
		total += v.n(i, 0)
	}
	out := make([][]any, len(waitBands))
	var cum int64
	for i, from := range waitBands {
		cum += v.n(i, 0)
		var to any
		name := fmt.Sprintf("%ds+", from)
		if i+1 < len(waitBands) {
			to = waitBands[i+1]
			name = fmt.Sprintf("%d-%ds", from, waitBands[i+1])
		}
		out[i] = []any{name, from, to, v.n(i, 0), v.n(i, 1), ratio(cum, total)}
	}
	return newSliceRows(out), nil
}

func chatDurationByDay(_ context.Context, x *execution) (Rows, error) {
	p := x.sessionPreds()
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "s.queued_at", where: p.answered + " AND " + p.closed,
		values: []string{p.handle + " AS h", "s.message_count AS mc", "CASE WHEN s.end_reason = 'connection_error' THEN 1 ELSE 0 END AS dropped"},
		sels:   []string{"COUNT(*)", "SUM(s.h)", "MAX(s.h)", "SUM(s.mc)", "SUM(s.dropped)"},
		rank:   "s.h", pcts: []int{50, 90},
	})
	if err != nil {
		return nil, err
	}
	return v.rows(days, func(d Bucket, i int) []any {
		return []any{d.Label, v.n(i, 0), v.meanOf(i, 1, 0, 1000), v.seconds(i, 5), v.seconds(i, 6), v.seconds(i, 2), v.meanOf(i, 3, 0, 1), v.n(i, 4)}
	}), nil
}

func transfersByDay(_ context.Context, x *execution) (Rows, error) {
	p := x.sessionPreds()
	transferred := "s.state = '" + models.StateTransferred + "'"
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "s.queued_at", sels: []string{
		count(p.answered), count(transferred), count("s.parent_session_id IS NOT NULL"), "SUM(s.agent_transfer_count)",
		count(p.answered + " AND (" + transferred + " OR s.agent_transfer_count > 0)"),
	}})
	if err != nil {
		return nil, err
	}
	return v.rows(days, func(d Bucket, i int) []any {
		return []any{d.Label, v.n(i, 0), v.n(i, 1), v.n(i, 2), v.n(i, 3), ratio(v.n(i, 4), v.n(i, 0))}
	}), nil
}

func satisfactionByDay(_ context.Context, x *execution) (Rows, error) {
	p := x.sessionPreds()
	sels := []string{count(p.answered + " AND " + p.closed), "COUNT(r.rating)", "SUM(r.rating)", count("r.rating >= 4")}
	for r := 1; r <= 5; r++ {
		sels = append(sels, count("r.rating = "+strconv.Itoa(r)))
	}
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "s.queued_at", join: "LEFT JOIN session_ratings r ON r.session_id = s.id", sels: sels})
	if err != nil {
		return nil, err
	}
	return v.rows(days, func(d Bucket, i int) []any {
		ratings := v.n(i, 1)
		return []any{d.Label, v.n(i, 0), ratings, ratio(ratings, v.n(i, 0)), v.meanOf(i, 2, 1, 1), ratio(v.n(i, 3), ratings),
			v.n(i, 4), v.n(i, 5), v.n(i, 6), v.n(i, 7), v.n(i, 8)}
	}), nil
}
