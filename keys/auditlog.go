package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/chime-reports/chime-reports/models"
)

// AuditOptions tune an AuditWriter; a zero field takes its default.
type AuditOptions struct {
	// QueueSize bounds the records waiting to be written (default 100,000,
	// a few tens of MB at most).
	QueueSize int
	// BatchSize is the most records one INSERT writes (default 500).
	BatchSize int
	// Interval is the longest a record waits for its batch to fill
	// (default 200 ms).
	Interval time.Duration
	// EnqueueWait is how long a finished request waits for room in a full
	// queue before its record is dropped and counted (default 100 ms).
	EnqueueWait time.Duration
}

// Defaults of AuditOptions.
const (
	DefaultAuditQueueSize   = 100_000
	DefaultAuditBatchSize   = 500
	DefaultAuditInterval    = 200 * time.Millisecond
	DefaultAuditEnqueueWait = 100 * time.Millisecond
)

// AuditStats counts the records of an AuditWriter since it started.
type AuditStats struct {
	Written int64 // inserted into audit_log
	Dropped int64 // lost: queue full, written after Close, or Close gave up
	Pending int64 // accepted and not yet written
}

// AuditWriter writes audit records off the request path: records go into a
// bounded queue and one goroutine inserts them in batches. A failed batch
// is kept and retried with backoff until the database takes it, so an
// outage or a saturated connection pool delays records instead of losing
// them (a batch whose commit succeeded but whose answer was lost may be
// written twice: delivery is at least once). Only a full queue, a record
// that arrives after Close, or a Close whose context ends before the
// database recovers lose records, and each is counted in Dropped and
// logged once per streak.
type AuditWriter struct {
	db  *gorm.DB
	log *slog.Logger
	opt AuditOptions
	// Backoff between attempts at a failed batch, and the bound of one attempt.
	retryMin, retryMax, attemptTimeout time.Duration

	queue chan auditItem

	mu     sync.RWMutex // read-held while sending to queue, write-held to close
	closed bool
	stop   chan struct{}      // closed by Close: write what is queued, then exit
	ctx    context.Context    // of every INSERT; cancelled when Close gives up
	cancel context.CancelFunc //
	done   chan struct{}      // closed when the writing goroutine has exited

	written, dropped, pending atomic.Int64
	dropping                  atomic.Bool // in a streak of dropped records
}

// auditItem is a record to write, or a Flush marker.
type auditItem struct {
	rec     *models.AuditRecord
	flushed chan struct{}
}

// NewAuditWriter starts a writer of audit records into db. Close it to
// write what is still queued.
func NewAuditWriter(db *gorm.DB, log *slog.Logger, opt AuditOptions) *AuditWriter {
	if log == nil {
		log = slog.Default()
	}
	if opt.QueueSize <= 0 {
		opt.QueueSize = DefaultAuditQueueSize
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultAuditBatchSize
	}
	if opt.Interval <= 0 {
		opt.Interval = DefaultAuditInterval
	}
	if opt.EnqueueWait <= 0 {
		opt.EnqueueWait = DefaultAuditEnqueueWait
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &AuditWriter{
		db: db, log: log, opt: opt,
		retryMin: 100 * time.Millisecond, retryMax: 5 * time.Second, attemptTimeout: 30 * time.Second,
		queue: make(chan auditItem, opt.QueueSize),
		stop:  make(chan struct{}), ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
	go w.run()
	return w
}

// Stats returns the counters of the writer (for /metrics).
func (w *AuditWriter) Stats() AuditStats {
	return AuditStats{Written: w.written.Load(), Dropped: w.dropped.Load(), Pending: w.pending.Load()}
}

// add queues one record. It waits at most EnqueueWait for room; then the
// record is dropped: a request must not hang on the audit trail.
func (w *AuditWriter) add(rec *models.AuditRecord) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.drop("audit record after shutdown dropped")
		return
	}
	w.pending.Add(1)
	it := auditItem{rec: rec}
	select {
	case w.queue <- it:
	default:
		t := time.NewTimer(w.opt.EnqueueWait)
		defer t.Stop()
		select {
		case w.queue <- it:
		case <-t.C:
			w.pending.Add(-1)
			w.drop("audit queue full: dropping records until the database catches up")
			return
		}
	}
	if w.dropping.Load() && w.dropping.CompareAndSwap(true, false) {
		w.log.Warn("audit queue accepts records again", "dropped_total", w.dropped.Load())
	}
}

// drop counts a lost record and logs the first of a streak.
func (w *AuditWriter) drop(msg string) {
	w.dropped.Add(1)
	if w.dropping.CompareAndSwap(false, true) {
		w.log.Error(msg, "queue_size", w.opt.QueueSize, "pending", w.pending.Load(), "dropped_total", w.dropped.Load())
	}
}

// Flush waits until every record queued before the call is written, or
// ctx ends (a database that stays down). Tests call it before reading
// audit_log.
func (w *AuditWriter) Flush(ctx context.Context) error {
	flushed := make(chan struct{})
	select {
	case w.queue <- auditItem{flushed: flushed}:
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-flushed:
		return nil
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking records and writes the queued ones. If ctx ends
// first, it stops retrying, counts what is left as dropped and returns an
// error that says how many. Call it after the HTTP server has shut down and before the
// database is closed.
func (w *AuditWriter) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.stop)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
	}
	lost := w.pending.Load()
	w.cancel()
	<-w.done
	return fmt.Errorf("%d audit records not written before shutdown: %w", lost, ctx.Err())
}

// run gathers records into batches of BatchSize, or what came within
// Interval of a batch's first record, and writes them in order.
func (w *AuditWriter) run() {
	defer close(w.done)
	defer w.cancel()
	batch := make([]*models.AuditRecord, 0, w.opt.BatchSize)
	timer := time.NewTimer(w.opt.Interval)
	timer.Stop()
	var due <-chan time.Time
	flush := func() {
		w.write(batch)
		clear(batch)
		batch = batch[:0]
		timer.Stop()
		due = nil
	}
	take := func(it auditItem) {
		if it.flushed != nil {
			flush()
			close(it.flushed)
			return
		}
		batch = append(batch, it.rec)
		switch {
		case len(batch) >= w.opt.BatchSize:
			flush()
		case len(batch) == 1:
			timer.Reset(w.opt.Interval)
			due = timer.C
		}
	}
	for {
		select {
		case it := <-w.queue:
			take(it)
		case <-due:
			flush()
		case <-w.stop:
			// Close holds the lock until stop is closed: nothing is sent
			// after this, so an empty queue is the end.
			for {
				select {
				case it := <-w.queue:
					take(it)
				default:
					flush()
					return
				}
			}
		}
	}
}

// write inserts one batch, retrying with backoff until it succeeds or
// Close gives up. A failure streak is logged once, with the records
// pending, and its end once.
func (w *AuditWriter) write(batch []*models.AuditRecord) {
	if len(batch) == 0 {
		return
	}
	n := int64(len(batch))
	wait := w.retryMin
	for failures := 0; ; failures++ {
		err := w.insert(batch)
		if err == nil {
			w.written.Add(n)
			w.pending.Add(-n)
			if failures > 0 {
				w.log.Info("audit records are written again", "failed_attempts", failures, "pending", w.pending.Load())
			}
			return
		}
		if w.ctx.Err() != nil {
			w.dropped.Add(n)
			w.pending.Add(-n)
			return
		}
		if refusedData(err) {
			// Retrying cannot help: write the records one by one and drop
			// only those the database refuses, so that one bad record does
			// not hold up the trail behind it.
			w.writeEach(batch, err)
			return
		}
		if failures == 0 {
			w.log.Error("audit records not written yet: retrying until the database takes them",
				"pending", w.pending.Load(), "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, w.retryMax)
	}
}

// writeEach writes the records of a refused batch one at a time; a record
// refused again is dropped, counted and logged (without its query string).
func (w *AuditWriter) writeEach(batch []*models.AuditRecord, cause error) {
	for _, r := range batch {
		err := w.insert([]*models.AuditRecord{r})
		w.pending.Add(-1)
		if err == nil {
			w.written.Add(1)
			continue
		}
		w.dropped.Add(1)
		w.log.Error("audit record refused by the database: dropped", "user", r.UserID, "route", r.Route, "err", err, "batch_err", cause)
	}
}

// refusedData reports a MySQL error about the values themselves (bad
// string, too long, out of range, bad date, NULL): the same INSERT fails
// again whatever the state of the server.
func refusedData(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1048, 1264, 1292, 1366, 1406:
		return true
	}
	return false
}

// insert writes a batch as one multi-row INSERT (atomic without a
// transaction around it).
func (w *AuditWriter) insert(batch []*models.AuditRecord) error {
	for _, r := range batch {
		r.ID = 0 // a failed attempt must not leave ids behind
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.attemptTimeout)
	defer cancel()
	// GORM's own logger stays out: it would log every failed attempt, where
	// write logs a failure streak once.
	return w.db.Session(&gorm.Session{SkipDefaultTransaction: true, Logger: logger.Discard}).
		WithContext(ctx).Create(&batch).Error
}
