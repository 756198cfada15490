package models_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestSessionCounts: the per-queue session counts equal COUNT(*) of
// chat_sessions after inserts from concurrent transactions that write the
// queues in opposite orders (none may deadlock or fail), deletes, moves to
// another queue, other updates, a REPLACE, and folds run while the
// writers write;
// a fold changes no count and empties the change table; the check finds
// counts that a write around the triggers left wrong, and repairs them.
func TestSessionCounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := b.DB
		now := time.Date(2024, 11, 3, 10, 0, 0, 0, time.UTC)
		var queues []uint32
		for i := range 3 {
			q := models.Queue{Name: fmt.Sprint("Q", i)}
			if err := db.Create(&q).Error; err != nil {
				t.Fatal(err)
			}
			queues = append(queues, q.ID)
		}
		sk := models.Seeker{ExternalID: "x", FirstSeenAt: now, LastSeenAt: now}
		db.Create(&sk)
		n := 0
		var mu sync.Mutex
		session := func(q uint32) *models.ChatSession {
			mu.Lock()
			defer mu.Unlock()
			n++
			guid := fmt.Sprintf("s%06d", n)
			return &models.ChatSession{SessionGUID: guid, ConversationGUID: guid, QueueID: q, SeekerID: sk.ID, State: "Completed",
				EntryPoint: "webclient", StartedAt: now, QueuedAt: &now, EndedAt: &now}
		}
		check := func(when string) {
			t.Helper()
			for _, set := range [][]uint32{queues, queues[:1], queues[1:], {queues[2]}, {9999}} {
				var want int64
				db.Model(&models.ChatSession{}).Where("queue_id IN ?", set).Count(&want)
				got, err := models.CountSessions(db, set)
				if err != nil || got != want {
					t.Errorf("%s: queues %v: %d sessions counted (%v), want %d", when, set, got, err, want)
				}
			}
		}
		check("before any session")

		// Writers in concurrent transactions, each touching every queue,
		// half of them in the opposite order, while folds run.
		writers := 4
		if b.Name == "sqlite" {
			writers = 1 // one writer at a time on SQLite
		}
		var wg sync.WaitGroup
		errs := make(chan error, writers+1)
		stop := make(chan struct{})
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					err := db.Transaction(func(tx *gorm.DB) error {
						for i := range 9 {
							q := queues[i%3]
							if w%2 == 1 {
								q = queues[2-i%3]
							}
							if err := tx.Create(session(q)).Error; err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		folder := make(chan struct{})
		go func() {
			defer close(folder)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := models.FoldSessionCounts(ctx, db); err != nil {
					errs <- fmt.Errorf("fold: %w", err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		wg.Wait()
		close(stop)
		<-folder
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		check("after concurrent writers and folds")

		// Deletes, a move to another queue, an update that moves nothing.
		var ids []uint
		db.Model(&models.ChatSession{}).Where("queue_id = ?", queues[0]).Order("id").Limit(5).Pluck("id", &ids)
		if len(ids) != 5 {
			t.Fatalf("only %d sessions in queue %d", len(ids), queues[0])
		}
		db.Delete(&models.ChatSession{}, ids[0])
		db.Exec("DELETE FROM chat_sessions WHERE id IN ?", ids[1:3])
		db.Exec("UPDATE chat_sessions SET queue_id = ? WHERE id = ?", queues[2], ids[3])
		db.Exec("UPDATE chat_sessions SET state = 'Missed', queue_id = queue_id WHERE id = ?", ids[4])
		check("after deletes and moves")

		// REPLACE removes the row it replaces (and here moves it to
		// another queue): its delete triggers must fire on SQLite too.
		err := db.Transaction(func(tx *gorm.DB) error {
			for _, stmt := range []string{
				"CREATE TEMPORARY TABLE tmp_cs AS SELECT * FROM chat_sessions WHERE id = ?",
				"UPDATE tmp_cs SET queue_id = ?",
				"REPLACE INTO chat_sessions SELECT * FROM tmp_cs",
				"DROP TEMPORARY TABLE tmp_cs",
			} {
				var args []any
				switch {
				case strings.Contains(stmt, "WHERE id"):
					args = []any{ids[4]}
				case strings.HasPrefix(stmt, "UPDATE"):
					args = []any{queues[1]}
				case strings.HasPrefix(stmt, "DROP") && b.Name == "sqlite":
					stmt = "DROP TABLE temp.tmp_cs"
				}
				if err := tx.Exec(stmt, args...).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		check("after a REPLACE into another queue")

		folded, err := models.FoldSessionCounts(ctx, db)
		if err != nil || folded == 0 {
			t.Fatalf("fold: %d changes (%v), want some", folded, err)
		}
		var left int64
		db.Model(&models.SessionCountChange{}).Count(&left)
		if left != 0 {
			t.Errorf("%d changes left after a fold", left)
		}
		check("after a fold")
		if folded, err := models.FoldSessionCounts(ctx, db); err != nil || folded != 0 {
			t.Errorf("a second fold folded %d (%v)", folded, err)
		}
		db.Create(session(queues[1]))
		check("after a fold and an insert")

		// The check finds nothing wrong while the triggers keep the
		// counts, and counts again when a write bypassed them.
		if fixed, err := models.VerifySessionCounts(ctx, db); err != nil || fixed {
			t.Errorf("verify on right counts: recounted %v (%v)", fixed, err)
		}
		db.Exec("UPDATE session_counts SET sessions = sessions + 5 WHERE queue_id = ?", queues[2])
		db.Exec("DELETE FROM session_count_changes")
		if fixed, err := models.VerifySessionCounts(ctx, db); err != nil || !fixed {
			t.Errorf("verify on wrong counts: recounted %v (%v)", fixed, err)
		}
		check("after a recount")
		if fixed, err := models.VerifySessionCounts(ctx, db); err != nil || fixed {
			t.Errorf("verify after the recount: recounted %v (%v)", fixed, err)
		}
	})
}
