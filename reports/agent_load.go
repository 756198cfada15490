package reports

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/chime-reports/chime-reports/reports/store"
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
		series:  store.P1D,
		intervalFormula: "As at its own grain, with the bucket of the interval in place of the local day (PeriodStart, its local start): " +
			"participation intervals split across the buckets by their overlap (PT15M at quarter-hours, total over the whole window); " +
			"ChatsHandled counts the participations overlapping the bucket, the peak includes chats already open when it starts. " +
			"Only (agent, bucket) pairs with chat time are listed.",
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
		Formula:     "Agents listed are the queue's members with role agent or manager; presence intervals (status ≠ offline) and participations in any queue the caller can see are clipped to each local day and to online time. Agent-days without presence are left out, so the report is empty without presence data.",
		run:         agentUtilization,
		cover:       uncovered,
		unversioned: true,
		series:      store.P1D,
		intervalFormula: "As at its own grain, with the bucket of the interval in place of the local day (PeriodStart, its local start): " +
			"presence and participation intervals clipped to each bucket (PT15M at quarter-hours, total over the whole window) and to online time; " +
			"(agent, bucket) pairs without online time are left out.",
	})
}

// agentCell is one (bucket, agent) row of an agent series.
type agentCell struct {
	bucket int
	agent  int64
}

// sortCells orders rows by bucket, then agent id.
func sortCells[V any](m map[agentCell]V) []agentCell {
	out := make([]agentCell, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b agentCell) int {
		if a.bucket != b.bucket {
			return a.bucket - b.bucket
		}
		return cmp.Compare(a.agent, b.agent)
	})
	return out
}

func agentConcurrency(_ context.Context, x *execution) (Rows, error) {
	ps, err := x.overlappingParticipations(x.queueIDs())
	if err != nil {
		return nil, err
	}
	openEnd := minTime(x.now, x.q.Window.Stop)
	buckets := x.timeBuckets()
	byAgent := map[int64][]interval{}
	// The sessions of each (bucket, agent), counted once however often
	// the agent joined them.
	type cellSession struct {
		agentCell
		session int64
	}
	seen := map[cellSession]struct{}{}
	chats := map[agentCell]int64{}
	for i := range ps {
		p := &ps[i]
		iv := interval{p.JoinedAt, p.end(openEnd)}
		byAgent[p.UserID] = append(byAgent[p.UserID], iv)
		for d := firstBucket(buckets, iv.from); d < len(buckets) && iv.to.After(buckets[d].Start); d++ {
			k := cellSession{agentCell{d, p.UserID}, p.SessionID}
			if _, dup := seen[k]; !dup {
				seen[k] = struct{}{}
				chats[k.agentCell]++
			}
		}
	}
	names, err := x.agents(sortedKeys(byAgent))
	if err != nil {
		return nil, err
	}
	stats := map[agentCell]overlapStats{}
	for id, ivs := range byAgent {
		sweepEach(ivs, buckets, func(d int, st overlapStats) {
			if st.Sum != 0 {
				stats[agentCell{d, id}] = st
			}
		})
	}
	out := x.rowsByName()
	for _, c := range sortCells(stats) {
		st, id := stats[c], c.agent
		out.add(byName{"Date": buckets[c.bucket].Label, "AgentId": id, "AgentName": names[id].Name, "ChatsHandled": chats[c],
			"ChatSeconds": st.Sum, "BusySeconds": st.Union, "AvgConcurrency": st.Sum / st.Union,
			"PeakConcurrency": st.Peak, "MaxConcurrentLimit": names[id].MaxConcurrent})
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
	buckets := x.timeBuckets()
	type cell struct{ online, available, chat overlapStats }
	st := map[agentCell]*cell{}
	at := func(c agentCell) *cell {
		if st[c] == nil {
			st[c] = &cell{}
		}
		return st[c]
	}
	for id, on := range online {
		onUnion := union(on)
		// Chat and available time lie inside online time, so only buckets
		// with online time can hold them.
		sweepEach(onUnion, buckets, func(d int, s overlapStats) {
			if s.Union != 0 {
				at(agentCell{d, id}).online = s
			}
		})
		sweepEach(union(available[id]), buckets, func(d int, s overlapStats) {
			if c, ok := st[agentCell{d, id}]; ok {
				c.available = s
			}
		})
		sweepEach(intersect(chats[id], onUnion), buckets, func(d int, s overlapStats) {
			if c, ok := st[agentCell{d, id}]; ok {
				c.chat = s
			}
		})
	}
	out := x.rowsByName()
	for _, k := range sortCells(st) {
		a, id := st[k], k.agent
		on := a.online.Union
		var capacity any
		if limit := names[id].MaxConcurrent; limit > 0 {
			capacity = a.chat.Sum / (float64(limit) * on) * 100
		}
		out.add(byName{"Date": buckets[k.bucket].Label, "AgentId": id, "AgentName": names[id].Name, "OnlineSeconds": on,
			"AvailableSeconds": a.available.Union, "BusySeconds": a.chat.Union,
			"OccupancyPct": a.chat.Union / on * 100, "CapacityUtilizationPct": capacity})
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
