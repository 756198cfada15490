package odata_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
)

// deltaPage is one page of a tracked read.
type deltaPage struct {
	Context   string           `json:"@odata.context"`
	NextLink  string           `json:"@odata.nextLink"`
	DeltaLink string           `json:"@odata.deltaLink"`
	Value     []map[string]any `json:"value"`
}

// deltaRead follows a tracked read from url to its delta link: the
// sessions sent (in order, duplicates kept), the removed ids, the link.
func (e *env) deltaRead(user uint, u string, hdr ...string) (sent []int64, removed []int64, rows map[int64]map[string]any, link string) {
	e.t.Helper()
	rows = map[int64]map[string]any{}
	for pages := 0; ; pages++ {
		if pages > 200 {
			e.t.Fatal("more than 200 pages")
		}
		h := append([]string{"Authorization", "Bearer " + e.key[user], "Prefer", "odata.track-changes, odata.maxpagesize=4"}, hdr...)
		a := e.do(u, h...)
		if a.status != 200 {
			e.t.Fatalf("%s: %d %s", u, a.status, a.body)
		}
		if got := a.header.Values("Preference-Applied"); !slices.Contains(got, "odata.track-changes") {
			e.t.Errorf("Preference-Applied %q", got)
		}
		var p deltaPage
		dec := json.NewDecoder(strings.NewReader(a.body))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			e.t.Fatalf("%v: %s", err, a.body)
		}
		if len(p.Value) > 4 {
			e.t.Errorf("page of %d rows for maxpagesize 4", len(p.Value))
		}
		for _, v := range p.Value {
			switch {
			case v["@removed"] != nil:
				n, _ := v["SessionId"].(json.Number).Int64()
				removed = append(removed, n)
			case v["reason"] == "deleted":
				id := v["id"].(string)
				var n int64
				fmt.Sscanf(id[strings.LastIndex(id, "(")+1:], "%d", &n)
				removed = append(removed, n)
				if !strings.HasSuffix(v["@odata.context"].(string), "/$metadata#Sessions/$deletedEntity") {
					e.t.Errorf("4.0 deleted entry %v", v)
				}
			default:
				n, _ := v["SessionId"].(json.Number).Int64()
				sent = append(sent, n)
				rows[n] = v
			}
		}
		if (p.NextLink == "") == (p.DeltaLink == "") {
			e.t.Fatalf("page with next %q and delta %q", p.NextLink, p.DeltaLink)
		}
		for _, l := range []string{p.NextLink, p.DeltaLink} {
			if l != "" && (strings.Contains(l, "api_key") || !strings.HasPrefix(l, e.srv.URL+"/odata/Sessions?")) {
				e.t.Errorf("link %q", l)
			}
		}
		if p.DeltaLink != "" {
			return sent, removed, rows, p.DeltaLink
		}
		u = p.NextLink
	}
}

func allSessionIDs(t *testing.T, db *gorm.DB, where ...any) []int64 {
	t.Helper()
	var ids []int64
	q := db.Model(&models.ChatSession{}).Order("id")
	if len(where) > 0 {
		q = q.Where(where[0], where[1:]...)
	}
	if err := q.Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestChangeTracking: an initial tracked load, then create, update, rate
// late, delete and a write stamped behind the watermark between delta
// reads: every change arrives exactly once, paged, on both back ends; a
// delta link is refused for another user and after the key was replaced.
func TestChangeTracking(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		ctx := context.Background()
		db := b.DB

		// The initial load: every session once, then a delta link.
		sent, removed, _, link := e.deltaRead(golden.Admin, e.srv.URL+"/odata/Sessions")
		if want := allSessionIDs(t, db); !slices.Equal(sent, want) || len(removed) != 0 {
			t.Fatalf("initial load %v (removed %v), want %v", sent, removed, want)
		}
		// Nothing changed: nothing sent (the margin re-reads, the list of
		// what was sent keeps it out).
		if sent, removed, _, l := e.deltaRead(golden.Admin, link); len(sent)+len(removed) != 0 {
			t.Fatalf("unchanged delta sends %v, removes %v", sent, removed)
		} else {
			link = l
		}

		// Create, update, rate late, delete.
		var tmpl models.ChatSession
		db.First(&tmpl, 1)
		created := tmpl
		created.ID, created.SessionGUID, created.ParentSessionID = 0, uuid.NewString(), nil
		created.CreatedAt, created.UpdatedAt = time.Time{}, time.Time{} // stamped now, as any insert
		if err := db.Create(&created).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&models.ChatSession{ID: 2}).Update("question", "changed after the load").Error; err != nil {
			t.Fatal(err)
		}
		var unrated models.ChatSession
		if err := db.Where("id NOT IN (SELECT session_id FROM session_ratings) AND id > 2").Order("id").First(&unrated).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&models.SessionRating{SessionID: unrated.ID, QueueID: unrated.QueueID, Rating: 4, ScaleMax: 5, SubmittedAt: models.UTC(time.Now())}).Error; err != nil {
			t.Fatal(err)
		}
		victim := deleteSession(t, db, created.ID-1)

		sent, removed, rows, link2 := e.deltaRead(golden.Admin, link)
		want := []int64{2, int64(unrated.ID), int64(created.ID)}
		slices.Sort(want)
		if !slices.Equal(sent, want) || !slices.Equal(removed, []int64{victim}) {
			t.Fatalf("delta sends %v, removes %v; want %v and [%d]", sent, removed, want, victim)
		}
		if rows[2]["Question"] != "changed after the load" || rows[int64(unrated.ID)]["Rating"].(json.Number).String() != "4" {
			t.Errorf("changed rows %v / %v", rows[2], rows[int64(unrated.ID)])
		}
		// Read again at once: nothing is sent twice.
		if sent, removed, _, l := e.deltaRead(golden.Admin, link2); len(sent)+len(removed) != 0 {
			t.Fatalf("second delta sends %v, removes %v", sent, removed)
		} else {
			link2 = l
		}

		// A write stamped behind the last read's watermark (an in-flight
		// transaction, or a writer whose clock is behind), committed now,
		// and a second change of an already sent session.
		var dbNow time.Time
		if b.Name == "mysql" {
			db.Raw("SELECT UTC_TIMESTAMP(6)").Row().Scan(&dbNow)
		} else {
			dbNow = time.Now().UTC()
		}
		if err := db.Model(&models.ChatSession{ID: 3}).UpdateColumns(map[string]any{"question": "late commit", "updated_at": dbNow.Add(-40 * time.Second)}).Error; err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // a distinct updated_at for session 2 on a coarse clock
		if err := db.Model(&models.ChatSession{ID: 2}).Update("question", "changed twice").Error; err != nil {
			t.Fatal(err)
		}
		sent, removed, rows, link3 := e.deltaRead(golden.Admin, link2, "OData-MaxVersion", "4.01")
		if !slices.Equal(sent, []int64{2, 3}) || len(removed) != 0 || rows[3]["Question"] != "late commit" || rows[2]["Question"] != "changed twice" {
			t.Fatalf("late and repeated changes: sent %v removed %v rows %v", sent, removed, rows)
		}
		// 4.01 removals are @removed entries.
		victim2 := deleteSession(t, db, 4)
		if sent, removed, _, _ := e.deltaRead(golden.Admin, link3, "OData-MaxVersion", "4.01"); len(sent) != 0 || !slices.Equal(removed, []int64{victim2}) {
			t.Fatalf("4.01 removal: sent %v removed %v", sent, removed)
		}

		// Bound to the caller and the query.
		if a := e.get(golden.Alice, strings.TrimPrefix(link3, e.srv.URL)); a.status != 400 {
			t.Errorf("another user's delta link: %d %s", a.status, a.body)
		}
		u, _ := url.Parse(link3)
		tok := u.Query().Get("$deltatoken")
		if a := e.get(golden.Admin, "/odata/Sessions?$filter=QueueId%20eq%201&$deltatoken="+tok); a.status != 400 {
			t.Errorf("delta token on another query: %d", a.status)
		}
		// One character changed in the middle, where every bit of it is
		// the token's (the last character of unpadded base64 may carry
		// unused bits, and "AA" at the end was sometimes what it held).
		mid := len(tok) / 2
		swap := byte('A')
		if tok[mid] == 'A' {
			swap = 'B'
		}
		if a := e.get(golden.Admin, "/odata/Sessions?$deltatoken="+tok[:mid]+string(swap)+tok[mid+1:]); a.status != 400 {
			t.Errorf("tampered delta token: %d", a.status)
		}
		if a := e.get(golden.Admin, "/odata/Queues?$deltatoken="+tok); a.status != 400 {
			t.Errorf("delta token on Queues: %d", a.status)
		}
		if a := e.get(golden.Admin, "/odata/Sessions?$deltatoken="); a.status != 400 || !strings.Contains(a.body, "empty") {
			t.Errorf("empty delta token: %d %s", a.status, a.body)
		}
		if a := e.get(golden.Admin, "/odata/Sessions?$format=csv&$deltatoken="+tok); a.status != 400 || !strings.Contains(a.body, "csv download does not track changes") {
			t.Errorf("delta token on a CSV download: %d %s", a.status, a.body)
		}
		old := e.key[golden.Admin]
		ks := keys.New(db, func() time.Time { return golden.Now }, slog.New(slog.DiscardHandler))
		fresh, err := ks.Generate(ctx, golden.Admin)
		if err != nil {
			t.Fatal(err)
		}
		if a := e.do(link3, "Authorization", "Bearer "+old); a.status != 401 {
			t.Errorf("revoked key: %d", a.status)
		}
		if a := e.do(link3, "Authorization", "Bearer "+fresh); a.status != 400 || !strings.Contains(a.body, "replaced") {
			t.Errorf("delta link after the key was replaced: %d %s", a.status, a.body)
		}

		// A filtered tracked read sends only its own changes.
		e.key[golden.Admin] = fresh
		_, _, _, qlink := e.deltaRead(golden.Admin, e.srv.URL+"/odata/Sessions?$filter=QueueId%20eq%203&$select=SessionId,QueueId,Question")
		db.Model(&models.ChatSession{ID: 5}).Update("question", "queue 1 change")
		var q3 models.ChatSession
		db.Where("queue_id = 3").Order("id").First(&q3)
		db.Model(&q3).Update("question", "queue 3 change")
		sent, _, rows, _ = e.deltaRead(golden.Admin, qlink)
		if !slices.Equal(sent, []int64{int64(q3.ID)}) || len(rows[int64(q3.ID)]) != 3 {
			t.Errorf("filtered delta: %v %v", sent, rows)
		}
	})
}

// deleteSession deletes the session with the greatest id at most max that
// has no transfer child, with its dependent rows, and returns its id.
func deleteSession(t *testing.T, db *gorm.DB, max uint) int64 {
	t.Helper()
	var s models.ChatSession
	if err := db.Where("id <= ? AND id NOT IN (SELECT parent_session_id FROM chat_sessions WHERE parent_session_id IS NOT NULL)", max).Order("id DESC").First(&s).Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range []any{&models.SessionParticipant{}, &models.SessionOffer{}, &models.SessionMessage{}, &models.SessionEvent{},
		&models.BotInteraction{}, &models.SessionRating{}, &models.SessionKeyword{}} {
		if err := db.Where("session_id = ?", s.ID).Delete(m).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Delete(&models.ChatSession{}, s.ID).Error; err != nil {
		t.Fatal(err)
	}
	return int64(s.ID)
}
