package reports

import "context"

func init() {
	dateCol := Column{Name: "Date", Type: Date, Description: "Local day the bot conversation started"}
	register(&Report{
		Name: "BotContainmentByDay", Title: "Bot Containment by Day", Category: QueueBot, Grain: GrainDay,
		Description: "Bot deflection vs hand-off per day",
		Columns: []Column{dateCol,
			{Name: "BotSessions", Type: Int, Description: "Bot conversations started that day"},
			{Name: "Deflected", Type: Int, Description: "Resolved by the bot"},
			{Name: "Handoffs", Type: Int, Description: "Handed to the queue's agents"},
			{Name: "BotAbandoned", Type: Int, Description: "Guest left, timed out or bot error"},
			{Name: "InBot", Type: Int, Description: "Still with the bot at query time"},
			{Name: "ContainmentPct", Type: Pct, Description: "Deflected / (BotSessions − InBot) · 100"},
			{Name: "HandoffPct", Type: Pct, Description: "Handoffs / (BotSessions − InBot) · 100"},
			{Name: "AvgBotSeconds", Type: Seconds, Description: "Mean bot conversation length, ended ones"},
			{Name: "AvgTurns", Type: Decimal, Description: "Mean turns (a guest request and the bot's reply)"},
		},
		Formula: "bot_interactions of the queue bucketed by their started_at; conversations still in the bot are left out of the percentages' denominators (Chatwoot uses all conversations).",
		run:     botContainmentByDay,
		cover:   uncovered,
	})
	register(&Report{
		Name: "BotHandoffReasons", Title: "Bot Hand-off Reasons", Category: QueueBot, Grain: GrainWindow,
		Description: "Why guests left the bot for an agent",
		Columns: []Column{
			{Name: "HandoffReason", Type: String, Description: "seeker_requested, bot_escalated, no_answer, skill_tag, transfer_command, or (none)"},
			{Name: "Handoffs", Type: Int, Description: "Hand-offs with that reason"},
			{Name: "SharePct", Type: Pct, Description: "Handoffs / all hand-offs · 100"},
			{Name: "AnsweredAfterHandoff", Type: Int, Description: "Of those, sessions an agent then answered"},
			{Name: "AvgWaitAfterHandoffSeconds", Type: Seconds, Description: "Mean queue wait of the answered ones (queued_at is the hand-off time)"},
		},
		Formula: "bot_interactions with outcome handoff and started_at in the window, grouped by reason, joined to their session.",
		run:     botHandoffReasons,
		cover:   uncovered,
	})
	register(&Report{
		Name: "BotTopIntents", Title: "Bot Top Intents", Category: QueueBot, Grain: GrainWindow,
		Description: "Which intents the bot handles well (top 50)",
		Columns: []Column{
			{Name: "Intent", Type: String, Description: "The top intent recognised, or (unrecognised)"},
			{Name: "BotSessions", Type: Int, Description: "Bot conversations with that intent"},
			{Name: "Deflected", Type: Int, Description: "Resolved by the bot"},
			{Name: "Handoffs", Type: Int, Description: "Handed to agents"},
			{Name: "ContainmentPct", Type: Pct, Description: "Deflected / (BotSessions − still in the bot) · 100"},
			{Name: "HelpfulPct", Type: Pct, Description: "helpful / (helpful + not helpful) feedback · 100"},
		},
		Formula: "bot_interactions with started_at in the window grouped by top_intent; the 50 intents with most conversations (ties by name).",
		run:     botTopIntents,
		cover:   uncovered,
	})
	register(&Report{
		Name: "BotHandoffOutcomes", Title: "Bot Hand-off Outcomes", Category: QueueBot, Grain: GrainDay,
		Description: "What happened after the bot handed over, per day",
		Columns: []Column{dateCol,
			{Name: "Handoffs", Type: Int, Description: "Sessions that went through the bot and then entered the queue"},
			{Name: "Answered", Type: Int, Description: "Of those, answered"},
			{Name: "Abandoned", Type: Int, Description: "Of those, abandoned in the queue (short and long)"},
			{Name: "TimedOut", Type: Int, Description: "Of those, timed out"},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Handoffs · 100"},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of the answered ones"},
		},
		Formula: "Sessions with a bot interaction that were queued, bucketed by the bot interaction's started_at; outcomes by the shared session predicates.",
		run:     botHandoffOutcomes,
		cover:   uncovered,
	})
}

// botFrom is the FROM of the bot reports: an interaction counts only with
// its session.
const botFrom = "bot_interactions b JOIN chat_sessions s ON s.id = b.session_id"

func botContainmentByDay(_ context.Context, x *execution) (Rows, error) {
	length := x.daySQL().ms("b.started_at", "b.ended_at")
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "b.started_at", from: botFrom, queueCol: "b.queue_id", sels: []string{
		"COUNT(*)", count("b.outcome = 'deflected'"), count("b.outcome = 'handoff'"), count("b.outcome IN ('abandoned', 'timeout', 'error')"),
		count("b.outcome IS NULL OR b.outcome = ''"), "SUM(" + length + ")", "COUNT(" + length + ")", "SUM(b.turns)",
	}})
	if err != nil {
		return nil, err
	}
	return v.rows(days, func(d Bucket, i int) []any {
		sessions, inBot := v.n(i, 0), v.n(i, 4)
		done := sessions - inBot
		return []any{d.Label, sessions, v.n(i, 1), v.n(i, 2), v.n(i, 3), inBot, ratio(v.n(i, 1), done), ratio(v.n(i, 2), done),
			v.meanOf(i, 5, 6, 1000), v.meanOf(i, 7, 0, 1)}
	}), nil
}

func botHandoffReasons(_ context.Context, x *execution) (Rows, error) {
	answeredWait := "CASE WHEN " + Answered.SQL(x) + " THEN " + Wait.SQL(x) + " END"
	reasons, v, err := x.aggregateByText(dayQuery{timeCol: "b.started_at", from: botFrom, queueCol: "b.queue_id", where: "b.outcome = 'handoff'",
		sels: []string{"COUNT(*)", count(Answered.SQL(x)), "SUM(" + answeredWait + ")", "COUNT(" + answeredWait + ")"},
	}, "COALESCE(NULLIF(b.handoff_reason, ''), '(none)')")
	if err != nil {
		return nil, err
	}
	var all int64
	for i := range reasons {
		all += v.n(i, 0)
	}
	out := make([][]any, len(reasons))
	for i, r := range reasons {
		out[i] = []any{r, v.n(i, 0), ratio(v.n(i, 0), all), v.n(i, 1), v.meanOf(i, 2, 3, 1000)}
	}
	return newSliceRows(out), nil
}

// topIntents is the number of intents BotTopIntents lists.
const topIntents = 50

func botTopIntents(_ context.Context, x *execution) (Rows, error) {
	intents, v, err := x.aggregateByText(dayQuery{timeCol: "b.started_at", from: botFrom, queueCol: "b.queue_id",
		sels: []string{"COUNT(*)", count("b.outcome = 'deflected'"), count("b.outcome = 'handoff'"), count("b.outcome IS NULL OR b.outcome = ''"),
			count("b.feedback = 'helpful'"), count("b.feedback = 'not_helpful'")},
	}, "COALESCE(NULLIF(b.top_intent, ''), '(unrecognised)')")
	if err != nil {
		return nil, err
	}
	intents = intents[:min(len(intents), topIntents)]
	out := make([][]any, len(intents))
	for i, k := range intents {
		sessions, deflected, helpful := v.n(i, 0), v.n(i, 1), v.n(i, 4)
		out[i] = []any{k, sessions, deflected, v.n(i, 2), ratio(deflected, sessions-v.n(i, 3)), ratio(helpful, helpful+v.n(i, 5))}
	}
	return newSliceRows(out), nil
}

func botHandoffOutcomes(_ context.Context, x *execution) (Rows, error) {
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "b.started_at", from: botFrom,
		queueCol: "b.queue_id", where: "s.queued_at IS NOT NULL",
		sels: []string{"COUNT(*)", count(Answered.SQL(x)), count(Abandoned.SQL(x)), count(TimedOut.SQL(x)), "SUM(CASE WHEN " + Answered.SQL(x) + " THEN " + Wait.SQL(x) + " END)"},
	})
	if err != nil {
		return nil, err
	}
	return v.rows(days, func(d Bucket, i int) []any {
		answered := v.n(i, 1)
		return []any{d.Label, v.n(i, 0), answered, v.n(i, 2), v.n(i, 3), ratio(answered, v.n(i, 0)), v.meanOf(i, 4, 1, 1000)}
	}), nil
}
