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
