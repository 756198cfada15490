// Package dbtest opens migrated test databases: always an embedded SQLite
// file, and a fresh MariaDB/MySQL database when CHIME_TEST_MYSQL_DSN is set
// (the gate of docs/testing.md). Each call gets its own database, so
// packages and tests never share state.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
)

// EnvMySQL names the variable that enables the MySQL suites.
const EnvMySQL = "CHIME_TEST_MYSQL_DSN"

// Backend is one migrated, empty database.
type Backend struct {
	Name string // "sqlite" or "mysql"
	DB   *gorm.DB
	DSN  models.DSN
}

// Backends returns SQLite and, when CHIME_TEST_MYSQL_DSN is set, MySQL.
// In CI (CI=true) a missing MySQL variable fails the test rather than
// silently skipping half the suite.
func Backends(t testing.TB) []Backend {
	t.Helper()
	out := []Backend{SQLite(t)}
	if os.Getenv(EnvMySQL) != "" {
		out = append(out, MySQL(t))
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set in CI: the MySQL suites would not run", EnvMySQL)
	}
	return out
}

// Each runs f once per back end as a subtest named after it.
func Each(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

// SQLite opens a migrated SQLite file in a temporary directory.
func SQLite(t testing.TB) Backend {
	t.Helper()
	dsn, err := models.ParseDSN("sqlite:" + filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	return Open(t, dsn)
}

// MySQL creates a uniquely named database next to the one named by
// CHIME_TEST_MYSQL_DSN, migrates it and drops it when the test ends.
func MySQL(t testing.TB) Backend {
	t.Helper()
	raw := os.Getenv(EnvMySQL)
	if raw == "" {
		t.Skipf("%s not set", EnvMySQL)
	}
	base, err := models.ParseDSN(raw)
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQL, err)
	}
	ctx := context.Background()
	admin, err := models.Open(ctx, base, models.Options{})
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQL, err)
	}
	var b [4]byte
	rand.Read(b[:])
	name := base.MySQL.DBName + "_t" + hex.EncodeToString(b[:])
	if err := admin.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci").Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS `" + name + "`")
		if s, err := admin.DB(); err == nil {
			s.Close()
		}
	})
	cfg := base.MySQL.Clone()
	cfg.DBName = name
	return Open(t, models.DSN{Dialect: models.MySQL, MySQL: cfg})
}

// Open opens and migrates the database behind dsn for a test (a private
// server's, say); the pool is closed at cleanup.
func Open(t testing.TB, dsn models.DSN) Backend {
	t.Helper()
	ctx := context.Background()
	db, err := models.Open(ctx, dsn, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	if err := models.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return Backend{Name: string(dsn.Dialect), DB: db, DSN: dsn}
}

// Bench opens a benchmark database named by raw (a --db value) without
// migrating or writing it, and skips the benchmark when it holds no
// sessions (cmd/chime-bench --load fills one). Slow statements are not
// logged; the pool is closed at cleanup.
func Bench(t testing.TB, raw string) *gorm.DB {
	t.Helper()
	dsn, err := models.ParseDSN(raw)
	if err != nil {
		t.Fatal(err)
	}
	db, err := models.Open(context.Background(), dsn, models.Options{SlowThreshold: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	var n int64
	if err := db.Model(&models.ChatSession{}).Count(&n).Error; err != nil || n == 0 {
		t.Skipf("%s holds no sessions (%v): load it with chime-bench --load", dsn, err)
	}
	return db
}

// EachBench runs fn on each benchmark database named by the environment:
// mysqlVar holds a MySQL DSN, sqliteVar a SQLite file path (either may be
// unset). Each is opened with Bench; with neither set the benchmark is
// skipped with a message naming both variables and what they must hold.
func EachBench(b *testing.B, mysqlVar, sqliteVar, holding string, fn func(b *testing.B, db *gorm.DB)) {
	b.Helper()
	ran := false
	for _, be := range []struct{ name, env, prefix string }{
		{"mysql", mysqlVar, ""},
		{"sqlite", sqliteVar, "sqlite:"},
	} {
		v := os.Getenv(be.env)
		if v == "" {
			continue
		}
		ran = true
		b.Run(be.name, func(b *testing.B) { fn(b, Bench(b, be.prefix+v)) })
	}
	if !ran {
		b.Skipf("set %s and/or %s to databases holding %s", mysqlVar, sqliteVar, holding)
	}
}
