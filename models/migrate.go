package models

import (
	"context"
	"fmt"

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
	}}
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
	return nil
}

// SchemaVersion returns the ID of the newest applied migration.
func SchemaVersion(ctx context.Context, db *gorm.DB) (string, error) {
	var id string
	err := db.WithContext(ctx).Table("schema_migrations").Select("id").Order("id DESC").Limit(1).Scan(&id).Error
	return id, err
}
