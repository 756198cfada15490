package reports

import "time"

// The queue's basic reports: volume and outcomes by day, hour of day,
// weekday and entry point, all measured.

// GrainDayOfWeek: one row per ISO weekday.
const GrainDayOfWeek Grain = "dayOfWeek"

// EntryPoints are the values of chat_sessions.entry_point.
var EntryPoints = []string{"teams", "webclient", "directline", "sharepoint", "api", "other"}

// Measures shared by the queue reports.
var (
	inbound         = Count(QueuedAt, nil)
	answered        = Count(QueuedAt, Answered)
	answeredPct     = Ratio(answered, inbound)
	avgAnsweredWait = Mean(Sum(QueuedAt, Answered, Wait), answered)
)

// perDayOf is column / the local days a row covers (null without days).
func perDayOf(col string) func(c Cells) any {
	return func(c Cells) any { return perDay(c.Int(col), c.Days()) }
}

func init() {
	register(&Report{
		Name:        "InboundVsAnsweredChats",
		Title:       "Inbound vs Answered Chats",
		Description: "Chats that entered the queue vs chats an agent connected to, per day",
		Category:    QueueBasic,
		Grain:       GrainDay,
		By:          ByDay,
		Columns: []Column{
			{Name: "Date", Type: Date, Description: "Local day in the report zone"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue that day (by queued_at), transferred-in legs included", Measure: inbound},
			{Name: "Answered", Type: Int, Description: "Of those, sessions an agent accepted (even after midnight)", Measure: answered},
			{Name: "NotAnswered", Type: Int, Description: "Inbound − Answered: abandoned, timed out, transferred away before answer, or still waiting",
				Calc: func(c Cells) any { return c.Int("Inbound") - c.Int("Answered") }},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Inbound · 100; empty when Inbound is 0", Measure: answeredPct},
		},
		Formula: "Sessions of the queue bucketed by the local day of queued_at; Answered counts those with accepted_at set, attributed to the arrival day, so Answered ≤ Inbound. Every day of the window is listed, empty days with zeros.",
	})
	register(&Report{
		Name:        "ChatsByHourOfDay",
		Title:       "Chats by Hour of Day",
		Description: "Hour-of-day load profile of the queue",
		Category:    QueueBasic,
		Grain:       GrainHourOfDay,
		By:          ByHourOfDay,
		Columns: []Column{
			{Name: "Hour", Type: Int, Description: "Local hour of day (0–23) of queued_at in the report zone"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue in that local hour", Measure: inbound},
			{Name: "Answered", Type: Int, Description: "Of those, sessions an agent accepted", Measure: answered},
			{Name: "Abandoned", Type: Int, Description: "Of those, long abandons (the guest left after the short-abandon threshold)", Measure: Count(QueuedAt, LongAbandon)},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait (queued_at → accepted_at) of the answered sessions", Measure: avgAnsweredWait},
			{Name: "AvgInboundPerDay", Type: Decimal, Description: "Inbound / number of local days in the window (partial first and last days count as days)",
				Calc: perDayOf("Inbound"), Null: true},
		},
		Formula: "Sessions of the queue grouped by the local hour of queued_at. On a fall-back day the repeated hour counts twice under its label, on a spring-forward day the skipped hour gets nothing. AvgInboundPerDay divides by the number of local days the window touches.",
	})
	register(&Report{
		Name: "ChatsByDayOfWeek", Title: "Chats by Day of Week", Category: QueueBasic, Grain: GrainDayOfWeek, By: ByWeekday,
		Description: "Weekday load profile of the queue",
		Columns: []Column{
			{Name: "DayOfWeek", Type: Int, Description: "ISO weekday of queued_at in the report zone: 1 = Monday … 7 = Sunday"},
			{Name: "DayName", Type: String, Description: "Weekday name"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue on that weekday", Measure: inbound},
			{Name: "Answered", Type: Int, Description: "Of those, sessions an agent accepted", Measure: answered},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Inbound · 100", Measure: answeredPct},
			{Name: "AvgInboundPerDay", Type: Decimal, Description: "Inbound / number of such weekdays the window touches", Calc: perDayOf("Inbound"), Null: true},
		},
		Formula: "Sessions of the queue grouped by the local weekday of queued_at; every weekday is listed.",
	})
	register(&Report{
		Name: "ChatOutcomesByDay", Title: "Chat Outcomes by Day", Category: QueueBasic, Grain: GrainDay, By: ByDay,
		Description: "How sessions ended, per day they started",
		Inputs:      map[string]*Measure{"abandonedState": Count(StartedAt, StateAbandoned)},
		Columns: []Column{
			{Name: "Date", Type: Date, Description: "Local day of started_at in the report zone"},
			{Name: "Sessions", Type: Int, Description: "Sessions started (the sum of the other columns)", Measure: Count(StartedAt, nil)},
			{Name: "Deflected", Type: Int, Description: "Resolved by the bot", Measure: Count(StartedAt, Deflected)},
			{Name: "BotAbandoned", Type: Int, Description: "The guest left the bot", Measure: Count(StartedAt, BotAbandoned)},
			{Name: "Completed", Type: Int, Description: "Ended normally after an agent", Measure: Count(StartedAt, Completed)},
			{Name: "Abandoned", Type: Int, Description: "Left the queue after the short-abandon threshold",
				Calc: func(c Cells) any { return c.Int("abandonedState") - c.Int("ShortAbandoned") }},
			{Name: "ShortAbandoned", Type: Int, Description: "Left the queue before the short-abandon threshold", Measure: Count(StartedAt, ShortAbandon)},
			{Name: "TimedOut", Type: Int, Description: "Ended by the system while waiting", Measure: Count(StartedAt, StateTimedOut)},
			{Name: "TransferredOut", Type: Int, Description: "Transferred to another queue", Measure: Count(StartedAt, StateTransferred)},
			{Name: "InProgress", Type: Int, Description: "Still in the bot, waiting or connected at query time",
				Calc: func(c Cells) any {
					ended := c.Int("Deflected") + c.Int("BotAbandoned") + c.Int("Completed") + c.Int("abandonedState") + c.Int("TimedOut") + c.Int("TransferredOut")
					return c.Int("Sessions") - ended
				}},
		},
		Formula: "Sessions of the queue bucketed by the local day of started_at, one column per terminal state (abandons split into long and short).",
	})
	register(&Report{
		Name: "ChatsByEntryPoint", Title: "Chats by Entry Point", Category: QueueBasic, Grain: GrainWindow,
		By:          ByText("EntryPoint", "s.entry_point", EntryPoints, ""),
		Description: "Teams vs web client vs DirectLine and the other entry points",
		Columns: []Column{
			{Name: "EntryPoint", Type: String, Description: "teams, webclient, directline, sharepoint, api or other"},
			{Name: "Sessions", Type: Int, Description: "Sessions started in the window", Measure: Count(StartedAt, nil)},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue in the window", Measure: inbound},
			{Name: "Answered", Type: Int, Description: "Inbound sessions an agent accepted", Measure: answered},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Inbound · 100", Measure: answeredPct},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of answered sessions", Measure: avgAnsweredWait},
		},
		Formula: "Sessions counts by started_at, the other columns by queued_at; every entry point is listed.",
	})
}

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
