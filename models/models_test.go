package models_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

func TestParseDSN(t *testing.T) {
	cases := []struct {
		in      string
		dialect models.Dialect
		wantErr bool
	}{
		{"sqlite:chime.db", models.SQLite, false},
		{"sqlite:/tmp/x.db", models.SQLite, false},
		{"mysql://root@tcp(127.0.0.1:3306)/chime", models.MySQL, false},
		{"root:pw@tcp(127.0.0.1:3306)/chime?charset=utf8mb4", models.MySQL, false},
		{"", "", true},
		{"sqlite:", "", true},
		{"mysql://root@tcp(127.0.0.1:3306)/", "", true},
		{"postgres://x", "", true},
	}
	for _, c := range cases {
		d, err := models.ParseDSN(c.in)
		if c.wantErr {
			if err == nil {
				t.Errorf("ParseDSN(%q) = %+v, want error", c.in, d)
			}
			continue
		}
		if err != nil || d.Dialect != c.dialect {
			t.Errorf("ParseDSN(%q) = %v, %v; want dialect %s", c.in, d.Dialect, err, c.dialect)
		}
		if d.Dialect == models.MySQL && (!d.MySQL.ParseTime || d.MySQL.Loc != time.UTC) {
			t.Errorf("ParseDSN(%q): parseTime/loc not forced", c.in)
		}
	}
	d, _ := models.ParseDSN("mysql://u:secret@tcp(h:3306)/db")
	if got := d.String(); got == "" || contains(got, "secret") {
		t.Errorf("String() leaks the password: %q", got)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestMigrateIsRepeatableAndKeepsMilliseconds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) { testMigrate(t, b.DB) })
}

func testMigrate(t *testing.T, db *gorm.DB) {
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := models.Migrate(ctx, db); err != nil {
			t.Fatalf("migrate #%d: %v", i+1, err)
		}
	}
	v, err := models.SchemaVersion(ctx, db)
	if err != nil || v != "2026120301_covering_report_indexes" {
		t.Fatalf("schema version = %q, %v", v, err)
	}
	at := time.Date(2020, 11, 1, 4, 59, 59, 999_000_000, time.UTC)
	q := models.Queue{Name: "Q"}
	if err := db.Create(&q).Error; err != nil {
		t.Fatal(err)
	}
	s := models.Seeker{ExternalID: "x", FirstSeenAt: at, LastSeenAt: at}
	db.Create(&s)
	cs := models.ChatSession{SessionGUID: "g", ConversationGUID: "c", QueueID: q.ID, SeekerID: s.ID,
		EntryPoint: "teams", State: models.StateWaiting, StartedAt: at, QueuedAt: &at, LastActivityAt: at}
	if err := db.Create(&cs).Error; err != nil {
		t.Fatal(err)
	}
	var back models.ChatSession
	if err := db.First(&back, cs.ID).Error; err != nil {
		t.Fatal(err)
	}
	if !back.QueuedAt.Equal(at) || back.QueuedAt.Location() != time.UTC && back.QueuedAt.UTC() != at {
		t.Fatalf("queued_at round trip = %v, want %v", back.QueuedAt, at)
	}
	var n int64
	db.Model(&models.ChatSession{}).Where("queued_at >= ? AND queued_at < ?", at, at.Add(time.Millisecond)).Count(&n)
	if n != 1 {
		t.Fatalf("millisecond window matched %d rows, want 1", n)
	}
}

// TestStartedTimesIndexMigration: a database migrated before the index on
// (queue_id, started_at, state, queued_at, accepted_at, ended_at,
// seeker_id) existed gets it from the next migrate, with its columns in
// that order.
func TestStartedTimesIndexMigration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := b.DB
		if err := models.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		m := db.Migrator()
		if !m.HasIndex(&models.ChatSession{}, "ix_cs_q_started_times") {
			t.Fatal("a new database lacks ix_cs_q_started_times")
		}
		// The schema as the previous version left it.
		if err := m.DropIndex(&models.ChatSession{}, "ix_cs_q_started_times"); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("DELETE FROM schema_migrations WHERE id = ?", "2026120202_started_times_index").Error; err != nil {
			t.Fatal(err)
		}
		if m.HasIndex(&models.ChatSession{}, "ix_cs_q_started_times") {
			t.Fatal("index still there after the drop")
		}
		if err := models.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		idx, err := m.GetIndexes(&models.ChatSession{})
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for _, ix := range idx {
			if ix.Name() == "ix_cs_q_started_times" {
				cols = ix.Columns()
			}
		}
		want := []string{"queue_id", "started_at", "state", "queued_at", "accepted_at", "ended_at", "seeker_id"}
		if !slices.Equal(cols, want) {
			t.Fatalf("ix_cs_q_started_times on %v, want %v", cols, want)
		}
	})
}

// TestCoveringIndexMigration: a database whose two report indexes have
// the columns an earlier version gave them gets the covering ones from
// the next migrate; a database that has them already is left alone.
func TestCoveringIndexMigration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := b.DB
		if err := models.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{
			"ix_cs_q_queued":        {"queue_id", "queued_at", "state", "accepted_at", "ended_at", "first_agent_message_at", "conversation_guid"},
			"ix_cs_q_started_times": {"queue_id", "started_at", "state", "queued_at", "accepted_at", "ended_at", "seeker_id"},
		}
		old := map[string]string{
			"ix_cs_q_queued":        "queue_id, queued_at",
			"ix_cs_q_started_times": "queue_id, started_at, state, queued_at, accepted_at, ended_at",
		}
		check := func(when string) {
			t.Helper()
			idx, err := db.Migrator().GetIndexes(&models.ChatSession{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, ix := range idx {
				got[ix.Name()] = ix.Columns()
			}
			for name, cols := range want {
				if !slices.Equal(got[name], cols) {
					t.Errorf("%s: %s on %v, want %v", when, name, got[name], cols)
				}
			}
		}
		check("a new database")
		for name, cols := range old {
			if err := db.Migrator().DropIndex(&models.ChatSession{}, name); err != nil {
				t.Fatal(err)
			}
			if err := db.Exec("CREATE INDEX " + name + " ON chat_sessions (" + cols + ")").Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Exec("DELETE FROM schema_migrations WHERE id = ?", "2026120301_covering_report_indexes").Error; err != nil {
			t.Fatal(err)
		}
		if err := models.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		check("after migrating the earlier columns")
		if err := db.Exec("DELETE FROM schema_migrations WHERE id = ?", "2026120301_covering_report_indexes").Error; err != nil {
			t.Fatal(err)
		}
		if err := models.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		check("migrating again")
	})
}
