package reports

import (
	"context"
	"time"
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

type globalDay struct {
	sessions, deflected, inbound, answered, long, timedOut int64
	seekers                                                map[int64]struct{}
	conversations                                          map[string]struct{}
}

func globalChatsPerDay(_ context.Context, x *execution) (Rows, error) {
	days := x.q.Window.Days()
	acc := make([]globalDay, len(days))
	for i := range acc {
		acc[i].seekers, acc[i].conversations = map[int64]struct{}{}, map[string]struct{}{}
	}
	err := x.forEachStarted(func(f *facts) {
		if i := Locate(days, f.StartedAt); i >= 0 {
			acc[i].sessions++
			if f.State == "Deflected" {
				acc[i].deflected++
			}
			acc[i].seekers[f.SeekerID] = struct{}{}
		}
	})
	if err != nil {
		return nil, err
	}
	err = x.forEachOffered(func(f *facts) {
		i := Locate(days, *f.QueuedAt)
		if i < 0 {
			return
		}
		a := &acc[i]
		a.inbound++
		if f.answered() {
			a.answered++
		}
		if f.longAbandon() {
			a.long++
		}
		if f.timedOut() {
			a.timedOut++
		}
		a.conversations[f.Conversation] = struct{}{}
	})
	if err != nil {
		return nil, err
	}
	return dayRows(days, acc, func(d Bucket, a *globalDay) []any {
		return []any{d.Label, a.sessions, a.deflected, a.inbound, a.answered, a.long, a.timedOut, int64(len(a.seekers)), int64(len(a.conversations))}
	}), nil
}

func globalHourlyHeatmap(_ context.Context, x *execution) (Rows, error) {
	p, w, d := x.sessionPreds(), x.q.Window, x.daySQL()
	// One key per weekday (1–7) and hour: weekday·24 + hour.
	key := "(" + d.weekday("s.queued_at", w.Zone, w.Stop) + " * 24 + " + d.hourOfDay("s.queued_at", w.Zone, w.Stop) + ")"
	v, err := x.aggregateBy(dayQuery{timeCol: "s.queued_at", sels: []string{
		"COUNT(*)", count(p.answered), "SUM(CASE WHEN " + p.answered + " THEN " + p.wait + " END)",
	}}, key, 8*24)
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
