package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
)

// The ACL matrix is a metamorphic test: world A is the golden data set,
// world B is the same data set with everything of the queues one user
// cannot see deleted (the queue rows included, so B is the world in which
// those queues never existed). Every request that user makes must get the
// same answer in both worlds; whatever differs is a row, a count or an
// existence signal that came from a hidden queue.

// Hank manages queue 2 only: the golden transfer S10 (queue 1) → S11
// (queue 2) crosses from a queue he cannot see into one he can.
const aclHank uint = 9

// aclSide is one world: a handler over its own database and the user's key.
type aclSide struct {
	db  *gorm.DB
	h   http.Handler
	key string
}

// openWorld loads golden (plus Hank) into a fresh database of b's kind,
// deletes the queues in hidden and serves it.
func openWorld(t *testing.T, b dbtest.Backend, hidden []uint32) (dbtest.Backend, map[uint]string, http.Handler) {
	t.Helper()
	w := b
	if w.DB == nil {
		if b.Name == "mysql" {
			w = dbtest.MySQL(t)
		} else {
			w = dbtest.SQLite(t)
		}
	}
	ctx := context.Background()
	if err := golden.Load(ctx, w.DB); err != nil {
		t.Fatal(err)
	}
	created := golden.Now.AddDate(0, -6, 0)
	login := "hank"
	hank := models.User{ID: aclHank, DisplayName: "Hank Manager", LoginName: &login, IsActive: true, AccountType: "Production",
		MaxConcurrentChats: 1, CreatedAt: created, UpdatedAt: created}
	if err := w.DB.Create(&hank).Error; err != nil {
		t.Fatal(err)
	}
	if err := w.DB.Create(&models.QueueMember{QueueID: golden.HR, UserID: aclHank, Role: "manager", Priority: 1, CreatedAt: created, UpdatedAt: created}).Error; err != nil {
		t.Fatal(err)
	}
	removeQueues(t, w.DB, hidden)
	clock := func() time.Time { return golden.Now }
	ks := keys.New(w.DB, clock, slog.New(slog.DiscardHandler))
	key := map[uint]string{}
	for _, u := range []uint{golden.Admin, golden.Alice, golden.Bob, golden.Rita, golden.Carl, golden.Nobody, aclHank} {
		k, err := ks.Generate(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		key[u] = k
	}
	return w, key, server.NewHandler(server.Deps{DB: w.DB, Clock: clock, Log: slog.New(slog.DiscardHandler), Answers: reports.NewAnswerCache(16 << 20)})
}

// removeQueues deletes the queues in hidden and every row that belongs to
// them, driven by models.All(): a table with a QueueID column loses the
// rows of those queues, a table with a SessionID column the rows of their
// sessions. A new column that points at a queue or a session under another
// name fails the test, so the matrix cannot silently go stale.
func removeQueues(t *testing.T, db *gorm.DB, hidden []uint32) {
	t.Helper()
	if len(hidden) == 0 {
		return
	}
	var sessions []uint
	if err := db.Model(&models.ChatSession{}).Where("queue_id IN ?", hidden).Pluck("id", &sessions).Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range models.All() {
		typ := reflect.TypeOf(m).Elem()
		var byQueue, bySession bool
		for i := range typ.NumField() {
			name := typ.Field(i).Name
			switch {
			case name == "QueueID":
				byQueue = true
			case name == "SessionID":
				bySession = true
			case typ.Name() == "ChatSession" && name == "ParentSessionID":
				// A visible leg's own pointer to its parent is kept: it is
				// that leg's data (see the report).
			case strings.HasSuffix(name, "QueueID") || strings.HasSuffix(name, "SessionID"):
				t.Fatalf("%s.%s refers to a queue or a session: teach removeQueues about it", typ.Name(), name)
			}
		}
		tx := db.Session(&gorm.Session{AllowGlobalUpdate: true}).Unscoped()
		var err error
		switch {
		case typ.Name() == "Queue":
			err = tx.Where("id IN ?", hidden).Delete(m).Error
		case typ.Name() == "ChatSession":
			err = tx.Where("queue_id IN ?", hidden).Delete(m).Error
		case byQueue && bySession:
			err = tx.Where("queue_id IN ? OR session_id IN ?", hidden, nonEmptyIDs(sessions)).Delete(m).Error
		case byQueue:
			err = tx.Where("queue_id IN ?", hidden).Delete(m).Error
		case bySession:
			err = tx.Where("session_id IN ?", nonEmptyIDs(sessions)).Delete(m).Error
		}
		if err != nil {
			t.Fatalf("removing queues %v from %s: %v", hidden, typ.Name(), err)
		}
	}
	// Presence belongs to people, not queues; an agent left with no queue
	// at all was only ever on hidden queues, so their presence goes too.
	if err := db.Where("user_id NOT IN (?)", db.Model(&models.QueueMember{}).Select("user_id")).
		Where("user_id NOT IN (?)", db.Model(&models.User{}).Where("is_admin").Select("id")).
		Delete(&models.AgentPresence{}).Error; err != nil {
		t.Fatal(err)
	}
}

func nonEmptyIDs(ids []uint) []uint {
	if len(ids) == 0 {
		return []uint{0}
	}
	return ids
}

// aclCalls counts the requests of the matrix (its size, in the log).
var aclCalls atomic.Int64

// aclAnswer is one response, as recorded in-process.
type aclAnswer struct {
	status int
	header http.Header
	body   []byte
}

// call serves one GET with the key as a Bearer token. The host is fixed so
// absolute links (@odata.context, @odata.nextLink) are the same in both worlds.
func call(h http.Handler, key, path string, hdr ...string) aclAnswer {
	aclCalls.Add(1)
	req := httptest.NewRequest(http.MethodGet, "http://chime.test"+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return aclAnswer{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// skipTokenMAC is the HMAC tag of a $skiptoken: signed with a random key
// per process, so it is the one part of an answer that differs between
// the worlds by design. The token's payload (the last row's sort values)
// is compared.
var skipTokenMAC = regexp.MustCompile(`(skiptoken=[A-Za-z0-9_-]*)(\.|%2E|%2e)[A-Za-z0-9_-]+`)

func normalise(b []byte) []byte { return skipTokenMAC.ReplaceAll(b, []byte("${1}.MAC")) }

// sameAnswer reports how a and b differ ("" when they do not).
func sameAnswer(a, b aclAnswer) string {
	if a.status != b.status {
		return fmt.Sprintf("status %d vs %d\nA: %s\nB: %s", a.status, b.status, clipBytes(a.body), clipBytes(b.body))
	}
	ha, hb := headerText(a.header), headerText(b.header)
	if ha != hb {
		return fmt.Sprintf("headers differ\nA: %s\nB: %s", ha, hb)
	}
	if strings.HasPrefix(a.header.Get("Content-Type"), "application/vnd.openxmlformats") && a.status == http.StatusOK {
		ca, err := workbookText(a.body)
		if err != nil {
			return "A: " + err.Error()
		}
		cb, err := workbookText(b.body)
		if err != nil {
			return "B: " + err.Error()
		}
		if ca != cb {
			return fmt.Sprintf("workbook cells differ\nA: %s\nB: %s", clipBytes([]byte(ca)), clipBytes([]byte(cb)))
		}
		return ""
	}
	if na, nb := normalise(a.body), normalise(b.body); !bytes.Equal(na, nb) {
		return fmt.Sprintf("bodies differ\nA: %s\nB: %s", clipBytes(na), clipBytes(nb))
	}
	return ""
}

func headerText(h http.Header) string {
	var lines []string
	for k, vs := range h {
		lines = append(lines, k+": "+string(normalise([]byte(strings.Join(vs, " | ")))))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func clipBytes(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + "…"
	}
	return string(b)
}

// workbookText is every cell value of every sheet, sheet by sheet.
func workbookText(b []byte) (string, error) {
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer f.Close()
	var sb strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&sb, "[%s]\n", sheet)
		for _, r := range rows {
			sb.WriteString(strings.Join(r, "\t") + "\n")
		}
	}
	return sb.String(), nil
}

// leakCheck holds the absolute facts for one user in world A: names that
// only hidden queues carry, and the ids of hidden queues and sessions.
type leakCheck struct {
	words    []string
	queues   []uint32
	sessions []uint
}

// check reports the first hidden thing a 2xx answer shows.
func (l leakCheck) check(a aclAnswer) string {
	if a.status >= 300 {
		return ""
	}
	text := a.body
	ct := a.header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/vnd.openxmlformats") {
		s, err := workbookText(a.body)
		if err != nil {
			return err.Error()
		}
		text = []byte(s)
	}
	for _, w := range l.words {
		if bytes.Contains(text, []byte(w)) {
			return fmt.Sprintf("shows %q", w)
		}
	}
	if !strings.HasPrefix(ct, "application/json") {
		return ""
	}
	var v any
	if err := json.Unmarshal(a.body, &v); err != nil {
		return ""
	}
	return l.walk(v)
}

func (l leakCheck) walk(v any) string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if n, ok := x.(float64); ok {
				switch k {
				case "QueueId", "queueId":
					if slices.Contains(l.queues, uint32(n)) {
						return fmt.Sprintf("%s = %v", k, n)
					}
				case "SessionId", "sessionId", "childSessionId":
					if slices.Contains(l.sessions, uint(n)) {
						return fmt.Sprintf("%s = %v", k, n)
					}
				}
			}
			if k == "queue" {
				if q, ok := x.(map[string]any); ok {
					if n, ok := q["id"].(float64); ok && slices.Contains(l.queues, uint32(n)) {
						return fmt.Sprintf("queue.id = %v", n)
					}
				}
			}
			if s := l.walk(x); s != "" {
				return s
			}
		}
	case []any:
		for _, x := range v {
			if s := l.walk(x); s != "" {
				return s
			}
		}
	}
	return ""
}
