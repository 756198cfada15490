package models

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// All lists every model, in creation order.
func All() []any {
	return []any{
		&Queue{}, &User{}, &APIKey{}, &QueueMember{}, &SkillTag{}, &UserSkillTag{},
		&Seeker{}, &ChatSession{}, &SessionParticipant{}, &SessionOffer{},
		&SessionMessage{}, &SessionEvent{}, &Bot{}, &BotInteraction{},
		&SessionRating{}, &SessionKeyword{}, &AgentPresence{}, &AuditRecord{},
	}
}

// migrations is the versioned schema history. Append only: a released
// migration is never edited, a change is a new entry.
func migrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026112501_initial_schema",
		Migrate: func(tx *gorm.DB) error {
			return tx.AutoMigrate(All()...)
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(All()...)
		},
	}, {
		// Keywords compare byte for byte on every back end: MySQL's default
		// utf8mb4_unicode_ci would merge "café" and "cafe" (and their
		// session counts) where SQLite keeps them apart.
		ID: "2026112502_keyword_binary_collation",
		Migrate: func(tx *gorm.DB) error {
			if tx.Dialector.Name() != "mysql" {
				return nil
			}
			return tx.Exec("ALTER TABLE session_keywords MODIFY keyword VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL").Error
		},
	}, {
		// The keyword indexer's bookmark: which closed sessions are indexed.
		ID: "2026112503_keywords_indexed_at",
		Migrate: func(tx *gorm.DB) error {
			m := tx.Migrator()
			if !m.HasColumn(&ChatSession{}, "KeywordsIndexedAt") {
				if err := m.AddColumn(&ChatSession{}, "KeywordsIndexedAt"); err != nil {
					return err
				}
			}
			if !m.HasIndex(&ChatSession{}, "ix_cs_kw_pending") {
				return m.CreateIndex(&ChatSession{}, "ix_cs_kw_pending")
			}
			return nil
		},
	}, {
		// The reports' data fingerprint (ETags) counts the sessions of a
		// window and reads their newest updated_at from these indexes
		// alone, without a lookup per row.
		ID: "2026112518_fingerprint_indexes",
		Migrate: func(tx *gorm.DB) error {
			m := tx.Migrator()
			for _, ix := range []string{"ix_cs_q_started_upd", "ix_cs_q_queued_upd"} {
				if !m.HasIndex(&ChatSession{}, ix) {
					if err := m.CreateIndex(&ChatSession{}, ix); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}, {
		// The interval store (reports/store): its bookkeeping tables, and the
		// indexes its maintenance loop finds changed sessions and late
		// ratings by. The interval tables follow the store's declaration of
		// measures and are created by the store itself.
		ID: "2026112601_interval_store",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.AutoMigrate(storeModels()...); err != nil {
				return err
			}
			for _, ix := range []struct{ name, table, col string }{
				{"ix_cs_updated", "chat_sessions", "updated_at"},
				{"ix_sr_submitted", "session_ratings", "submitted_at"},
			} {
				if !tx.Migrator().HasIndex(ix.table, ix.name) {
					if err := tx.Exec("CREATE INDEX " + ix.name + " ON " + ix.table + " (" + ix.col + ")").Error; err != nil {
						return err
					}
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(storeModels()...)
		},
	}, {
		// Deleted sessions, for change tracking (the OData feed's delta
		// links): a trigger records every delete, whoever makes it. The
		// database user needs the TRIGGER privilege (on MySQL with binary
		// logging also SUPER or log_bin_trust_function_creators=1).
		ID: "2026120201_session_tombstones",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.AutoMigrate(&SessionTombstone{}); err != nil {
				return err
			}
			for _, stmt := range sessionTombstoneTrigger(tx) {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Exec("DROP TRIGGER IF EXISTS trg_cs_tombstone").Error; err != nil {
				return err
			}
			return tx.Migrator().DropTable(&SessionTombstone{})
		},
	}, {
		// Aggregates of a range of StartedAt (OData $apply: a month's
		// average wait per queue) read the session's state and its queued,
		// accepted and ended instants: with them in the index after
		// (queue_id, started_at) the aggregate is read from the index
		// alone, without a lookup of the wide session row per session.
		ID: "2026120202_started_times_index",
		Migrate: func(tx *gorm.DB) error {
			m := tx.Migrator()
			if m.HasIndex(&ChatSession{}, "ix_cs_q_started_times") {
				return nil
			}
			if err := m.CreateIndex(&ChatSession{}, "ix_cs_q_started_times"); err != nil {
				return err
			}
			if tx.Dialector.Name() == "sqlite" && hasStats(tx) {
				// The other indexes have measured statistics; without its
				// own the planner guesses this one's. Analyze it alone.
				return tx.Exec("ANALYZE ix_cs_q_started_times").Error
			}
			return nil
		},
	}, {
		// Deleted rows of the tables beside chat_sessions, for change
		// tracking on their OData sets: a trigger per table records every
		// delete, whoever makes it (the privileges of the previous entry).
		ID: "2026120203_row_tombstones",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.AutoMigrate(&RowTombstone{}); err != nil {
				return err
			}
			for _, stmt := range rowTombstoneTriggers(tx) {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for _, t := range rowTombstoneTables {
				if err := tx.Exec("DROP TRIGGER IF EXISTS " + t.trigger).Error; err != nil {
					return err
				}
			}
			return tx.Migrator().DropTable(&RowTombstone{})
		},
	}, {
		// SQLite compares times as text: the tombstone triggers wrote
		// "…T…Z", which sorts after every bound time of the same UTC date,
		// so a delta read sent the day's deletions again. The triggers
		// now write the driver's layout; older rows are rewritten.
		ID:      "2026120204_sqlite_tombstone_times",
		Migrate: sqliteTombstoneTimes,
	}, {
		// A re-index of a session's keywords removes the tombstones of
		// the keywords it keeps, found by session.
		ID: "2026120205_row_tombstones_session_index",
		Migrate: func(tx *gorm.DB) error {
			if tx.Migrator().HasIndex(&RowTombstone{}, "ix_rt_session") {
				return nil
			}
			return tx.Migrator().CreateIndex(&RowTombstone{}, "ix_rt_session")
		},
	}, {
		// The number of sessions per queue, kept by triggers
		// (session_counts.go), for counting every session without
		// scanning an index of them all (the privileges of the tombstones).
		ID: "2026120206_session_counts",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.AutoMigrate(&SessionCount{}, &SessionCountChange{}); err != nil {
				return err
			}
			for _, stmt := range sessionCountTriggers(tx) {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return recountSessions(tx)
		},
		Rollback: func(tx *gorm.DB) error {
			for _, t := range sessionCountTriggerNames {
				if err := tx.Exec("DROP TRIGGER IF EXISTS " + t).Error; err != nil {
					return err
				}
			}
			return tx.Migrator().DropTable(&SessionCount{}, &SessionCountChange{})
		},
	}, {
		// The raw scans that stay raw (exact percentiles of the wait,
		// distinct guests and conversations per day) read the wide session
		// row for a few columns: the two indexes they use now hold those
		// columns too (ChatSession's comment).
		ID: "2026120301_covering_report_indexes",
		Migrate: func(tx *gorm.DB) error {
			for _, name := range []string{"ix_cs_q_queued", "ix_cs_q_started_times"} {
				if err := rebuildIndex(tx, &ChatSession{}, name); err != nil {
					return err
				}
			}
			return nil
		},
	}}
}

// rebuildIndex makes index name of model what the model declares: an
// index with other columns is dropped and created again (on SQLite with
// planner statistics, analyzed on its own, as the statistics of the
// others are measured). A large table takes a while: said at Info.
func rebuildIndex(tx *gorm.DB, model any, name string) error {
	stmt := &gorm.Statement{DB: tx}
	if err := stmt.Parse(model); err != nil {
		return err
	}
	want := stmt.Schema.LookIndex(name)
	if want == nil {
		return fmt.Errorf("migrate: %s declares no index %s", stmt.Schema.Table, name)
	}
	var cols []string
	for _, f := range want.Fields {
		cols = append(cols, f.DBName)
	}
	m := tx.Migrator()
	if m.HasIndex(model, name) {
		idx, err := m.GetIndexes(model)
		if err != nil {
			return err
		}
		for _, ix := range idx {
			if ix.Name() == name && slices.Equal(ix.Columns(), cols) {
				return nil
			}
		}
		if err := m.DropIndex(model, name); err != nil {
			return err
		}
	}
	slog.Info("creating an index", "table", stmt.Schema.Table, "index", name, "columns", cols)
	if err := Bulk(tx).Migrator().CreateIndex(model, name); err != nil {
		return err
	}
	if tx.Dialector.Name() == "sqlite" && hasStats(tx) {
		return tx.Exec("ANALYZE " + name).Error
	}
	return nil
}

// hasStats reports whether SQLite holds planner statistics (ANALYZE ran).
func hasStats(tx *gorm.DB) bool {
	var n int64
	tx.Raw("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").Scan(&n)
	return n > 0
}

// Migrate creates or upgrades the schema. It is repeatable: applied
// migrations are recorded in schema_migrations and skipped.
func Migrate(ctx context.Context, db *gorm.DB) error {
	opts := *gormigrate.DefaultOptions
	opts.TableName = "schema_migrations"
	opts.UseTransaction = false // MySQL DDL is not transactional anyway
	m := gormigrate.New(db.WithContext(ctx), &opts, migrations())
	if err := m.Migrate(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if db.Dialector.Name() == "sqlite" {
		// SQLite plans from the statistics of ANALYZE. Without them it takes
		// the (queue_id, started_at) index for everything: a keyset page of
		// the OData Sessions set over a year (id > cursor ORDER BY id LIMIT
		// 5001) then sorts the whole window, 3.9 s a page on 1M sessions.
		// PRAGMA optimize's bounded analysis was not enough (its estimates
		// kept that plan), so a database whose sessions were never analyzed
		// is analyzed in full, once: 9–25 s on a 6.4 GB file, at once on a
		// small one. fixtures.Load analyzes after loading.
		var analyzed int64
		err := db.WithContext(ctx).Raw("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").Scan(&analyzed).Error
		if err == nil && analyzed > 0 {
			err = db.WithContext(ctx).Raw("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'chat_sessions'").Scan(&analyzed).Error
		}
		if err != nil {
			return fmt.Errorf("migrate: planner statistics: %w", err)
		}
		if analyzed == 0 {
			// Said at Info only for a file large enough to take a while.
			var pages, pageSize int64
			db.WithContext(ctx).Raw("PRAGMA page_count").Scan(&pages)
			db.WithContext(ctx).Raw("PRAGMA page_size").Scan(&pageSize)
			level := slog.LevelDebug
			if pages*pageSize >= 100<<20 {
				level = slog.LevelInfo
			}
			slog.Log(ctx, level, "gathering planner statistics (ANALYZE), once for this database", "MiB", pages*pageSize>>20)
			t0 := time.Now()
			if err := Analyze(ctx, db); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			slog.Log(ctx, level, "planner statistics gathered", "took", time.Since(t0).Round(time.Millisecond))
		}
	}
	return nil
}

// Analyze gathers exact planner statistics: ANALYZE on SQLite (after a
// bulk load, so plans do not wait for Migrate's bounded optimize), ANALYZE
// TABLE of the reporting tables on MySQL (InnoDB refreshes its statistics
// on its own after 10 % of a table changes; a bulk load is past that, but
// the refresh is asynchronous).
func Analyze(ctx context.Context, db *gorm.DB) error {
	stmt := "ANALYZE"
	if db.Dialector.Name() != "sqlite" {
		stmt = "ANALYZE TABLE chat_sessions, session_keywords, bot_interactions, session_ratings, seekers"
	}
	rows, err := db.WithContext(ctx).Raw(stmt).Rows() // MySQL answers with a result set
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// SchemaVersion returns the ID of the newest applied migration.
func SchemaVersion(ctx context.Context, db *gorm.DB) (string, error) {
	var id string
	err := db.WithContext(ctx).Table("schema_migrations").Select("id").Order("id DESC").Limit(1).Scan(&id).Error
	return id, err
}
