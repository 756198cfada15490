package reports

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/store"
)

// This file is the surface the entity-set query machinery (reports/query)
// builds on: rows held in memory, the session-log read, and the data
// fingerprint of a window. The query package never sees the engine's
// internals; the engine never sees a query expression.

// NewSliceRows streams rows held in memory.
func NewSliceRows(rows [][]any) Rows { return newSliceRows(rows) }

// SessionLogColumns returns a copy of the columns of the session logs.
func SessionLogColumns() []Column { return slices.Clone(sessionLogColumns) }

// SessionLogSelect is the select list of a session-log query; rows read
// with it are converted by SessionLogRead.Rows.
const SessionLogSelect = sessionLogSelect

// SessionLogRead is one read of session-log rows outside Run: the queues
// it may read (with their thresholds, which the derived durations need)
// and the zone its instants are shown in.
type SessionLogRead struct{ x *execution }

// ReadSessionLog prepares a session-log read for report r (nil for the raw
// Sessions table) over queues, which the caller has already narrowed to
// the visible ones, with instants shown in zone.
func (e *Engine) ReadSessionLog(ctx context.Context, r *Report, zone *time.Location, queues, visible []uint32) (*SessionLogRead, error) {
	x := &execution{engine: e, db: e.db.WithContext(ctx), now: e.clock().UTC(),
		q: Query{Report: r, Window: Window{Zone: zone}, Visible: visible}}
	x.queues = queues
	if err := x.loadQueues(); err != nil {
		return nil, err
	}
	return &SessionLogRead{x: x}, nil
}

// Now is the instant the read stands at (the "now" of open sessions).
func (l *SessionLogRead) Now() time.Time { return l.x.now }

// From is the FROM clause of a session-log query over the read's queues;
// the caller adds its conditions, order and limit, then selects
// SessionLogSelect or counts.
func (l *SessionLogRead) From() *gorm.DB {
	return sessionLogFrom(l.x.db).Where("s.queue_id IN ?", nonEmpty(l.x.queues))
}

// CountAll is the number of sessions of the read's queues, from the
// per-queue counts the database keeps (models.CountSessions): what
// From().Count would give, without reading an index of every session.
func (l *SessionLogRead) CountAll() (int64, error) {
	return models.CountSessions(l.x.db, l.x.queues)
}

// CountStarted is the number of sessions of the read's queues that are
// also in queues and whose started_at lies in [lo, hi), read from the
// interval store's count of sessions by start (the fingerprint's
// started_fp_rows): a sum of its intervals, exact at every moment, since
// the intervals the store does not hold yet are counted from raw rows.
// An incremental refresh asks this for every partition it loads. ok is
// false, and nothing is read, when the range is not on the store's
// 15-minute grid or the engine reads raw rows only.
func (l *SessionLogRead) CountStarted(queues []uint32, lo, hi time.Time) (n int64, ok bool, err error) {
	if l.x.engine.raw || !lo.Before(hi) || !store.Aligned(lo, hi, time.UTC) || lo.Before(storeEpoch) {
		return 0, false, nil
	}
	qs := slices.DeleteFunc(slices.Clone(l.x.queues), func(q uint32) bool { return !slices.Contains(queues, q) })
	if len(qs) == 0 {
		return 0, true, nil
	}
	res, err := store.Read(l.x.db.Statement.Context, l.x.db, store.Query{Attr: store.Started, Queues: qs, Start: lo.UTC(), Stop: hi.UTC(),
		Zone: time.UTC, Interval: store.Total, Measures: []string{"started_fp_rows"}})
	if err != nil {
		return 0, false, models.Classify(err)
	}
	for _, row := range res.Values {
		n += row[0].Int64
	}
	return n, true, nil
}

// storeEpoch: the store numbers intervals from 1970; a range that begins
// earlier is counted from raw rows.
var storeEpoch = time.Unix(0, 0)

// FromJoins is From with only the joins named by alias: q (queues), sk
// (seekers), u (users, the first agent), r (session_ratings). Each joins
// at most one row per session, so leaving one out changes no count.
func (l *SessionLogRead) FromJoins(aliases ...string) *gorm.DB {
	return sessionLogFromOnly(l.x.db, aliases...).Where("s.queue_id IN ?", nonEmpty(l.x.queues))
}

// FromPage is FromJoins over the sessions whose ids page selects: page is
// a query of s.id alone, with its own filter, order and limit, over as
// few joins as its filter and order need. Paging a filtered set this way
// finds the page's ids in an index that covers the filter (on a month of
// StartedAt, the (queue_id, started_at) index, whose entries hold the id)
// and sorts only ids; the joins and the wide session rows are then read
// for the page's rows alone, not for every row the filter matches before
// the sort. The caller orders the outer query as page is ordered.
// MySQL and MariaDB take no LIMIT inside IN (…), so there the page is a
// derived table joined to the sessions; on SQLite it is IN (…), whose
// list a page in id order is read in without a second sort.
func (l *SessionLogRead) FromPage(page *gorm.DB, aliases ...string) *gorm.DB {
	if !l.x.engine.mysql() {
		return l.FromJoins(aliases...).Where("s.id IN (?)", page)
	}
	db := l.x.db.Table("(?) AS p", page).Joins("JOIN chat_sessions s ON s.id = p.id")
	return sessionLogJoinsOnly(db, aliases...).Where("s.queue_id IN ?", nonEmpty(l.x.queues))
}

// SessionLogFromSQL is the text of the session-log FROM clause with every
// join (chat_sessions s, queues q, seekers sk, users u, session_ratings
// r), for a subquery that reads the session-log columns of other sessions
// than the outer query's rows.
func SessionLogFromSQL() string {
	out := "chat_sessions AS s"
	for _, j := range sessionLogJoins {
		out += " " + j.sql
	}
	return out
}

// DurationMillisSQL is the SQL over chat_sessions s of a derived duration
// of the session log (WaitSeconds, HandleSeconds, DurationSeconds) in
// whole milliseconds, NULL where the log shows none: the declared values
// Wait, Handle and Duration, whose Go twins the log rows use. It is ""
// for any other name.
func (l *SessionLogRead) DurationMillisSQL(name string) string {
	v := map[string]*Value{"WaitSeconds": Wait, "HandleSeconds": Handle, "DurationSeconds": Duration}[name]
	if v == nil {
		return ""
	}
	return v.SQL(l.x)
}

// Select is the select list of a session-log query whose FROM clause is
// FromJoins(joins...): the columns of a join left out come back null (the
// queue name never needs its join). Rows reads what it selects.
func (l *SessionLogRead) Select(joins ...string) string {
	return sessionLogSelectOf(l.x.engine.mysql(), joins)
}

// Rows converts rows selected with SessionLogSelect or Select to
// session-log rows.
func (l *SessionLogRead) Rows(rows *sql.Rows) Rows {
	return newSessionLogRows(rows, l.x)
}

// WindowFingerprint is Fingerprint for report r over queues and the
// window [start, stop): ok is false when r is not covered, the engine
// reads from replicas, or the window has not closed.
func (e *Engine) WindowFingerprint(ctx context.Context, r *Report, queues []uint32, start, stop time.Time) (digest string, ok bool, err error) {
	cov := r.cover
	if cov == uncovered || e.replicas || stop.After(e.clock()) {
		return "", false, nil
	}
	d, err := e.fingerprintCached(ctx, r, queues, Window{Start: start, Stop: stop})
	if err != nil {
		return "", false, err
	}
	return d, true, nil
}
