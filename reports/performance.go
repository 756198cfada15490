package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/chime-reports/chime-reports/models"
)

func init() {
	dateCol := Column{Name: "Date", Type: Date, Description: "Local day of queued_at in the report zone"}
	register(&Report{
		Name: "ServiceLevelByDay", Title: "Service Level by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "% of chats answered within the queue's service-level threshold, per day",
		Columns: []Column{dateCol,
			{Name: "ThresholdSeconds", Type: Int, Unit: "s", Description: "The queue's service-level threshold T used"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue"},
			{Name: "AnsweredWithinThreshold", Type: Int, Description: "Answered with a wait ≤ T"},
			{Name: "Answered", Type: Int, Description: "Answered sessions"},
			{Name: "Abandoned", Type: Int, Description: "Long abandons (wait ≥ the short-abandon threshold)"},
			{Name: "ShortAbandoned", Type: Int, Description: "Abandons before the short-abandon threshold (excluded from the service level)"},
			{Name: "TimedOut", Type: Int, Description: "Ended by the system before an answer (counted as failures)"},
			{Name: "TransferredOut", Type: Int, Description: "Transferred to another queue before an answer (excluded)"},
			{Name: "ServiceLevelPct", Type: Pct, Description: "AnsweredWithinThreshold / (Answered + Abandoned + TimedOut) · 100"},
			{Name: "TargetPct", Type: Pct, Description: "The queue's service-level target"},
		},
		Formula: "Genesys formula with abandons included: numerator = answered within T; denominator = answered + long abandons + time-outs. Short abandons, flow-outs and sessions still waiting are excluded.",
		run:     serviceLevelByDay,
	})
	register(&Report{
		Name: "AbandonedChatsByDay", Title: "Abandoned Chats by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "Abandonment detail per day",
		Columns: []Column{dateCol,
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue"},
			{Name: "Abandoned", Type: Int, Description: "Long abandons"},
			{Name: "ShortAbandoned", Type: Int, Description: "Short abandons"},
			{Name: "AbandonRatePct", Type: Pct, Description: "Abandoned / (resolved in queue − short abandons) · 100"},
			{Name: "AvgAbandonSeconds", Type: Seconds, Description: "Mean wait of long abandons"},
			{Name: "MaxAbandonSeconds", Type: Seconds, Description: "Longest wait of a long abandon"},
		},
		Formula: "Resolved in queue = answered, abandoned, timed out or transferred before answer; short abandons are removed from both sides; sessions still waiting are excluded (Google CCAI's denominator).",
		run:     abandonedByDay,
	})
	register(&Report{
		Name: "WaitTimeByDay", Title: "Wait Time by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "Speed of answer and wait spread per day",
		Columns: []Column{dateCol,
			{Name: "Answered", Type: Int, Description: "Answered sessions"},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of answered sessions (ASA)"},
			{Name: "MedianWaitSeconds", Type: Seconds, Description: "Median wait of answered sessions (nearest rank)"},
			{Name: "P90WaitSeconds", Type: Seconds, Description: "90th percentile wait of answered sessions (nearest rank)"},
			{Name: "MaxWaitSeconds", Type: Seconds, Description: "Longest wait of any session resolved in the queue (abandons included)"},
			{Name: "AvgFirstResponseSeconds", Type: Seconds, Description: "Mean queued_at → first agent message, over answered sessions with one"},
		},
		Formula: "Waits of answered sessions by day of queued_at; percentiles are exact nearest-rank values; the maximum also covers abandoned, timed-out and transferred-away sessions.",
		run:     waitTimeByDay,
	})
	register(&Report{
		Name: "WaitTimeDistribution", Title: "Wait Time Distribution", Category: QueuePerformance, Grain: GrainWindow,
		Description: "How long guests waited, in bands",
		Columns: []Column{
			{Name: "Band", Type: String, Description: "Wait band, e.g. 15-30s"},
			{Name: "FromSeconds", Type: Int, Description: "Band start (inclusive)"},
			{Name: "ToSeconds", Type: Int, Description: "Band end (exclusive); empty for the open last band"},
			{Name: "Answered", Type: Int, Description: "Answered sessions whose wait falls in the band"},
			{Name: "Abandoned", Type: Int, Description: "Abandoned sessions (short and long) whose wait falls in the band"},
			{Name: "AnsweredCumulativePct", Type: Pct, Description: "Answered with wait < ToSeconds / all answered · 100"},
		},
		Formula: "Bands [0,15), [15,30), [30,60), [60,120), [120,300), [300,∞) over the whole window (Amazon Connect's bands).",
		run:     waitTimeDistribution,
	})
	register(&Report{
		Name: "ChatDurationByDay", Title: "Chat Duration by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "Handle time of answered chats per day",
		Columns: []Column{dateCol,
			{Name: "CompletedChats", Type: Int, Description: "Answered and closed sessions"},
			{Name: "AvgHandleSeconds", Type: Seconds, Description: "Mean accepted_at → ended_at"},
			{Name: "MedianHandleSeconds", Type: Seconds, Description: "Median handle time (nearest rank)"},
			{Name: "P90HandleSeconds", Type: Seconds, Description: "90th percentile handle time (nearest rank)"},
			{Name: "MaxHandleSeconds", Type: Seconds, Description: "Longest handle time"},
			{Name: "AvgMessagesPerChat", Type: Decimal, Description: "Mean messages per chat (system and internal excluded)"},
			{Name: "DroppedChats", Type: Int, Description: "Chats that ended on a connection error after the answer"},
		},
		Formula: "Over sessions that entered the queue in the day, were answered and are closed; durations are not split at midnight.",
		run:     chatDurationByDay,
	})
	register(&Report{
		Name: "TransfersByDay", Title: "Transfers by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "Queue and agent transfers per day",
		Columns: []Column{dateCol,
			{Name: "Answered", Type: Int, Description: "Answered sessions"},
			{Name: "TransferredOut", Type: Int, Description: "Sessions transferred to another queue (before or after an answer)"},
			{Name: "TransferredIn", Type: Int, Description: "Sessions that arrived by transfer from another queue"},
			{Name: "AgentTransfers", Type: Int, Description: "Agent-to-agent transfers inside the queue"},
			{Name: "TransferRatePct", Type: Pct, Description: "Answered sessions transferred (queue or agent) / Answered · 100"},
		},
		Formula: "TransferRatePct counts answered sessions that were transferred to another queue or between agents.",
		run:     transfersByDay,
	})
	register(&Report{
		Name: "CustomerSatisfactionByDay", Title: "Customer Satisfaction by Day", Category: QueuePerformance, Grain: GrainDay,
		Description: "Post-chat survey results per day",
		Columns: []Column{dateCol,
			{Name: "ChatsEnded", Type: Int, Description: "Answered and closed sessions"},
			{Name: "Ratings", Type: Int, Description: "Survey answers for sessions that entered the queue that day"},
			{Name: "ResponseRatePct", Type: Pct, Description: "Ratings / ChatsEnded · 100"},
			{Name: "AvgRating", Type: Decimal, Description: "Mean rating (1–5)"},
			{Name: "CsatPct", Type: Pct, Description: "Ratings of 4 or 5 / Ratings · 100"},
			{Name: "Rated1", Type: Int, Description: "Ratings of 1 (Bad)"},
			{Name: "Rated2", Type: Int, Description: "Ratings of 2 (Poor)"},
			{Name: "Rated3", Type: Int, Description: "Ratings of 3 (OK)"},
			{Name: "Rated4", Type: Int, Description: "Ratings of 4 (Good)"},
			{Name: "Rated5", Type: Int, Description: "Ratings of 5 (Excellent)"},
		},
		Formula: "Ratings are bucketed by their session's queued_at (not submitted_at), so numerator and denominator cover the same sessions.",
		run:     satisfactionByDay,
	})
}

// GrainWindow: one row per entity or band for the whole window.
const GrainWindow Grain = "window"

// byDay streams O into per-day accumulators.
func byDay[T any](x *execution, add func(a *T, f *facts)) ([]Bucket, []T, error) {
	return byDayOf(x, x.forEachOffered, add)
}

// byDayOf streams the sessions of each into per-day accumulators by
// queued_at.
func byDayOf[T any](x *execution, each func(func(f *facts)) error, add func(a *T, f *facts)) ([]Bucket, []T, error) {
	days := x.q.Window.Days()
	acc := make([]T, len(days))
	err := each(func(f *facts) {
		if i := Locate(days, *f.QueuedAt); i >= 0 {
			add(&acc[i], f)
		}
	})
	return days, acc, err
}

type slDay struct {
	inbound, met, answered, long, short, timedOut, xfer, den int64
}

func serviceLevelByDay(_ context.Context, x *execution) (Rows, error) {
	days, acc, err := byDay(x, func(a *slDay, f *facts) {
		a.inbound++
		if f.answered() {
			a.answered++
		}
		if f.longAbandon() {
			a.long++
		}
		if f.shortAbandon() {
			a.short++
		}
		if f.timedOut() {
			a.timedOut++
		}
		if f.transferOut() {
			a.xfer++
		}
		if in, met := f.serviceLevel(); in {
			a.den++
			if met {
				a.met++
			}
		}
	})
	if err != nil {
		return nil, err
	}
	q := x.info[x.q.QueueID]
	return dayRows(days, acc, func(d Bucket, a *slDay) []any {
		return []any{d.Label, int64(q.SLASeconds), a.inbound, a.met, a.answered, a.long, a.short, a.timedOut, a.xfer, ratio(a.met, a.den), q.SLATarget}
	}), nil
}

type abandonDay struct {
	inbound, long, short, resolved int64
	wait                           sample
}

func abandonedByDay(_ context.Context, x *execution) (Rows, error) {
	days, acc, err := byDay(x, func(a *abandonDay, f *facts) {
		a.inbound++
		if f.resolvedQ() {
			a.resolved++
		}
		if f.shortAbandon() {
			a.short++
		}
		if f.longAbandon() {
			a.long++
			w, _ := f.wait()
			a.wait.add(w)
		}
	})
	if err != nil {
		return nil, err
	}
	return dayRows(days, acc, func(d Bucket, a *abandonDay) []any {
		return []any{d.Label, a.inbound, a.long, a.short, ratio(a.long, a.resolved-a.short), a.wait.mean(), a.wait.max()}
	}), nil
}

type waitDay struct {
	wait     sample
	maxWait  maxOf
	response mean
}

func waitTimeByDay(_ context.Context, x *execution) (Rows, error) {
	days, acc, err := byDay(x, func(a *waitDay, f *facts) {
		if w, ok := f.wait(); ok {
			a.maxWait.add(w)
			if f.answered() {
				a.wait.add(w)
			}
		}
		if f.answered() && f.FirstAgentMessageAt != nil {
			a.response.add(seconds(*f.QueuedAt, *f.FirstAgentMessageAt, f.ID))
		}
	})
	if err != nil {
		return nil, err
	}
	return dayRows(days, acc, func(d Bucket, a *waitDay) []any {
		return []any{d.Label, int64(len(a.wait.v)), a.wait.mean(), a.wait.percentile(50), a.wait.percentile(90), a.maxWait.value(), a.response.value()}
	}), nil
}

// waitBands are Amazon Connect's wait bands, in seconds; the last is open.
var waitBands = []int64{0, 15, 30, 60, 120, 300}

func waitTimeDistribution(_ context.Context, x *execution) (Rows, error) {
	answered := make([]int64, len(waitBands))
	abandoned := make([]int64, len(waitBands))
	band := func(w float64) int {
		i := len(waitBands) - 1
		for i > 0 && w < float64(waitBands[i]) {
			i--
		}
		return i
	}
	var total int64
	err := x.forEachOffered(func(f *facts) {
		w, ok := f.wait()
		switch {
		case !ok:
		case f.answered():
			answered[band(w)]++
			total++
		case f.abandoned():
			abandoned[band(w)]++
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([][]any, len(waitBands))
	var cum int64
	for i, from := range waitBands {
		cum += answered[i]
		var to any
		name := fmt.Sprintf("%ds+", from)
		if i+1 < len(waitBands) {
			to = waitBands[i+1]
			name = fmt.Sprintf("%d-%ds", from, waitBands[i+1])
		}
		out[i] = []any{name, from, to, answered[i], abandoned[i], ratio(cum, total)}
	}
	return newSliceRows(out), nil
}

type durationDay struct {
	handle   sample
	messages mean
	dropped  int64
}

func chatDurationByDay(_ context.Context, x *execution) (Rows, error) {
	days, acc, err := byDay(x, func(a *durationDay, f *facts) {
		h, ok := f.handle()
		if !ok {
			return
		}
		a.handle.add(h)
		a.messages.add(float64(f.Messages))
		if f.EndReason == "connection_error" {
			a.dropped++
		}
	})
	if err != nil {
		return nil, err
	}
	return dayRows(days, acc, func(d Bucket, a *durationDay) []any {
		return []any{d.Label, int64(len(a.handle.v)), a.handle.mean(), a.handle.percentile(50), a.handle.percentile(90), a.handle.max(), a.messages.value(), a.dropped}
	}), nil
}

type transferDay struct{ answered, out, in, agent, rated int64 }

func transfersByDay(_ context.Context, x *execution) (Rows, error) {
	if days := x.q.Window.Days(); hourAligned(days) { // plain counts: let the database count (hourly.go)
		acc := make([]transferDay, len(days))
		answered, transferred := "s.accepted_at IS NOT NULL", "s.state = '"+models.StateTransferred+"'"
		err := x.countByHour("s.queued_at", []string{
			"SUM(CASE WHEN " + answered + " THEN 1 ELSE 0 END)",
			"SUM(CASE WHEN " + transferred + " THEN 1 ELSE 0 END)",
			"SUM(CASE WHEN s.parent_session_id IS NOT NULL THEN 1 ELSE 0 END)",
			"SUM(s.agent_transfer_count)",
			"SUM(CASE WHEN " + answered + " AND (" + transferred + " OR s.agent_transfer_count > 0) THEN 1 ELSE 0 END)",
		}, func(h time.Time, v []int64) {
			if i := Locate(days, h); i >= 0 {
				a := &acc[i]
				a.answered, a.out, a.in, a.agent, a.rated = a.answered+v[0], a.out+v[1], a.in+v[2], a.agent+v[3], a.rated+v[4]
			}
		})
		if err != nil {
			return nil, err
		}
		return dayRows(days, acc, transferRow), nil
	}
	days, acc, err := byDay(x, func(a *transferDay, f *facts) {
		transferred := f.State == models.StateTransferred
		if f.answered() {
			a.answered++
			if transferred || f.AgentTransfers > 0 {
				a.rated++
			}
		}
		if transferred {
			a.out++
		}
		if f.TransferredIn {
			a.in++
		}
		a.agent += f.AgentTransfers
	})
	if err != nil {
		return nil, err
	}
	return dayRows(days, acc, transferRow), nil
}

func transferRow(d Bucket, a *transferDay) []any {
	return []any{d.Label, a.answered, a.out, a.in, a.agent, ratio(a.rated, a.answered)}
}

type csatDay struct {
	ended, ratings, good int64
	rating               mean
	by                   [6]int64
}

func satisfactionByDay(_ context.Context, x *execution) (Rows, error) {
	days, acc, err := byDayOf(x, x.forEachOfferedRated, func(a *csatDay, f *facts) {
		if f.answered() && f.closed() {
			a.ended++
		}
		if f.Rating == nil {
			return
		}
		r := *f.Rating
		a.ratings++
		a.rating.add(float64(r))
		if r >= 4 {
			a.good++
		}
		if r >= 1 && r <= 5 {
			a.by[r]++
		}
	})
	if err != nil {
		return nil, err
	}
	return dayRows(days, acc, func(d Bucket, a *csatDay) []any {
		return []any{d.Label, a.ended, a.ratings, ratio(a.ratings, a.ended), a.rating.value(), ratio(a.good, a.ratings),
			a.by[1], a.by[2], a.by[3], a.by[4], a.by[5]}
	}), nil
}
