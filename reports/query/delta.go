package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// Change tracking on the session sets. A session's version is the later
// of its updated_at and its rating's submitted_at (a late rating changes
// the row a reader sees without touching the session). Deleted sessions
// come from session_tombstones, which a trigger fills on the database's
// clock. The surface keeps the watermarks and the de-duplication; this
// file only reads.

// Change is one changed session: its id, its version (the later of
// Updated and Rated) and both stamps, which together identify the state
// of the row a reader saw (a writer whose clock is behind may move
// updated_at backwards past a rating).
type Change struct {
	ID      int64
	Version time.Time
	Updated time.Time
	Rated   time.Time // zero without a rating
}

// Removal is one deleted session: its tombstone's sequence number, the
// session id and when it was deleted (database clock).
type Removal struct {
	Seq       int64
	SessionID int64
	At        time.Time
}

// ChangeQuery asks for the sessions of a session set whose version is
// after Since (all of them when Since is zero), with ids after AfterID, in
// id order, at most Limit, for the caller's queues and filter.
type ChangeQuery struct {
	Set     *Set
	Filter  Expr
	Visible []uint32
	Since   time.Time
	AfterID int64
	Limit   int
}

// TracksChanges reports whether the set supports change tracking.
func (s *Set) TracksChanges() bool { return s.kind == sessionSet && !s.zoned }

// ChangedSessions answers q with the ids and versions of the changed
// sessions; the rows themselves are read with QuerySet.
func (e *Engine) ChangedSessions(ctx context.Context, q ChangeQuery) ([]Change, error) {
	if !q.Set.TracksChanges() {
		return nil, unsupported("%s does not track changes", q.Set.Name)
	}
	x, err := e.ReadSessionLog(ctx, nil, time.UTC, narrowQueues(q.Visible, q.Filter), q.Visible)
	if err != nil {
		return nil, err
	}
	c := q.Set.compiler(e.mysql(), x.Now(), time.UTC, q.Visible)
	db := x.From().Select("s.id, s.updated_at, r.submitted_at").Where("s.id > ?", q.AfterID)
	if !q.Since.IsZero() {
		since := q.Since.UTC()
		db = db.Where("(s.updated_at > ? OR r.submitted_at > ?)", since, since)
	}
	if q.Filter != nil {
		where, err := c.pred(q.Filter)
		if err != nil {
			return nil, err
		}
		db = db.Where(where, c.args...)
	}
	rows, err := db.Order("s.id").Limit(q.Limit).Rows()
	if err != nil {
		return nil, models.Classify(err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var (
			id       int64
			upd, sub sql.NullTime
		)
		if err := rows.Scan(&id, &upd, &sub); err != nil {
			return nil, models.Classify(err)
		}
		ch := Change{ID: id, Updated: upd.Time.UTC(), Version: upd.Time.UTC()}
		if sub.Valid {
			ch.Rated = sub.Time.UTC()
			if ch.Rated.After(ch.Version) {
				ch.Version = ch.Rated
			}
		}
		out = append(out, ch)
	}
	return out, models.Classify(rows.Err())
}

// RemovedSessions lists the tombstones of the caller's queues recorded
// after since, with sequence numbers after afterSeq, in sequence order,
// at most limit.
func (e *Engine) RemovedSessions(ctx context.Context, visible []uint32, since time.Time, afterSeq int64, limit int) ([]Removal, error) {
	var ts []models.SessionTombstone
	err := e.DB().WithContext(ctx).Where("deleted_at > ? AND id > ? AND queue_id IN ?", since.UTC(), afterSeq, reports.NonEmpty(visible)).
		Order("id").Limit(limit).Find(&ts).Error
	if err != nil {
		return nil, models.Classify(err)
	}
	out := make([]Removal, len(ts))
	for i, t := range ts {
		out[i] = Removal{Seq: int64(t.ID), SessionID: int64(t.SessionID), At: t.DeletedAt.UTC()}
	}
	return out, nil
}

// DatabaseNow is the database's clock (UTC): change-tracking watermarks
// are taken on it, not on this server's clock.
func (e *Engine) DatabaseNow(ctx context.Context) (time.Time, error) {
	q := "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"
	if e.mysql() {
		q = "SELECT UTC_TIMESTAMP(6)"
	}
	var v any
	if err := e.DB().WithContext(ctx).Raw(q).Row().Scan(&v); err != nil {
		return time.Time{}, models.Classify(err)
	}
	switch x := v.(type) {
	case time.Time:
		return time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.UTC), nil
	case []byte:
		v = string(x)
	}
	s, _ := v.(string)
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", strings.TrimSpace(s), time.UTC)
	if err != nil {
		return time.Time{}, &apierror.Error{Code: apierror.Internal, Message: "cannot read the database clock", Cause: fmt.Errorf("%q: %w", s, err)}
	}
	return t, nil
}
