package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models/dbtest"
)

// On an existing database the maintainer builds the store in the
// background, then keeps it current: a session changed afterwards shows
// in the store once a pass has run, with nothing left dirty.
func TestMaintainerBuildsThenMaintains(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		load(t, b.DB, 300)
		ctx, cancel := context.WithCancel(context.Background())
		m := &Maintainer{DB: b.DB, Every: 20 * time.Millisecond}
		done := make(chan struct{})
		go func() { defer close(done); m.Run(ctx) }()
		defer func() { cancel(); <-done }()
		waitFor(t, func() bool { ok, _ := Built(ctx, b.DB); return ok })
		var id uint
		b.DB.Raw("SELECT MIN(id) FROM chat_sessions WHERE queued_at IS NOT NULL").Scan(&id)
		err := b.DB.Transaction(func(tx *gorm.DB) error { // the keyword copies follow the session
			if err := tx.Exec("UPDATE chat_sessions SET queue_id = 5, updated_at = ? WHERE id = ?", time.Now().UTC(), id).Error; err != nil {
				return err
			}
			return tx.Exec("UPDATE session_keywords SET queue_id = 5 WHERE session_id = ?", id).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			var q uint32
			b.DB.Raw("SELECT queue_id FROM report_store_sessions WHERE session_id = ?", id).Scan(&q)
			return q == 5
		})
		// A pass that began after the capture has completed.
		_, n, _ := m.Last()
		waitFor(t, func() bool { _, k, _ := m.Last(); return k >= n+2 })
		if ps, _, err := m.Last(); err != nil || ps.DirtyLeft != 0 {
			t.Fatalf("last pass: %+v, %v", ps, err)
		}
		sameAsRebuild(t, b.DB)
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Exactly one process maintains the store: a second one is refused the
// lock while the first holds it, and gets it once released.
func TestMaintenanceLockIsExclusive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		l, err := acquire(ctx, b.DB, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !l.held(ctx) {
			t.Fatal("the holder does not hold the lock")
		}
		if _, err := Pass(ctx, b.DB, 0, PassOptions{}); !errors.Is(err, ErrBusy) {
			t.Fatalf("second maintainer: %v, want ErrBusy", err)
		}
		l.release()
		if _, err := Pass(ctx, b.DB, time.Second, PassOptions{}); err != nil {
			t.Fatalf("after release: %v", err)
		}
	})
}
