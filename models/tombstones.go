package models

import (
	"time"

	"gorm.io/gorm"
)

// sqliteTime is the SQLite expression of the time t (an SQLite time
// value: 'now', a column) in the layout the driver writes time parameters
// and columns in: "2006-01-02 15:04:05.999999999+00:00", UTC, the fraction
// without trailing zeros and without its point when it is zero. Text in
// another layout does not order with them: "2026-12-02T10:00:00Z" sorts
// after "2026-12-02 11:00:00+00:00" ('T' after ' '), and "10:00:00.250"
// after an equal "10:00:00.25".
func sqliteTime(t string) string {
	return "rtrim(rtrim(strftime('%Y-%m-%d %H:%M:%f', " + t + "), '0'), '.') || '+00:00'"
}

// sqliteNow is sqliteTime of the current time.
var sqliteNow = sqliteTime("'now'")

// sqliteTombstoneTimes recreates the SQLite tombstone triggers with
// sqliteNow and rewrites the times earlier triggers wrote in the ISO
// layout ("…T…Z"), so that change tracking compares them correctly.
func sqliteTombstoneTimes(tx *gorm.DB) error {
	if tx.Dialector.Name() != "sqlite" {
		return nil
	}
	stmts := append(sessionTombstoneTrigger(tx), rowTombstoneTriggers(tx)...)
	for _, t := range []string{"session_tombstones", "row_tombstones"} {
		stmts = append(stmts, "UPDATE "+t+" SET deleted_at = "+sqliteTime("deleted_at")+" WHERE deleted_at LIKE '%T%Z'")
	}
	for _, stmt := range stmts {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}

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
// feeding session_tombstones on db's dialect. SQLite compares times as
// text, so the trigger writes the layout the driver binds and stores times
// in (sqliteNow), and a deleted_at compares correctly with a bound time.
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
			"VALUES (OLD.id, OLD.queue_id, " + sqliteNow + "); END",
	}
}

// RowTombstone records a deleted row of a table beside chat_sessions
// (session_messages, session_ratings, session_participants,
// session_offers, bot_interactions, session_keywords), so that the OData
// feed's change tracking on their sets can report it as removed. Triggers
// on those tables (created by the migration) feed it. RowID is the row's
// id, or its session's for the tables keyed by session; Source and Keyword
// complete a keyword's key. QueueID is the session's queue (0 when the
// session was deleted before and left no tombstone).
type RowTombstone struct {
	ID        uint64    `gorm:"primaryKey;autoIncrement"`
	Tbl       string    `gorm:"column:tbl;size:32;not null;index:ix_rt_tbl_deleted,priority:1"`
	RowID     uint64    `gorm:"not null"`
	SessionID uint      `gorm:"not null;index:ix_rt_session"`
	QueueID   uint32    `gorm:"not null"`
	Source    *string   `gorm:"size:8"`
	Keyword   *string   `gorm:"size:64"`
	DeletedAt time.Time `gorm:"not null;index:ix_rt_tbl_deleted,priority:2"`
}

// rowTombstoneTables are the tables whose deletes row_tombstones records:
// the trigger's name, the row id, and the queue (the table's own column,
// or the session's, or the session's tombstone's when the session went
// first).
var rowTombstoneTables = []struct{ table, trigger, rowID, queue, source, keyword string }{
	{"session_messages", "trg_sm_tombstone", "OLD.id", "", "NULL", "NULL"},
	{"session_participants", "trg_sp_tombstone", "OLD.id", "", "NULL", "NULL"},
	{"session_offers", "trg_so_tombstone", "OLD.id", "", "NULL", "NULL"},
	{"session_ratings", "trg_sr_tombstone", "OLD.session_id", "OLD.queue_id", "NULL", "NULL"},
	{"bot_interactions", "trg_bi_tombstone", "OLD.session_id", "OLD.queue_id", "NULL", "NULL"},
	{"session_keywords", "trg_sk_tombstone", "OLD.session_id", "OLD.queue_id", "OLD.source", "OLD.keyword"},
}

// RowTombstoneTables names the tables whose deleted rows row_tombstones
// records (its tbl column).
func RowTombstoneTables() []string {
	out := make([]string, len(rowTombstoneTables))
	for i, t := range rowTombstoneTables {
		out[i] = t.table
	}
	return out
}

// rowTombstoneTriggers returns the statements that create the triggers
// feeding row_tombstones on db's dialect (times as for session_tombstones).
func rowTombstoneTriggers(db *gorm.DB) []string {
	mysql := db.Dialector.Name() == "mysql"
	var out []string
	for _, t := range rowTombstoneTables {
		queue := t.queue
		if queue == "" {
			queue = "COALESCE((SELECT queue_id FROM chat_sessions WHERE id = OLD.session_id), " +
				"(SELECT MAX(queue_id) FROM session_tombstones WHERE session_id = OLD.session_id), 0)"
		}
		now := sqliteNow
		if mysql {
			now = "UTC_TIMESTAMP(3)"
		}
		insert := "INSERT INTO row_tombstones (tbl, row_id, session_id, queue_id, source, keyword, deleted_at) VALUES ('" +
			t.table + "', " + t.rowID + ", OLD.session_id, " + queue + ", " + t.source + ", " + t.keyword + ", " + now + ")"
		out = append(out, "DROP TRIGGER IF EXISTS "+t.trigger)
		if mysql {
			out = append(out, "CREATE TRIGGER "+t.trigger+" AFTER DELETE ON "+t.table+" FOR EACH ROW "+insert)
		} else {
			out = append(out, "CREATE TRIGGER "+t.trigger+" AFTER DELETE ON "+t.table+" FOR EACH ROW BEGIN "+insert+"; END")
		}
	}
	return out
}
