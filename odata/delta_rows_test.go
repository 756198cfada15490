package odata_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
	"github.com/chime-reports/chime-reports/reports/query"
)

// rowKey is the canonical key segment of a row of set: "Messages(12)",
// "Keywords(SessionId=5,Source='question',Keyword='vpn')".
func rowKey(set string, row map[string]any) string {
	s, _ := query.LookupSet(set)
	var parts []string
	for _, k := range s.Key {
		v := jsonText(row[k])
		if str, ok := row[k].(string); ok {
			v = "'" + str + "'"
		}
		if len(s.Key) > 1 {
			v = k + "=" + v
		}
		parts = append(parts, v)
	}
	return set + "(" + strings.Join(parts, ",") + ")"
}

// deltaReadSet follows a tracked read of set from u to its delta link,
// pages of 3: the keys of the rows sent (duplicates kept) and of the
// removed entities.
func (e *env) deltaReadSet(user uint, set, u string, hdr ...string) (sent, removed []string, link string) {
	e.t.Helper()
	for pages := 0; ; pages++ {
		if pages > 300 {
			e.t.Fatal("more than 300 pages")
		}
		a := e.do(u, append([]string{"Authorization", "Bearer " + e.key[user], "Prefer", "odata.track-changes, odata.maxpagesize=3"}, hdr...)...)
		if a.status != 200 {
			e.t.Fatalf("%s: %d %s", u, a.status, a.body)
		}
		var p deltaPage
		dec := json.NewDecoder(strings.NewReader(a.body))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			e.t.Fatalf("%v: %s", err, a.body)
		}
		if len(p.Value) > 3 {
			e.t.Errorf("page of %d entries for maxpagesize 3", len(p.Value))
		}
		for _, v := range p.Value {
			switch {
			case v["@removed"] != nil:
				id := v["@odata.id"].(string)
				removed = append(removed, id[strings.LastIndex(id, "/")+1:])
				if k := rowKey(set, v); k != removed[len(removed)-1] {
					e.t.Errorf("@removed key properties %s, id %s", k, id)
				}
			case v["reason"] == "deleted":
				id := v["id"].(string)
				removed = append(removed, id[strings.LastIndex(id, "/")+1:])
				if !strings.HasSuffix(v["@odata.context"].(string), "/$metadata#"+set+"/$deletedEntity") {
					e.t.Errorf("4.0 deleted entry %v", v)
				}
			default:
				sent = append(sent, rowKey(set, v))
			}
		}
		if (p.NextLink == "") == (p.DeltaLink == "") {
			e.t.Fatalf("page with next %q and delta %q", p.NextLink, p.DeltaLink)
		}
		for _, l := range []string{p.NextLink, p.DeltaLink} {
			if l != "" && !strings.HasPrefix(l, e.srv.URL+"/odata/"+set+"?") {
				e.t.Errorf("link %q", l)
			}
		}
		if p.DeltaLink != "" {
			return sent, removed, p.DeltaLink
		}
		u = p.NextLink
	}
}

// bump sets a session's updated_at, as writers of the tables beside it do.
func bump(t *testing.T, db *gorm.DB, id uint) {
	t.Helper()
	time.Sleep(2 * time.Millisecond)
	if err := db.Model(&models.ChatSession{ID: id}).Update("updated_at", time.Now().UTC()).Error; err != nil {
		t.Fatal(err)
	}
}

// TestChangeTrackingRows: change tracking on the sets beside Sessions.
// The initial load sends every row once, paged; then a line added, a line
// deleted, a late rating, a keyword re-indexed and a session deleted with
// its rows arrive between delta reads: the rows of every changed session
// once, the deleted rows as removed, nothing twice, on both back ends and
// in both versions; links are bound to their set, user and key, and other
// queues' rows and deletes never show.
func TestChangeTrackingRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		db := b.DB
		sets := []string{"Messages", "Ratings", "Participants", "Offers", "BotInteractions", "Keywords"}
		var h models.ChatSession
		db.Where("queue_id = 3").Order("id").First(&h)
		hidden := models.SessionMessage{SessionID: h.ID, Seq: 90, SentAt: h.StartedAt, SenderType: "agent", Body: ptr("hidden queue")}
		if err := db.Create(&hidden).Error; err != nil {
			t.Fatal(err)
		}
		keysOf := func(user uint, set, filter string) []string {
			var out []string
			for _, r := range e.allPages(user, "/odata/"+set+filter, "") {
				out = append(out, rowKey(set, r))
			}
			slices.Sort(out)
			return out
		}
		sorted := func(x []string) []string { x = slices.Clone(x); slices.Sort(x); return x }
		links := map[string]string{}
		for _, set := range sets {
			sent, removed, link := e.deltaReadSet(golden.Admin, set, e.srv.URL+"/odata/"+set)
			if want := keysOf(golden.Admin, set, ""); !slices.Equal(sorted(sent), want) || len(want) == 0 || len(removed) != 0 {
				t.Fatalf("%s: initial load %v (removed %v), want %v", set, sent, removed, want)
			}
			if sent, removed, l := e.deltaReadSet(golden.Admin, set, link); len(sent)+len(removed) != 0 {
				t.Fatalf("%s: unchanged delta sends %v, removes %v", set, sent, removed)
			} else {
				links[set] = l
			}
		}
		aliceSent, _, aliceLink := e.deltaReadSet(golden.Alice, "Messages", e.srv.URL+"/odata/Messages")
		if want := keysOf(golden.Alice, "Messages", ""); !slices.Equal(sorted(aliceSent), want) {
			t.Fatalf("alice's initial load %v, want %v", aliceSent, want)
		}

		// Between two reads: a line added to session 2, a line of another
		// session deleted, a late rating, a keyword re-indexed, a session
		// deleted with its rows, a line of a hidden-queue session deleted.
		var last models.SessionMessage
		db.Where("session_id = 2").Order("seq DESC").First(&last)
		added := models.SessionMessage{SessionID: 2, Seq: last.Seq + 1, SentAt: time.Now().UTC(), SenderType: "agent", Body: ptr("added later")}
		if err := db.Create(&added).Error; err != nil {
			t.Fatal(err)
		}
		bump(t, db, 2)
		victimRows := map[string][]string{}
		var victim models.ChatSession
		db.Where("id <> 2 AND queue_id <> 3 AND id IN (SELECT session_id FROM session_messages)" +
			" AND id NOT IN (SELECT parent_session_id FROM chat_sessions WHERE parent_session_id IS NOT NULL)").
			Order("id").First(&victim)
		if victim.ID == 0 {
			t.Fatal("no session to delete")
		}
		var gone models.SessionMessage
		db.Where("session_id NOT IN (2, ?) AND session_id IN (SELECT id FROM chat_sessions WHERE queue_id <> 3)", victim.ID).Order("session_id, seq DESC").First(&gone)
		if gone.ID == 0 {
			t.Fatal("no line to delete")
		}
		db.Delete(&gone)
		bump(t, db, gone.SessionID)
		var unrated models.ChatSession
		db.Where("id NOT IN (SELECT session_id FROM session_ratings) AND id NOT IN (2, ?, ?) AND queue_id <> 3", gone.SessionID, victim.ID).Order("id").First(&unrated)
		if err := db.Create(&models.SessionRating{SessionID: unrated.ID, QueueID: unrated.QueueID, Rating: 2, ScaleMax: 5, SubmittedAt: models.UTC(time.Now())}).Error; err != nil {
			t.Fatal(err)
		}
		var kw models.SessionKeyword
		db.Where("session_id NOT IN (2, ?, ?, ?)", gone.SessionID, unrated.ID, victim.ID).Order("session_id, source, keyword").First(&kw)
		db.Where("session_id = ? AND source = ? AND keyword = ?", kw.SessionID, kw.Source, kw.Keyword).Delete(&models.SessionKeyword{})
		kw.Occurrences += 10
		db.Create(&kw)
		bump(t, db, kw.SessionID)
		for _, set := range sets {
			victimRows[set] = keysOf(golden.Admin, set, fmt.Sprintf("?$filter=SessionId%%20eq%%20%d", victim.ID))
		}
		if got := deleteSession(t, db, victim.ID); got != int64(victim.ID) {
			t.Fatalf("deleted %d, not %d", got, victim.ID)
		}
		db.Delete(&hidden)
		bump(t, db, h.ID)

		changed := map[uint]bool{2: true, gone.SessionID: true, unrated.ID: true, kw.SessionID: true, h.ID: true}
		for _, set := range sets {
			var want []string
			for id := range changed {
				want = append(want, keysOf(golden.Admin, set, fmt.Sprintf("?$filter=SessionId%%20eq%%20%d", id))...)
			}
			slices.Sort(want)
			wantRemoved := slices.Clone(victimRows[set])
			if set == "Messages" {
				wantRemoved = append(wantRemoved, fmt.Sprintf("Messages(%d)", gone.ID), fmt.Sprintf("Messages(%d)", hidden.ID))
			}
			slices.Sort(wantRemoved)
			hdr := []string{"OData-MaxVersion", "4.01"}
			if set == "Messages" || set == "Keywords" {
				hdr = nil
			}
			sent, removed, link := e.deltaReadSet(golden.Admin, set, links[set], hdr...)
			if !slices.Equal(sorted(sent), want) || !slices.Equal(sorted(removed), wantRemoved) {
				t.Errorf("%s: delta sends %v, removes %v; want %v and %v", set, sorted(sent), sorted(removed), want, wantRemoved)
			}
			sent, removed, links[set] = e.deltaReadSet(golden.Admin, set, link, hdr...)
			if len(sent)+len(removed) != 0 {
				t.Errorf("%s: second delta sends %v, removes %v", set, sent, removed)
			}
		}

		// A change stamped behind the last read's watermark (a transaction
		// in flight while it read, or a writer whose clock is behind),
		// committed now: its session's rows still arrive.
		var dbNow time.Time
		if b.Name == "mysql" {
			db.Raw("SELECT UTC_TIMESTAMP(6)").Row().Scan(&dbNow)
		} else {
			dbNow = time.Now().UTC()
		}
		if err := db.Model(&models.SessionMessage{}).Where("id = ?", added.ID).Update("body", "edited late").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&models.ChatSession{ID: 2}).UpdateColumn("updated_at", dbNow.Add(-40*time.Second)).Error; err != nil {
			t.Fatal(err)
		}
		if sent, removed, _ := e.deltaReadSet(golden.Admin, "Messages", links["Messages"]); !slices.Equal(sorted(sent), keysOf(golden.Admin, "Messages", "?$filter=SessionId%20eq%202")) || len(removed) != 0 {
			t.Errorf("late stamp: sends %v, removes %v", sent, removed)
		}
		if !slices.Contains(keysOf(golden.Admin, "Messages", "?$filter=SessionId%20eq%202"), fmt.Sprintf("Messages(%d)", added.ID)) {
			t.Error("the added line is not in the set")
		}
		// Alice: her queues' changes, not the hidden line's deletion.
		sent, removed, _ := e.deltaReadSet(golden.Alice, "Messages", aliceLink)
		var want []string
		for id := range changed {
			want = append(want, keysOf(golden.Alice, "Messages", fmt.Sprintf("?$filter=SessionId%%20eq%%20%d", id))...)
		}
		wantRemoved := append(slices.Clone(victimRows["Messages"]), fmt.Sprintf("Messages(%d)", gone.ID))
		if !slices.Equal(sorted(sent), sorted(want)) || !slices.Equal(sorted(removed), sorted(wantRemoved)) {
			t.Errorf("alice: delta sends %v, removes %v; want %v and %v", sorted(sent), sorted(removed), sorted(want), sorted(wantRemoved))
		}

		// Bound to the set, the user and the key.
		tok := links["Messages"][strings.Index(links["Messages"], "$deltatoken=")+len("$deltatoken="):]
		for _, c := range []struct {
			user uint
			path string
		}{
			{golden.Alice, "/odata/Messages?$deltatoken=" + tok},
			{golden.Admin, "/odata/Participants?$deltatoken=" + tok},
			{golden.Admin, "/odata/Sessions?$deltatoken=" + tok},
			{golden.Admin, "/odata/Sessions(2)/Transcript?$deltatoken=" + tok},
		} {
			if a := e.get(c.user, c.path); a.status != 400 {
				t.Errorf("user %d %s: %d %s", c.user, c.path, a.status, a.body)
			} else {
				odataError(t, a)
			}
		}
		if a := e.do(links["Messages"], "Authorization", "Bearer revoked-"+e.key[golden.Admin]); a.status != 401 {
			t.Errorf("another key: %d", a.status)
		}
	})
}
