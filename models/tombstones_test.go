package models_test

import (
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestRowTombstones: a delete from each table beside chat_sessions leaves
// a tombstone with the row's key and its session's queue, whether the
// session still exists, was deleted first (its tombstone gives the queue)
// or the table holds the queue itself.
func TestRowTombstones(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		db := b.DB
		now := time.Date(2024, 11, 3, 10, 0, 0, 0, time.UTC)
		q := models.Queue{Name: "Q"}
		db.Create(&q)
		sk := models.Seeker{ExternalID: "x", FirstSeenAt: now, LastSeenAt: now}
		db.Create(&sk)
		mk := func(guid string) models.ChatSession {
			s := models.ChatSession{SessionGUID: guid, ConversationGUID: guid, QueueID: q.ID, SeekerID: sk.ID, State: "Completed", EntryPoint: "webclient",
				StartedAt: now, QueuedAt: &now, EndedAt: &now}
			if err := db.Create(&s).Error; err != nil {
				t.Fatal(err)
			}
			return s
		}
		s1, s2 := mk("a"), mk("b")
		m1 := models.SessionMessage{SessionID: s1.ID, Seq: 1, SentAt: now, SenderType: "agent"}
		m2 := models.SessionMessage{SessionID: s2.ID, Seq: 1, SentAt: now, SenderType: "agent"}
		kw := models.SessionKeyword{SessionID: s2.ID, Source: "question", Keyword: "vpn", Occurrences: 1, QueueID: q.ID, StartedAt: now}
		r := models.SessionRating{SessionID: s2.ID, QueueID: q.ID, Rating: 4, ScaleMax: 5, SubmittedAt: now}
		for _, row := range []any{&m1, &m2, &kw, &r} {
			if err := db.Create(row).Error; err != nil {
				t.Fatal(err)
			}
		}
		db.Delete(&m1)                                // the session exists
		db.Delete(&models.ChatSession{}, s2.ID)       // the session first …
		db.Delete(&m2)                                // … then its line
		db.Where("session_id = ?", s2.ID).Delete(&kw) // the keyword's own queue
		db.Where("session_id = ?", s2.ID).Delete(&r)  // the rating's own queue
		var ts []models.RowTombstone
		if err := db.Order("id").Find(&ts).Error; err != nil {
			t.Fatal(err)
		}
		want := []struct {
			tbl     string
			row     uint64
			keyword string
		}{{"session_messages", uint64(m1.ID), ""}, {"session_messages", uint64(m2.ID), ""},
			{"session_keywords", uint64(s2.ID), "vpn"}, {"session_ratings", uint64(s2.ID), ""}}
		if len(ts) != len(want) {
			t.Fatalf("%d tombstones, want %d: %+v", len(ts), len(want), ts)
		}
		for i, w := range want {
			got := ts[i]
			kwText := ""
			if got.Keyword != nil {
				kwText = *got.Keyword
			}
			if got.Tbl != w.tbl || got.RowID != w.row || got.QueueID != q.ID || kwText != w.keyword || got.DeletedAt.IsZero() ||
				time.Since(got.DeletedAt) > time.Hour || time.Since(got.DeletedAt) < -time.Hour {
				t.Errorf("tombstone %d: %+v, want %+v in queue %d", i, got, w, q.ID)
			}
		}
	})
}

// TestTombstoneTimesOrderWithBoundTimes: change tracking asks for the
// tombstones deleted after a bound time. On SQLite times compare as text,
// so a trigger's time must be in the driver's layout: one written a minute
// ago is before "now" and after "two minutes ago", whatever the UTC date.
// Times written by an earlier trigger in the ISO layout are rewritten.
func TestTombstoneTimesOrderWithBoundTimes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		db := b.DB
		now := time.Now().UTC()
		q := models.Queue{Name: "Q"}
		db.Create(&q)
		sk := models.Seeker{ExternalID: "x", FirstSeenAt: now, LastSeenAt: now}
		db.Create(&sk)
		s := models.ChatSession{SessionGUID: "a", ConversationGUID: "a", QueueID: q.ID, SeekerID: sk.ID, State: "Completed", EntryPoint: "webclient", StartedAt: now}
		if err := db.Create(&s).Error; err != nil {
			t.Fatal(err)
		}
		m := models.SessionMessage{SessionID: s.ID, Seq: 1, SentAt: now, SenderType: "agent"}
		if err := db.Create(&m).Error; err != nil {
			t.Fatal(err)
		}
		db.Delete(&m)
		db.Delete(&models.ChatSession{}, s.ID)
		count := func(table, op string, at time.Time) int64 {
			var n int64
			if err := db.Table(table).Where("deleted_at "+op+" ?", at).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		check := func(when string) {
			for _, table := range []string{"session_tombstones", "row_tombstones"} {
				if n := count(table, ">", time.Now().UTC().Add(time.Minute)); n != 0 {
					t.Errorf("%s: %s: %d deleted after a minute from now", when, table, n)
				}
				if n := count(table, ">", now.Add(-time.Minute)); n != 1 {
					t.Errorf("%s: %s: %d deleted after a minute ago, want 1", when, table, n)
				}
			}
		}
		check("by the triggers")
		if b.Name != "sqlite" {
			return
		}
		// An earlier trigger's layout, rewritten by the migration.
		for _, table := range []string{"session_tombstones", "row_tombstones"} {
			db.Exec("UPDATE " + table + " SET deleted_at = '2026-06-01T10:00:00.250Z'")
		}
		at := time.Date(2026, 6, 1, 10, 0, 0, 250_000_000, time.UTC)
		if n := count("session_tombstones", ">", at.Add(time.Hour)); n != 1 {
			t.Fatalf("the ISO layout should sort after a later bound time of the same date (n = %d); the test no longer shows the fault", n)
		}
		if err := models.SQLiteTombstoneTimes(db); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"session_tombstones", "row_tombstones"} {
			if n := count(table, ">", at.Add(time.Hour)); n != 0 {
				t.Errorf("rewritten: %s: %d deleted after an hour later", table, n)
			}
			if n := count(table, ">", at.Add(-time.Millisecond)); n != 1 {
				t.Errorf("rewritten: %s: %d deleted after a millisecond before, want 1", table, n)
			}
			if n := count(table, "=", at); n != 1 {
				t.Errorf("rewritten: %s: the time changed (%d equal to %s)", table, n, at)
			}
		}
	})
}
