package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestCancelledQueryStopsOnServer: a statement whose context ends must not
// go on running on the server. The statement waits for a table another
// connection has locked, which on its own would wait for lock_wait_timeout
// (a year by default) even after the client closed its connection.
func TestCancelledQueryStopsOnServer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		if b.Name != "mysql" {
			t.Skip("SQLite runs in-process: a cancelled query stops with its goroutine")
		}
		ctx := context.Background()
		db, err := models.Open(ctx, b.DSN, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sqlDB, _ := db.DB()
		defer sqlDB.Close()

		// The lock holder is a plain connection of the test's own.
		locker, _ := b.DB.DB()
		lconn, err := locker.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer lconn.Close()
		if _, err := lconn.ExecContext(ctx, "LOCK TABLES chat_sessions WRITE"); err != nil {
			t.Fatal(err)
		}
		defer lconn.ExecContext(ctx, "UNLOCK TABLES")

		// The marker is unique per run so statements of other runs don't count.
		marker := fmt.Sprintf("/* cancelled-query-test-%d */", time.Now().UnixNano())
		qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		var n int64
		err = db.WithContext(qctx).Raw("SELECT " + marker + " COUNT(*) FROM chat_sessions").Scan(&n).Error
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("query under a 300ms deadline: %v", err)
		}
		// A statement that computes without writing to the client: the
		// server only notices a closed connection when it writes.
		qctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		err = db.WithContext(qctx).Raw("SELECT " + marker + " BENCHMARK(2000000000, MD5('chime'))").Scan(&n).Error
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("query under a 300ms deadline: %v", err)
		}
		// The server must drop the statement; poll the process list.
		for i := 0; ; i++ {
			var running int64
			if err := lconn.QueryRowContext(ctx,
				"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO NOT LIKE '%PROCESSLIST%'",
				"%"+strings.Trim(marker, "/* ")+"%").Scan(&running); err != nil {
				t.Fatal(err)
			}
			if running == 0 {
				break
			}
			if i == 100 {
				t.Fatal("the cancelled statement still runs on the server after 10 s")
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The pool still works and the next statement is not hit by the KILL.
		if _, err := lconn.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if err := db.WithContext(ctx).Raw("SELECT COUNT(*) FROM chat_sessions").Scan(&n).Error; err != nil {
				t.Fatalf("after the kill: %v", err)
			}
		}
	})
}
