package reports

import (
	"context"
	"database/sql"
	"slices"
	"time"
)

func init() {
	register(&Report{
		Name: "AgentConcurrency", Title: "Agent Concurrency", Category: QueueAgent, Grain: GrainAgentDay,
		Description: "Simultaneous chats per agent and day",
		Columns: append([]Column{{Name: "Date", Type: Date, Description: "Local day"}}, agentCols(
			Column{Name: "ChatsHandled", Type: Int, Description: "Participations in the queue that overlap the day"},
			Column{Name: "ChatSeconds", Type: Seconds, Description: "Σ participation time inside the day (two chats at once count twice)"},
			Column{Name: "BusySeconds", Type: Seconds, Description: "Time inside the day with at least one chat"},
			Column{Name: "AvgConcurrency", Type: Decimal, Description: "ChatSeconds / BusySeconds: chats at once while busy"},
			Column{Name: "PeakConcurrency", Type: Int, Description: "Most chats at one instant"},
			Column{Name: "MaxConcurrentLimit", Type: Int, Description: "The agent's configured maximum of concurrent chats"},
		)...),
		Formula: "Intervals [joined_at, left_at, else min(now, stop)) of the agent's participations in the queue, split across local days by their overlap; the peak comes from a sweep line. Only (agent, day) pairs with chat time are listed. For a view across queues use GlobalAgentActivity or AgentUtilization.",
		run:     agentConcurrency,
		cover:   uncovered,
	})
	register(&Report{
		Name: "AgentUtilization", Title: "Agent Utilization", Category: QueueAgent, Grain: GrainAgentDay,
		Description: "Occupancy and capacity use of the queue's agents (needs presence data)",
		Columns: append([]Column{{Name: "Date", Type: Date, Description: "Local day"}}, agentCols(
			Column{Name: "OnlineSeconds", Type: Seconds, Description: "Presence time with any status but offline"},
			Column{Name: "AvailableSeconds", Type: Seconds, Description: "Presence time with status available"},
			Column{Name: "BusySeconds", Type: Seconds, Description: "Online time with at least one chat, in any queue the caller can see"},
			Column{Name: "OccupancyPct", Type: Pct, Description: "BusySeconds / OnlineSeconds · 100"},
			Column{Name: "CapacityUtilizationPct", Type: Pct, Description: "Online chat time (Σ over chats) / (max concurrent chats · OnlineSeconds) · 100"},
		)...),
		Formula: "Agents listed are the queue's members with role agent or manager; presence intervals (status ≠ offline) and participations in any queue the caller can see are clipped to each local day and to online time. Agent-days without presence are left out, so the report is empty without presence data.",
		run:     agentUtilization,
		cover:   uncovered,
	})
}

func agentConcurrency(_ context.Context, x *execution) (Rows, error) {
	ps, err := x.overlappingParticipations(x.queueIDs())
	if err != nil {
		return nil, err
	}
	openEnd := minTime(x.now, x.q.Window.Stop)
	days := x.q.Window.Days()
	byAgent := map[int64][]interval{}
	chats := map[int64][]map[int64]struct{}{}
	for i := range ps {
		p := &ps[i]
		iv := interval{p.JoinedAt, p.end(openEnd)}
		byAgent[p.UserID] = append(byAgent[p.UserID], iv)
		if chats[p.UserID] == nil {
			chats[p.UserID] = make([]map[int64]struct{}, len(days))
		}
		for d, b := range days {
			if iv.from.Before(b.End) && iv.to.After(b.Start) {
				if chats[p.UserID][d] == nil {
					chats[p.UserID][d] = map[int64]struct{}{}
				}
				chats[p.UserID][d][p.SessionID] = struct{}{}
			}
		}
	}
	names, err := x.agents(sortedKeys(byAgent))
	if err != nil {
		return nil, err
	}
	stats := map[int64][]overlapStats{}
	for id, ivs := range byAgent {
		stats[id] = sweep(ivs, days)
	}
	out := x.rowsByName()
	for d, b := range days {
		for _, id := range sortedKeys(byAgent) {
			st := stats[id][d]
			if st.Sum == 0 {
				continue
			}
			out.add(byName{"Date": b.Label, "AgentId": id, "AgentName": names[id].Name, "ChatsHandled": int64(len(chats[id][d])),
				"ChatSeconds": st.Sum, "BusySeconds": st.Union, "AvgConcurrency": st.Sum / st.Union,
				"PeakConcurrency": st.Peak, "MaxConcurrentLimit": names[id].MaxConcurrent})
		}
	}
	return out.result(), nil
}

func agentUtilization(_ context.Context, x *execution) (Rows, error) {
	members, err := x.members("agent", "manager")
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return x.rowsByName().result(), nil
	}
	w := x.q.Window
	openEnd := minTime(x.now, w.Stop)
	rows, err := x.db.Table("agent_presence").Select("user_id, status, started_at, ended_at").
		Where("user_id IN ? AND started_at < ? AND (ended_at IS NULL OR ended_at > ?)", members, w.Stop, w.Start).
		Order("user_id, started_at").Rows()
	if err != nil {
		return nil, err
	}
	online := map[int64][]interval{}
	available := map[int64][]interval{}
	for rows.Next() {
		var user int64
		var status string
		var start time.Time
		var end sql.NullTime
		if err := rows.Scan(&user, &status, &start, &end); err != nil {
			rows.Close()
			return nil, err
		}
		iv := interval{start.UTC(), openEnd}
		if end.Valid {
			iv.to = end.Time.UTC()
		}
		if status != "offline" {
			online[user] = append(online[user], iv)
		}
		if status == "available" {
			available[user] = append(available[user], iv)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Participations in any queue the caller can see: occupancy is about
	// the person, but work in a hidden queue must not show through.
	ps, err := x.overlappingParticipations(append([]uint32{}, x.q.Visible...))
	if err != nil {
		return nil, err
	}
	chats := map[int64][]interval{}
	for i := range ps {
		p := &ps[i]
		if _, ok := online[p.UserID]; ok {
			chats[p.UserID] = append(chats[p.UserID], interval{p.JoinedAt, p.end(openEnd)})
		}
	}
	names, err := x.agents(sortedKeys(online))
	if err != nil {
		return nil, err
	}
	days := w.Days()
	type perAgent struct{ online, available, chat []overlapStats }
	st := map[int64]perAgent{}
	for id, on := range online {
		onUnion := union(on)
		st[id] = perAgent{online: sweep(onUnion, days), available: sweep(union(available[id]), days), chat: sweep(intersect(chats[id], onUnion), days)}
	}
	out := x.rowsByName()
	for d, b := range days {
		for _, id := range sortedKeys(online) {
			a := st[id]
			on := a.online[d].Union
			if on == 0 {
				continue
			}
			var capacity any
			if limit := names[id].MaxConcurrent; limit > 0 {
				capacity = a.chat[d].Sum / (float64(limit) * on) * 100
			}
			out.add(byName{"Date": b.Label, "AgentId": id, "AgentName": names[id].Name, "OnlineSeconds": on,
				"AvailableSeconds": a.available[d].Union, "BusySeconds": a.chat[d].Union,
				"OccupancyPct": a.chat[d].Union / on * 100, "CapacityUtilizationPct": capacity})
		}
	}
	return out.result(), nil
}

// union merges intervals into sorted, disjoint ones.
func union(ivs []interval) []interval {
	s := slices.Clone(ivs)
	slices.SortFunc(s, func(a, b interval) int { return a.from.Compare(b.from) })
	var out []interval
	for _, iv := range s {
		if !iv.to.After(iv.from) {
			continue
		}
		if n := len(out); n > 0 && !iv.from.After(out[n-1].to) {
			if iv.to.After(out[n-1].to) {
				out[n-1].to = iv.to
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// intersect clips each interval to the disjoint, sorted intervals of within
// (an interval crossing several pieces becomes several intervals).
func intersect(ivs, within []interval) []interval {
	var out []interval
	for _, iv := range ivs {
		for _, w := range within {
			from, to := maxTime(iv.from, w.from), minTime(iv.to, w.to)
			if to.After(from) {
				out = append(out, interval{from, to})
			}
		}
	}
	return out
}
