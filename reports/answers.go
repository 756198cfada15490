package reports

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/store"
)

// An answer cache keeps computed answers in memory, each under the data
// version it was computed at (dataVersion), and serves one again only
// while the version is the same: an answer from it is the answer the
// engine would compute now, never an approximation and never stale by a
// margin. Dashboards ask the same questions again and again (a year of a
// queue, last month of every queue), and the reports that must read raw
// rows for exact percentiles, distinct counts and agent timelines cost up
// to seconds each; with the cache only the first asks pays that until the
// data changes. docs/architecture.md, "The answer cache", gives the
// argument and what the version trusts.

// AnswerCache holds answers and data fingerprints up to a size in bytes,
// the least recently used leaving first. It is safe for concurrent use;
// one serves every engine of a process (Engine.WithAnswers).
type AnswerCache struct {
	max    int64
	flight singleflight.Group

	mu    sync.Mutex
	used  int64
	order *list.List // of *answer, most recently used first
	byKey map[string]*list.Element

	hits, misses, computed atomic.Int64
}

// answer is one cached value: a report's rows or a data fingerprint.
type answer struct {
	key, version string
	size         int64

	report      *Report
	queue       *QueueRef
	generatedAt time.Time
	rows        [][]any

	digest string
}

// AnswerStats are the cache's counters since it was made.
type AnswerStats struct {
	// Hits and Misses count lookups of cacheable questions; Computed
	// counts the computations the misses ran (concurrent misses of one
	// question share one).
	Hits, Misses, Computed int64
	Entries                int
	Bytes, MaxBytes        int64
}

// NewAnswerCache returns a cache of at most maxBytes (estimated from the
// rows' values); maxBytes ≤ 0 returns nil, which caches nothing.
func NewAnswerCache(maxBytes int64) *AnswerCache {
	if maxBytes <= 0 {
		return nil
	}
	return &AnswerCache{max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}
}

// Stats returns the counters and the current size.
func (c *AnswerCache) Stats() AnswerStats {
	if c == nil {
		return AnswerStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return AnswerStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Computed: c.computed.Load(),
		Entries: len(c.byKey), Bytes: c.used, MaxBytes: c.max}
}

// get returns the entry of key if it was computed at version.
func (c *AnswerCache) get(key, version string) *answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok || el.Value.(*answer).version != version {
		c.misses.Add(1)
		return nil
	}
	c.order.MoveToFront(el)
	c.hits.Add(1)
	return el.Value.(*answer)
}

// peek is get without counting.
func (c *AnswerCache) peek(key, version string) *answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok && el.Value.(*answer).version == version {
		return el.Value.(*answer)
	}
	return nil
}

// put stores a, replacing an entry of its key, and evicts from the least
// recently used end until the cache fits. An answer larger than an eighth
// of the cache is not kept: one such answer would empty it.
func (c *AnswerCache) put(a *answer) {
	if a.size > c.max/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[a.key]; ok {
		c.remove(el)
	}
	c.byKey[a.key] = c.order.PushFront(a)
	c.used += a.size
	for c.used > c.max {
		c.remove(c.order.Back())
	}
}

func (c *AnswerCache) remove(el *list.Element) {
	a := c.order.Remove(el).(*answer)
	delete(c.byKey, a.key)
	c.used -= a.size
}

// memo returns the value of key at version: the cached one, else the one
// compute returns, computed once for every caller asking at that version
// at the same time. A caller whose computation was cancelled by another
// caller's context (the one that ran it went away) computes it itself.
func (c *AnswerCache) memo(ctx context.Context, key, version string, compute func(context.Context) (*answer, error)) (*answer, error) {
	if a := c.get(key, version); a != nil {
		return a, nil
	}
	run := func(ctx context.Context) (*answer, error) {
		if a := c.peek(key, version); a != nil { // stored by a flight that just ended
			return a, nil
		}
		c.computed.Add(1)
		a, err := compute(ctx)
		if err != nil {
			return nil, err
		}
		a.key, a.version = key, version
		c.put(a)
		return a, nil
	}
	v, err, shared := c.flight.Do(key+"\x00"+version, func() (any, error) { return run(ctx) })
	if err != nil && shared && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return run(ctx)
	}
	if err != nil {
		return nil, err
	}
	return v.(*answer), nil
}

// WithAnswers returns an engine over the same database that serves
// answers from c where it can (nil: none). The engine of `serve` has one;
// the benchmarks and the raw oracle compute every answer.
func (e *Engine) WithAnswers(c *AnswerCache) *Engine {
	x := *e
	x.answers = c
	return &x
}

// cacheable reports whether q's answer may come from the cache: the
// engine reads one database (on replicas, the version and the answer
// could come from different positions), the window has closed (an open
// window's answer depends on the time of asking), and the report reads
// only data the version sees and answers with a bounded number of rows
// (the session logs stream one row per session: exports, read once).
func (e *Engine) cacheable(r *Report, stop time.Time) bool {
	return e.answers != nil && !e.replicas && r != nil && !r.SessionLog && !r.unversioned && !stop.After(e.clock())
}

// answerKey names a question: everything that shapes its answer. Two
// callers share an entry only when they see the same queues.
func answerKey(kind string, r *Report, interval string, queue uint32, visible []uint32, w Window, raw bool) string {
	zone := ""
	if w.Zone != nil {
		zone = w.Zone.String()
	}
	return fmt.Sprintf("%s|%s|%s|%d|%v|%d|%d|%s|%t", kind, r.Name, interval, queue, visible,
		w.Start.UnixNano(), w.Stop.UnixNano(), zone, raw)
}

// cachedRows serves a cached answer's rows. Each row is a copy, so a
// consumer that writes into the slice it was given cannot change the
// cached answer.
type cachedRows struct {
	rows [][]any
	i    int
	cur  []any
}

func (r *cachedRows) Next() bool {
	r.i++
	if r.i >= len(r.rows) {
		return false
	}
	r.cur = append(r.cur[:0], r.rows[r.i]...)
	return true
}
func (r *cachedRows) Row() []any   { return r.cur }
func (r *cachedRows) Err() error   { return nil }
func (r *cachedRows) Close() error { return nil }

// runCached is Run through the cache.
func (e *Engine) runCached(ctx context.Context, q Query, version string) (*Result, error) {
	key := answerKey("rows", q.Report, string(q.Interval), q.QueueID, q.Visible, q.Window, e.raw)
	a, err := e.answers.memo(ctx, key, version, func(ctx context.Context) (*answer, error) { return e.computeAnswer(ctx, q) })
	if err != nil {
		return nil, err
	}
	return a.result(q.Window, a.rows, a.generatedAt), nil
}

// result is a Result over rows of a's report and queue, for window w,
// computed at at.
func (a *answer) result(w Window, rows [][]any, at time.Time) *Result {
	res := &Result{Report: a.report, Window: w, GeneratedAt: at, Rows: &cachedRows{rows: rows, i: -1}}
	if a.queue != nil {
		ref := *a.queue
		res.Queue = &ref
	}
	return res
}

// computeAnswer computes q and keeps its rows in memory.
func (e *Engine) computeAnswer(ctx context.Context, q Query) (*answer, error) {
	res, err := e.run(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := Collect(res.Rows)
	if err != nil {
		return nil, models.Classify(err)
	}
	a := &answer{report: res.Report, generatedAt: res.GeneratedAt, rows: rows, size: 256}
	if res.Queue != nil {
		ref := *res.Queue
		a.queue = &ref
		a.size += int64(len(ref.Name))
	}
	for _, row := range rows {
		a.size += rowSize(row)
	}
	return a, nil
}

// rowSize estimates the bytes a row holds.
func rowSize(row []any) int64 {
	n := int64(24 + 16*len(row))
	for _, v := range row {
		switch v := v.(type) {
		case string:
			n += int64(len(v))
		case *string:
			if v != nil {
				n += 16 + int64(len(*v))
			}
		case []byte:
			n += int64(len(v))
		case time.Time:
			n += 8
		case nil, bool, int, int32, int64, uint32, uint64, float64:
		default:
			n += 16
		}
	}
	return n
}

// fingerprintCached is fingerprint through the cache: while the data
// version stands, the data fingerprint of a window cannot have changed.
func (e *Engine) fingerprintCached(ctx context.Context, r *Report, queues []uint32, w Window) (string, error) {
	if !e.cacheable(r, w.Stop) {
		return e.fingerprint(ctx, r.cover, queues, w.Start, w.Stop)
	}
	version, err := e.dataVersion(ctx)
	if err != nil {
		return "", err
	}
	// A fingerprint depends on the coverage, not the report: the reports
	// of one coverage share it.
	key := fmt.Sprintf("fingerprint|%d|%v|%d|%d|%t", r.cover, queues, w.Start.UnixNano(), w.Stop.UnixNano(), e.raw)
	a, err := e.answers.memo(ctx, key, version, func(ctx context.Context) (*answer, error) {
		d, err := e.fingerprint(ctx, r.cover, queues, w.Start, w.Stop)
		if err != nil {
			return nil, err
		}
		return &answer{digest: d, size: int64(128 + len(key))}, nil
	})
	if err != nil {
		return "", err
	}
	return a.digest, nil
}

// byDays reports whether q's rows are its window's local days, each
// computed from that day alone (a measured daily series at its own
// grain): its answer is the concatenation of the answers of its days, so
// the cache keeps one entry per day and a window that overlaps windows
// asked before computes only the days it does not share with them.
func byDays(q Query) bool {
	return q.Report.By == ByDay && q.Report.series == store.P1D && (q.Interval == "" || q.Interval == store.P1D)
}

// runDays is runCached for byDays questions: each day of the window from
// the cache when it was computed at version, the others computed in runs
// of consecutive days (one report each) and kept per day.
func (e *Engine) runDays(ctx context.Context, q Query, version string) (*Result, error) {
	days := q.Window.Days()
	if len(days) == 0 {
		return e.runCached(ctx, q, version)
	}
	dayKey := func(d Bucket) string {
		return answerKey("day", q.Report, string(q.Interval), q.QueueID, q.Visible, Window{Start: d.Start, Stop: d.End, Zone: q.Window.Zone}, e.raw)
	}
	parts := make([]*answer, len(days))
	for i, d := range days {
		parts[i] = e.answers.get(dayKey(d), version)
	}
	for i := 0; i < len(days); {
		if parts[i] != nil {
			i++
			continue
		}
		j := i
		for j < len(days) && parts[j] == nil {
			j++
		}
		sub := q
		sub.Window = Window{Start: days[i].Start, Stop: days[j-1].End, Zone: q.Window.Zone}
		a, err := e.answers.memo(ctx, answerKey("days", q.Report, string(q.Interval), q.QueueID, q.Visible, sub.Window, e.raw), version,
			func(ctx context.Context) (*answer, error) { return e.computeAnswer(ctx, sub) })
		if err != nil {
			return nil, err
		}
		if len(a.rows) != j-i { // not one row per day: never split such an answer
			return e.runCached(ctx, q, version)
		}
		for k, row := range a.rows {
			d := &answer{report: a.report, queue: a.queue, generatedAt: a.generatedAt, rows: [][]any{row}, size: 64 + rowSize(row)}
			d.key, d.version = dayKey(days[i+k]), version
			e.answers.put(d)
			parts[i+k] = d
		}
		i = j
	}
	rows := make([][]any, 0, len(days))
	at := parts[0].generatedAt
	for _, p := range parts {
		rows = append(rows, p.rows...)
		if p.generatedAt.Before(at) { // the answer is as old as its oldest day
			at = p.generatedAt
		}
	}
	return parts[0].result(q.Window, rows, at), nil
}
