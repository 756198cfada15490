package reports

import "github.com/chime-reports/chime-reports/reports/store"

// The global reports over every visible queue: the per-queue summary,
// volume per day and the weekday × hour heatmap, all measured.

// GrainWeekdayHour: one row per (weekday, hour).
const GrainWeekdayHour Grain = "weekdayHour"

// ByQueue: one row per queue of the run (every visible queue, even
// without sessions), by id.
var ByQueue = &Grouping{Keys: []string{"QueueId", "QueueName", "Mode"}, strict: true, stored: storeGroup(store.ByQueue),
	key: func(*execution, string) string { return "s.queue_id" },
	rows: func(x *execution, _ *results) []groupRow {
		ids := x.queueIDs()
		out := make([]groupRow, len(ids))
		for i, id := range ids {
			q := x.info[id]
			out[i] = groupRow{key: int64(id), keys: []any{int64(id), q.Name, q.Mode}}
		}
		return out
	}}

func init() {
	handled := CountOf(QueuedAt, nil, Handle)
	rated := CountOf(QueuedAt, nil, Rating)
	register(&Report{
		Name:        "GlobalQueueSummary",
		Title:       "Global Queue Summary",
		Description: "One line per visible queue: volume, outcomes, wait, service level, handle time and rating",
		Category:    Global,
		Grain:       GrainQueue,
		By:          ByQueue,
		Columns: []Column{
			{Name: "QueueId", Type: Int, Description: "Queue id"},
			{Name: "QueueName", Type: String, Description: "Queue name"},
			{Name: "Mode", Type: String, Description: "Queue mode: Production, Development or Testing (every mode is included; filter on this column)"},
			{Name: "Sessions", Type: Int, Description: "Sessions started in the window (by started_at), bot-only sessions included", Measure: Count(StartedAt, nil)},
			{Name: "Deflected", Type: Int, Description: "Sessions started in the window that the bot resolved", Measure: Count(StartedAt, Deflected)},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue in the window (by queued_at)", Measure: inbound},
			{Name: "Answered", Type: Int, Description: "Inbound sessions an agent accepted", Measure: answered},
			{Name: "Abandoned", Type: Int, Description: "Inbound sessions the guest left after the short-abandon threshold (long abandons)", Measure: Count(QueuedAt, LongAbandon)},
			{Name: "TimedOut", Type: Int, Description: "Inbound sessions ended by the system before an answer (max wait, no agents, queue offline)", Measure: Count(QueuedAt, TimedOut)},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Inbound · 100", Measure: answeredPct},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of answered sessions", Measure: avgAnsweredWait},
			{Name: "ServiceLevelPct", Type: Pct, Description: "Answered within the queue's threshold / (Answered + long abandons + time-outs) · 100",
				Measure: Ratio(Count(QueuedAt, SLMet), Count(QueuedAt, SLIn))},
			{Name: "AvgHandleSeconds", Type: Seconds, Description: "Mean accepted_at → ended_at of answered, closed sessions", Measure: Mean(Sum(QueuedAt, nil, Handle), handled)},
			{Name: "AvgRating", Type: Decimal, Description: "Mean survey rating (1–5) of inbound sessions", Measure: Mean(Sum(QueuedAt, nil, Rating), rated)},
		},
		Formula: "Sessions and Deflected count sessions by started_at; every other column counts the sessions that entered the queue in the window (queued_at), with the predicates of the shared rules. Every visible queue has a row, even without sessions.",
	})
	register(&Report{
		Name: "GlobalChatsPerDay", Title: "Global Chats per Day", Category: Global, Grain: GrainDay, By: ByDay,
		Description: "Daily volume across every visible queue",
		Columns: []Column{
			{Name: "Date", Type: Date, Description: "Local day in the report zone"},
			{Name: "Sessions", Type: Int, Description: "Sessions started that day (started_at)", Measure: Count(StartedAt, nil)},
			{Name: "Deflected", Type: Int, Description: "Of those, resolved by the bot", Measure: Count(StartedAt, Deflected)},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered a queue that day (queued_at); transfer legs count in each queue", Measure: inbound},
			{Name: "Answered", Type: Int, Description: "Of the inbound, answered", Measure: answered},
			{Name: "Abandoned", Type: Int, Description: "Of the inbound, long abandons", Measure: Count(QueuedAt, LongAbandon)},
			{Name: "TimedOut", Type: Int, Description: "Of the inbound, timed out", Measure: Count(QueuedAt, TimedOut)},
			{Name: "UniqueSeekers", Type: Int, Description: "Distinct guests among the sessions started that day", Measure: Distinct(StartedAt, nil, Seeker)},
			{Name: "UniqueConversations", Type: Int, Description: "Distinct conversations among the inbound (removes the double counting of queue transfers)",
				Measure: Distinct(QueuedAt, nil, Conversation)},
		},
		Formula: "GlobalQueueSummary per day bucket: Sessions and Deflected by started_at, the others by queued_at; distinct counts are exact.",
	})
	register(&Report{
		Name: "GlobalHourlyHeatmap", Title: "Global Hourly Heatmap", Category: Global, Grain: GrainWeekdayHour, By: ByWeekdayHour,
		Description: "Arrival pattern by weekday × hour across every visible queue",
		Columns: []Column{
			{Name: "DayOfWeek", Type: Int, Description: "ISO weekday of queued_at in the report zone: 1 = Monday … 7 = Sunday"},
			{Name: "DayName", Type: String, Description: "Weekday name"},
			{Name: "Hour", Type: Int, Description: "Local hour (0–23)"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered a queue in that weekday and hour", Measure: inbound},
			{Name: "Answered", Type: Int, Description: "Of those, answered", Measure: answered},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of the answered ones", Measure: avgAnsweredWait},
			{Name: "AvgInboundPerDay", Type: Decimal, Description: "Inbound / number of such weekdays the window touches", Calc: perDayOf("Inbound"), Null: true},
		},
		Formula: "168 rows (7 weekdays × 24 hours) of the local weekday and hour of queued_at.",
	})
}
