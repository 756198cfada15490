package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/store"
)

// The data version names the state of everything a cached answer can
// depend on; any committed change a report could see changes it. It is
// two statements of index-edge lookups and short index ranges, so it
// costs about the same on a million sessions as on ten:
//
//  1. the newest stamp of each append-or-stamp source: chat_sessions by
//     updated_at, session_ratings by submitted_at, session_tombstones and
//     each table's row_tombstones by deleted_at;
//  2. per source, the count and digests of the rows stamped within
//     store.Margin of that newest stamp; and the whole of the small
//     tables a report shows (queues, users, bots, queue_members): count
//     and a CRC sum of every column a report reads.
//
// Why the range at the newest stamp is enough: a change committed after
// an answer was computed is stamped at most store.Margin before its
// commit (the writer's contract the interval store rests on), so its
// stamp is at or after the newest stamp of the answer's version less
// the margin. Either it moves the newest stamp, or it falls inside the
// digested range and changes its count or digest. Changes to a session's
// other rows (transcript, participants, offers, bot interactions,
// keywords, ratings) move the session's updated_at; deletes leave a
// tombstone (written by triggers, whoever deletes).

// versionSource is a stamped source of the version: the stamp column
// of table (rows meeting where, if set) and the columns digested within
// the margin.
type versionSource struct{ name, table, stamp, where, digest string }

// versionSources are the stamped sources: sessions, ratings, session
// tombstones, and one source per table whose deletes row_tombstones
// records (its index leads with tbl).
var versionSources = append([]versionSource{
	{"sessions", "chat_sessions", "updated_at", "", "id, updated_at"},
	{"ratings", "session_ratings", "submitted_at", "", "session_id, rating, scale_max, comment, rated_agent_id, submitted_at"},
	{"session tombstones", "session_tombstones", "deleted_at", "", "id, session_id, deleted_at"},
}, rowTombstoneSources()...)

func rowTombstoneSources() []versionSource {
	var out []versionSource
	for _, t := range models.RowTombstoneTables() {
		out = append(out, versionSource{"row tombstones " + t, "row_tombstones", "deleted_at", "tbl = '" + t + "'", "id, row_id, deleted_at"})
	}
	return out
}

// versionTables are the small tables read whole: their every row's
// columns that a report shows.
var versionTables = []struct{ table, digest string }{
	{"queues", "id, name, mode, sla_threshold_seconds, sla_target_pct, short_abandon_seconds, updated_at, deleted_at"},
	{"users", "id, display_name, email, updated_at, deleted_at"},
	{"bots", "id, name, kind, updated_at, deleted_at"},
	// The agent reports list a queue's members, idle ones included.
	{"queue_members", "queue_id, user_id, role, receives_chats, updated_at"},
}

// The two statements of the version, built once: newestSQL is one row of
// the sources' newest stamps; digestsSQL takes, per source, the bound
// (its newest stamp less the margin) of its digested range.
var newestSQL, digestsSQL = versionStatements()

func versionStatements() (newest, digests string) {
	var cols, parts []string
	for _, s := range versionSources {
		all, recent := "", s.stamp+" >= ?"
		if s.where != "" {
			all, recent = " WHERE "+s.where, s.where+" AND "+recent
		}
		cols = append(cols, "(SELECT MAX("+s.stamp+") FROM "+s.table+all+")")
		parts = append(parts, "SELECT '"+s.name+"', "+asText("COUNT(*)")+", "+asText(crcSum(s.digest))+" FROM "+s.table+" WHERE "+recent)
	}
	for _, t := range versionTables {
		parts = append(parts, "SELECT '"+t.table+"', "+asText("COUNT(*)")+", "+asText(crcSum(t.digest))+" FROM "+t.table)
	}
	return "SELECT " + strings.Join(cols, ", "), strings.Join(parts, " UNION ALL ")
}

// versionKey carries a request's data version, read once per request
// (RequestScope).
type versionKey struct{}

type versionMemo struct {
	once    sync.Once
	version string
	err     error
}

// RequestScope returns a context in which the engine reads the data
// version at most once: a request that checks a fingerprint and then runs
// the report asks both at the state of its first read. Use one per
// request, never across requests: a later request must see later data.
func RequestScope(ctx context.Context) context.Context {
	if _, ok := ctx.Value(versionKey{}).(*versionMemo); ok {
		return ctx
	}
	return context.WithValue(ctx, versionKey{}, &versionMemo{})
}

// dataVersion returns the current data version (once per RequestScope).
func (e *Engine) dataVersion(ctx context.Context) (string, error) {
	m, ok := ctx.Value(versionKey{}).(*versionMemo)
	if !ok {
		return e.versions.get(ctx, e.readVersion)
	}
	m.once.Do(func() { m.version, m.err = e.versions.get(ctx, e.readVersion) })
	return m.version, m.err
}

// versionReads shares reads of the data version between the requests
// that ask at the same time, without ever answering a request with a
// version read before it asked: a caller joins the next read, one that
// has not begun, so every change committed before the caller asked is in
// it. One read runs at a time and the callers that ask meanwhile share the
// one after it: under load (hundreds of cached answers a second) a read
// serves several requests instead of each request costing the database
// its two statements. A nil *versionReads reads for each caller.
type versionReads struct {
	mu      sync.Mutex
	running bool
	next    *versionRead // not begun: callers join it
	reads   atomic.Int64 // reads run, for tests
}

type versionRead struct {
	read    func(context.Context) (string, error) // its first caller's
	done    chan struct{}
	version string
	err     error
}

// versionReadTimeout bounds one shared read: it runs for every caller
// that joined it, so no one caller's context may cancel it; each caller
// still stops waiting when its own context ends.
const versionReadTimeout = 30 * time.Second

func (v *versionReads) get(ctx context.Context, read func(context.Context) (string, error)) (string, error) {
	if v == nil {
		return read(ctx)
	}
	v.mu.Lock()
	f := v.next
	if f == nil {
		f = &versionRead{read: read, done: make(chan struct{})}
		v.next = f
	}
	if !v.running {
		v.running, v.next = true, nil
		go v.run(f)
	}
	v.mu.Unlock()
	select {
	case <-f.done:
		return f.version, f.err
	case <-ctx.Done():
		return "", models.Classify(ctx.Err())
	}
}

// run runs f, then the read the callers who came meanwhile joined, until
// none is waiting.
func (v *versionReads) run(f *versionRead) {
	for f != nil {
		ctx, cancel := context.WithTimeout(context.Background(), versionReadTimeout)
		v.reads.Add(1)
		f.version, f.err = f.read(ctx)
		cancel()
		close(f.done)
		v.mu.Lock()
		f, v.next = v.next, nil
		v.running = f != nil
		v.mu.Unlock()
	}
}

// readVersion runs the two statements.
func (e *Engine) readVersion(ctx context.Context) (string, error) {
	db := e.db.WithContext(ctx)
	tops := make([]*time.Time, len(versionSources))
	ptrs := make([]any, len(tops))
	for i := range tops {
		ptrs[i] = &tops[i]
	}
	if err := db.Raw(newestSQL).Row().Scan(ptrs...); err != nil {
		return "", models.Classify(err)
	}
	args := make([]any, len(tops))
	for i, t := range tops {
		args[i] = time.Time{}
		if t != nil {
			args[i] = t.UTC().Add(-store.Margin)
		}
	}
	rows, err := db.Raw(digestsSQL, args...).Rows()
	if err != nil {
		return "", models.Classify(err)
	}
	defer rows.Close()
	h := sha256.New()
	for _, t := range tops {
		if t != nil {
			fmt.Fprintf(h, "%d|", t.UnixNano())
		} else {
			h.Write([]byte("-|"))
		}
	}
	for rows.Next() {
		var name, count, sum string
		if err := rows.Scan(&name, &count, &sum); err != nil {
			return "", models.Classify(err)
		}
		fmt.Fprintf(h, "\n%s|%s|%s", name, count, sum)
	}
	if err := rows.Err(); err != nil {
		return "", models.Classify(err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
