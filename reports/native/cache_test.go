package native_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports/store"
)

// A closed window of the golden set (golden.Now is 2024-11-04T12:00Z) and
// one that reaches past now.
const (
	closedWindow = "start=2024-10-27&stop=2024-11-02"
	openWindow   = "start=2024-10-27&stop=2024-11-05"
)

// rowsOf returns the "rows" of a JSON report answer, as raw JSON.
func rowsOf(t *testing.T, a answer) string {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var env struct {
		Rows json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(a.body, &env); err != nil {
		t.Fatalf("%v: %.200s", err, a.body)
	}
	return string(env.Rows)
}

// cell returns column col of the row whose Date is day.
func cell(t *testing.T, a answer, day, col string) float64 {
	t.Helper()
	var env struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(a.body, &env); err != nil {
		t.Fatalf("%v: %.200s", err, a.body)
	}
	for _, r := range env.Rows {
		if r["Date"] == day {
			v, _ := r[col].(float64)
			return v
		}
	}
	t.Fatalf("no %s for %s in %s", col, day, a.body)
	return 0
}

// revalidate asks again with the tag of a and expects a 304 without body
// (GET and HEAD).
func (s *server) revalidate(t *testing.T, user uint, path string, a answer) {
	t.Helper()
	tag := a.header.Get("ETag")
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		b := s.do(method, user, path, "If-None-Match", tag)
		if b.status != http.StatusNotModified || len(b.body) != 0 {
			t.Fatalf("%s %s with If-None-Match %s: %d %q, want 304 without body", method, path, tag, b.status, b.body)
		}
		if got := b.header.Get("ETag"); got != tag {
			t.Errorf("304 ETag %q, want %q", got, tag)
		}
		if got := b.header.Get("Cache-Control"); got != "private, no-cache" {
			t.Errorf("304 Cache-Control %q", got)
		}
	}
}

func TestConditionalReports(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		s := newServer(t, b)
		// As serve runs: the interval store built (the fingerprints of
		// windows on its grid are read from it), the answer cache on.
		if _, err := store.Rebuild(context.Background(), b.DB, time.Second, store.BuildOptions{}); err != nil {
			t.Fatal(err)
		}
		inbound := "/Chime/Report/InboundVsAnsweredChats?queueId=1&" + closedWindow
		first := s.get(golden.Alice, inbound)
		tag := first.header.Get("ETag")
		if first.status != http.StatusOK || len(tag) < 10 || tag[0] != '"' {
			t.Fatalf("closed window: status %d, ETag %q (want a strong tag)", first.status, tag)
		}
		if cc := first.header.Get("Cache-Control"); cc != "private, no-cache" {
			t.Errorf("Cache-Control %q", cc)
		}
		if v := first.header.Values("Vary"); len(v) == 0 || v[0] != "Authorization" {
			t.Errorf("Vary %q, want Authorization first", v)
		}
		s.revalidate(t, golden.Alice, inbound, first)
		if again := s.get(golden.Alice, inbound); again.header.Get("ETag") != tag {
			t.Errorf("the same request on the same data changed its tag: %q then %q", tag, again.header.Get("ETag"))
		}
		for _, h := range []string{`W/` + tag, `"nope", ` + tag, `*`} {
			if a := s.get(golden.Alice, inbound, "If-None-Match", h); a.status != http.StatusNotModified {
				t.Errorf("If-None-Match %s: %d, want 304", h, a.status)
			}
		}
		if a := s.get(golden.Alice, inbound, "If-None-Match", `"nope"`); a.status != http.StatusOK || a.header.Get("ETag") != tag {
			t.Errorf("a stale tag: %d %q, want 200 with %q", a.status, a.header.Get("ETag"), tag)
		}

		t.Run("every part of the request is in the tag", func(t *testing.T) {
			tags := map[string]string{"alice json": tag}
			for name, a := range map[string]answer{
				"admin json":    s.get(golden.Admin, inbound),
				"alice csv":     s.get(golden.Alice, inbound+"&format=csv"),
				"alice xlsx":    s.get(golden.Alice, inbound+"&format=xlsx"),
				"alice bom":     s.get(golden.Alice, inbound+"&format=csv&bom=true"),
				"alice zone":    s.get(golden.Alice, inbound+"&zone=Europe/London"),
				"alice queue 2": s.get(golden.Alice, "/Chime/Report/InboundVsAnsweredChats?queueId=2&"+closedWindow),
				"alice window":  s.get(golden.Alice, "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-10-27&stop=2024-11-01"),
				"alice report":  s.get(golden.Alice, "/Chime/Report/ChatsByHourOfDay?queueId=1&"+closedWindow),
			} {
				tg := a.header.Get("ETag")
				if a.status != http.StatusOK || tg == "" {
					t.Fatalf("%s: %d, ETag %q", name, a.status, tg)
				}
				for other, o := range tags {
					if o == tg {
						t.Errorf("%s and %s share the tag %s", name, other, tg)
					}
				}
				tags[name] = tg
			}
			// The same instants written another way are the same request
			// (alice's default zone is New York).
			same := s.get(golden.Alice, "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-10-27T04:00:00Z&stop=2024-11-02T23:59:59.999-04:00&zone=America/New_York")
			if same.header.Get("ETag") != tag {
				t.Errorf("an equal window spelt differently got %q, want %q", same.header.Get("ETag"), tag)
			}
			// Users who see different queues get different global answers and tags.
			global := "/Chime/Report/GlobalChatsPerDay?" + closedWindow
			ga, gb := s.get(golden.Admin, global), s.get(golden.Alice, global)
			if ga.header.Get("ETag") == "" || ga.header.Get("ETag") == gb.header.Get("ETag") {
				t.Errorf("admin and alice: tags %q and %q", ga.header.Get("ETag"), gb.header.Get("ETag"))
			}
			if a := s.get(golden.Admin, global, "If-None-Match", gb.header.Get("ETag")); a.status != http.StatusOK {
				t.Errorf("admin with alice's tag: %d, want 200", a.status)
			}
		})

		t.Run("open windows and uncovered reports have no tag", func(t *testing.T) {
			for _, path := range []string{
				"/Chime/Report/InboundVsAnsweredChats?queueId=1&" + openWindow,
				"/Chime/Report/InboundVsAnsweredChats?queueId=1", // the last 30 days, today included
				"/Chime/Report/AgentChatsAnswered?queueId=1&" + closedWindow,
				"/Chime/Report/QueueDepthByHour?queueId=1&" + closedWindow,
			} {
				a := s.get(golden.Alice, path, "If-None-Match", "*")
				if a.status != http.StatusOK || a.header.Get("ETag") != "" || a.header.Get("Cache-Control") != "private, no-cache" {
					t.Errorf("%s: %d, ETag %q, Cache-Control %q; want 200, no tag, private, no-cache",
						path, a.status, a.header.Get("ETag"), a.header.Get("Cache-Control"))
				}
			}
		})

		t.Run("errors and invisible queues", func(t *testing.T) {
			a := s.get(golden.Alice, "/Chime/Report/InboundVsAnsweredChats?queueId=3&"+closedWindow, "If-None-Match", "*")
			if a.status != http.StatusNotFound || a.header.Get("ETag") != "" || a.header.Get("Cache-Control") != "no-store" {
				t.Errorf("invisible queue: %d, ETag %q, Cache-Control %q", a.status, a.header.Get("ETag"), a.header.Get("Cache-Control"))
			}
		})

		t.Run("a new session in the window", func(t *testing.T) {
			before := s.get(golden.Alice, inbound)
			at := time.Date(2024, 10, 28, 10, 0, 0, 0, time.UTC)
			err := b.DB.Create(&models.ChatSession{SessionGUID: "cache-test-new", ConversationGUID: "cache-test-new",
				QueueID: 1, SeekerID: 1, EntryPoint: "teams", State: models.StateAbandoned, EndReason: new("seeker_left"),
				StartedAt: at, QueuedAt: &at, EndedAt: new(at.Add(time.Minute)), LastActivityAt: at.Add(time.Minute)}).Error
			if err != nil {
				t.Fatal(err)
			}
			after := s.get(golden.Alice, inbound, "If-None-Match", before.header.Get("ETag"))
			if after.status != http.StatusOK || after.header.Get("ETag") == before.header.Get("ETag") {
				t.Fatalf("after an insert: %d with tag %q (before: %q); want 200 with a new tag",
					after.status, after.header.Get("ETag"), before.header.Get("ETag"))
			}
			if b4, now := cell(t, before, "2024-10-28", "Inbound"), cell(t, after, "2024-10-28", "Inbound"); now != b4+1 {
				t.Errorf("Inbound on 2024-10-28: %v then %v, want one more", b4, now)
			}
			s.revalidate(t, golden.Alice, inbound, after)
		})

		// A session of the window that was answered and closed.
		var sid uint
		if err := b.DB.Raw(`SELECT s.id FROM chat_sessions s WHERE s.queue_id = 1 AND s.queued_at >= ? AND s.queued_at < ?
			AND s.accepted_at IS NOT NULL AND s.ended_at IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM session_ratings r WHERE r.session_id = s.id) ORDER BY s.id LIMIT 1`,
			time.Date(2024, 10, 27, 0, 0, 0, 0, time.UTC), time.Date(2024, 11, 3, 0, 0, 0, 0, time.UTC)).Scan(&sid).Error; err != nil || sid == 0 {
			t.Fatalf("no answered, closed, unrated session in the window (%v)", err)
		}

		t.Run("a session's end time changes", func(t *testing.T) {
			path := "/Chime/Report/ChatDurationByDay?queueId=1&" + closedWindow
			before := s.get(golden.Alice, path)
			var ended time.Time
			if err := b.DB.Raw("SELECT ended_at FROM chat_sessions WHERE id = ?", sid).Row().Scan(&ended); err != nil {
				t.Fatal(err)
			}
			// As a writer does: through GORM, which moves updated_at.
			if err := b.DB.Model(&models.ChatSession{ID: sid}).Update("ended_at", ended.Add(time.Hour)).Error; err != nil {
				t.Fatal(err)
			}
			after := s.get(golden.Alice, path, "If-None-Match", before.header.Get("ETag"))
			if after.status != http.StatusOK || after.header.Get("ETag") == before.header.Get("ETag") {
				t.Fatalf("after an update: %d with tag %q; want 200 with a new tag", after.status, after.header.Get("ETag"))
			}
			if rowsOf(t, after) == rowsOf(t, before) {
				t.Errorf("the handle times did not change: %s", rowsOf(t, after))
			}
			// A writer whose clock is a little behind: updated_at moves, but
			// not above the window's maximum (within the margin writers
			// keep, docs/api.md). The CRC of (id, updated_at) sees it.
			// Another session of the window: sid now holds the newest
			// updated_at, so MAX(updated_at) does not move.
			var other uint
			if err := b.DB.Raw(`SELECT id FROM chat_sessions WHERE queue_id = 1 AND queued_at >= ? AND queued_at < ?
				AND started_at >= ? AND accepted_at IS NOT NULL AND ended_at IS NOT NULL AND id <> ? ORDER BY id LIMIT 1`,
				time.Date(2024, 10, 27, 4, 0, 0, 0, time.UTC), time.Date(2024, 11, 3, 4, 0, 0, 0, time.UTC),
				time.Date(2024, 10, 27, 4, 0, 0, 0, time.UTC), sid).Scan(&other).Error; err != nil || other == 0 {
				t.Fatalf("no second answered session in the window (%v)", err)
			}
			before = s.get(golden.Alice, path)
			var otherEnded time.Time
			if err := b.DB.Raw("SELECT ended_at FROM chat_sessions WHERE id = ?", other).Row().Scan(&otherEnded); err != nil {
				t.Fatal(err)
			}
			if err := b.DB.Exec("UPDATE chat_sessions SET ended_at = ?, updated_at = ? WHERE id = ?",
				otherEnded.Add(3*time.Hour), models.UTC(time.Now().Add(-time.Minute)), other).Error; err != nil {
				t.Fatal(err)
			}
			after = s.get(golden.Alice, path, "If-None-Match", before.header.Get("ETag"))
			if after.status != http.StatusOK || rowsOf(t, after) == rowsOf(t, before) {
				t.Errorf("after an update with an old updated_at: %d", after.status)
			}
		})

		t.Run("a new rating", func(t *testing.T) {
			path := "/Chime/Report/CustomerSatisfactionByDay?queueId=1&" + closedWindow
			before := s.get(golden.Alice, path)
			var queued time.Time
			if err := b.DB.Raw("SELECT queued_at FROM chat_sessions WHERE id = ?", sid).Row().Scan(&queued); err != nil {
				t.Fatal(err)
			}
			day := queued.Format(time.DateOnly)
			// Ratings arrive late: this one after the window closed.
			if err := b.DB.Create(&models.SessionRating{SessionID: sid, QueueID: 1, Rating: 2, ScaleMax: 5,
				SubmittedAt: time.Date(2024, 11, 4, 9, 0, 0, 0, time.UTC)}).Error; err != nil {
				t.Fatal(err)
			}
			after := s.get(golden.Alice, path, "If-None-Match", before.header.Get("ETag"))
			if after.status != http.StatusOK || after.header.Get("ETag") == before.header.Get("ETag") {
				t.Fatalf("after a rating: %d with tag %q; want 200 with a new tag", after.status, after.header.Get("ETag"))
			}
			if b4, now := cell(t, before, day, "Ratings"), cell(t, after, day, "Ratings"); now != b4+1 {
				t.Errorf("Ratings on %s: %v then %v, want one more", day, b4, now)
			}
			// A rating changed in place, its session stamped (the writer's
			// contract: a changed rating moves its session's updated_at).
			before = after
			if err := b.DB.Model(&models.SessionRating{}).Where("session_id = ?", sid).Update("rating", 5).Error; err != nil {
				t.Fatal(err)
			}
			if err := b.DB.Model(&models.ChatSession{ID: sid}).Update("updated_at", time.Now()).Error; err != nil {
				t.Fatal(err)
			}
			after = s.get(golden.Alice, path, "If-None-Match", before.header.Get("ETag"))
			if after.status != http.StatusOK || rowsOf(t, after) == rowsOf(t, before) {
				t.Errorf("a rating changed from 2 to 5: %d", after.status)
			}
		})

		t.Run("session logs are exports: no tag", func(t *testing.T) {
			for _, path := range []string{"/Chime/Report/QueueChatSessionLog?queueId=1&" + closedWindow,
				"/Chime/Report/GlobalChatSessionLog?" + closedWindow} {
				a := s.get(golden.Alice, path, "If-None-Match", "*")
				if a.status != http.StatusOK || a.header.Get("ETag") != "" {
					t.Errorf("%s: %d, ETag %q; want 200 without a tag", path, a.status, a.header.Get("ETag"))
				}
			}
		})
	})
}
