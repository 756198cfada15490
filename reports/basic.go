package reports

import (
	"context"
)

func init() {
	register(&Report{
		Name:        "InboundVsAnsweredChats",
		Title:       "Inbound vs Answered Chats",
		Description: "Chats that entered the queue vs chats an agent connected to, per day",
		Category:    QueueBasic,
		Grain:       GrainDay,
		Columns: []Column{
			{Name: "Date", Type: Date, Description: "Local day in the report zone"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue that day (by queued_at), transferred-in legs included"},
			{Name: "Answered", Type: Int, Description: "Of those, sessions an agent accepted (even after midnight)"},
			{Name: "NotAnswered", Type: Int, Description: "Inbound − Answered: abandoned, timed out, transferred away before answer, or still waiting"},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Inbound · 100; empty when Inbound is 0"},
		},
		Formula: "Sessions of the queue bucketed by the local day of queued_at; Answered counts those with accepted_at set, attributed to the arrival day, so Answered ≤ Inbound. Every day of the window is listed, empty days with zeros.",
		run:     inboundVsAnswered,
	})
	register(&Report{
		Name:        "ChatsByHourOfDay",
		Title:       "Chats by Hour of Day",
		Description: "Hour-of-day load profile of the queue",
		Category:    QueueBasic,
		Grain:       GrainHourOfDay,
		Columns: []Column{
			{Name: "Hour", Type: Int, Description: "Local hour of day (0–23) of queued_at in the report zone"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue in that local hour"},
			{Name: "Answered", Type: Int, Description: "Of those, sessions an agent accepted"},
			{Name: "Abandoned", Type: Int, Description: "Of those, long abandons (the guest left after the short-abandon threshold)"},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait (queued_at → accepted_at) of the answered sessions"},
			{Name: "AvgInboundPerDay", Type: Decimal, Description: "Inbound / number of local days in the window (partial first and last days count as days)"},
		},
		Formula: "Sessions of the queue grouped by the local hour of queued_at. On a fall-back day the repeated hour counts twice under its label, on a spring-forward day the skipped hour gets nothing. AvgInboundPerDay divides by the number of local days the window touches.",
		run:     chatsByHourOfDay,
	})
}

func inboundVsAnswered(_ context.Context, x *execution) (Rows, error) {
	days, v, err := x.aggregateByDay(dayQuery{timeCol: "s.queued_at", sels: []string{"COUNT(*)", count(x.sessionPreds().answered)}})
	if err != nil {
		return nil, err
	}
	return v.rows(days, func(d Bucket, i int) []any {
		inbound, answered := v.n(i, 0), v.n(i, 1)
		return []any{d.Label, inbound, answered, inbound - answered, ratio(answered, inbound)}
	}), nil
}

func chatsByHourOfDay(_ context.Context, x *execution) (Rows, error) {
	p, w := x.sessionPreds(), x.q.Window
	v, err := x.aggregateBy(dayQuery{timeCol: "s.queued_at", sels: []string{
		"COUNT(*)", count(p.answered), count(p.longAbandon), "SUM(CASE WHEN " + p.answered + " THEN " + p.wait + " END)",
	}}, x.daySQL().hourOfDay("s.queued_at", w.Zone, w.Stop), 24)
	if err != nil {
		return nil, err
	}
	days := len(w.Days())
	out := make([][]any, 24)
	for h := range 24 {
		out[h] = []any{int64(h), v.n(h, 0), v.n(h, 1), v.n(h, 2), v.meanOf(h, 3, 1, 1000), perDay(v.n(h, 0), days)}
	}
	return newSliceRows(out), nil
}
