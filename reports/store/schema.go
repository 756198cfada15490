package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/chime-reports/chime-reports/models"
)

// epoch is the zero of the watermarks: before every session.
var epoch = time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)

// createTable is the DDL of a's interval table or hour table: the queue,
// the interval number, and a column per measure (counts and sums 0 when
// empty, minima and maxima NULL).
func createTable(a Attr, table string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (queue_id BIGINT NOT NULL, iv BIGINT NOT NULL", table)
	for _, m := range Of(a) {
		if m.Agg == Min || m.Agg == Max {
			fmt.Fprintf(&b, ", %s BIGINT NULL", m.Name)
		} else {
			fmt.Fprintf(&b, ", %s BIGINT NOT NULL DEFAULT 0", m.Name)
		}
	}
	b.WriteString(", PRIMARY KEY (queue_id, iv))")
	return b.String()
}

// state reads the store's state row (a zero, unbuilt one if absent).
func state(tx *gorm.DB) (models.ReportStoreState, error) {
	var st []models.ReportStoreState
	if err := tx.Where("id = 1").Limit(1).Find(&st).Error; err != nil {
		return models.ReportStoreState{}, err
	}
	if len(st) == 0 {
		return models.ReportStoreState{ID: 1, SessionWatermark: epoch, RatingWatermark: epoch}, nil
	}
	return st[0], nil
}

func saveState(tx *gorm.DB, st models.ReportStoreState) error {
	st.ID = 1
	return tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&st).Error
}

// ensureSchema makes the interval tables match the declaration of
// measures. When they do not (first run, or the declaration changed), it
// drops and creates them and marks the store unbuilt, which sends every
// read to raw rows until Rebuild has run. It needs the maintenance lock.
func ensureSchema(ctx context.Context, db *gorm.DB) (fresh bool, err error) {
	db = db.WithContext(ctx)
	st, err := state(db)
	if err != nil {
		return false, err
	}
	ok := st.Measures == Fingerprint()
	for _, a := range attrs() {
		ok = ok && (!a.hasTable() || db.Migrator().HasTable(a.Table()) && db.Migrator().HasTable(a.HourTable()))
	}
	for _, t := range keywordTables() {
		ok = ok && db.Migrator().HasTable(t)
	}
	if ok {
		return false, nil
	}
	st.Built, st.Measures = false, ""
	if err := saveState(db, st); err != nil {
		return false, err
	}
	for _, a := range Attrs { // an attribution time without measures has no table
		for _, t := range []string{a.Table(), a.HourTable()} {
			if err := db.Exec("DROP TABLE IF EXISTS " + t).Error; err != nil {
				return false, err
			}
			if len(Of(a)) == 0 {
				continue
			}
			if err := db.Exec(createTable(a, t)).Error; err != nil {
				return false, fmt.Errorf("store: creating %s: %w", t, err)
			}
		}
	}
	for _, t := range []string{KeywordHourTable, KeywordDayTable} {
		if err := db.Exec("DROP TABLE IF EXISTS " + t).Error; err != nil {
			return false, err
		}
	}
	if keywordsDeclared() {
		for _, stmt := range createKeywordTables(db.Dialector.Name() == "mysql") {
			if err := db.Exec(stmt).Error; err != nil {
				return false, fmt.Errorf("store: creating the keyword tables: %w", err)
			}
		}
	}
	st.Measures = Fingerprint()
	return true, saveState(db, st)
}

// currentThresholds reads every queue's thresholds (deleted queues too:
// their history is still reported).
func currentThresholds(tx *gorm.DB) (map[uint32]Thresholds, error) {
	var qs []models.Queue
	if err := tx.Unscoped().Select("id, sla_threshold_seconds, short_abandon_seconds").Find(&qs).Error; err != nil {
		return nil, err
	}
	out := make(map[uint32]Thresholds, len(qs))
	for _, q := range qs {
		out[q.ID] = Thresholds{SLAMs: int64(q.SLAThresholdSeconds) * 1000, ShortAbandonMs: int64(q.ShortAbandonSeconds) * 1000}
	}
	return out, nil
}

// recordedThresholds reads the thresholds the stored rows were built with.
func recordedThresholds(tx *gorm.DB) (map[uint32]Thresholds, error) {
	var rs []models.ReportStoreQueue
	if err := tx.Find(&rs).Error; err != nil {
		return nil, err
	}
	out := make(map[uint32]Thresholds, len(rs))
	for _, r := range rs {
		out[r.QueueID] = Thresholds{SLAMs: r.SLAMs, ShortAbandonMs: r.ShortAbandonMs}
	}
	return out, nil
}

func recordThresholds(tx *gorm.DB, q uint32, t Thresholds) error {
	return tx.Clauses(clause.OnConflict{UpdateAll: true}).
		Create(&models.ReportStoreQueue{QueueID: q, SLAMs: t.SLAMs, ShortAbandonMs: t.ShortAbandonMs}).Error
}

// Built reports whether the store is built for the current declaration
// of measures.
func Built(ctx context.Context, db *gorm.DB) (bool, error) {
	st, err := state(db.WithContext(ctx))
	return st.Built && st.Measures == Fingerprint(), err
}
