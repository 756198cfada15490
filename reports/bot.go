package reports

func init() {
	dateCol := Column{Name: "Date", Type: Date, Description: "Local day the bot conversation started"}
	botSessions := Count(BotStartedAt, nil)
	done := Count(BotStartedAt, BotDone) // BotSessions − InBot
	deflected := Count(BotStartedAt, BotDeflected)
	handoffs := Count(BotStartedAt, BotHandoff)
	register(&Report{
		Name: "BotContainmentByDay", Title: "Bot Containment by Day", Category: QueueBot, Grain: GrainDay, By: ByDay,
		Description: "Bot deflection vs hand-off per day",
		Columns: []Column{dateCol,
			{Name: "BotSessions", Type: Int, Description: "Bot conversations started that day", Measure: botSessions},
			{Name: "Deflected", Type: Int, Description: "Resolved by the bot", Measure: deflected},
			{Name: "Handoffs", Type: Int, Description: "Handed to the queue's agents", Measure: handoffs},
			{Name: "BotAbandoned", Type: Int, Description: "Guest left, timed out or bot error", Measure: Count(BotStartedAt, BotLeft)},
			{Name: "InBot", Type: Int, Description: "Still with the bot at query time", Measure: Count(BotStartedAt, InBot)},
			{Name: "ContainmentPct", Type: Pct, Description: "Deflected / (BotSessions − InBot) · 100", Measure: Ratio(deflected, done)},
			{Name: "HandoffPct", Type: Pct, Description: "Handoffs / (BotSessions − InBot) · 100", Measure: Ratio(handoffs, done)},
			{Name: "AvgBotSeconds", Type: Seconds, Description: "Mean bot conversation length, ended ones",
				Measure: Mean(Sum(BotStartedAt, nil, BotLength), CountOf(BotStartedAt, nil, BotLength))},
			{Name: "AvgTurns", Type: Decimal, Description: "Mean turns (a guest request and the bot's reply)",
				Measure: Mean(Sum(BotStartedAt, nil, Turns), botSessions)},
		},
		Formula: "bot_interactions of the queue bucketed by their started_at; conversations still in the bot are left out of the percentages' denominators (Chatwoot uses all conversations).",
		cover:   uncovered,
	})
	answeredHandoff := AllOf(BotHandoff, Answered)
	register(&Report{
		Name: "BotHandoffReasons", Title: "Bot Hand-off Reasons", Category: QueueBot, Grain: GrainWindow,
		By:          ByText("HandoffReason", "COALESCE(NULLIF(b.handoff_reason, ''), '(none)')", nil, "Handoffs"),
		Description: "Why guests left the bot for an agent",
		Columns: []Column{
			{Name: "HandoffReason", Type: String, Description: "seeker_requested, bot_escalated, no_answer, skill_tag, transfer_command, or (none)"},
			{Name: "Handoffs", Type: Int, Description: "Hand-offs with that reason", Measure: handoffs},
			{Name: "SharePct", Type: Pct, Description: "Handoffs / all hand-offs · 100", Null: true,
				Calc: func(c Cells) any { return ratio(c.Int("Handoffs"), c.Total("Handoffs")) }},
			{Name: "AnsweredAfterHandoff", Type: Int, Description: "Of those, sessions an agent then answered", Measure: Count(BotStartedAt, answeredHandoff)},
			{Name: "AvgWaitAfterHandoffSeconds", Type: Seconds, Description: "Mean queue wait of the answered ones (queued_at is the hand-off time)",
				Measure: Mean(Sum(BotStartedAt, answeredHandoff, Wait), CountOf(BotStartedAt, answeredHandoff, Wait))},
		},
		Formula: "bot_interactions with outcome handoff and started_at in the window, grouped by reason, joined to their session.",
		cover:   uncovered,
	})
	register(&Report{
		Name: "BotTopIntents", Title: "Bot Top Intents", Category: QueueBot, Grain: GrainWindow,
		By:          ByText("Intent", "COALESCE(NULLIF(b.top_intent, ''), '(unrecognised)')", nil, "BotSessions").Top(topIntents),
		Description: "Which intents the bot handles well (top 50)",
		Columns: []Column{
			{Name: "Intent", Type: String, Description: "The top intent recognised, or (unrecognised)"},
			{Name: "BotSessions", Type: Int, Description: "Bot conversations with that intent", Measure: botSessions},
			{Name: "Deflected", Type: Int, Description: "Resolved by the bot", Measure: deflected},
			{Name: "Handoffs", Type: Int, Description: "Handed to agents", Measure: handoffs},
			{Name: "ContainmentPct", Type: Pct, Description: "Deflected / (BotSessions − still in the bot) · 100", Measure: Ratio(deflected, done)},
			{Name: "HelpfulPct", Type: Pct, Description: "helpful / (helpful + not helpful) feedback · 100",
				Measure: Ratio(Count(BotStartedAt, Helpful), Count(BotStartedAt, FeedbackGiven))},
		},
		Formula: "bot_interactions with started_at in the window grouped by top_intent; the 50 intents with most conversations (ties by name).",
		cover:   uncovered,
	})
	answered := Count(BotStartedAt, AllOf(Offered, Answered))
	handedOver := Count(BotStartedAt, Offered)
	register(&Report{
		Name: "BotHandoffOutcomes", Title: "Bot Hand-off Outcomes", Category: QueueBot, Grain: GrainDay, By: ByDay,
		Description: "What happened after the bot handed over, per day",
		Columns: []Column{dateCol,
			{Name: "Handoffs", Type: Int, Description: "Sessions that went through the bot and then entered the queue", Measure: handedOver},
			{Name: "Answered", Type: Int, Description: "Of those, answered", Measure: answered},
			{Name: "Abandoned", Type: Int, Description: "Of those, abandoned in the queue (short and long)", Measure: Count(BotStartedAt, AllOf(Offered, Abandoned))},
			{Name: "TimedOut", Type: Int, Description: "Of those, timed out", Measure: Count(BotStartedAt, AllOf(Offered, TimedOut))},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Handoffs · 100", Measure: Ratio(answered, handedOver)},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of the answered ones",
				Measure: Mean(Sum(BotStartedAt, AllOf(Offered, Answered), Wait), answered)},
		},
		Formula: "Sessions with a bot interaction that were queued, bucketed by the bot interaction's started_at; outcomes by the shared session predicates.",
		cover:   uncovered,
	})
}

// topIntents is the number of intents BotTopIntents lists.
const topIntents = 50
