package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/models"
)

// coverage says which data a report reads, as far as its data fingerprint
// is concerned (docs/api.md, "Caching").
type coverage int

const (
	// coverUnset is no declaration: register refuses it.
	coverUnset coverage = iota
	// uncovered reports read data the fingerprint cannot see cheaply
	// (participations that began before the window, offers, messages,
	// presence, bot interactions, keywords, memberships): no fingerprint,
	// so no ETag. The session logs (and the OData session sets) are
	// uncovered too: they are exports, read once and paged, and a digest of
	// every row they show costs a large part of the export itself, on every
	// page. Power Query never revalidates, so it would pay that for nothing.
	uncovered
	// sessionFacts reports read the sessions of their queues that started
	// or were queued in the window, the ratings of those sessions, and
	// their queues' settings.
	sessionFacts
	// sessionNames reports read the same plus display names of users.
	sessionNames
)

// Validated reports whether r's answers can carry a data fingerprint.
func (r *Report) Validated() bool { return r.cover == sessionFacts || r.cover == sessionNames }

// Fingerprint returns a digest of every row q reads, for an entity tag,
// or ok false when q cannot be validated: the engine reads from replicas
// (each statement may go to another replica, at another position, so a tag
// read on a replica ahead of the one that serves the report would make a
// stale answer look current), its report is not covered, or
// its window has not closed (its stop is after the engine's clock), so
// the answer depends on the time of asking. The digest changes when a
// session of q's queues that started or was queued in the window is added,
// removed or changed (a change is seen through updated_at, which writers
// must move), when a rating of such a session is added, removed or changed,
// and when a setting or name the report shows changes. It is one
// SQL statement of aggregates over index ranges; run it before the report,
// so that a change between the two makes the tag older than the answer,
// never newer. Invisible queues are NotFound, as in Run.
func (e *Engine) Fingerprint(ctx context.Context, q Query) (digest string, ok bool, err error) {
	if q.Report == nil {
		return "", false, nil
	}
	if !q.Report.Validated() || e.replicas || q.Window.Stop.After(e.clock()) {
		return "", false, nil
	}
	queues := q.Visible
	if q.Report.RequiresQueue() || q.QueueID != 0 {
		if _, err := e.visibleQueue(ctx, q.QueueID, q.Visible); err != nil {
			return "", false, err
		}
		queues = []uint32{q.QueueID}
	}
	d, err := e.fingerprintCached(ctx, q.Report, queues, q.Window)
	if err != nil {
		return "", false, err
	}
	return d, true, nil
}

// fingerprint runs the aggregate statement (see fingerprintSQL).
func (e *Engine) fingerprint(ctx context.Context, cov coverage, queues []uint32, start, stop time.Time) (string, error) {
	sql, args := fingerprintSQL(cov, nonEmpty(queues), start.UTC(), stop.UTC())
	rows, err := e.db.WithContext(ctx).Raw(sql, args...).Rows()
	if err != nil {
		return "", models.Classify(err)
	}
	defer rows.Close()
	h := sha256.New()
	fmt.Fprintf(h, "%d|%v|%d|%d\n", cov, queues, start.UnixMilli(), stop.UnixMilli())
	cols := make([]any, fingerprintColumns)
	ptrs := make([]any, len(cols))
	for i := range cols {
		ptrs[i] = &cols[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", models.Classify(err)
		}
		for _, v := range cols {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprintf(h, "%v|", v)
		}
		h.Write([]byte{'\n'})
	}
	if err := rows.Err(); err != nil {
		return "", models.Classify(err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fingerprintColumns is the width of every branch of fingerprintSQL.
const fingerprintColumns = 7

// fingerprintSQL is one statement, a UNION ALL of aggregates, each over an
// index range or a small table:
//
//	S  sessions of the queues with started_at in [start, stop):
//	   COUNT, SUM(id), MAX(updated_at), SUM(CRC32(id|updated_at)) from
//	   ix_cs_q_started_upd alone
//	Q  the same by queued_at, from ix_cs_q_queued_upd
//	R  ratings of the queues submitted at or after start (ix_sr_q_sub),
//	   with a CRC32 of each rating's columns (a lookup per rating)
//	queues  the queues' names and thresholds (primary key)
//	users   every user's display name (reports that show agents)
//
// The ratings of a window's sessions are all in R because a rating carries
// its session's queue and is submitted after the session started or was
// queued (docs/data-model.md "Write-side invariants").
func fingerprintSQL(cov coverage, queues []uint32, start, stop time.Time) (string, []any) {
	digest := func(cols ...string) string {
		return "SUM(CRC32(CONCAT_WS('|', " + strings.Join(cols, ", ") + ")))"
	}
	text := func(x string) string { return "COALESCE(CAST(" + x + " AS CHAR), '')" }
	var parts []string
	var args []any
	for _, col := range []string{"started_at", "queued_at"} {
		// The CRC of every (id, updated_at) sees a change whose updated_at
		// is not above the maximum (writers' clocks apart, a copied
		// timestamp); the index holds both columns, so it stays index only.
		parts = append(parts, "SELECT '"+col+"', "+text("COUNT(*)")+", "+text("SUM(id)")+", "+text("MAX(updated_at)")+", "+
			text(digest("id", "updated_at"))+", '', ''"+
			" FROM chat_sessions WHERE queue_id IN ? AND "+col+" >= ? AND "+col+" < ?")
		args = append(args, queues, start, stop)
	}
	parts = append(parts, "SELECT 'ratings', "+text("COUNT(*)")+", "+text("SUM(session_id)")+", "+text("MAX(submitted_at)")+", "+
		text(digest("session_id", "rating", "scale_max", "comment", "rated_agent_id"))+", '', ''"+
		" FROM session_ratings WHERE queue_id IN ? AND submitted_at >= ?")
	args = append(args, queues, start)
	queue := digest("name", "mode", "sla_threshold_seconds", "sla_target_pct", "short_abandon_seconds")
	parts = append(parts, "SELECT 'queues', "+text("COUNT(*)")+", "+text("SUM(id)")+", "+text("MAX(updated_at)")+", "+
		text(queue)+", "+text("MAX(deleted_at)")+", '' FROM queues WHERE id IN ?")
	args = append(args, queues)
	if cov == sessionNames {
		parts = append(parts, "SELECT 'users', "+text("COUNT(*)")+", "+text("SUM(id)")+", "+text("MAX(updated_at)")+", "+
			text(digest("id", "display_name", "email"))+", '', '' FROM users")
	}
	return strings.Join(parts, " UNION ALL "), args
}
