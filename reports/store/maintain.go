package store

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
)

// PassStats describes one maintenance pass.
type PassStats struct {
	Built            bool  // the pass (re)built the whole store
	Captured         int64 // changed, new or late-rated sessions seen
	Deleted          int64 // sessions found gone by the sweep
	Recomputed       int64 // interval ranges recomputed from raw rows
	QueuesRebuilt    int   // queues whose thresholds changed
	DirtyLeft        int64 // dirty intervals still pending
	Retries          int64 // transactions run again after a deadlock or lock wait time-out
	CountsFolded     int64 // session count changes folded into the per-queue counts
	Recounted        bool  // the sweep found the session counts wrong and counted again
	Swept            bool
	Took             time.Duration
	SessionWatermark time.Time
}

// PassOptions tune a pass.
type PassOptions struct {
	// Sweep also reconciles the recorded sessions with chat_sessions, by
	// id: deleted sessions, and inserted ones that no watermark shows.
	Sweep bool
	// SweepAfter, when positive, sweeps too when the last sweep the store
	// records (by any process, or a rebuild, which is one) began longer
	// ago than this, or never: a restarted process or another one taking
	// over the maintenance lock does not sweep again a table just swept.
	SweepAfter time.Duration
	// Chunk is the number of sessions per capture transaction (0: 5000).
	Chunk int
	Log   *slog.Logger
}

// Pass brings the store up to date once: it builds it if it is not
// built, captures the sessions changed since the watermarks (their old and
// new intervals become dirty), recomputes the dirty intervals from raw
// rows, and rebuilds the queues whose thresholds changed. It takes the
// maintenance lock, waiting up to wait (ErrBusy when another process holds
// it).
func Pass(ctx context.Context, db *gorm.DB, wait time.Duration, opt PassOptions) (PassStats, error) {
	l, err := acquire(ctx, db, wait)
	if err != nil {
		return PassStats{}, err
	}
	defer l.release()
	return pass(ctx, db, opt)
}

func pass(ctx context.Context, db *gorm.DB, opt PassOptions) (PassStats, error) {
	began := time.Now()
	db = db.WithContext(ctx)
	log := opt.Log
	if log == nil {
		log = slog.Default()
	}
	if _, err := ensureSchema(ctx, db); err != nil {
		return PassStats{}, err
	}
	st, err := state(db)
	if err != nil {
		return PassStats{}, err
	}
	var ps PassStats
	// 0. Fold the session count changes the triggers recorded since the
	// last pass into the per-queue counts (models/session_counts.go),
	// first, so that a build or a failing step does not hold it back.
	if err := ps.again(ctx, func() error {
		n, err := models.FoldSessionCounts(ctx, db)
		if err == nil {
			ps.CountsFolded += n
		}
		return err
	}); err != nil {
		return ps, err
	}
	if !st.Built {
		log.Info("interval store: building from existing data in the background (reports read raw rows meanwhile)")
		bs, err := rebuild(ctx, db, BuildOptions{Log: log})
		if err != nil {
			return PassStats{}, err
		}
		ps.Built, ps.Captured, ps.Took = true, bs.Sessions, time.Since(began)
		return ps, nil
	}
	cur, err := currentThresholds(db)
	if err != nil {
		return PassStats{}, err
	}
	d := newDialect(db, cur)
	chunk := opt.Chunk
	if chunk == 0 {
		chunk = 5000
	}

	// 1. Capture: sessions whose updated_at reached the watermark, sessions
	// with ids above the recorded one, sessions with ratings submitted
	// since the rating watermark.
	var top struct {
		MaxUpd *time.Time
		MaxID  *uint64
	}
	if err := db.Raw("SELECT MAX(updated_at) AS max_upd, MAX(id) AS max_id FROM chat_sessions").Scan(&top).Error; err != nil {
		return ps, err
	}
	var maxRate *time.Time
	if err := db.Raw("SELECT MAX(submitted_at) FROM session_ratings").Row().Scan(&maxRate); err != nil {
		return ps, err
	}
	if top.MaxUpd != nil {
		hi := top.MaxUpd.UTC()
		after, afterID := st.SessionWatermark, uint64(0)
		for {
			var rows []struct {
				ID        uint64
				UpdatedAt time.Time
			}
			err := db.Raw("SELECT id, updated_at FROM chat_sessions WHERE updated_at <= ? AND (updated_at > ? OR (updated_at = ? AND id > ?)) ORDER BY updated_at, id LIMIT ?",
				hi, after, after, afterID, chunk).Scan(&rows).Error
			if err != nil {
				return ps, err
			}
			if len(rows) == 0 {
				break
			}
			ids := make([]uint64, len(rows))
			for i, r := range rows {
				ids[i] = r.ID
			}
			if err := ps.again(ctx, func() error { return capture(db, d, ids) }); err != nil {
				return ps, err
			}
			ps.Captured += int64(len(ids))
			after, afterID = rows[len(rows)-1].UpdatedAt.UTC(), rows[len(rows)-1].ID
		}
		st.SessionWatermark = maxTime(st.SessionWatermark, hi.Add(-Margin))
	}
	if top.MaxID != nil && *top.MaxID > st.MaxSessionID {
		for from := st.MaxSessionID; from < *top.MaxID; {
			var ids []uint64
			if err := db.Raw("SELECT id FROM chat_sessions WHERE id > ? AND id <= ? ORDER BY id LIMIT ?", from, *top.MaxID, chunk).Scan(&ids).Error; err != nil {
				return ps, err
			}
			if len(ids) == 0 {
				break
			}
			if err := ps.again(ctx, func() error { return capture(db, d, ids) }); err != nil {
				return ps, err
			}
			ps.Captured += int64(len(ids))
			from = ids[len(ids)-1]
		}
		st.MaxSessionID = *top.MaxID
	}
	if maxRate != nil {
		var ids []uint64
		if err := db.Raw("SELECT session_id FROM session_ratings WHERE submitted_at >= ? ORDER BY session_id", st.RatingWatermark).Scan(&ids).Error; err != nil {
			return ps, err
		}
		for len(ids) > 0 {
			n := min(len(ids), chunk)
			if err := ps.again(ctx, func() error { return capture(db, d, ids[:n]) }); err != nil {
				return ps, err
			}
			ps.Captured += int64(n)
			ids = ids[n:]
		}
		st.RatingWatermark = maxTime(st.RatingWatermark, maxRate.UTC().Add(-Margin))
	}

	// 2. Sweep: reconcile recorded sessions with chat_sessions by id.
	if opt.Sweep || opt.SweepAfter > 0 && (st.SweptAt == nil || time.Since(*st.SweptAt) >= opt.SweepAfter) {
		// The sweep's start: every session deleted before it has left
		// the store when the sweep ends (reads take the later ones raw
		// through their tombstones).
		sweepStart := models.UTC(time.Now())
		n, err := sweep(db, d, uint64(max(chunk, 50000)))
		if err != nil {
			return ps, err
		}
		ps.Deleted, ps.Swept = n, true
		if ps.Recounted, err = models.VerifySessionCounts(ctx, db); err != nil {
			return ps, err
		}
		if ps.Recounted {
			log.Warn("session counts differed from chat_sessions (were its triggers bypassed?): counted again")
		}
		st.SweptAt = &sweepStart
	}
	// The watermarks move only once the sessions behind them are captured
	// (their intervals dirty and their new places recorded).
	now := models.UTC(time.Now())
	st.PassAt = &now
	if err := saveState(db, st); err != nil {
		return ps, err
	}
	ps.SessionWatermark = st.SessionWatermark

	// 3. Recompute the dirty intervals of queues whose rows follow their
	// current thresholds; 4. rebuild the others.
	rec, err := recordedThresholds(db)
	if err != nil {
		return ps, err
	}
	stale := map[uint32]bool{}
	for q, t := range cur {
		if r, ok := rec[q]; !ok || r != t {
			stale[q] = true
		}
	}
	n, err := recomputeDirty(ctx, db, d, stale, &ps)
	ps.Recomputed += n
	if err != nil {
		return ps, err
	}
	qs := make([]uint32, 0, len(stale))
	for q := range stale {
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i] < qs[j] })
	for _, q := range qs {
		if err := rebuildQueue(ctx, db, d, q, cur[q], &ps); err != nil {
			return ps, err
		}
		ps.QueuesRebuilt++
	}
	if err := db.Model(&models.ReportStoreDirty{}).Count(&ps.DirtyLeft).Error; err != nil {
		return ps, err
	}
	ps.Took = time.Since(began)
	return ps, nil
}

// retryAttempts bounds again: a transaction that deadlocks this often in
// a row is left to the next pass (the watermarks have not moved past it).
const retryAttempts = 5

// again runs tx, a whole transaction, and runs it again after a deadlock
// or a lock wait time-out (the server rolled it back), up to
// retryAttempts times with a growing pause. Capture and recompute are
// idempotent, so a second run is safe. On MySQL their INSERT … SELECT
// statements read chat_sessions with shared locks, and a writer updating
// those sessions at the same time can make InnoDB pick the pass as a
// deadlock victim; before, that failed the whole pass.
func (ps *PassStats) again(ctx context.Context, tx func() error) error {
	for attempt := 1; ; attempt++ {
		err := tx()
		if err == nil || !models.Retryable(err) || attempt == retryAttempts {
			return err
		}
		ps.Retries++
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*attempt) * 20 * time.Millisecond):
		}
	}
}

// capture marks dirty the intervals where the store counted the sessions
// ids (as recorded) and where they belong now, and records their new
// places, in one transaction.
func capture(db *gorm.DB, d dialect, ids []uint64) error {
	return db.Transaction(func(tx *gorm.DB) error {
		if err := markRecorded(tx, d, "session_id IN ?", ids); err != nil {
			return err
		}
		now := models.UTC(time.Now())
		for _, a := range attrs() {
			src := a.source()
			stmt := d.insertIgnore() + " INTO report_store_dirty (queue_id, attr, iv, marked_at) SELECT DISTINCT " + src.queueCol + ", ?, " +
				d.iv(src.timeCol) + ", ? FROM " + src.from + " WHERE " + src.where + " AND s.id IN ?"
			if err := tx.Exec(stmt, uint8(a), now, ids).Error; err != nil {
				return err
			}
		}
		return tx.Exec(upsertSessions(d, "s.id IN ?"), ids).Error
	})
}

// markRecorded marks dirty the recorded intervals of the sessions of
// report_store_sessions meeting cond.
func markRecorded(tx *gorm.DB, d dialect, cond string, args ...any) error {
	now := models.UTC(time.Now())
	for _, c := range []struct {
		a         Attr
		queue, iv string
	}{{Queued, "queue_id", "queued_iv"}, {Started, "queue_id", "started_iv"}, {Bot, "bot_queue_id", "bot_iv"}} {
		if !c.a.stored() {
			continue
		}
		stmt := d.insertIgnore() + " INTO report_store_dirty (queue_id, attr, iv, marked_at) SELECT DISTINCT " + c.queue + ", ?, " + c.iv +
			", ? FROM report_store_sessions WHERE " + c.iv + " IS NOT NULL AND " + cond
		if err := tx.Exec(stmt, append([]any{uint8(c.a), now}, args...)...).Error; err != nil {
			return err
		}
	}
	return nil
}

func (d dialect) insertIgnore() string {
	if d.mysql {
		return "INSERT IGNORE"
	}
	return "INSERT OR IGNORE"
}

// sweep finds, by id ranges, recorded sessions that no longer exist
// (their recorded intervals become dirty and the record goes) and sessions
// that were never recorded (captured). It returns the number deleted.
func sweep(db *gorm.DB, d dialect, step uint64) (int64, error) {
	var bounds struct{ Lo, Hi *uint64 }
	if err := db.Raw("SELECT MIN(x) AS lo, MAX(x) AS hi FROM (SELECT MIN(id) AS x FROM chat_sessions UNION ALL SELECT MAX(id) FROM chat_sessions " +
		"UNION ALL SELECT MIN(session_id) FROM report_store_sessions UNION ALL SELECT MAX(session_id) FROM report_store_sessions) t").Scan(&bounds).Error; err != nil {
		return 0, err
	}
	if bounds.Lo == nil {
		return 0, nil
	}
	var deleted int64
	for lo := *bounds.Lo; lo <= *bounds.Hi; lo += step {
		hi := lo + step
		var gone []uint64
		if err := db.Raw("SELECT a.session_id FROM report_store_sessions a LEFT JOIN chat_sessions s ON s.id = a.session_id "+
			"WHERE a.session_id >= ? AND a.session_id < ? AND s.id IS NULL", lo, hi).Scan(&gone).Error; err != nil {
			return deleted, err
		}
		if len(gone) > 0 {
			err := db.Transaction(func(tx *gorm.DB) error {
				if err := markRecorded(tx, d, "session_id IN ?", gone); err != nil {
					return err
				}
				return tx.Exec("DELETE FROM report_store_sessions WHERE session_id IN ?", gone).Error
			})
			if err != nil {
				return deleted, err
			}
			deleted += int64(len(gone))
		}
		var missing []uint64
		if err := db.Raw("SELECT s.id FROM chat_sessions s LEFT JOIN report_store_sessions a ON a.session_id = s.id "+
			"WHERE s.id >= ? AND s.id < ? AND a.session_id IS NULL", lo, hi).Scan(&missing).Error; err != nil {
			return deleted, err
		}
		if len(missing) > 0 {
			if err := capture(db, d, missing); err != nil {
				return deleted, err
			}
		}
	}
	return deleted, nil
}

// ivRange is a run of intervals [lo, hi) of one queue and attribution.
type ivRange struct {
	queue  uint32
	attr   Attr
	lo, hi int64
}

// recomputeDirty recomputes the dirty intervals of the queues not in
// skip, in ranges: each range's rows are deleted and inserted again from
// raw rows and its dirty marks cleared, in one transaction. Nearby dirty
// intervals share a range (recomputing a clean interval changes nothing).
func recomputeDirty(ctx context.Context, db *gorm.DB, d dialect, skip map[uint32]bool, ps *PassStats) (int64, error) {
	var done int64
	for {
		var rows []models.ReportStoreDirty
		q := db.Order("queue_id, attr, iv").Limit(50000)
		if len(skip) > 0 {
			ids := make([]uint32, 0, len(skip))
			for id := range skip {
				ids = append(ids, id)
			}
			q = q.Where("queue_id NOT IN ?", ids)
		}
		if err := q.Find(&rows).Error; err != nil {
			return done, err
		}
		if len(rows) == 0 {
			return done, nil
		}
		for _, r := range coalesce(rows) {
			if err := ctx.Err(); err != nil {
				return done, err
			}
			if err := ps.again(ctx, func() error {
				return db.Transaction(func(tx *gorm.DB) error { return recomputeRange(tx, d, r) })
			}); err != nil {
				return done, err
			}
			done++
		}
	}
}

// coalesce groups sorted dirty intervals into ranges: gaps of up to 8
// intervals (2 hours) are recomputed with them, a range spans at most
// 7 days.
func coalesce(rows []models.ReportStoreDirty) []ivRange {
	var out []ivRange
	for _, r := range rows {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.queue == r.QueueID && last.attr == Attr(r.Attr) && r.Interval-last.hi <= 8 && r.Interval+1-last.lo <= 7*96 {
				last.hi = r.Interval + 1
				continue
			}
		}
		out = append(out, ivRange{r.QueueID, Attr(r.Attr), r.Interval, r.Interval + 1})
	}
	return out
}

func ivTime(iv int64) time.Time { return time.UnixMilli(iv * IntervalMs).UTC() }

func recomputeRange(tx *gorm.DB, d dialect, r ivRange) error {
	if r.attr.hasTable() {
		t := r.attr.Table()
		if err := tx.Exec("DELETE FROM "+t+" WHERE queue_id = ? AND iv >= ? AND iv < ?", r.queue, r.lo, r.hi).Error; err != nil {
			return err
		}
		src := r.attr.source()
		ins := "INSERT INTO " + t + " (queue_id, iv, " + names(Of(r.attr)) + ") " +
			selectIntervals(d, r.attr, src.queueCol+" = ? AND "+src.timeCol+" >= ? AND "+src.timeCol+" < ?")
		if err := tx.Exec(ins, r.queue, ivTime(r.lo), ivTime(r.hi)).Error; err != nil {
			return err
		}
		if err := deriveHours(tx, r.attr, &r.queue, r.lo, r.hi); err != nil {
			return err
		}
	}
	if r.attr == Started && keywordsDeclared() {
		if err := recomputeKeywords(tx, d, r.queue, r.lo, r.hi); err != nil {
			return err
		}
	}
	return tx.Exec("DELETE FROM report_store_dirty WHERE queue_id = ? AND attr = ? AND iv >= ? AND iv < ?", r.queue, uint8(r.attr), r.lo, r.hi).Error
}

// rebuildQueue recomputes every interval of queue q with its current
// thresholds t, then records t: until then reads take q from raw rows.
func rebuildQueue(ctx context.Context, db *gorm.DB, d dialect, q uint32, t Thresholds, ps *PassStats) error {
	d = newDialect(db, map[uint32]Thresholds{q: t})
	for _, t := range keywordTables() {
		if err := db.Exec("DELETE FROM "+t+" WHERE queue_id = ?", q).Error; err != nil {
			return err
		}
	}
	for _, a := range attrs() {
		if a.hasTable() {
			for _, t := range []string{a.Table(), a.HourTable()} {
				if err := db.Exec("DELETE FROM "+t+" WHERE queue_id = ?", q).Error; err != nil {
					return err
				}
			}
		}
		src := a.source()
		var ext struct{ Lo, Hi *time.Time }
		if err := db.Raw("SELECT MIN("+src.timeCol+") AS lo, MAX("+src.timeCol+") AS hi FROM "+src.from+" WHERE "+src.queueCol+" = ?", q).Scan(&ext).Error; err != nil {
			return err
		}
		if ext.Lo == nil {
			continue
		}
		lo, hi := ext.Lo.UnixMilli()/IntervalMs, ext.Hi.UnixMilli()/IntervalMs+1
		for from := lo; from < hi; from += 30 * 96 {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := ivRange{q, a, from, min(from+30*96, hi)}
			if err := ps.again(ctx, func() error {
				return db.Transaction(func(tx *gorm.DB) error { return recomputeRange(tx, d, r) })
			}); err != nil {
				return err
			}
		}
	}
	return db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM report_store_dirty WHERE queue_id = ?", q).Error; err != nil {
			return err
		}
		return recordThresholds(tx, q, t)
	})
}

// Maintainer runs maintenance passes in the background (serve).
type Maintainer struct {
	DB *gorm.DB
	// Every is the time between passes (0: 5 s); SweepEvery the time
	// between sweeps (0: 10 min), counted from the last sweep the store
	// records, so a restart does not sweep again at once.
	Every, SweepEvery time.Duration
	Log               *slog.Logger

	mu     sync.Mutex
	last   PassStats
	err    error
	passes int64
	totals Totals
}

// Totals add up the passes a Maintainer has run, for monitoring.
type Totals struct {
	Passes     int64         // passes that ran (held the lock), failed ones included
	Failed     int64         // passes that ended in an error
	Time       time.Duration // their wall time
	Captured   int64         // sessions captured (one captured in n passes counts n times)
	Recomputed int64         // interval ranges recomputed
	Retries    int64         // transactions run again after a deadlock or lock wait time-out
	// Of the last pass that succeeded: its wall time, the dirty intervals
	// it left and the session watermark (reads take sessions updated at
	// or after it from raw rows).
	LastTook  time.Duration
	DirtyLeft int64
	Watermark time.Time
	LastAt    time.Time // when it ended
}

// Run runs passes until ctx ends. Each pass takes the maintenance lock
// without waiting: when another process holds it, this one only reads.
func (m *Maintainer) Run(ctx context.Context) {
	every, sweepEvery := m.Every, m.SweepEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	if sweepEvery <= 0 {
		sweepEvery = 10 * time.Minute
	}
	log := m.Log
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ps, err := Pass(ctx, m.DB, 0, PassOptions{SweepAfter: sweepEvery, Log: log})
		switch {
		case errors.Is(err, ErrBusy):
			log.Debug("interval store: another process maintains it")
		case err != nil && ctx.Err() == nil:
			log.Error("interval store: maintenance pass failed", "err", err)
		case err == nil:
			level := slog.LevelDebug
			if ps.Built || ps.Deleted > 0 || ps.QueuesRebuilt > 0 || ps.Took > time.Second {
				level = slog.LevelInfo
			}
			log.Log(ctx, level, "interval store pass", "built", ps.Built, "captured", ps.Captured, "recomputed_ranges", ps.Recomputed,
				"deleted", ps.Deleted, "queues_rebuilt", ps.QueuesRebuilt, "dirty_left", ps.DirtyLeft, "swept", ps.Swept, "retries", ps.Retries, "counts_folded", ps.CountsFolded, "recounted", ps.Recounted,
				"seconds", ps.Took.Seconds(), "watermark", ps.SessionWatermark)
		}
		m.mu.Lock()
		if !errors.Is(err, ErrBusy) {
			m.last, m.err = ps, err
			m.passes++
			m.totals.Passes++
			m.totals.Time += ps.Took
			m.totals.Captured += ps.Captured
			m.totals.Recomputed += ps.Recomputed
			m.totals.Retries += ps.Retries
			if err != nil {
				m.totals.Failed++
			} else {
				m.totals.LastTook, m.totals.DirtyLeft, m.totals.Watermark = ps.Took, ps.DirtyLeft, ps.SessionWatermark
				m.totals.LastAt = time.Now()
			}
		}
		m.mu.Unlock()
		t.Reset(every)
	}
}

// Totals returns the sums over the passes run so far.
func (m *Maintainer) Totals() Totals {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.totals
}

// Last returns the last pass's statistics and error, and the number of
// passes this maintainer has run.
func (m *Maintainer) Last() (PassStats, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last, m.passes, m.err
}
