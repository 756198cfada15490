package reports

import (
	"database/sql"
	"log/slog"
	"time"

	"github.com/chime-reports/chime-reports/models"
)

// facts is the narrow projection of one chat_sessions row that the queue
// family of reports needs, with the session predicates of docs/data-model.md.
type facts struct {
	ID                  int64
	QueueID             uint32
	SeekerID            int64
	Conversation        string
	State               string
	EndReason           string
	EntryPoint          string
	SkillTag            *string
	StartedAt           time.Time
	QueuedAt            *time.Time
	AcceptedAt          *time.Time
	FirstAgentMessageAt *time.Time
	EndedAt             *time.Time
	Messages            int64
	AgentTransfers      int64
	TransferredIn       bool
	Rating              *int64
	Sentiment           *float64
	// Bot is the session's bot interaction, when read with it.
	Bot *botFacts
	q   queueInfo
}

// factsColumns select facts from chat_sessions s LEFT JOIN session_ratings r.
const factsColumns = "s.id, s.queue_id, s.seeker_id, s.conversation_guid, s.state, s.end_reason, s.entry_point, s.skill_tag, " +
	"s.started_at, s.queued_at, s.accepted_at, s.first_agent_message_at, s.ended_at, s.message_count, " +
	"s.agent_transfer_count, s.parent_session_id, r.rating, s.sentiment_score"

// scan reads factsColumns, then any extra columns selected after them.
func (f *facts) scan(rows *sql.Rows, extra ...any) error {
	var queued, accepted, firstMsg, ended sql.NullTime
	var endReason, skill sql.NullString
	var parent, rating sql.NullInt64
	var sentiment sql.NullFloat64
	dest := append([]any{&f.ID, &f.QueueID, &f.SeekerID, &f.Conversation, &f.State, &endReason, &f.EntryPoint, &skill,
		&f.StartedAt, &queued, &accepted, &firstMsg, &ended, &f.Messages, &f.AgentTransfers, &parent, &rating, &sentiment}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	f.Sentiment = nil
	if sentiment.Valid {
		f.Sentiment = &sentiment.Float64
	}
	f.StartedAt = f.StartedAt.UTC()
	f.QueuedAt, f.AcceptedAt, f.FirstAgentMessageAt, f.EndedAt = nullTime(queued), nullTime(accepted), nullTime(firstMsg), nullTime(ended)
	f.EndReason, f.TransferredIn, f.SkillTag, f.Rating, f.Bot = endReason.String, parent.Valid, nil, nil, nil
	if skill.Valid {
		f.SkillTag = &skill.String
	}
	if rating.Valid {
		f.Rating = &rating.Int64
	}
	return nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func (f *facts) offered() bool  { return f.QueuedAt != nil }
func (f *facts) answered() bool { return f.AcceptedAt != nil }
func (f *facts) closed() bool   { return f.EndedAt != nil }

func (f *facts) unanswered(state string) bool {
	return f.offered() && !f.answered() && f.State == state
}

func (f *facts) abandoned() bool   { return f.unanswered(models.StateAbandoned) }
func (f *facts) timedOut() bool    { return f.unanswered(models.StateTimedOut) }
func (f *facts) transferOut() bool { return f.unanswered(models.StateTransferred) }
func (f *facts) resolvedQ() bool {
	return f.offered() && (f.answered() || f.abandoned() || f.timedOut() || f.transferOut())
}

// wait is the time in queue: to the accept if answered, else to the end;
// defined only when resolvedQ.
func (f *facts) wait() (float64, bool) {
	if !f.resolvedQ() {
		return 0, false
	}
	if f.answered() {
		return seconds(*f.QueuedAt, *f.AcceptedAt, f.ID), true
	}
	if f.EndedAt == nil {
		return 0, false
	}
	return seconds(*f.QueuedAt, *f.EndedAt, f.ID), true
}

// shortAbandon: abandoned before the queue's short-abandon threshold (a
// threshold of 0 disables short abandons).
func (f *facts) shortAbandon() bool {
	if !f.abandoned() {
		return false
	}
	w, ok := f.wait()
	return ok && w < f.q.ShortAbandon
}

func (f *facts) longAbandon() bool { return f.abandoned() && !f.shortAbandon() }

// handle is the time from accept to end, for answered and closed sessions.
func (f *facts) handle() (float64, bool) {
	if !f.answered() || !f.closed() {
		return 0, false
	}
	return seconds(*f.AcceptedAt, *f.EndedAt, f.ID), true
}

// serviceLevel returns whether the session is in the service-level
// denominator and, if so, whether it met the threshold (ServiceLevelByDay): answered
// sessions count, answered within T meet it; long abandons and time-outs
// are failures; short abandons, flow-outs and waiting sessions are out.
func (f *facts) serviceLevel() (inDenominator, met bool) {
	switch {
	case f.answered():
		w, _ := f.wait()
		return true, w <= f.q.SLASeconds
	case f.longAbandon(), f.timedOut():
		return true, false
	}
	return false, false
}

// seconds is b − a in seconds, clamped at 0 (clock skew is logged).
func seconds(a, b time.Time, id int64) float64 {
	d := b.Sub(a).Seconds()
	if d < 0 {
		slog.Warn("negative duration clamped to 0", "session", id, "from", a, "to", b)
		return 0
	}
	return d
}

// mean accumulates an average; its value is nil for an empty set.
type mean struct {
	sum float64
	n   int64
}

func (m *mean) add(v float64) { m.sum += v; m.n++ }

func (m mean) value() any {
	if m.n == 0 {
		return nil
	}
	return m.sum / float64(m.n)
}

// ratio is num/den·100, nil when den is 0.
func ratio(num, den int64) any {
	if den == 0 {
		return nil
	}
	return float64(num) / float64(den) * 100
}

// perDay is ratio for averages per day: n/days, nil when days is 0.
func perDay(n int64, days int) any {
	if days == 0 {
		return nil
	}
	return float64(n) / float64(days)
}
