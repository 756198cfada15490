package reports

// The queue's performance reports: service level, abandonment, wait,
// handle time, transfers and satisfaction, all measured by queued_at.

// waitBands are Amazon Connect's wait bands, in seconds; the last is open.
var waitBands = []int64{0, 15, 30, 60, 120, 300}

// completedQ: answered and closed (handle-time statistics).
var completedQ = AllOf(Answered, Closed)

func init() {
	dateCol := Column{Name: "Date", Type: Date, Description: "Local day of queued_at in the report zone"}
	register(&Report{
		Name: "ServiceLevelByDay", Title: "Service Level by Day", Category: QueuePerformance, Grain: GrainDay, By: ByDay,
		Description: "% of chats answered within the queue's service-level threshold, per day",
		Columns: []Column{dateCol,
			{Name: "ThresholdSeconds", Type: Int, Unit: "s", Description: "The queue's service-level threshold T used",
				Calc: func(c Cells) any { return int64(c.SLASeconds()) }},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue", Measure: inbound},
			{Name: "AnsweredWithinThreshold", Type: Int, Description: "Answered with a wait ≤ T", Measure: Count(QueuedAt, SLMet)},
			{Name: "Answered", Type: Int, Description: "Answered sessions", Measure: answered},
			{Name: "Abandoned", Type: Int, Description: "Long abandons (wait ≥ the short-abandon threshold)", Measure: Count(QueuedAt, LongAbandon)},
			{Name: "ShortAbandoned", Type: Int, Description: "Abandons before the short-abandon threshold (excluded from the service level)", Measure: Count(QueuedAt, ShortAbandon)},
			{Name: "TimedOut", Type: Int, Description: "Ended by the system before an answer (counted as failures)", Measure: Count(QueuedAt, TimedOut)},
			{Name: "TransferredOut", Type: Int, Description: "Transferred to another queue before an answer (excluded)", Measure: Count(QueuedAt, TransferOut)},
			{Name: "ServiceLevelPct", Type: Pct, Description: "AnsweredWithinThreshold / (Answered + Abandoned + TimedOut) · 100",
				Measure: Ratio(Count(QueuedAt, SLMet), Count(QueuedAt, SLIn))},
			{Name: "TargetPct", Type: Pct, Description: "The queue's service-level target", Calc: func(c Cells) any { return c.SLATarget() }},
		},
		Formula: "Genesys formula with abandons included: numerator = answered within T; denominator = answered + long abandons + time-outs. Short abandons, flow-outs and sessions still waiting are excluded.",
	})
	register(&Report{
		Name: "AbandonedChatsByDay", Title: "Abandoned Chats by Day", Category: QueuePerformance, Grain: GrainDay, By: ByDay,
		Description: "Abandonment detail per day",
		Inputs:      map[string]*Measure{"resolvedQ": Count(QueuedAt, ResolvedQ)},
		Columns: []Column{dateCol,
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue", Measure: inbound},
			{Name: "Abandoned", Type: Int, Description: "Long abandons", Measure: Count(QueuedAt, LongAbandon)},
			{Name: "ShortAbandoned", Type: Int, Description: "Short abandons", Measure: Count(QueuedAt, ShortAbandon)},
			{Name: "AbandonRatePct", Type: Pct, Description: "Abandoned / (resolved in queue − short abandons) · 100", Null: true,
				Calc: func(c Cells) any { return ratio(c.Int("Abandoned"), c.Int("resolvedQ")-c.Int("ShortAbandoned")) }},
			// A long abandon without an end has no wait: it counts as 0 s.
			{Name: "AvgAbandonSeconds", Type: Seconds, Description: "Mean wait of long abandons",
				Measure: Mean(Sum(QueuedAt, LongAbandon, WaitOrZero), Count(QueuedAt, LongAbandon))},
			{Name: "MaxAbandonSeconds", Type: Seconds, Description: "Longest wait of a long abandon", Measure: Max(QueuedAt, LongAbandon, WaitOrZero)},
		},
		Formula: "Resolved in queue = answered, abandoned, timed out or transferred before answer; short abandons are removed from both sides; sessions still waiting are excluded (Google CCAI's denominator).",
	})
	register(&Report{
		Name: "WaitTimeByDay", Title: "Wait Time by Day", Category: QueuePerformance, Grain: GrainDay, By: ByDay,
		Description: "Speed of answer and wait spread per day",
		Columns: []Column{dateCol,
			{Name: "Answered", Type: Int, Description: "Answered sessions", Measure: answered},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of answered sessions (ASA)", Measure: avgAnsweredWait},
			{Name: "MedianWaitSeconds", Type: Seconds, Description: "Median wait of answered sessions (nearest rank)", Measure: Percentile(QueuedAt, Answered, Wait, 50)},
			{Name: "P90WaitSeconds", Type: Seconds, Description: "90th percentile wait of answered sessions (nearest rank)", Measure: Percentile(QueuedAt, Answered, Wait, 90)},
			{Name: "MaxWaitSeconds", Type: Seconds, Description: "Longest wait of any session resolved in the queue (abandons included)", Measure: Max(QueuedAt, nil, Wait)},
			{Name: "AvgFirstResponseSeconds", Type: Seconds, Description: "Mean queued_at → first agent message, over answered sessions with one",
				Measure: Mean(Sum(QueuedAt, Answered, FirstResponse), CountOf(QueuedAt, Answered, FirstResponse))},
		},
		Formula: "Waits of answered sessions by day of queued_at; percentiles are exact nearest-rank values; the maximum also covers abandoned, timed-out and transferred-away sessions.",
	})
	register(&Report{
		Name: "WaitTimeDistribution", Title: "Wait Time Distribution", Category: QueuePerformance, Grain: GrainWindow,
		// The band of each wait: only answered and abandoned sessions with a
		// wait count (WaitBanded, the query's WHERE), so the wait is plainly
		// queued_at → accept or end, without Wait's resolvedQ guard repeated
		// in every WHEN (1.11× its floor instead of 1.22×, MariaDB,
		// queue-year).
		By:          ByBands(func(x *execution) string { return x.daySQL().ms("s.queued_at", "COALESCE(s.accepted_at, s.ended_at)") }, waitBands),
		Description: "How long guests waited, in bands",
		Columns: []Column{
			{Name: "Band", Type: String, Description: "Wait band, e.g. 15-30s"},
			{Name: "FromSeconds", Type: Int, Description: "Band start (inclusive)"},
			{Name: "ToSeconds", Type: Int, Description: "Band end (exclusive); empty for the open last band", Null: true},
			{Name: "Answered", Type: Int, Description: "Answered sessions whose wait falls in the band", Measure: Count(QueuedAt, AllOf(WaitBanded, Answered))},
			{Name: "Abandoned", Type: Int, Description: "Abandoned sessions (short and long) whose wait falls in the band", Measure: Count(QueuedAt, AllOf(WaitBanded, Abandoned))},
			{Name: "AnsweredCumulativePct", Type: Pct, Description: "Answered with wait < ToSeconds / all answered · 100", Null: true,
				Calc: func(c Cells) any { return ratio(c.Running("Answered"), c.Total("Answered")) }},
		},
		Formula: "Bands [0,15), [15,30), [30,60), [60,120), [120,300), [300,∞) over the whole window (Amazon Connect's bands).",
	})
	completed := Count(QueuedAt, completedQ)
	register(&Report{
		Name: "ChatDurationByDay", Title: "Chat Duration by Day", Category: QueuePerformance, Grain: GrainDay, By: ByDay,
		Description: "Handle time of answered chats per day",
		Columns: []Column{dateCol,
			{Name: "CompletedChats", Type: Int, Description: "Answered and closed sessions", Measure: completed},
			{Name: "AvgHandleSeconds", Type: Seconds, Description: "Mean accepted_at → ended_at", Measure: Mean(Sum(QueuedAt, completedQ, Handle), completed)},
			{Name: "MedianHandleSeconds", Type: Seconds, Description: "Median handle time (nearest rank)", Measure: Percentile(QueuedAt, completedQ, Handle, 50)},
			{Name: "P90HandleSeconds", Type: Seconds, Description: "90th percentile handle time (nearest rank)", Measure: Percentile(QueuedAt, completedQ, Handle, 90)},
			{Name: "MaxHandleSeconds", Type: Seconds, Description: "Longest handle time", Measure: Max(QueuedAt, completedQ, Handle)},
			{Name: "AvgMessagesPerChat", Type: Decimal, Description: "Mean messages per chat (system and internal excluded)", Measure: Mean(Sum(QueuedAt, completedQ, Messages), completed)},
			{Name: "DroppedChats", Type: Int, Description: "Chats that ended on a connection error after the answer", Measure: Count(QueuedAt, AllOf(completedQ, ConnectionDropped))},
		},
		Formula: "Over sessions that entered the queue in the day, were answered and are closed; durations are not split at midnight.",
	})
	register(&Report{
		Name: "TransfersByDay", Title: "Transfers by Day", Category: QueuePerformance, Grain: GrainDay, By: ByDay,
		Description: "Queue and agent transfers per day",
		Columns: []Column{dateCol,
			{Name: "Answered", Type: Int, Description: "Answered sessions", Measure: answered},
			{Name: "TransferredOut", Type: Int, Description: "Sessions transferred to another queue (before or after an answer)", Measure: Count(QueuedAt, StateTransferred)},
			{Name: "TransferredIn", Type: Int, Description: "Sessions that arrived by transfer from another queue", Measure: Count(QueuedAt, TransferredIn)},
			{Name: "AgentTransfers", Type: Int, Description: "Agent-to-agent transfers inside the queue", Measure: Sum(QueuedAt, nil, AgentTransfers)},
			{Name: "TransferRatePct", Type: Pct, Description: "Answered sessions transferred (queue or agent) / Answered · 100",
				Measure: Ratio(Count(QueuedAt, AllOf(Answered, TransferredAny)), answered)},
		},
		Formula: "TransferRatePct counts answered sessions that were transferred to another queue or between agents.",
	})
	rated := CountOf(QueuedAt, nil, Rating)
	ended := Count(QueuedAt, completedQ)
	satisfaction := []Column{dateCol,
		{Name: "ChatsEnded", Type: Int, Description: "Answered and closed sessions", Measure: ended},
		{Name: "Ratings", Type: Int, Description: "Survey answers for sessions that entered the queue that day", Measure: rated},
		{Name: "ResponseRatePct", Type: Pct, Description: "Ratings / ChatsEnded · 100", Measure: Ratio(rated, ended)},
		{Name: "AvgRating", Type: Decimal, Description: "Mean rating (1–5)", Measure: Mean(Sum(QueuedAt, nil, Rating), rated)},
		{Name: "CsatPct", Type: Pct, Description: "Ratings of 4 or 5 / Ratings · 100", Measure: Ratio(Count(QueuedAt, RatedSatisfied), rated)},
	}
	for r, label := range []string{"Bad", "Poor", "OK", "Good", "Excellent"} {
		satisfaction = append(satisfaction, Column{Name: "Rated" + itoa(int64(r+1)), Type: Int,
			Description: "Ratings of " + itoa(int64(r+1)) + " (" + label + ")", Measure: Count(QueuedAt, RatedExactly(int64(r+1)))})
	}
	register(&Report{
		Name: "CustomerSatisfactionByDay", Title: "Customer Satisfaction by Day", Category: QueuePerformance, Grain: GrainDay, By: ByDay,
		Description: "Post-chat survey results per day",
		Columns:     satisfaction,
		Formula:     "Ratings are bucketed by their session's queued_at (not submitted_at), so numerator and denominator cover the same sessions.",
	})
}

// GrainWindow: one row per entity or band for the whole window.
const GrainWindow Grain = "window"
