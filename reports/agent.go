package reports

import (
	"context"
	"database/sql"
	"time"

	"github.com/chime-reports/chime-reports/reports/store"
)

func agentCols(more ...Column) []Column {
	return append([]Column{
		{Name: "AgentId", Type: Int, Description: "The agent's user id"},
		{Name: "AgentName", Type: String, Description: "The agent's display name"},
	}, more...)
}

func init() {
	register(&Report{
		Name: "AgentChatsAnswered", Title: "Agent Chats Answered", Category: QueueAgent, Grain: GrainAgent,
		Description: "Who answered the queue's chats",
		Columns: agentCols(
			Column{Name: "ChatsAnswered", Type: Int, Description: "Sessions the agent accepted as their first agent"},
			Column{Name: "SharePct", Type: Pct, Description: "ChatsAnswered / all agents' ChatsAnswered · 100"},
			Column{Name: "AvgSpeedOfAnswerSeconds", Type: Seconds, Description: "Mean queued_at → accepted_at of the answered sessions"},
			Column{Name: "ChatsHandled", Type: Int, Description: "All participations, transfers in included"},
			Column{Name: "AvgHandleSeconds", Type: Seconds, Description: "Mean participation length (joined → left), closed ones"},
			Column{Name: "TotalHandleSeconds", Type: Seconds, Description: "Sum of participation lengths, closed ones"},
			Column{Name: "TransfersOut", Type: Int, Description: "Participations the agent ended by transferring the chat"},
		),
		Formula: "Participations in the queue's sessions whose joined_at lies in the window (agent attribution), one row per agent with any.",
		run:     agentChatsAnswered,
		cover:   uncovered,
	})
	register(&Report{
		Name: "AgentChatsPerDay", Title: "Agent Chats per Day", Category: QueueAgent, Grain: GrainAgentDay,
		Description: "Daily workload per agent",
		Columns: append([]Column{{Name: "Date", Type: Date, Description: "Local day of joined_at"}}, agentCols(
			Column{Name: "ChatsAnswered", Type: Int, Description: "Sessions the agent accepted as first agent that day"},
			Column{Name: "ChatsHandled", Type: Int, Description: "Participations that day"},
			Column{Name: "HandleSeconds", Type: Seconds, Description: "Sum of closed participation lengths"},
		)...),
		Formula: "As AgentChatsAnswered per local day of joined_at; every current agent of the queue who receives chats has a row for every day, with zeros when idle.",
		run:     agentChatsPerDay,
		cover:   uncovered,
		series:  store.P1D,
		intervalFormula: "As AgentChatsAnswered per bucket of the interval holding joined_at (PeriodStart, the bucket's local start); " +
			"every current agent of the queue who receives chats has a row for every bucket, with zeros when idle " +
			"(at PT15M over a year, about 35,000 rows per agent).",
	})
	register(&Report{
		Name: "AgentResponseTimes", Title: "Agent Response Times", Category: QueueAgent, Grain: GrainAgent,
		Description: "Responsiveness inside chats",
		Columns: agentCols(
			Column{Name: "ChatsHandled", Type: Int, Description: "Participations"},
			Column{Name: "AvgFirstResponseSeconds", Type: Seconds, Description: "Mean joined_at → the agent's first message"},
			Column{Name: "P90FirstResponseSeconds", Type: Seconds, Description: "90th percentile of the same (nearest rank)"},
			Column{Name: "AvgResponseSeconds", Type: Seconds, Description: "Mean time from the first message of a run of guest messages to the agent's next message"},
			Column{Name: "MessagesSent", Type: Int, Description: "Messages the agent sent while a participant (internal notes excluded)"},
			Column{Name: "AvgMessagesPerChat", Type: Decimal, Description: "MessagesSent / ChatsHandled"},
		),
		Formula: "The transcript, while the agent is a participant, is split into runs of consecutive guest messages; a response gap runs from the first message of a run to the agent's next message (what the guest experiences).",
		run:     agentResponseTimes,
		cover:   uncovered,
	})
	register(&Report{
		Name: "AgentOfferOutcomes", Title: "Agent Offer Outcomes", Category: QueueAgent, Grain: GrainAgent,
		Description: "Accept, decline and time-out of chat prompts",
		Columns: agentCols(
			Column{Name: "Offers", Type: Int, Description: "Prompts sent to the agent (pending ones included)"},
			Column{Name: "Accepted", Type: Int, Description: "Accepted"},
			Column{Name: "Declined", Type: Int, Description: "Declined"},
			Column{Name: "TimedOut", Type: Int, Description: "Not answered in time"},
			Column{Name: "TakenByOther", Type: Int, Description: "Broadcast prompts another agent took first"},
			Column{Name: "Withdrawn", Type: Int, Description: "The guest left while the prompt was open"},
			Column{Name: "AcceptRatePct", Type: Pct, Description: "Accepted / (Offers − TakenByOther − Withdrawn) · 100"},
			Column{Name: "AvgTimeToAcceptSeconds", Type: Seconds, Description: "Mean offered_at → responded_at of accepted prompts"},
		),
		Formula: "session_offers of the queue's sessions with offered_at in the window; one session can produce several offers.",
		run:     agentOfferOutcomes,
		cover:   uncovered,
	})
	register(&Report{
		Name: "AgentRatings", Title: "Agent Ratings", Category: QueueAgent, Grain: GrainAgent,
		Description: "Customer satisfaction per agent",
		Columns: agentCols(
			Column{Name: "ChatsAnswered", Type: Int, Description: "Answered, closed sessions of the queue whose last agent this is"},
			Column{Name: "Ratings", Type: Int, Description: "Survey answers rating this agent"},
			Column{Name: "ResponseRatePct", Type: Pct, Description: "Ratings / ChatsAnswered · 100"},
			Column{Name: "AvgRating", Type: Decimal, Description: "Mean rating (1–5)"},
			Column{Name: "CsatPct", Type: Pct, Description: "Ratings of 4 or 5 / Ratings · 100"},
			Column{Name: "Rated1", Type: Int, Description: "Ratings of 1"}, Column{Name: "Rated2", Type: Int, Description: "Ratings of 2"},
			Column{Name: "Rated3", Type: Int, Description: "Ratings of 3"}, Column{Name: "Rated4", Type: Int, Description: "Ratings of 4"},
			Column{Name: "Rated5", Type: Int, Description: "Ratings of 5"},
		),
		Formula: "Ratings r with r.rated_agent_id = agent for sessions that entered the queue in the window (queued_at); the rated agent is the session's last agent, so ChatsAnswered counts answered, closed sessions whose last agent is the agent.",
		run:     agentRatings,
		cover:   uncovered,
	})
	register(&Report{
		Name: "GlobalAgentActivity", Title: "Global Agent Activity", Category: Global, Grain: GrainAgent,
		Description: "Each agent across every visible queue",
		Columns: agentCols(
			Column{Name: "Email", Type: String, Description: "The agent's e-mail"},
			Column{Name: "Queues", Type: Int, Description: "Distinct visible queues the agent worked in"},
			Column{Name: "ChatsAnswered", Type: Int, Description: "Sessions the agent accepted as first agent"},
			Column{Name: "ChatsHandled", Type: Int, Description: "Distinct sessions the agent took part in"},
			Column{Name: "TotalHandleSeconds", Type: Seconds, Description: "Sum of closed participation lengths"},
			Column{Name: "AvgHandleSeconds", Type: Seconds, Description: "Mean closed participation length"},
			Column{Name: "AvgFirstResponseSeconds", Type: Seconds, Description: "Mean joined_at → first message"},
			Column{Name: "Ratings", Type: Int, Description: "Survey answers rating the agent, for sessions in those participations"},
			Column{Name: "AvgRating", Type: Decimal, Description: "Mean of those ratings"},
		),
		Formula: "Participations in sessions of the visible queues with joined_at in the window.",
		run:     globalAgentActivity,
		cover:   uncovered,
	})
}

// Agent grains.
const (
	GrainAgent    Grain = "agent"
	GrainAgentDay Grain = "agentDay"
)

type agentTotals struct {
	answered, handled, transfersOut int64
	asa, handle, firstResponse      mean
	handleSum                       float64
	queues                          map[uint32]struct{}
	sessions                        map[int64]struct{}
}

func totalsByAgent(ps []participation) map[int64]*agentTotals {
	out := map[int64]*agentTotals{}
	for i := range ps {
		addTotals(out, &ps[i], true)
	}
	return out
}

// addTotals adds participation p to its agent's totals; with distinct it
// also keeps the agent's queues and sessions (for counts of distinct
// sessions, a set as large as the participations).
func addTotals(out map[int64]*agentTotals, p *participation, distinct bool) {
	t := out[p.UserID]
	if t == nil {
		t = &agentTotals{queues: map[uint32]struct{}{}, sessions: map[int64]struct{}{}}
		out[p.UserID] = t
	}
	t.handled++
	if distinct {
		t.queues[p.QueueID] = struct{}{}
		t.sessions[p.SessionID] = struct{}{}
	}
	if p.answeredIt() {
		t.answered++
		if w, ok := Wait.Eval(p.session()); ok { // queued → accepted
			t.asa.add(w.(float64))
		}
	}
	if h, ok := p.handle(); ok {
		t.handle.add(h)
		t.handleSum += h
	}
	if p.FirstMessageAt != nil {
		t.firstResponse.add(seconds(p.JoinedAt, *p.FirstMessageAt, p.SessionID))
	}
	if p.LeaveReason == "transferred" {
		t.transfersOut++
	}
}

func agentChatsAnswered(_ context.Context, x *execution) (Rows, error) {
	tot := map[int64]*agentTotals{}
	if err := x.forParticipations(func(p *participation) { addTotals(tot, p, false) }); err != nil {
		return nil, err
	}
	names, err := x.agents(sortedKeys(tot))
	if err != nil {
		return nil, err
	}
	var all int64
	for _, t := range tot {
		all += t.answered
	}
	out := x.rowsByName()
	for _, id := range sortedKeys(tot) {
		t := tot[id]
		out.add(byName{"AgentId": id, "AgentName": names[id].Name, "ChatsAnswered": t.answered, "SharePct": ratio(t.answered, all),
			"AvgSpeedOfAnswerSeconds": t.asa.value(), "ChatsHandled": t.handled, "AvgHandleSeconds": t.handle.value(),
			"TotalHandleSeconds": handleTotal(t), "TransfersOut": t.transfersOut})
	}
	return out.result(), nil
}

// handleTotal is the summed handle time, null when no participation closed.
func handleTotal(t *agentTotals) any {
	if t.handle.n == 0 {
		return nil
	}
	return t.handleSum
}

func agentChatsPerDay(_ context.Context, x *execution) (Rows, error) {
	members, err := x.members("agent")
	if err != nil {
		return nil, err
	}
	buckets := x.timeBuckets()
	type cell struct {
		answered, handled int64
		handle            float64
	}
	// Only the (bucket, agent) pairs with a participation are held; the
	// zero rows of every other pair are made as the rows stream.
	grid := map[agentCell]*cell{}
	agents := map[int64]struct{}{}
	for _, id := range members {
		agents[id] = struct{}{}
	}
	err = x.forParticipations(func(p *participation) {
		d := Locate(buckets, p.JoinedAt)
		if d < 0 {
			return
		}
		agents[p.UserID] = struct{}{}
		k := agentCell{d, p.UserID}
		c := grid[k]
		if c == nil {
			c = &cell{}
			grid[k] = c
		}
		c.handled++
		if p.answeredIt() {
			c.answered++
		}
		if h, ok := p.handle(); ok {
			c.handle += h
		}
	})
	if err != nil {
		return nil, err
	}
	ids := sortedKeys(agents)
	names, err := x.agents(ids)
	if err != nil {
		return nil, err
	}
	b := x.rowsByName()
	d, a := 0, 0
	var zero cell
	return &genRows{b: b, next: func(put func(string, any)) bool {
		if len(ids) == 0 || d == len(buckets) {
			return false
		}
		id := ids[a]
		c := grid[agentCell{d, id}]
		if c == nil {
			c = &zero
		}
		put("Date", buckets[d].Label)
		put("AgentId", id)
		put("AgentName", names[id].Name)
		put("ChatsAnswered", c.answered)
		put("ChatsHandled", c.handled)
		put("HandleSeconds", c.handle)
		if a++; a == len(ids) {
			a, d = 0, d+1
		}
		return true
	}}, nil
}

func agentResponseTimes(_ context.Context, x *execution) (Rows, error) {
	ps, err := x.participations()
	if err != nil {
		return nil, err
	}
	type acc struct {
		handled, sent int64
		first         sample
		gaps          mean
	}
	tot := map[int64]*acc{}
	bySession := map[int64][]*participation{}
	var sessionIDs []int64
	for i := range ps {
		p := &ps[i]
		a := tot[p.UserID]
		if a == nil {
			a = &acc{}
			tot[p.UserID] = a
		}
		a.handled++
		if p.FirstMessageAt != nil {
			a.first.add(seconds(p.JoinedAt, *p.FirstMessageAt, p.SessionID))
		}
		if bySession[p.SessionID] == nil {
			sessionIDs = append(sessionIDs, p.SessionID)
		}
		bySession[p.SessionID] = append(bySession[p.SessionID], p)
	}
	// Walk each transcript once, in batches of sessions.
	for start := 0; start < len(sessionIDs); start += 500 {
		batch := sessionIDs[start:min(start+500, len(sessionIDs))]
		rows, err := x.db.Table("session_messages").Select("session_id, sent_at, sender_type, sender_user_id").
			Where("session_id IN ? AND is_internal = ? AND sender_type IN ?", batch, false, []string{"seeker", "agent"}).
			Order("session_id, seq").Rows()
		if err != nil {
			return nil, err
		}
		type msg struct {
			at     time.Time
			seeker bool
			user   int64
		}
		var cur int64 = -1
		var msgs []msg
		flush := func() {
			for _, p := range bySession[cur] {
				a := tot[p.UserID]
				var runStart *time.Time
				for _, m := range msgs {
					if m.at.Before(p.JoinedAt) || (p.LeftAt != nil && !m.at.Before(*p.LeftAt)) {
						continue
					}
					switch {
					case m.seeker:
						if runStart == nil {
							t := m.at
							runStart = &t
						}
					case m.user == p.UserID:
						a.sent++
						if runStart != nil {
							a.gaps.add(seconds(*runStart, m.at, cur))
							runStart = nil
						}
					}
				}
			}
			msgs = msgs[:0]
		}
		for rows.Next() {
			var sid int64
			var m msg
			var sender string
			var user sql.NullInt64
			if err := rows.Scan(&sid, &m.at, &sender, &user); err != nil {
				rows.Close()
				return nil, err
			}
			if sid != cur {
				if cur >= 0 {
					flush()
				}
				cur = sid
			}
			m.at, m.seeker, m.user = m.at.UTC(), sender == "seeker", user.Int64
			msgs = append(msgs, m)
		}
		if cur >= 0 {
			flush()
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	names, err := x.agents(sortedKeys(tot))
	if err != nil {
		return nil, err
	}
	out := x.rowsByName()
	for _, id := range sortedKeys(tot) {
		a := tot[id]
		var perChat any
		if a.handled > 0 {
			perChat = float64(a.sent) / float64(a.handled)
		}
		out.add(byName{"AgentId": id, "AgentName": names[id].Name, "ChatsHandled": a.handled,
			"AvgFirstResponseSeconds": a.first.mean(), "P90FirstResponseSeconds": a.first.percentile(90),
			"AvgResponseSeconds": a.gaps.value(), "MessagesSent": a.sent, "AvgMessagesPerChat": perChat})
	}
	return out.result(), nil
}

func agentOfferOutcomes(_ context.Context, x *execution) (Rows, error) {
	rows, err := x.db.Table("session_offers AS o").Select("o.user_id, o.outcome, o.offered_at, o.responded_at").
		Joins("JOIN chat_sessions s ON s.id = o.session_id").
		Where("s.queue_id IN ?", nonEmpty(x.queueIDs())).
		Where("o.offered_at >= ? AND o.offered_at < ?", x.q.Window.Start, x.q.Window.Stop).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type acc struct {
		offers   int64
		by       map[string]int64
		toAccept mean
	}
	tot := map[int64]*acc{}
	for rows.Next() {
		var user int64
		var outcome sql.NullString
		var offered time.Time
		var responded sql.NullTime
		if err := rows.Scan(&user, &outcome, &offered, &responded); err != nil {
			return nil, err
		}
		a := tot[user]
		if a == nil {
			a = &acc{by: map[string]int64{}}
			tot[user] = a
		}
		a.offers++
		a.by[outcome.String]++
		if outcome.String == "accepted" && responded.Valid {
			a.toAccept.add(seconds(offered.UTC(), responded.Time.UTC(), 0))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	names, err := x.agents(sortedKeys(tot))
	if err != nil {
		return nil, err
	}
	out := x.rowsByName()
	for _, id := range sortedKeys(tot) {
		a := tot[id]
		acc, other, wd := a.by["accepted"], a.by["taken_by_other"], a.by["withdrawn"]
		out.add(byName{"AgentId": id, "AgentName": names[id].Name, "Offers": a.offers, "Accepted": acc,
			"Declined": a.by["declined"], "TimedOut": a.by["timeout"], "TakenByOther": other, "Withdrawn": wd,
			"AcceptRatePct": ratio(acc, a.offers-other-wd), "AvgTimeToAcceptSeconds": a.toAccept.value()})
	}
	return out.result(), nil
}

func agentRatings(_ context.Context, x *execution) (Rows, error) {
	rows, err := x.db.Table("chat_sessions AS s").
		Select("s.last_agent_id, "+AllOf(Answered, Closed).SQL(x)+", r.rated_agent_id, r.rating").
		Joins("LEFT JOIN session_ratings r ON r.session_id = s.id").
		Where("s.queue_id IN ?", nonEmpty(x.queueIDs())).
		Where("s.queued_at >= ? AND s.queued_at < ?", x.q.Window.Start, x.q.Window.Stop).
		Where("(s.last_agent_id IS NOT NULL OR r.rated_agent_id IS NOT NULL)").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type acc struct {
		answered, ratings, good int64
		rating                  mean
		by                      [6]int64
	}
	tot := map[int64]*acc{}
	get := func(id int64) *acc {
		if tot[id] == nil {
			tot[id] = &acc{}
		}
		return tot[id]
	}
	for rows.Next() {
		var last, rated, rating sql.NullInt64
		var closedAnswered bool
		if err := rows.Scan(&last, &closedAnswered, &rated, &rating); err != nil {
			return nil, err
		}
		if last.Valid && closedAnswered {
			get(last.Int64).answered++
		}
		if rated.Valid && rating.Valid {
			a := get(rated.Int64)
			a.ratings++
			a.rating.add(float64(rating.Int64))
			if rating.Int64 >= 4 {
				a.good++
			}
			if rating.Int64 >= 1 && rating.Int64 <= 5 {
				a.by[rating.Int64]++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	names, err := x.agents(sortedKeys(tot))
	if err != nil {
		return nil, err
	}
	out := x.rowsByName()
	for _, id := range sortedKeys(tot) {
		a := tot[id]
		if a.answered == 0 && a.ratings == 0 {
			continue
		}
		out.add(byName{"AgentId": id, "AgentName": names[id].Name, "ChatsAnswered": a.answered, "Ratings": a.ratings,
			"ResponseRatePct": ratio(a.ratings, a.answered), "AvgRating": a.rating.value(), "CsatPct": ratio(a.good, a.ratings),
			"Rated1": a.by[1], "Rated2": a.by[2], "Rated3": a.by[3], "Rated4": a.by[4], "Rated5": a.by[5]})
	}
	return out.result(), nil
}

func globalAgentActivity(_ context.Context, x *execution) (Rows, error) {
	ps, err := x.participations()
	if err != nil {
		return nil, err
	}
	tot := totalsByAgent(ps)
	// Ratings of the agent for sessions in their participations.
	ratings := map[int64]*mean{}
	sessionsOf := map[int64][]int64{}
	for id, t := range tot {
		ratings[id] = &mean{}
		for sid := range t.sessions {
			sessionsOf[id] = append(sessionsOf[id], sid)
		}
	}
	for id, sids := range sessionsOf {
		for start := 0; start < len(sids); start += 500 {
			var rs []int64
			err := x.db.Table("session_ratings").Where("rated_agent_id = ? AND session_id IN ?", id, sids[start:min(start+500, len(sids))]).
				Pluck("rating", &rs).Error
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				ratings[id].add(float64(r))
			}
		}
	}
	names, err := x.agents(sortedKeys(tot))
	if err != nil {
		return nil, err
	}
	out := x.rowsByName()
	for _, id := range sortedKeys(tot) {
		t, a := tot[id], names[id]
		var email any
		if a.Email != nil {
			email = *a.Email
		}
		out.add(byName{"AgentId": id, "AgentName": a.Name, "Email": email, "Queues": int64(len(t.queues)),
			"ChatsAnswered": t.answered, "ChatsHandled": int64(len(t.sessions)), "TotalHandleSeconds": handleTotal(t),
			"AvgHandleSeconds": t.handle.value(), "AvgFirstResponseSeconds": t.firstResponse.value(),
			"Ratings": ratings[id].n, "AvgRating": ratings[id].value()})
	}
	return out.result(), nil
}
