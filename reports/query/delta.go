package query

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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

// TracksChanges reports whether the set supports change tracking:
// Sessions, and the sets beside it through their session (TracksRows).
func (s *Set) TracksChanges() bool { return (s.kind == sessionSet && !s.zoned) || s.TracksRows() }

// TracksRows reports whether the set tracks changes through its rows'
// sessions (ChangedRows, RemovedRows) rather than as sessions.
func (s *Set) TracksRows() bool {
	_, ok := tombstoneTables[s.Name]
	return ok && s.kind == tableSet
}

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
	return scanChanges(rows)
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

// Change tracking on the sets beside Sessions (Messages, Ratings,
// Participants, Offers, BotInteractions, Keywords). A row's version is
// its session's (the later of updated_at and the rating's submitted_at):
// writers that add, change or delete a row of these tables set their
// session's updated_at in the same transaction, and a changed session
// sends all its rows again. Deleted rows come from row_tombstones, which
// triggers fill on every delete of these tables.

// ChangedRows answers a tracked read of a set beside Sessions: the rows of
// q (its filter, keyset position After and the caller's queues) whose
// session's version is after since (every row when since is zero), except
// the rows of the sessions in skip, in key order, at most limit. Each row
// comes with its session's version, read by the same statement.
func (e *Engine) ChangedRows(ctx context.Context, q SetQuery, since time.Time, skip []int64, limit int) ([][]any, []Change, error) {
	if q.Set.kind != tableSet {
		return nil, nil, unsupported("%s does not track changes through its session", q.Set.Name)
	}
	t := tables[q.Set.Name]
	c := q.Set.compiler(e.mysql(), e.Now().UTC(), time.UTC, q.Visible)
	sel := make([]string, 0, len(q.Set.Props)+3)
	for _, p := range q.Set.Props {
		col, err := c.column(p.Name)
		if err != nil {
			return nil, nil, err
		}
		sel = append(sel, col)
	}
	sel = append(sel, "cs.id", "cs.updated_at", "cr.submitted_at")
	from := t.from + " JOIN chat_sessions AS cs ON cs.id = " + q.Set.columns["SessionId"].expr +
		" LEFT JOIN session_ratings AS cr ON cr.session_id = cs.id"
	sort := q.Set.Sort(nil)
	first := tableFirst(c.mysql, q.Set, sort, q.Filter) // the first read: every row, in key order
	if !since.IsZero() {
		first = "" // a delta read starts from the changed sessions
	}
	db := e.DB().WithContext(ctx).Table(from).Select(first + strings.Join(sel, ", "))
	if !since.IsZero() {
		// The changed sessions first (the updated_at and submitted_at
		// indexes), then their rows by the session index: a delta read
		// costs what changed, not the table.
		db = db.Joins("JOIN (SELECT id FROM chat_sessions WHERE updated_at > ? UNION SELECT session_id FROM session_ratings WHERE submitted_at > ?) AS ch ON ch.id = "+
			q.Set.columns["SessionId"].expr, since.UTC(), since.UTC())
	}
	db = db.Where(t.queue+" IN ?", reports.NonEmpty(narrowQueues(q.Visible, q.Filter)))
	if len(skip) > 0 {
		db = db.Where("cs.id NOT IN ?", skip)
	}
	pred := q.Filter
	if len(q.After) > 0 {
		after, err := q.Set.AfterPredicate(sort, q.After)
		if err != nil {
			return nil, nil, err
		}
		pred = And(pred, after)
	}
	q.Top, q.Skip = limit, 0
	db, err := c.page(db, pred, sort, &q)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.Rows()
	if err != nil {
		return nil, nil, models.Classify(err)
	}
	props := append(slices.Clone(q.Set.Props), reports.Column{Type: reports.Int}, reports.Column{Type: reports.DateTime}, reports.Column{Type: reports.DateTime})
	tr := &tableRows{rows: rows, props: props}
	defer tr.Close()
	var out [][]any
	var changes []Change
	n := len(q.Set.Props)
	for tr.Next() {
		r := tr.Row()
		out = append(out, slices.Clone(r[:n]))
		id, _ := r[n].(int64)
		upd, _ := r[n+1].(time.Time)
		ch := Change{ID: id, Updated: upd, Version: upd}
		if sub, ok := r[n+2].(time.Time); ok {
			ch.Rated = sub
			if sub.After(ch.Version) {
				ch.Version = sub
			}
		}
		changes = append(changes, ch)
	}
	return out, changes, tr.Err()
}

// scanChanges reads rows of (id, updated_at, submitted_at) into changes:
// a session's version is the later of its update and its rating.
func scanChanges(rows *sql.Rows) ([]Change, error) {
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

// SessionVersions reads the current versions of the given sessions (the
// ones that exist).
func (e *Engine) SessionVersions(ctx context.Context, ids []int64) ([]Change, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := e.DB().WithContext(ctx).Table("chat_sessions AS s").Joins("LEFT JOIN session_ratings r ON r.session_id = s.id").
		Select("s.id, s.updated_at, r.submitted_at").Where("s.id IN ?", ids).Rows()
	if err != nil {
		return nil, models.Classify(err)
	}
	return scanChanges(rows)
}

// RowRemoval is one deleted row of a set beside Sessions: its tombstone's
// sequence number, the values of the set's key properties (in Set.Key
// order) and when it was deleted (database clock).
type RowRemoval struct {
	Seq int64
	Key []any
	At  time.Time
	// Exists is true when a row with this key exists again (a keyword
	// re-indexed, a rating replaced): it is not a removal, and the row
	// comes with its session's change.
	Exists bool
}

// tombstoneTables are, per set beside Sessions, the table its tombstones
// name. A tombstone's row_id is the row's id, or its session's for the
// sets keyed by session (with the keyword's source and text for Keywords).
var tombstoneTables = map[string]string{
	"Messages": "session_messages", "Ratings": "session_ratings", "Participants": "session_participants",
	"Offers": "session_offers", "BotInteractions": "bot_interactions", "Keywords": "session_keywords",
}

// RemovedRows lists the tombstones of a set beside Sessions in the
// caller's queues recorded after since, with sequence numbers after
// afterSeq, in sequence order, at most limit.
func (e *Engine) RemovedRows(ctx context.Context, set *Set, visible []uint32, since time.Time, afterSeq int64, limit int) ([]RowRemoval, error) {
	table, ok := tombstoneTables[set.Name]
	if !ok {
		return nil, unsupported("%s does not track changes through its session", set.Name)
	}
	var ts []models.RowTombstone
	err := e.DB().WithContext(ctx).Where("tbl = ? AND deleted_at > ? AND id > ? AND queue_id IN ?", table, since.UTC(), afterSeq, reports.NonEmpty(visible)).
		Order("id").Limit(limit).Find(&ts).Error
	if err != nil {
		return nil, models.Classify(err)
	}
	out := make([]RowRemoval, len(ts))
	for i, t := range ts {
		var key []any
		switch set.Name {
		case "Keywords":
			key = []any{int64(t.SessionID), deref(t.Source), deref(t.Keyword)}
		default:
			key = []any{int64(t.RowID)}
		}
		out[i] = RowRemoval{Seq: int64(t.ID), Key: key, At: t.DeletedAt.UTC()}
	}
	if len(ts) == 0 {
		return out, nil
	}
	// Rows whose key was inserted again.
	col := "id"
	if set.Key[0] == "SessionId" {
		col = "session_id"
	}
	ids := make([]uint64, len(ts))
	for i, t := range ts {
		ids[i] = t.RowID
	}
	rows, err := e.DB().WithContext(ctx).Table(table).Select(col+", "+map[bool]string{true: "source, keyword", false: "NULL, NULL"}[set.Name == "Keywords"]).
		Where(col+" IN ?", ids).Rows()
	if err != nil {
		return nil, models.Classify(err)
	}
	defer rows.Close()
	exists := map[[3]any]bool{}
	for rows.Next() {
		var (
			id      int64
			src, kw sql.NullString
		)
		if err := rows.Scan(&id, &src, &kw); err != nil {
			return nil, models.Classify(err)
		}
		k := [3]any{id}
		if set.Name == "Keywords" {
			k = [3]any{id, src.String, kw.String}
		}
		exists[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, models.Classify(err)
	}
	for i := range out {
		var k [3]any
		copy(k[:], out[i].Key)
		out[i].Exists = exists[k]
	}
	return out, nil
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
