package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/store"
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

// fingerprintParts are the interval store's share of the data
// fingerprint: per attribution time, the count of the sessions, the sum of
// their ids and the sum of a CRC32 of (id, updated_at); on queued_at also
// the sum of a CRC32 of their ratings' columns. All are sums, so a window
// on the 15-minute grid reads them from the store like any measure, exact
// at every moment (dirty and pending intervals from raw rows), instead of
// digesting every session of the window.
var fingerprintParts = map[store.Attr][]store.Measure{
	store.Queued: {
		{Name: "queued_fp_rows", Attr: store.Queued, Agg: store.Count, SQL: func(store.Dialect) string { return "1 = 1" }},
		{Name: "queued_fp_ids", Attr: store.Queued, Agg: store.Sum, SQL: func(store.Dialect) string { return "s.id" }},
		{Name: "queued_fp_crc", Attr: store.Queued, Agg: store.Sum, SQL: func(store.Dialect) string { return "CRC32(CONCAT_WS('|', s.id, s.updated_at))" }},
		{Name: "queued_fp_ratings", Attr: store.Queued, Agg: store.Sum, SQL: func(store.Dialect) string {
			return "CRC32(CONCAT_WS('|', r.session_id, r.rating, r.scale_max, r.comment, r.rated_agent_id, r.submitted_at))"
		}},
	},
	store.Started: {
		{Name: "started_fp_rows", Attr: store.Started, Agg: store.Count, SQL: func(store.Dialect) string { return "1 = 1" }},
		{Name: "started_fp_ids", Attr: store.Started, Agg: store.Sum, SQL: func(store.Dialect) string { return "s.id" }},
		{Name: "started_fp_crc", Attr: store.Started, Agg: store.Sum, SQL: func(store.Dialect) string { return "CRC32(CONCAT_WS('|', s.id, s.updated_at))" }},
	},
}

func init() {
	for _, a := range []store.Attr{store.Queued, store.Started} {
		for _, m := range fingerprintParts[a] {
			store.Declare(m)
		}
	}
}

// fingerprint digests what a report of coverage cov reads of queues over
// [start, stop): the sessions and their ratings from the interval store
// when the window lies on its grid (storeFingerprint), else by the
// aggregate statement over index ranges (fingerprintSQL); the queues'
// settings and the users' names by a statement over those small tables.
func (e *Engine) fingerprint(ctx context.Context, cov coverage, queues []uint32, start, stop time.Time) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%v|%d|%d\n", cov, queues, start.UnixMilli(), stop.UnixMilli())
	sessions := true
	if !e.raw && start.UnixMilli()%store.IntervalMs == 0 && stop.UnixMilli()%store.IntervalMs == 0 {
		if err := e.storeFingerprint(ctx, h, nonEmpty(queues), start.UTC(), stop.UTC()); err != nil {
			return "", err
		}
		sessions = false
	}
	sql, args := fingerprintSQL(cov, nonEmpty(queues), start.UTC(), stop.UTC(), sessions)
	rows, err := e.db.WithContext(ctx).Raw(sql, args...).Rows()
	if err != nil {
		return "", models.Classify(err)
	}
	defer rows.Close()
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

// storeFingerprint writes the store's totals of fingerprintParts over the
// window to h.
func (e *Engine) storeFingerprint(ctx context.Context, h io.Writer, queues []uint32, start, stop time.Time) error {
	for _, a := range []store.Attr{store.Queued, store.Started} {
		var names []string
		for _, m := range fingerprintParts[a] {
			names = append(names, m.Name)
		}
		res, err := store.Read(ctx, e.db, store.Query{Attr: a, Queues: queues, Start: start, Stop: stop, Zone: time.UTC,
			Interval: store.Total, Measures: names})
		if err != nil {
			return models.Classify(err)
		}
		fmt.Fprintf(h, "%s", a)
		for _, row := range res.Values {
			for _, v := range row {
				fmt.Fprintf(h, "|%d", v.Int64)
			}
		}
		h.Write([]byte{'\n'})
	}
	return nil
}

// crcSum is the SQL sum of a CRC32 of the columns cols (a comma list)
// over a group's rows: a digest that any change of one row's columns
// changes (but for a 1 in 2³² collision). SQLite's CRC32 is registered by
// the models package.
func crcSum(cols string) string { return "SUM(CRC32(CONCAT_WS('|', " + cols + ")))" }

// asText is the SQL of x as text, the empty text for NULL: the branches
// of one UNION ALL then share their column types on both back ends.
func asText(x string) string { return "COALESCE(CAST(" + x + " AS CHAR), '')" }

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
//
// Without sessions, the S, Q and R branches are left out (the interval
// store gave them: storeFingerprint).
func fingerprintSQL(cov coverage, queues []uint32, start, stop time.Time, sessions bool) (string, []any) {
	digest := func(cols ...string) string { return crcSum(strings.Join(cols, ", ")) }
	var parts []string
	var args []any
	if sessions {
		for _, col := range []string{"started_at", "queued_at"} {
			// The CRC of every (id, updated_at) sees a change whose
			// updated_at is not above the maximum (writers' clocks apart, a
			// copied timestamp); the index holds both columns, so it stays
			// index only.
			parts = append(parts, "SELECT '"+col+"', "+asText("COUNT(*)")+", "+asText("SUM(id)")+", "+asText("MAX(updated_at)")+", "+
				asText(digest("id", "updated_at"))+", '', ''"+
				" FROM chat_sessions WHERE queue_id IN ? AND "+col+" >= ? AND "+col+" < ?")
			args = append(args, queues, start, stop)
		}
		parts = append(parts, "SELECT 'ratings', "+asText("COUNT(*)")+", "+asText("SUM(session_id)")+", "+asText("MAX(submitted_at)")+", "+
			asText(digest("session_id", "rating", "scale_max", "comment", "rated_agent_id"))+", '', ''"+
			" FROM session_ratings WHERE queue_id IN ? AND submitted_at >= ?")
		args = append(args, queues, start)
	}
	queue := digest("name", "mode", "sla_threshold_seconds", "sla_target_pct", "short_abandon_seconds")
	parts = append(parts, "SELECT 'queues', "+asText("COUNT(*)")+", "+asText("SUM(id)")+", "+asText("MAX(updated_at)")+", "+
		asText(queue)+", "+asText("MAX(deleted_at)")+", '' FROM queues WHERE id IN ?")
	args = append(args, queues)
	if cov == sessionNames {
		parts = append(parts, "SELECT 'users', "+asText("COUNT(*)")+", "+asText("SUM(id)")+", "+asText("MAX(updated_at)")+", "+
			asText(digest("id", "display_name", "email"))+", '', '' FROM users")
	}
	return strings.Join(parts, " UNION ALL "), args
}
