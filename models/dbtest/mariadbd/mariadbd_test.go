package mariadbd_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/chime-reports/chime-reports/models/dbtest/mariadbd"
)

// TestStopStartKeepsData stops and restarts a server on the same port and
// datadir, then crashes it and restarts it again.
func TestStopStartKeepsData(t *testing.T) {
	srv := mariadbd.New(t, mariadbd.Options{ServerID: 7, LogBin: true})
	if err := srv.CreateDatabase("d"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", srv.DSN("d"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO t VALUES (1)")
	var id, logBin int
	if err := db.QueryRowContext(ctx, "SELECT @@server_id, @@log_bin").Scan(&id, &logBin); err != nil {
		t.Fatal(err)
	}
	if id != 7 || logBin != 1 {
		t.Fatalf("server_id=%d log_bin=%d, want 7 and 1", id, logBin)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if srv.Running() {
		t.Fatal("Running after Stop")
	}
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("ping succeeded with the server stopped")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO t VALUES (2)")

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d rows after restarts, want 2", n)
	}
}

// TestTwoServers runs a primary and a replica side by side.
func TestTwoServers(t *testing.T) {
	a := mariadbd.New(t, mariadbd.Options{ServerID: 1, LogBin: true})
	b := mariadbd.New(t, mariadbd.Options{ServerID: 2})
	if a.Addr() == b.Addr() {
		t.Fatalf("both servers on %s", a.Addr())
	}
	for i, s := range []*mariadbd.Server{a, b} {
		db, err := sql.Open("mysql", s.DSN(""))
		if err != nil {
			t.Fatal(err)
		}
		var id int
		if err := db.QueryRow("SELECT @@server_id").Scan(&id); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if id != i+1 {
			t.Fatalf("server %d: server_id %d", i+1, id)
		}
	}
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	// The first statement after a restart may meet a stale pooled
	// connection; database/sql retries driver.ErrBadConn itself.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
