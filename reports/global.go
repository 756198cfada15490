package reports

import (
	"context"
	"database/sql"

	"github.com/chime-reports/chime-reports/models"
)

func init() {
	register(&Report{
		Name:        "GlobalQueueSummary",
		Title:       "Global Queue Summary",
		Description: "One line per visible queue: volume, outcomes, wait, service level, handle time and rating",
		Category:    Global,
		Grain:       GrainQueue,
		Columns: []Column{
			{Name: "QueueId", Type: Int, Description: "Queue id"},
			{Name: "QueueName", Type: String, Description: "Queue name"},
			{Name: "Mode", Type: String, Description: "Queue mode: Production, Development or Testing (every mode is included; filter on this column)"},
			{Name: "Sessions", Type: Int, Description: "Sessions started in the window (by started_at), bot-only sessions included"},
			{Name: "Deflected", Type: Int, Description: "Sessions started in the window that the bot resolved"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue in the window (by queued_at)"},
			{Name: "Answered", Type: Int, Description: "Inbound sessions an agent accepted"},
			{Name: "Abandoned", Type: Int, Description: "Inbound sessions the guest left after the short-abandon threshold (long abandons)"},
			{Name: "TimedOut", Type: Int, Description: "Inbound sessions ended by the system before an answer (max wait, no agents, queue offline)"},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Inbound · 100"},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of answered sessions"},
			{Name: "ServiceLevelPct", Type: Pct, Description: "Answered within the queue's threshold / (Answered + long abandons + time-outs) · 100"},
			{Name: "AvgHandleSeconds", Type: Seconds, Description: "Mean accepted_at → ended_at of answered, closed sessions"},
			{Name: "AvgRating", Type: Decimal, Description: "Mean survey rating (1–5) of inbound sessions"},
		},
		Formula: "Sessions and Deflected count sessions by started_at; every other column counts the sessions that entered the queue in the window (queued_at), with the predicates of the shared rules. Every visible queue has a row, even without sessions.",
		run:     globalQueueSummary,
	})
}

type queueTotals struct {
	sessions, deflected, inbound, answered, abandoned, timedOut, slMet, slDen int64
	wait, handle, rating                                                      mean
}

func globalQueueSummary(_ context.Context, x *execution) (Rows, error) {
	ids := x.queueIDs()
	tot := make(map[uint32]*queueTotals, len(ids))
	for _, id := range ids {
		tot[id] = &queueTotals{}
	}
	// Sessions and Deflected are plain counts: aggregate in SQL.
	rows, err := x.db.Table("chat_sessions AS s").
		Select("s.queue_id, COUNT(*), SUM(CASE WHEN s.state = ? THEN 1 ELSE 0 END)", models.StateDeflected).
		Where("s.queue_id IN ?", nonEmpty(ids)).
		Where("s.started_at >= ? AND s.started_at < ?", x.q.Window.Start, x.q.Window.Stop).
		Group("s.queue_id").Rows()
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id uint32
		var n int64
		var defl sql.NullInt64
		if err := rows.Scan(&id, &n, &defl); err != nil {
			rows.Close()
			return nil, err
		}
		if t := tot[id]; t != nil {
			t.sessions, t.deflected = n, defl.Int64
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = x.forEachOfferedRated(func(f *facts) {
		t := tot[f.QueueID]
		t.inbound++
		if f.answered() {
			t.answered++
			w, _ := f.wait()
			t.wait.add(w)
		}
		if h, ok := f.handle(); ok {
			t.handle.add(h)
		}
		if f.longAbandon() {
			t.abandoned++
		}
		if f.timedOut() {
			t.timedOut++
		}
		if in, met := f.serviceLevel(); in {
			t.slDen++
			if met {
				t.slMet++
			}
		}
		if f.Rating != nil {
			t.rating.add(float64(*f.Rating))
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([][]any, 0, len(ids))
	for _, id := range ids {
		q, t := x.info[id], tot[id]
		out = append(out, []any{int64(id), q.Name, q.Mode, t.sessions, t.deflected, t.inbound, t.answered, t.abandoned, t.timedOut,
			ratio(t.answered, t.inbound), t.wait.value(), ratio(t.slMet, t.slDen), t.handle.value(), t.rating.value()})
	}
	return newSliceRows(out), nil
}
