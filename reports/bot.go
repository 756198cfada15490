package reports

import (
	"context"
	"database/sql"
	"time"
)

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
	})
}

// botRow is one bot interaction with its session.
type botRow struct {
	facts
	started  time.Time
	ended    *time.Time
	outcome  string
	reason   string
	turns    int64
	intent   string
	feedback string
}

// forEachBot streams the bot interactions of the run's queues that started
// in the window, each with its session's facts.
func (x *execution) forEachBot(fn func(b *botRow)) error {
	return x.streamBots(true, fn)
}

// forEachBotOnly is forEachBot without the session's facts: only ID and
// QueueID of the embedded facts are set. The join to chat_sessions stays
// (an interaction counts only with its session) but reads the primary key
// alone, not every session row: on a table larger than the buffer pool
// that is the difference between an index probe and a random page read
// per interaction.
func (x *execution) forEachBotOnly(fn func(b *botRow)) error {
	return x.streamBots(false, fn)
}

const botColumns = "b.started_at, b.ended_at, b.outcome, b.handoff_reason, b.turns, b.top_intent, b.feedback"

func (x *execution) streamBots(withSession bool, fn func(b *botRow)) error {
	cols := "b.session_id, b.queue_id, " + botColumns
	if withSession {
		cols = factsColumnsUnrated + ", " + botColumns
	}
	rows, err := x.db.Table("bot_interactions AS b").Select(cols).
		Joins("JOIN chat_sessions s ON s.id = b.session_id").
		Where("b.queue_id IN ?", nonEmpty(x.queueIDs())).
		Where("b.started_at >= ? AND b.started_at < ?", x.q.Window.Start, x.q.Window.Stop).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	var b botRow
	for rows.Next() {
		var ended sql.NullTime
		var outcome, reason, intent, feedback sql.NullString
		extra := []any{&b.started, &ended, &outcome, &reason, &b.turns, &intent, &feedback}
		if withSession {
			err = b.scan(rows, extra...)
		} else {
			b.facts = facts{}
			err = rows.Scan(append([]any{&b.ID, &b.QueueID}, extra...)...)
		}
		if err != nil {
			return err
		}
		b.started, b.ended = b.started.UTC(), nullTime(ended)
		b.outcome, b.reason, b.intent, b.feedback = outcome.String, reason.String, intent.String, feedback.String
		b.q = x.info[b.QueueID]
		fn(&b)
	}
	return rows.Err()
}

type containmentDay struct {
	sessions, deflected, handoffs, abandoned, inBot int64
	length, turns                                   mean
}

func botContainmentByDay(_ context.Context, x *execution) (Rows, error) {
	days := x.q.Window.Days()
	acc := make([]containmentDay, len(days))
	err := x.forEachBotOnly(func(b *botRow) {
		i := Locate(days, b.started)
		if i < 0 {
			return
		}
		a := &acc[i]
		a.sessions++
		a.turns.add(float64(b.turns))
		switch b.outcome {
		case "deflected":
			a.deflected++
		case "handoff":
			a.handoffs++
		case "abandoned", "timeout", "error":
			a.abandoned++
		case "":
			a.inBot++
		}
		if b.ended != nil {
			a.length.add(seconds(b.started, *b.ended, b.ID))
		}
	})
	if err != nil {
		return nil, err
	}
	return dayRows(days, acc, func(d Bucket, a *containmentDay) []any {
		done := a.sessions - a.inBot
		return []any{d.Label, a.sessions, a.deflected, a.handoffs, a.abandoned, a.inBot, ratio(a.deflected, done), ratio(a.handoffs, done), a.length.value(), a.turns.value()}
	}), nil
}

func botHandoffReasons(_ context.Context, x *execution) (Rows, error) {
	type acc struct {
		handoffs, answered int64
		wait               mean
	}
	tot := map[string]*acc{}
	var all int64
	err := x.forEachBot(func(b *botRow) {
		if b.outcome != "handoff" {
			return
		}
		reason := b.reason
		if reason == "" {
			reason = "(none)"
		}
		a := tot[reason]
		if a == nil {
			a = &acc{}
			tot[reason] = a
		}
		a.handoffs++
		all++
		if b.answered() {
			a.answered++
			if w, ok := b.wait(); ok {
				a.wait.add(w)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	reasons := rankedKeys(tot, func(a *acc) int64 { return a.handoffs })
	out := make([][]any, 0, len(reasons))
	for _, r := range reasons {
		a := tot[r]
		out = append(out, []any{r, a.handoffs, ratio(a.handoffs, all), a.answered, a.wait.value()})
	}
	return newSliceRows(out), nil
}

// topIntents is the number of intents BotTopIntents lists.
const topIntents = 50

func botTopIntents(_ context.Context, x *execution) (Rows, error) {
	type acc struct{ sessions, deflected, handoffs, inBot, helpful, notHelpful int64 }
	tot := map[string]*acc{}
	err := x.forEachBotOnly(func(b *botRow) {
		intent := b.intent
		if intent == "" {
			intent = "(unrecognised)"
		}
		a := tot[intent]
		if a == nil {
			a = &acc{}
			tot[intent] = a
		}
		a.sessions++
		switch b.outcome {
		case "deflected":
			a.deflected++
		case "handoff":
			a.handoffs++
		case "":
			a.inBot++
		}
		switch b.feedback {
		case "helpful":
			a.helpful++
		case "not_helpful":
			a.notHelpful++
		}
	})
	if err != nil {
		return nil, err
	}
	intents := rankedKeys(tot, func(a *acc) int64 { return a.sessions })
	if len(intents) > topIntents {
		intents = intents[:topIntents]
	}
	out := make([][]any, 0, len(intents))
	for _, k := range intents {
		a := tot[k]
		out = append(out, []any{k, a.sessions, a.deflected, a.handoffs, ratio(a.deflected, a.sessions-a.inBot), ratio(a.helpful, a.helpful+a.notHelpful)})
	}
	return newSliceRows(out), nil
}

func botHandoffOutcomes(_ context.Context, x *execution) (Rows, error) {
	p := x.sessionPreds()
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "b.started_at", from: "bot_interactions b JOIN chat_sessions s ON s.id = b.session_id",
		queueCol: "b.queue_id", where: "s.queued_at IS NOT NULL",
		sels: []string{"COUNT(*)", count(p.answered), count(p.abandoned), count(p.timedOut), "SUM(CASE WHEN " + p.answered + " THEN " + p.wait + " END)"},
	})
	if err != nil {
		return nil, err
	}
	return v.rows(days, func(d Bucket, i int) []any {
		answered := v.n(i, 1)
		return []any{d.Label, v.n(i, 0), answered, v.n(i, 2), v.n(i, 3), ratio(answered, v.n(i, 0)), v.meanOf(i, 4, 1, 1000)}
	}), nil
}
