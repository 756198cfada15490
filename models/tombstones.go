package models

import (
	"time"

	"gorm.io/gorm"
)

// SessionTombstone records a deleted chat session, so that incremental
// readers (the OData feed's change tracking) can report it as removed.
// The table is fed by a trigger on chat_sessions (created by the
// migration), so every writer's deletes are recorded, the service's and
// any other program's alike; DeletedAt is the database's clock.
type SessionTombstone struct {
	ID        uint64    `gorm:"primaryKey;autoIncrement"`
	SessionID uint      `gorm:"not null;index:ix_st_session"`
	QueueID   uint32    `gorm:"not null"`
	DeletedAt time.Time `gorm:"not null;index:ix_st_deleted"`
}

// sessionTombstoneTrigger returns the statements that create the trigger
// feeding session_tombstones on db's dialect. The SQLite time is written
// in the layout the driver writes times in (RFC 3339 in UTC, milliseconds),
// so that comparisons with bound time parameters order correctly.
func sessionTombstoneTrigger(db *gorm.DB) []string {
	if db.Dialector.Name() == "mysql" {
		return []string{
			"DROP TRIGGER IF EXISTS trg_cs_tombstone",
			"CREATE TRIGGER trg_cs_tombstone AFTER DELETE ON chat_sessions FOR EACH ROW " +
				"INSERT INTO session_tombstones (session_id, queue_id, deleted_at) VALUES (OLD.id, OLD.queue_id, UTC_TIMESTAMP(3))",
		}
	}
	return []string{
		"DROP TRIGGER IF EXISTS trg_cs_tombstone",
		"CREATE TRIGGER trg_cs_tombstone AFTER DELETE ON chat_sessions FOR EACH ROW BEGIN " +
			"INSERT INTO session_tombstones (session_id, queue_id, deleted_at) " +
			"VALUES (OLD.id, OLD.queue_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')); END",
	}
}
