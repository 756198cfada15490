package store

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
)

// Margin is how far behind the newest updated_at (and submitted_at) the
// watermarks stay: a writer's transaction that stamps a row and commits
// within Margin is never missed (docs/architecture.md).
const Margin = 2 * time.Minute

// BuildOptions tune Rebuild.
type BuildOptions struct {
	// BatchSize is the number of session ids per transaction (0: 20000).
	BatchSize int
	// Progress, if set, is called after each batch with the sessions
	// done and the total.
	Progress func(done, total int)
	Log      *slog.Logger
}

// BuildStats describes a build.
type BuildStats struct {
	Sessions  int64
	Intervals int64 // rows of the interval tables
	// Rows of the keyword tables (hours, days).
	KeywordHours, KeywordDays int64
	Took                      time.Duration
}

// Rebuild builds the store from raw rows, forgetting what it held: the
// interval tables are emptied and refilled in batches of sessions (by id),
// each batch in one transaction that adds its sessions' aggregates to the
// intervals and records where it counted each session. Reads compute
// from raw rows until the last batch is in. Sessions written meanwhile are
// caught by the watermarks taken at the start. Rebuild takes the
// maintenance lock, waiting up to wait for it.
func Rebuild(ctx context.Context, db *gorm.DB, wait time.Duration, opt BuildOptions) (BuildStats, error) {
	l, err := acquire(ctx, db, wait)
	if err != nil {
		return BuildStats{}, err
	}
	defer l.release()
	return rebuild(ctx, db, opt)
}

func rebuild(ctx context.Context, db *gorm.DB, opt BuildOptions) (BuildStats, error) {
	began := time.Now()
	log := opt.Log
	if log == nil {
		log = slog.Default()
	}
	// Bulk statements are slow by nature: the database layer's
	// slow-statement warnings would report every batch; failures are still
	// logged (and returned), the progress goes to opt.Progress.
	db = models.Bulk(db.WithContext(ctx))
	if _, err := ensureSchema(ctx, db); err != nil {
		return BuildStats{}, err
	}
	st, err := state(db)
	if err != nil {
		return BuildStats{}, err
	}
	st.Built = false
	if err := saveState(db, st); err != nil {
		return BuildStats{}, err
	}
	tables := []string{"report_store_sessions", "report_store_dirty", "report_store_queues"}
	for _, a := range attrs() {
		if a.hasTable() {
			tables = append(tables, a.Table(), a.HourTable())
		}
	}
	tables = append(tables, keywordTables()...)
	for _, t := range tables {
		if err := db.Exec("DELETE FROM " + t).Error; err != nil {
			return BuildStats{}, err
		}
	}
	thresh, err := currentThresholds(db)
	if err != nil {
		return BuildStats{}, err
	}
	// The watermarks first: anything written after this is newer than
	// them (or has a larger id) and is caught by the first pass.
	var top struct {
		MaxUpd *time.Time
		MaxID  *uint64
		MinID  *uint64
		N      int64
	}
	var maxRate *time.Time
	if err := db.Raw("SELECT MAX(updated_at) AS max_upd, MAX(id) AS max_id, MIN(id) AS min_id, COUNT(*) AS n FROM chat_sessions").Scan(&top).Error; err != nil {
		return BuildStats{}, err
	}
	if err := db.Raw("SELECT MAX(submitted_at) FROM session_ratings").Row().Scan(&maxRate); err != nil {
		return BuildStats{}, err
	}
	st.SessionWatermark, st.RatingWatermark, st.MaxSessionID = epoch, epoch, 0
	// A build is a sweep: a session deleted before it began is not read,
	// one deleted since has a tombstone that reads take raw.
	sweptAt := models.UTC(began)
	st.SweptAt = &sweptAt
	if top.MaxUpd != nil {
		st.SessionWatermark = maxTime(epoch, top.MaxUpd.UTC().Add(-Margin))
	}
	if maxRate != nil {
		st.RatingWatermark = maxTime(epoch, maxRate.UTC().Add(-Margin))
	}
	d := newDialect(db, thresh)
	size := uint64(opt.BatchSize)
	if size == 0 {
		size = 20000
	}
	var done int64
	if top.MaxID != nil {
		st.MaxSessionID = *top.MaxID
		for lo := *top.MinID; lo <= *top.MaxID; lo += size {
			if err := ctx.Err(); err != nil {
				return BuildStats{}, err
			}
			var n int64
			err := db.Transaction(func(tx *gorm.DB) error {
				var err error
				n, err = addBatch(tx, d, lo, lo+size)
				return err
			})
			if err != nil {
				return BuildStats{}, fmt.Errorf("store: building sessions %d–%d: %w", lo, lo+size-1, err)
			}
			done += n
			if opt.Progress != nil {
				opt.Progress(int(done), int(top.N))
			}
		}
	}
	for _, a := range attrs() { // the hours from the intervals the batches filled
		if a.hasTable() {
			if err := deriveHours(db, a, nil, math.MinInt64, math.MaxInt64); err != nil {
				return BuildStats{}, fmt.Errorf("store: %s: %w", a.HourTable(), err)
			}
		}
	}
	if keywordsDeclared() { // the days from the hours the batches filled
		began := time.Now()
		if err := deriveKeywordDays(db, d, 0, math.MinInt64, math.MaxInt64); err != nil {
			return BuildStats{}, fmt.Errorf("store: keyword days: %w", err)
		}
		log.Info("interval store: keyword days derived from hours", "seconds", time.Since(began).Seconds())
	}
	now := models.UTC(time.Now())
	st.Built, st.BuiltAt = true, &now
	err = db.Transaction(func(tx *gorm.DB) error {
		for q, t := range thresh {
			if err := recordThresholds(tx, q, t); err != nil {
				return err
			}
		}
		return saveState(tx, st)
	})
	if err != nil {
		return BuildStats{}, err
	}
	var rows int64
	for _, a := range attrs() {
		if a.hasTable() {
			var n int64
			db.Table(a.Table()).Count(&n)
			rows += n
		}
	}
	bs := BuildStats{Sessions: done, Intervals: rows, Took: time.Since(began)}
	for i, t := range keywordTables() {
		var n int64
		db.Table(t).Count(&n)
		if i == 0 {
			bs.KeywordHours = n
		} else {
			bs.KeywordDays = n
		}
	}
	log.Info("interval store built", "sessions", bs.Sessions, "interval_rows", bs.Intervals, "keyword_hour_rows", bs.KeywordHours,
		"keyword_day_rows", bs.KeywordDays, "seconds", bs.Took.Seconds())
	return bs, nil
}

// addBatch adds the sessions with ids in [lo, hi) to the interval tables
// (their aggregates added to what the intervals hold) and records where
// it counted them. In one transaction the statements read the same rows:
// on MySQL INSERT … SELECT reads with shared locks, which a concurrent
// writer waits for; SQLite has one writer.
func addBatch(tx *gorm.DB, d dialect, lo, hi uint64) (int64, error) {
	res := tx.Exec(upsertSessions(d, "s.id >= ? AND s.id < ?"), lo, hi)
	if res.Error != nil {
		return 0, res.Error
	}
	n := res.RowsAffected
	for _, a := range attrs() {
		if !a.hasTable() {
			continue
		}
		src := a.source()
		if err := tx.Exec(addIntervals(d, a, src.idCol+" >= ? AND "+src.idCol+" < ?"), lo, hi).Error; err != nil {
			return 0, err
		}
	}
	if keywordsDeclared() {
		if err := addKeywordHours(tx, d, "k.session_id >= ? AND k.session_id < ?", []any{lo, hi}, "s.id >= ? AND s.id < ?", []any{lo, hi}); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// upsertSessions records where the sessions meeting cond are counted.
func upsertSessions(d dialect, cond string) string {
	sel := "SELECT s.id, s.queue_id, " + d.iv("s.queued_at") + ", " + d.iv("s.started_at") + ", b.queue_id, " + d.iv("b.started_at") +
		" FROM chat_sessions s LEFT JOIN bot_interactions b ON b.session_id = s.id WHERE " + cond
	ins := "INSERT INTO report_store_sessions (session_id, queue_id, queued_iv, started_iv, bot_queue_id, bot_iv) " + sel
	cols := []string{"queue_id", "queued_iv", "started_iv", "bot_queue_id", "bot_iv"}
	if d.mysql {
		set := make([]string, len(cols))
		for i, c := range cols {
			set[i] = c + " = VALUES(" + c + ")"
		}
		return ins + " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
	}
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = excluded." + c
	}
	return ins + " ON CONFLICT (session_id) DO UPDATE SET " + strings.Join(set, ", ")
}

// selectIntervals aggregates a's measures per queue and interval over the
// rows meeting cond.
func selectIntervals(d dialect, a Attr, cond string) string {
	src := a.source()
	return "SELECT " + src.queueCol + " AS qid, " + d.iv(src.timeCol) + " AS ivx, " + d.aggregates(Of(a)) +
		" FROM " + src.from + " WHERE " + src.where + " AND " + cond + " GROUP BY qid, ivx"
}

// addIntervals adds the aggregates of the rows meeting cond to a's
// intervals: counts and sums add, minima and maxima combine.
func addIntervals(d dialect, a Attr, cond string) string {
	ms := Of(a)
	ins := "INSERT INTO " + a.Table() + " (queue_id, iv, " + names(ms) + ") " + selectIntervals(d, a, cond)
	set := make([]string, len(ms))
	for i, m := range ms {
		c, v := m.Name, "excluded."+m.Name
		if d.mysql {
			v = "VALUES(" + m.Name + ")"
		}
		switch {
		case m.Agg == Min && d.mysql:
			set[i] = fmt.Sprintf("%s = LEAST(COALESCE(%s, %s), COALESCE(%s, %s))", c, c, v, v, c)
		case m.Agg == Max && d.mysql:
			set[i] = fmt.Sprintf("%s = GREATEST(COALESCE(%s, %s), COALESCE(%s, %s))", c, c, v, v, c)
		case m.Agg == Min:
			set[i] = fmt.Sprintf("%s = MIN(COALESCE(%s, %s), COALESCE(%s, %s))", c, c, v, v, c)
		case m.Agg == Max:
			set[i] = fmt.Sprintf("%s = MAX(COALESCE(%s, %s), COALESCE(%s, %s))", c, c, v, v, c)
		default:
			set[i] = fmt.Sprintf("%s = %s + %s", c, c, v)
		}
	}
	if d.mysql {
		return ins + " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
	}
	return ins + " ON CONFLICT (queue_id, iv) DO UPDATE SET " + strings.Join(set, ", ")
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
