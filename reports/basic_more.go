package reports

import (
	"context"
	"slices"
	"time"

	"github.com/chime-reports/chime-reports/models"
)

func init() {
	register(&Report{
		Name: "ChatsByDayOfWeek", Title: "Chats by Day of Week", Category: QueueBasic, Grain: GrainDayOfWeek,
		Description: "Weekday load profile of the queue",
		Columns: []Column{
			{Name: "DayOfWeek", Type: Int, Description: "ISO weekday of queued_at in the report zone: 1 = Monday … 7 = Sunday"},
			{Name: "DayName", Type: String, Description: "Weekday name"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue on that weekday"},
			{Name: "Answered", Type: Int, Description: "Of those, sessions an agent accepted"},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Inbound · 100"},
			{Name: "AvgInboundPerDay", Type: Decimal, Description: "Inbound / number of such weekdays the window touches"},
		},
		Formula: "Sessions of the queue grouped by the local weekday of queued_at; every weekday is listed.",
		run:     chatsByDayOfWeek,
	})
	register(&Report{
		Name: "ChatOutcomesByDay", Title: "Chat Outcomes by Day", Category: QueueBasic, Grain: GrainDay,
		Description: "How sessions ended, per day they started",
		Columns: []Column{
			{Name: "Date", Type: Date, Description: "Local day of started_at in the report zone"},
			{Name: "Sessions", Type: Int, Description: "Sessions started (the sum of the other columns)"},
			{Name: "Deflected", Type: Int, Description: "Resolved by the bot"},
			{Name: "BotAbandoned", Type: Int, Description: "The guest left the bot"},
			{Name: "Completed", Type: Int, Description: "Ended normally after an agent"},
			{Name: "Abandoned", Type: Int, Description: "Left the queue after the short-abandon threshold"},
			{Name: "ShortAbandoned", Type: Int, Description: "Left the queue before the short-abandon threshold"},
			{Name: "TimedOut", Type: Int, Description: "Ended by the system while waiting"},
			{Name: "TransferredOut", Type: Int, Description: "Transferred to another queue"},
			{Name: "InProgress", Type: Int, Description: "Still in the bot, waiting or connected at query time"},
		},
		Formula: "Sessions of the queue bucketed by the local day of started_at, one column per terminal state (abandons split into long and short).",
		run:     chatOutcomesByDay,
	})
	register(&Report{
		Name: "ChatsByEntryPoint", Title: "Chats by Entry Point", Category: QueueBasic, Grain: GrainWindow,
		Description: "Teams vs web client vs DirectLine and the other entry points",
		Columns: []Column{
			{Name: "EntryPoint", Type: String, Description: "teams, webclient, directline, sharepoint, api or other"},
			{Name: "Sessions", Type: Int, Description: "Sessions started in the window"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue in the window"},
			{Name: "Answered", Type: Int, Description: "Inbound sessions an agent accepted"},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Inbound · 100"},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of answered sessions"},
		},
		Formula: "Sessions counts by started_at, the other columns by queued_at; every entry point is listed.",
		run:     chatsByEntryPoint,
	})
}

// GrainDayOfWeek: one row per ISO weekday.
const GrainDayOfWeek Grain = "dayOfWeek"

// EntryPoints are the values of chat_sessions.entry_point.
var EntryPoints = []string{"teams", "webclient", "directline", "sharepoint", "api", "other"}

// isoWeekday maps Sunday=0 to 7.
func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

// weekdayCounts counts the local days of each ISO weekday the window touches.
func weekdayCounts(w Window) [8]int {
	var n [8]int
	for _, d := range w.Days() {
		n[isoWeekday(d.Label.Weekday())]++
	}
	return n
}

func chatsByDayOfWeek(_ context.Context, x *execution) (Rows, error) {
	w := x.q.Window
	v, err := x.aggregateBy(dayQuery{timeCol: "s.queued_at", sels: []string{"COUNT(*)", count(x.sessionPreds().answered)}},
		x.daySQL().weekday("s.queued_at", w.Zone, w.Stop), 8)
	if err != nil {
		return nil, err
	}
	days := weekdayCounts(w)
	out := make([][]any, 0, 7)
	for d := 1; d <= 7; d++ {
		inbound, answered := v.n(d, 0), v.n(d, 1)
		out = append(out, []any{int64(d), time.Weekday(d % 7).String(), inbound, answered, ratio(answered, inbound), perDay(inbound, days[d])})
	}
	return newSliceRows(out), nil
}

func chatOutcomesByDay(_ context.Context, x *execution) (Rows, error) {
	p := x.sessionPreds()
	state := func(st string) string { return count("s.state = '" + st + "'") }
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "s.started_at", sels: []string{
		"COUNT(*)", state(models.StateDeflected), state(models.StateBotAbandoned), state(models.StateCompleted),
		state(models.StateAbandoned), count(p.shortAbandon), state(models.StateTimedOut), state(models.StateTransferred),
	}})
	if err != nil {
		return nil, err
	}
	return v.rows(days, func(d Bucket, i int) []any {
		abandoned, short := v.n(i, 4), v.n(i, 5)
		ended := v.n(i, 1) + v.n(i, 2) + v.n(i, 3) + abandoned + v.n(i, 6) + v.n(i, 7)
		return []any{d.Label, v.n(i, 0), v.n(i, 1), v.n(i, 2), v.n(i, 3), abandoned - short, short, v.n(i, 6), v.n(i, 7), v.n(i, 0) - ended}
	}), nil
}

func chatsByEntryPoint(_ context.Context, x *execution) (Rows, error) {
	p := x.sessionPreds()
	started, sv, err := x.aggregateByText(dayQuery{timeCol: "s.started_at", sels: []string{"COUNT(*)"}}, "s.entry_point")
	if err != nil {
		return nil, err
	}
	offered, ov, err := x.aggregateByText(dayQuery{timeCol: "s.queued_at",
		sels: []string{"COUNT(*)", count(p.answered), "SUM(CASE WHEN " + p.answered + " THEN " + p.wait + " END)"}}, "s.entry_point")
	if err != nil {
		return nil, err
	}
	out := make([][]any, 0, len(EntryPoints))
	for _, ep := range EntryPoints {
		var sessions, inbound, answered int64
		var wait any
		if i := slices.Index(started, ep); i >= 0 {
			sessions = sv.n(i, 0)
		}
		if i := slices.Index(offered, ep); i >= 0 {
			inbound, answered, wait = ov.n(i, 0), ov.n(i, 1), ov.meanOf(i, 2, 1, 1000)
		}
		out = append(out, []any{ep, sessions, inbound, answered, ratio(answered, inbound), wait})
	}
	return newSliceRows(out), nil
}
