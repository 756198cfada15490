package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest/mariadbd"
)

// replication is a private MariaDB primary and a second private server
// replicating from it (GTID, from the first binlog event).
type replication struct {
	t                *testing.T
	primary, replica *mariadbd.Server
	prim, repl       *sql.DB // root connections to each server, no database
}

func newReplication(t *testing.T) *replication {
	t.Helper()
	r := &replication{t: t,
		primary: mariadbd.New(t, mariadbd.Options{ServerID: 1, LogBin: true}),
		replica: mariadbd.New(t, mariadbd.Options{ServerID: 2}),
	}
	r.prim, r.repl = r.conn(r.primary), r.conn(r.replica)
	// The binlog holds everything since the primary started, so an empty
	// gtid_slave_pos replays it all: CREATE DATABASE, migrations, data.
	r.exec(r.repl, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1", r.primary.Port()))
	r.exec(r.repl, "START SLAVE")
	return r
}

func (r *replication) conn(s *mariadbd.Server) *sql.DB {
	db, err := sql.Open("mysql", s.DSN(""))
	if err != nil {
		r.t.Fatal(err)
	}
	db.SetMaxOpenConns(2)
	r.t.Cleanup(func() { db.Close() })
	return db
}

func (r *replication) exec(db *sql.DB, q string) {
	r.t.Helper()
	if _, err := db.Exec(q); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
}

// catchUp waits until the replica has applied everything the primary has
// written (MASTER_GTID_WAIT blocks in the server; no polling here).
func (r *replication) catchUp() {
	r.t.Helper()
	var pos string
	if err := r.prim.QueryRow("SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
		r.t.Fatal(err)
	}
	var res int
	if err := r.repl.QueryRow("SELECT MASTER_GTID_WAIT(?, 120)", pos).Scan(&res); err != nil || res != 0 {
		var st string
		r.repl.QueryRow("SELECT CONCAT_WS(' / ', @@gtid_slave_pos, @@gtid_current_pos)").Scan(&st)
		r.t.Fatalf("replica did not reach %s (result %d, err %v; replica at %s)", pos, res, err, st)
	}
}

// count runs a one-number query on a server's copy of database chime.
func (r *replication) count(db *sql.DB, q string, args ...any) int {
	r.t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestReplicaService runs the service over a primary and a real replica:
// with replication stopped, reports read the replica (they miss a session
// written on the primary) while keys, key checks and audit records use the
// primary; after START SLAVE the report sees the session; with the replica
// down reads fail over to the primary.
func TestReplicaService(t *testing.T) {
	ctx := context.Background()
	rp := newReplication(t)
	if err := rp.primary.CreateDatabase("chime"); err != nil {
		t.Fatal(err)
	}
	rp.catchUp() // a replica that lacks the database is "down" until its next check
	primDSN, err := models.ParseDSN(rp.primary.DSN("chime"))
	if err != nil {
		t.Fatal(err)
	}
	replDSN, err := models.ParseDSN(rp.replica.DSN("chime"))
	if err != nil {
		t.Fatal(err)
	}
	// Set up as `serve --db … --db-replica …` does: migrate through the
	// handle Open returns, which is pinned to the primary.
	db, err := models.Open(ctx, primDSN, models.Options{Replicas: []models.DSN{replDSN}, ReplicaCheckEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { models.Close(db) })
	if err := models.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := golden.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return golden.Now }
	ks := keys.New(db, clock, nil)
	adminKey, err := ks.Generate(ctx, golden.Admin)
	if err != nil {
		t.Fatal(err)
	}
	bobOld, err := ks.Generate(ctx, golden.Bob)
	if err != nil {
		t.Fatal(err)
	}
	rp.catchUp()
	web := httptest.NewServer(server.NewHandler(server.Deps{DB: db, Clock: clock, Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(web.Close)

	// Reads spread over replicas at different positions: no ETags, or a tag
	// read on one replica could validate a staler body from another.
	{
		req, _ := http.NewRequest(http.MethodGet, web.URL+"/Chime/Report/GlobalChatsPerDay?start=2024-10-27&stop=2024-11-01", nil)
		req.Header.Set("Authorization", "Bearer "+adminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != "" {
			t.Fatalf("closed-window report with replicas: %d, ETag %q; want 200 without a tag", resp.StatusCode, resp.Header.Get("ETag"))
		}
	}

	const countPath = "/odata/Sessions/$count"
	sessions := func(key string) string {
		t.Helper()
		status, body := plainGet(t, web, key, countPath)
		if status != 200 {
			t.Fatalf("%s: %d %s", countPath, status, body)
		}
		return body
	}
	before := sessions(adminKey)
	if want := fmt.Sprint(rp.count(rp.prim, "SELECT COUNT(*) FROM chime.chat_sessions")); before != want {
		t.Fatalf("service counts %s sessions, the primary holds %s", before, want)
	}

	// Replication stops; the primary moves on.
	rp.exec(rp.repl, "STOP SLAVE")
	var s models.ChatSession
	if err := db.Where("queue_id = ?", 1).Order("id").First(&s).Error; err != nil {
		t.Fatal(err)
	}
	s.ID, s.SessionGUID, s.ParentSessionID = 0, uuid.NewString(), nil
	if err := db.Create(&s).Error; err != nil {
		t.Fatal(err)
	}
	if got := sessions(adminKey); got != before {
		t.Errorf("with replication stopped the report counts %s sessions, want the replica's %s (it read the primary)", got, before)
	}

	// A key generated now exists on the primary only: it works at once,
	// and the key it replaced stops at once.
	bobNew, err := ks.Generate(ctx, golden.Bob)
	if err != nil {
		t.Fatal(err)
	}
	hash := keys.Hash(bobNew)
	if n := rp.count(rp.repl, "SELECT COUNT(*) FROM chime.api_keys WHERE key_hash = ?", hash); n != 0 {
		t.Fatalf("the replica has the new key (replication was to be stopped)")
	}
	if n := rp.count(rp.prim, "SELECT COUNT(*) FROM chime.api_keys WHERE key_hash = ?", hash); n != 1 {
		t.Fatalf("the primary has %d rows for the new key", n)
	}
	auditBefore := rp.count(rp.prim, "SELECT COUNT(*) FROM chime.audit_log WHERE user_id = ?", golden.Bob)
	if status, body := plainGet(t, web, bobNew, countPath); status != 200 {
		t.Errorf("a key generated a moment ago (not yet on the replica): %d %s", status, body)
	}
	if status, _ := plainGet(t, web, bobOld, countPath); status != 401 {
		t.Errorf("the key it replaced (still active on the replica): %d, want 401", status)
	}
	if n := rp.count(rp.prim, "SELECT COUNT(*) FROM chime.audit_log WHERE user_id = ?", golden.Bob); n != auditBefore+1 {
		t.Errorf("audit records of Bob's call on the primary: %d, want %d", n, auditBefore+1)
	}
	if n := rp.count(rp.repl, "SELECT COUNT(*) FROM chime.audit_log WHERE user_id = ?", golden.Bob); n != 0 {
		t.Errorf("the stopped replica has %d audit records of Bob", n)
	}

	// Replication resumes: the report sees the session.
	rp.exec(rp.repl, "START SLAVE")
	rp.catchUp()
	after := sessions(adminKey)
	if want := fmt.Sprint(rp.count(rp.prim, "SELECT COUNT(*) FROM chime.chat_sessions")); after != want || after == before {
		t.Errorf("after catching up the report counts %s sessions, want the primary's %s (before: %s)", after, want, before)
	}

	// The replica goes down: /readyz says so and stays 200, reads fail over
	// to the primary.
	rp.exec(rp.repl, "STOP SLAVE")
	if err := db.Create(&models.ChatSession{SessionGUID: uuid.NewString(), ConversationGUID: s.ConversationGUID, QueueID: s.QueueID,
		SeekerID: s.SeekerID, EntryPoint: s.EntryPoint, State: s.State, StartedAt: s.StartedAt, LastActivityAt: s.LastActivityAt}).Error; err != nil {
		t.Fatal(err)
	}
	if err := rp.replica.Stop(); err != nil {
		t.Fatal(err)
	}
	status, body := plainGet(t, web, "", "/readyz")
	if status != 200 || !strings.Contains(body, "replica 1: down") {
		t.Errorf("/readyz with the replica down: %d %q", status, body)
	}
	want := fmt.Sprint(rp.count(rp.prim, "SELECT COUNT(*) FROM chime.chat_sessions"))
	if got := sessions(adminKey); got != want {
		t.Errorf("with the replica down the report counts %s sessions, want the primary's %s", got, want)
	}
	if err := rp.replica.Start(); err != nil {
		t.Fatal(err)
	}
	status, body = plainGet(t, web, "", "/readyz")
	if status != 200 || !strings.Contains(body, "replica 1: up") {
		t.Errorf("/readyz with the replica back: %d %q", status, body)
	}
}

// plainGet sends a GET with an optional Bearer key and returns the status
// and the body as text.
func plainGet(t *testing.T, srv *httptest.Server, key, path string) (int, string) {
	t.Helper()
	status, raw := scaleGet(t, srv, key, path)
	return status, strings.TrimSpace(string(raw))
}
