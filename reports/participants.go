package reports

import (
	"database/sql"
	"slices"
	"time"

	"github.com/chime-reports/chime-reports/models"
)

// participation is one agent's stay in a session, with the session facts
// the agent reports need.
type participation struct {
	UserID         int64
	SessionID      int64
	QueueID        uint32
	JoinReason     string
	LeaveReason    string
	JoinedAt       time.Time
	LeftAt         *time.Time
	FirstMessageAt *time.Time
	FirstAgentID   int64
	QueuedAt       *time.Time
	AcceptedAt     *time.Time
}

// answeredIt: the agent accepted the session and was its first agent.
func (p *participation) answeredIt() bool {
	return p.JoinReason == "accepted" && p.FirstAgentID == p.UserID
}

// session is what the participation knows of its session's facts: the
// declared session values that read only those (Wait of an answered
// session) apply to it.
func (p *participation) session() *facts {
	return &facts{ID: p.SessionID, QueueID: p.QueueID, QueuedAt: p.QueuedAt, AcceptedAt: p.AcceptedAt}
}

// handle is the closed participation's length.
func (p *participation) handle() (float64, bool) {
	if p.LeftAt == nil {
		return 0, false
	}
	return seconds(p.JoinedAt, *p.LeftAt, p.SessionID), true
}

// end is the participation's end, open ones ending at openEnd.
func (p *participation) end(openEnd time.Time) time.Time {
	if p.LeftAt != nil {
		return *p.LeftAt
	}
	return openEnd
}

const participationColumns = "p.user_id, p.session_id, s.queue_id, p.join_reason, p.leave_reason, p.joined_at, p.left_at, " +
	"p.first_message_at, s.first_agent_id, s.queued_at, s.accepted_at"

// participations loads the participations in the run's queues whose
// joined_at lies in the window (the participation set of docs/data-model.md "Row sets").
func (x *execution) participations() ([]participation, error) {
	return x.loadParticipations("p.joined_at >= ? AND p.joined_at < ?", x.q.Window.Start, x.q.Window.Stop)
}

// overlappingParticipations loads the participations that overlap the
// window (for the overlap metrics).
func (x *execution) overlappingParticipations(queues []uint32) ([]participation, error) {
	q := x.db.Table("session_participants AS p").Select(participationColumns).
		Joins("JOIN chat_sessions s ON s.id = p.session_id").
		Where("p.joined_at < ? AND (p.left_at IS NULL OR p.left_at > ?)", x.q.Window.Stop, x.q.Window.Start)
	if queues != nil {
		q = q.Where("s.queue_id IN ?", nonEmpty(queues))
	}
	rows, err := q.Order("p.user_id, p.joined_at, p.id").Rows()
	if err != nil {
		return nil, err
	}
	return scanParticipations(rows)
}

// forParticipations calls f with each participation that participations
// returns, in the same order, as the rows stream: a report that only
// sums them holds none of them (a queue-year has hundreds of thousands).
// f's argument is reused after it returns.
func (x *execution) forParticipations(f func(*participation)) error {
	rows, err := x.participationRows("p.joined_at >= ? AND p.joined_at < ?", x.q.Window.Start, x.q.Window.Stop)
	if err != nil {
		return err
	}
	return eachParticipation(rows, f)
}

func (x *execution) participationRows(cond string, args ...any) (*sql.Rows, error) {
	return x.db.Table("session_participants AS p").Select(participationColumns).
		Joins("JOIN chat_sessions s ON s.id = p.session_id").
		Where("s.queue_id IN ?", nonEmpty(x.queueIDs())).
		Where(cond, args...).
		Order("p.user_id, p.joined_at, p.id").Rows()
}

func (x *execution) loadParticipations(cond string, args ...any) ([]participation, error) {
	rows, err := x.participationRows(cond, args...)
	if err != nil {
		return nil, err
	}
	return scanParticipations(rows)
}

func scanParticipations(rows *sql.Rows) ([]participation, error) {
	var out []participation
	err := eachParticipation(rows, func(p *participation) { out = append(out, *p) })
	return out, err
}

// eachParticipation scans rows of participationColumns, calling f with
// each (the same value, overwritten row after row), and closes rows.
func eachParticipation(rows *sql.Rows, f func(*participation)) error {
	defer rows.Close()
	var p participation
	for rows.Next() {
		p = participation{}
		var leave sql.NullString
		var left, firstMsg, queued, accepted sql.NullTime
		var firstAgent sql.NullInt64
		if err := rows.Scan(&p.UserID, &p.SessionID, &p.QueueID, &p.JoinReason, &leave, &p.JoinedAt, &left,
			&firstMsg, &firstAgent, &queued, &accepted); err != nil {
			return err
		}
		p.JoinedAt = p.JoinedAt.UTC()
		p.LeaveReason, p.FirstAgentID = leave.String, firstAgent.Int64
		p.LeftAt, p.FirstMessageAt, p.QueuedAt, p.AcceptedAt = nullTime(left), nullTime(firstMsg), nullTime(queued), nullTime(accepted)
		f(&p)
	}
	return rows.Err()
}

// agent is what reports show of a user.
type agent struct {
	ID            int64
	Name          string
	Email         *string
	MaxConcurrent int64
}

// agents loads users by id (soft-deleted included: history keeps them).
func (x *execution) agents(ids []int64) (map[int64]agent, error) {
	out := map[int64]agent{}
	if len(ids) == 0 {
		return out, nil
	}
	var us []models.User
	if err := x.db.Unscoped().Select("id", "display_name", "email", "max_concurrent_chats").Where("id IN ?", ids).Find(&us).Error; err != nil {
		return nil, err
	}
	for _, u := range us {
		out[int64(u.ID)] = agent{ID: int64(u.ID), Name: u.DisplayName, Email: u.Email, MaxConcurrent: int64(u.MaxConcurrentChats)}
	}
	return out, nil
}

// sortedKeys returns the keys of m in ascending order.
func sortedKeys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// members returns the users with one of roles on the run's queue, who
// receive chats (for reports that list idle members too).
func (x *execution) members(roles ...string) ([]int64, error) {
	var ids []int64
	err := x.db.Model(&models.QueueMember{}).Where("queue_id IN ? AND role IN ? AND receives_chats = ?", nonEmpty(x.queueIDs()), roles, true).
		Distinct().Order("user_id").Pluck("user_id", &ids).Error
	return ids, err
}
