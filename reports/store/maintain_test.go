package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
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
// TestMaintenanceLockIsPerDatabase: MySQL user locks are server-wide, so
// the store's lock is named after its database; two databases on one
// server are maintained at once, and a long database name still gives a
// name MySQL takes (at most 64 characters).
func TestMaintenanceLockIsPerDatabase(t *testing.T) {
	for _, schema := range []string{"chime", strings.Repeat("x", 64)} {
		if n := LockName(schema); len(n) > 64 || !strings.HasPrefix(n, LockPrefix) {
			t.Errorf("LockName(%q) = %q", schema, n)
		}
	}
	if LockName("a") == LockName("b") || LockName(strings.Repeat("x", 64)) == LockName(strings.Repeat("y", 64)) {
		t.Error("two databases share a lock name")
	}
	ctx := context.Background()
	one, two := dbtest.MySQL(t), dbtest.MySQL(t)
	l, err := acquire(ctx, one.DB, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.release()
	if _, err := Pass(ctx, two.DB, 0, PassOptions{}); err != nil {
		t.Fatalf("a pass on another database waited for this one's lock: %v", err)
	}
	if _, err := Pass(ctx, one.DB, 0, PassOptions{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("a second maintainer of the same database: %v, want ErrBusy", err)
	}
}

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

// TestPassRunsDeadlockedTransactionsAgain: a transaction the server rolled
// back as a deadlock victim (or after a lock wait time-out) runs again,
// counted; any other error ends at once; a transaction that keeps
// deadlocking gives up after retryAttempts runs.
func TestPassRunsDeadlockedTransactionsAgain(t *testing.T) {
	ctx := context.Background()
	deadlock := &mysql.MySQLError{Number: 1213, Message: "Deadlock found when trying to get lock"}
	var ps PassStats
	runs := 0
	err := ps.again(ctx, func() error {
		runs++
		if runs < 3 {
			return deadlock
		}
		return nil
	})
	if err != nil || runs != 3 || ps.Retries != 2 {
		t.Fatalf("deadlocked twice: err %v, runs %d, retries %d; want nil, 3, 2", err, runs, ps.Retries)
	}
	other := errors.New("syntax")
	runs = 0
	if err := ps.again(ctx, func() error { runs++; return other }); !errors.Is(err, other) || runs != 1 {
		t.Fatalf("another error: %v after %d runs, want it after 1", err, runs)
	}
	runs = 0
	if err := ps.again(ctx, func() error { runs++; return deadlock }); !errors.Is(err, deadlock) || runs != retryAttempts {
		t.Fatalf("always deadlocked: %v after %d runs, want it after %d", err, runs, retryAttempts)
	}
}

// A rebuild is a sweep: it records when it began, and a pass asked to
// sweep when the last sweep is older than SweepAfter sweeps only then
// (a restarted serve does not read every session again at start-up),
// and when none was ever recorded. Sweep forces one.
func TestSweepAfterLastRecorded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		load(t, b.DB, 60)
		before := time.Now().Add(-time.Second)
		if _, err := Rebuild(ctx, b.DB, time.Second, BuildOptions{}); err != nil {
			t.Fatal(err)
		}
		st, err := state(b.DB)
		if err != nil {
			t.Fatal(err)
		}
		if st.SweptAt == nil || st.SweptAt.Before(before) || st.SweptAt.After(time.Now()) {
			t.Fatalf("after a rebuild SweptAt = %v, want the build's start", st.SweptAt)
		}
		pass := func(opt PassOptions) bool {
			t.Helper()
			ps, err := Pass(ctx, b.DB, time.Second, opt)
			if err != nil {
				t.Fatal(err)
			}
			return ps.Swept
		}
		if pass(PassOptions{SweepAfter: 10 * time.Minute}) {
			t.Error("swept right after a rebuild")
		}
		if !pass(PassOptions{Sweep: true}) {
			t.Error("Sweep did not sweep")
		}
		old := time.Now().Add(-11 * time.Minute).UTC()
		if err := b.DB.Exec("UPDATE report_store_state SET swept_at = ?", old).Error; err != nil {
			t.Fatal(err)
		}
		if !pass(PassOptions{SweepAfter: 10 * time.Minute}) {
			t.Error("no sweep 11 minutes after the last")
		}
		if pass(PassOptions{SweepAfter: 10 * time.Minute}) {
			t.Error("swept again right after a sweep")
		}
		if err := b.DB.Exec("UPDATE report_store_state SET swept_at = NULL").Error; err != nil {
			t.Fatal(err)
		}
		if !pass(PassOptions{SweepAfter: 10 * time.Minute}) {
			t.Error("no sweep when none was recorded")
		}
		if pass(PassOptions{}) {
			t.Error("swept when not asked to")
		}
	})
}
