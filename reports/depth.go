package reports

import (
	"context"
	"database/sql"
	"time"

	"github.com/chime-reports/chime-reports/reports/store"
)

func init() {
	register(&Report{
		Name: "QueueDepthByHour", Title: "Queue Depth by Hour", Category: QueuePerformance, Grain: GrainHour,
		Description: "Queue backlog per hour, for staffing",
		Columns: []Column{
			{Name: "HourStart", Type: DateTime, Description: "Start of the hour, local with offset (the repeated hour of a fall-back day appears twice, with each offset)"},
			{Name: "Arrivals", Type: Int, Description: "Sessions that entered the queue in the hour"},
			{Name: "PeakWaiting", Type: Int, Description: "Most sessions waiting at one instant in the hour (those already waiting when it starts count)"},
			{Name: "AvgWaiting", Type: Decimal, Description: "Time-weighted mean number of sessions waiting during the hour"},
			{Name: "PeakConnected", Type: Int, Description: "Most sessions connected to an agent at one instant in the hour"},
		},
		Formula: "Waiting intervals run from queued_at to accepted_at, else ended_at, else min(now, stop); connected intervals from accepted_at to ended_at, else min(now, stop). Intervals are split across hours by their overlap, so a session spanning midnight contributes to every hour it touches.",
		run:     queueDepthByHour,
		cover:   uncovered,
		series:  store.PT1H, bucketLocal: true,
		intervalFormula: "As at its own grain, with the bucket of the interval in place of the hour (PeriodStart, its local start): " +
			"arrivals by the bucket of queued_at; waiting and connected intervals split across the buckets by their overlap " +
			"(PT15M at quarter-hours, P1D per local day, total over the whole window); AvgWaiting is the waiting time in the bucket " +
			"over the bucket's length, and the peaks count the sessions already waiting or connected when the bucket starts.",
	})
}

func queueDepthByHour(_ context.Context, x *execution) (Rows, error) {
	w := x.q.Window
	openEnd := minTime(x.now, w.Stop)
	rows, err := x.db.Table("chat_sessions AS s").
		Select("s.queued_at, s.accepted_at, s.ended_at").
		Where("s.queue_id IN ?", nonEmpty(x.queueIDs())).
		Where(Offered.SQL(x)+" AND s.queued_at < ?", w.Stop).
		Where("(s.ended_at IS NULL OR s.ended_at > ?)", w.Start).
		Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	hours := x.timeBuckets()
	arrivals := make([]int64, len(hours))
	var waiting, connected []interval
	for rows.Next() {
		var queued time.Time
		var accepted, ended sql.NullTime
		if err := rows.Scan(&queued, &accepted, &ended); err != nil {
			return nil, err
		}
		queued = queued.UTC()
		if i := Locate(hours, queued); i >= 0 {
			arrivals[i]++
		}
		end := openEnd
		if ended.Valid {
			end = ended.Time.UTC()
		}
		if accepted.Valid {
			acc := accepted.Time.UTC()
			waiting = append(waiting, interval{queued, acc})
			connected = append(connected, interval{acc, end})
		} else {
			waiting = append(waiting, interval{queued, end})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ws, cs := sweep(waiting, hours), sweep(connected, hours)
	out := x.rowsByName()
	for i, h := range hours {
		out.add(byName{"HourStart": h.Label, "Arrivals": arrivals[i], "PeakWaiting": ws[i].Peak,
			"AvgWaiting": ws[i].Sum / h.End.Sub(h.Start).Seconds(), "PeakConnected": cs[i].Peak})
	}
	return out.result(), nil
}
