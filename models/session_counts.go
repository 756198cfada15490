package models

import (
	"context"
	"database/sql"

	"gorm.io/gorm"
)

// The number of sessions per queue, kept by the database so that counting
// every visible session (the OData feed's Sessions/$count, a page's
// @odata.count) reads a handful of rows instead of an index of every
// session: InnoDB keeps no row count, and scanning the smallest index of
// 100,000 sessions takes longer than the rest of such a request.
//
// Triggers on chat_sessions append a change per insert (+1), delete (-1)
// and move to another queue (-1 and +1) to session_count_changes. They
// update no shared row, so writers in concurrent transactions never wait
// for one another or deadlock on a counter, whatever order they write
// queues in. The count of a set of queues is
//
//	SUM(session_counts.sessions) + SUM(session_count_changes.delta)
//
// over those queues, read in one statement (one snapshot), so it is
// exact at every moment. FoldSessionCounts moves the changes into
// session_counts from time to time (the interval store's maintenance pass
// and the fixture loader call it), which keeps the change table short;
// folding changes no count.

// SessionCount is a queue's number of sessions, less the changes not yet
// folded (SessionCountChange).
type SessionCount struct {
	QueueID  uint32 `gorm:"primaryKey;autoIncrement:false"`
	Sessions int64  `gorm:"not null"`
}

// SessionCountChange is one change of a queue's number of sessions that
// FoldSessionCounts has not folded into SessionCount yet.
type SessionCountChange struct {
	ID      uint64 `gorm:"primaryKey;autoIncrement"`
	QueueID uint32 `gorm:"not null;index:ix_scc_queue"`
	Delta   int32  `gorm:"not null"`
}

// sessionCountTriggers returns the statements that create the triggers
// feeding session_count_changes on db's dialect.
func sessionCountTriggers(db *gorm.DB) []string {
	ins := "INSERT INTO session_count_changes (queue_id, delta) VALUES "
	if db.Dialector.Name() == "mysql" {
		return []string{
			"DROP TRIGGER IF EXISTS trg_cs_count_ins",
			"CREATE TRIGGER trg_cs_count_ins AFTER INSERT ON chat_sessions FOR EACH ROW " + ins + "(NEW.queue_id, 1)",
			"DROP TRIGGER IF EXISTS trg_cs_count_del",
			"CREATE TRIGGER trg_cs_count_del AFTER DELETE ON chat_sessions FOR EACH ROW " + ins + "(OLD.queue_id, -1)",
			"DROP TRIGGER IF EXISTS trg_cs_count_upd",
			"CREATE TRIGGER trg_cs_count_upd AFTER UPDATE ON chat_sessions FOR EACH ROW BEGIN " +
				"IF NEW.queue_id <> OLD.queue_id THEN " + ins + "(OLD.queue_id, -1), (NEW.queue_id, 1); END IF; END",
		}
	}
	return []string{
		"DROP TRIGGER IF EXISTS trg_cs_count_ins",
		"CREATE TRIGGER trg_cs_count_ins AFTER INSERT ON chat_sessions FOR EACH ROW BEGIN " + ins + "(NEW.queue_id, 1); END",
		"DROP TRIGGER IF EXISTS trg_cs_count_del",
		"CREATE TRIGGER trg_cs_count_del AFTER DELETE ON chat_sessions FOR EACH ROW BEGIN " + ins + "(OLD.queue_id, -1); END",
		"DROP TRIGGER IF EXISTS trg_cs_count_upd",
		"CREATE TRIGGER trg_cs_count_upd AFTER UPDATE OF queue_id ON chat_sessions FOR EACH ROW WHEN NEW.queue_id <> OLD.queue_id BEGIN " +
			ins + "(OLD.queue_id, -1), (NEW.queue_id, 1); END",
	}
}

// sessionCountTriggerNames are the triggers sessionCountTriggers creates.
var sessionCountTriggerNames = []string{"trg_cs_count_ins", "trg_cs_count_del", "trg_cs_count_upd"}

// countTx are the options of the transactions that fold and recount: on
// MySQL REPEATABLE READ, whatever the server's default, because only at
// that level does INSERT … SELECT read with locks (under READ COMMITTED it
// would skip a change not yet committed that the DELETE after it then
// waits for and removes, and the count would lose it for good).
func countTx(db *gorm.DB) *sql.TxOptions {
	if db.Dialector.Name() == "mysql" {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead}
	}
	return nil
}

// recountSessions sets session_counts to the sessions of chat_sessions and
// empties session_count_changes, in one transaction: the triggers already
// exist, so a session written meanwhile is either counted here or waits
// for this transaction (MySQL's INSERT … SELECT locks what it reads) and
// leaves its change after it.
func recountSessions(db *gorm.DB) error {
	return db.Transaction(func(tx *gorm.DB) error {
		for _, stmt := range []string{
			"DELETE FROM session_count_changes",
			"DELETE FROM session_counts",
			"INSERT INTO session_counts (queue_id, sessions) SELECT queue_id, COUNT(*) FROM chat_sessions GROUP BY queue_id",
		} {
			if err := tx.Exec(stmt).Error; err != nil {
				return err
			}
		}
		return nil
	}, countTx(db))
}

// FoldSessionCounts adds the session count changes recorded so far into
// session_counts and deletes them, in one transaction; it returns the
// number of changes folded. Counts read meanwhile are unchanged: they see
// the changes either in the log or in the counts, never in both. On MySQL
// the INSERT … SELECT reads the changes with locks, so a change still
// uncommitted below the highest id is waited for and folded, and one that
// takes an id below it later is left for the next fold.
func FoldSessionCounts(ctx context.Context, db *gorm.DB) (int64, error) {
	var folded int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var hi *uint64
		if err := tx.Raw("SELECT MAX(id) FROM session_count_changes").Row().Scan(&hi); err != nil || hi == nil {
			return err
		}
		upsert := "INSERT INTO session_counts (queue_id, sessions) SELECT queue_id, SUM(delta) FROM session_count_changes WHERE id <= ? GROUP BY queue_id "
		if tx.Dialector.Name() == "mysql" {
			upsert += "ON DUPLICATE KEY UPDATE sessions = sessions + VALUES(sessions)"
		} else {
			upsert += "ON CONFLICT (queue_id) DO UPDATE SET sessions = sessions + excluded.sessions"
		}
		if err := tx.Exec(upsert, *hi).Error; err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM session_count_changes WHERE id <= ?", *hi)
		folded = res.RowsAffected
		return res.Error
	}, countTx(db))
	return folded, err
}

// CountSessions is the number of sessions of the queues, exact at the
// moment of the read (one statement over the counts and the changes not
// yet folded); db carries the request's context.
func CountSessions(db *gorm.DB, queues []uint32) (int64, error) {
	if len(queues) == 0 {
		return 0, nil
	}
	var n int64
	err := db.Raw("SELECT COALESCE((SELECT SUM(sessions) FROM session_counts WHERE queue_id IN ?), 0) + "+
		"COALESCE((SELECT SUM(delta) FROM session_count_changes WHERE queue_id IN ?), 0)", queues, queues).Row().Scan(&n)
	return n, err
}

// VerifySessionCounts compares the kept counts (with the pending changes)
// with COUNT(*) of chat_sessions per queue, in one statement and so one
// snapshot, where every committed write has both its session and its
// change. A difference means the triggers were bypassed (TRUNCATE, a table
// restored on its own, triggers dropped and created again): then it counts
// the sessions again and reports true. The maintenance pass calls it with
// its sweep.
func VerifySessionCounts(ctx context.Context, db *gorm.DB) (bool, error) {
	var off []uint32
	err := db.WithContext(ctx).Raw("SELECT q FROM (" +
		"SELECT queue_id AS q, COUNT(*) AS n FROM chat_sessions GROUP BY queue_id " +
		"UNION ALL SELECT queue_id, -sessions FROM session_counts " +
		"UNION ALL SELECT queue_id, -SUM(delta) FROM session_count_changes GROUP BY queue_id" +
		") t GROUP BY q HAVING SUM(n) <> 0").Scan(&off).Error
	if err != nil || len(off) == 0 {
		return false, err
	}
	return true, recountSessions(db.WithContext(ctx))
}
