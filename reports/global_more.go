package reports

import (
	"context"
	"time"

	"github.com/chime-reports/chime-reports/models"
)

func init() {
	register(&Report{
		Name: "GlobalChatsPerDay", Title: "Global Chats per Day", Category: Global, Grain: GrainDay,
		Description: "Daily volume across every visible queue",
		Columns: []Column{
			{Name: "Date", Type: Date, Description: "Local day in the report zone"},
			{Name: "Sessions", Type: Int, Description: "Sessions started that day (started_at)"},
			{Name: "Deflected", Type: Int, Description: "Of those, resolved by the bot"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered a queue that day (queued_at); transfer legs count in each queue"},
			{Name: "Answered", Type: Int, Description: "Of the inbound, answered"},
			{Name: "Abandoned", Type: Int, Description: "Of the inbound, long abandons"},
			{Name: "TimedOut", Type: Int, Description: "Of the inbound, timed out"},
			{Name: "UniqueSeekers", Type: Int, Description: "Distinct guests among the sessions started that day"},
			{Name: "UniqueConversations", Type: Int, Description: "Distinct conversations among the inbound (removes the double counting of queue transfers)"},
		},
		Formula: "GlobalQueueSummary per day bucket: Sessions and Deflected by started_at, the others by queued_at; distinct counts are exact.",
		run:     globalChatsPerDay,
	})
	register(&Report{
		Name: "GlobalHourlyHeatmap", Title: "Global Hourly Heatmap", Category: Global, Grain: GrainWeekdayHour,
		Description: "Arrival pattern by weekday × hour across every visible queue",
		Columns: []Column{
			{Name: "DayOfWeek", Type: Int, Description: "ISO weekday of queued_at in the report zone: 1 = Monday … 7 = Sunday"},
			{Name: "DayName", Type: String, Description: "Weekday name"},
			{Name: "Hour", Type: Int, Description: "Local hour (0–23)"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered a queue in that weekday and hour"},
			{Name: "Answered", Type: Int, Description: "Of those, answered"},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of the answered ones"},
			{Name: "AvgInboundPerDay", Type: Decimal, Description: "Inbound / number of such weekdays the window touches"},
		},
		Formula: "168 rows (7 weekdays × 24 hours) of the local weekday and hour of queued_at.",
		run:     globalHourlyHeatmap,
	})
}

// GrainWeekdayHour: one row per (weekday, hour).
const GrainWeekdayHour Grain = "weekdayHour"

func globalChatsPerDay(_ context.Context, x *execution) (Rows, error) {
	p, d := x.sessionPreds(), x.daySQL()
	days, started, err := x.aggregateByDay(dayQuery{timeCol: "s.started_at", sels: []string{
		"COUNT(*)", count("s.state = '" + models.StateDeflected + "'"), "COUNT(DISTINCT s.seeker_id)",
	}})
	if err != nil {
		return nil, err
	}
	_, offered, err := x.aggregateByDay(dayQuery{timeCol: "s.queued_at", sels: []string{
		"COUNT(*)", count(p.answered), count(p.longAbandon), count(p.timedOut), "COUNT(DISTINCT " + d.textKey("s.conversation_guid") + ")",
	}})
	if err != nil {
		return nil, err
	}
	return started.rows(days, func(b Bucket, i int) []any {
		return []any{b.Label, started.n(i, 0), started.n(i, 1), offered.n(i, 0), offered.n(i, 1), offered.n(i, 2), offered.n(i, 3),
			started.n(i, 2), offered.n(i, 4)}
	}), nil
}

func globalHourlyHeatmap(_ context.Context, x *execution) (Rows, error) {
	p, w := x.sessionPreds(), x.q.Window
	// One key per weekday (1–7) and hour: weekday·24 + hour.
	v, err := x.aggregateBy(dayQuery{timeCol: "s.queued_at", sels: []string{
		"COUNT(*)", count(p.answered), "SUM(CASE WHEN " + p.answered + " THEN " + p.wait + " END)",
	}}, x.daySQL().hourOfWeek("s.queued_at", w.Zone, w.Stop), 8*24)
	if err != nil {
		return nil, err
	}
	days := weekdayCounts(w)
	out := make([][]any, 0, 7*24)
	for wd := 1; wd <= 7; wd++ {
		for h := range 24 {
			k := wd*24 + h
			out = append(out, []any{int64(wd), time.Weekday(wd % 7).String(), int64(h), v.n(k, 0), v.n(k, 1), v.meanOf(k, 2, 1, 1000), perDay(v.n(k, 0), days[wd])})
		}
	}
	return newSliceRows(out), nil
}
