package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/models"
)

// run executes the CLI as a user would and returns stdout and the error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestCLIUsersAndKeys(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "cli.db")
	if _, err := run(t, "migrate", "--db", db, "--log-level", "error"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "users", "add", "--login", "carol", "--db", db, "--log-level", "error"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "users", "add", "--login", "carol", "--db", db, "--log-level", "error"); err == nil {
		t.Error("adding carol twice succeeded")
	}
	if _, err := run(t, "users", "add", "--login", "dan", "--queues", "x", "--db", db); err == nil || !strings.Contains(err.Error(), "--queues") {
		t.Errorf("bad --queues: %v", err)
	}
	out, err := run(t, "keys", "generate", "--user", "carol", "--db", db, "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	// stdout holds the key and nothing else, so $(…) captures it.
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$`).MatchString(out) {
		t.Errorf("keys generate printed %q", out)
	}
	key := strings.TrimSpace(out)
	list, err := run(t, "keys", "list", "--db", db, "--log-level", "error")
	if err != nil || !strings.Contains(list, "carol") || strings.Contains(list, key) || !strings.Contains(list, key[len(key)-4:]) {
		t.Errorf("keys list (%v):\n%s", err, list)
	}
	users, err := run(t, "users", "list", "--db", db, "--log-level", "error")
	if err != nil || !strings.Contains(users, "carol") || !strings.Contains(users, key[len(key)-4:]) {
		t.Errorf("users list (%v):\n%s", err, users)
	}
	if _, err := run(t, "keys", "revoke", "--user", "carol", "--db", db, "--log-level", "error"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "keys", "revoke", "--user", "carol", "--db", db, "--log-level", "error"); err == nil {
		t.Error("revoking twice succeeded")
	}
	if _, err := run(t, "keys", "generate", "--user", "nobody", "--db", db, "--log-level", "error"); err == nil {
		t.Error("a key for an unknown user")
	}
	if _, err := run(t, "keywords", "reindex", "--rebuild", "--stop-words", "a,b", "--db", db, "--log-level", "error"); err != nil {
		t.Errorf("keywords reindex: %v", err)
	}
	if _, err := run(t, "serve", "--db", "postgres://x"); err == nil || !strings.Contains(err.Error(), "--db") {
		t.Errorf("bad --db: %v", err)
	}
}

// TestCLIFixturesStream: `fixtures stream` refuses bad flags and writes
// sessions for its duration on the wall clock.
func TestCLIFixturesStream(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "stream.db")
	if _, err := run(t, "migrate", "--db", db, "--log-level", "error"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"--rate", "0"}, {"--rate", "-3"}, {"--duration", "-1s"}, {"--tick", "0s"}} {
		if _, err := run(t, append([]string{"fixtures", "stream", "--db", db}, bad...)...); err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("fixtures stream %v: %v", bad, err)
		}
	}
	if _, err := run(t, "fixtures", "stream", "--db", db, "--rate", "20", "--duration", "3s", "--tick", "200ms", "--log-level", "error"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "users", "list", "--db", db, "--log-level", "error")
	if err != nil || !strings.Contains(out, "alice") {
		t.Fatalf("the stream did not create the reference data (%v):\n%s", err, out)
	}
	dsn, err := models.ParseDSN(db)
	if err != nil {
		t.Fatal(err)
	}
	gdb, err := models.Open(context.Background(), dsn, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := gdb.Model(&models.ChatSession{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := gdb.DB(); err == nil {
		sqlDB.Close()
	}
	// 20 a second for 3 s: about 60 (Poisson).
	if n < 25 || n > 120 {
		t.Errorf("%d sessions after 3 s at 20/s", n)
	}
}
