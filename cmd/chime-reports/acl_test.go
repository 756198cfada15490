package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/query"
)

// aclUsers are the callers of the matrix; what each may see comes from the
// golden memberships, never from this list.
// Managers get the whole matrix; the reviewer and the user with no role
// see no report data at all, so they get every route and set with the
// plain questions and the main $filter tricks (light).
var aclUsers = []struct {
	name  string
	id    uint
	light bool
	words []string // text that only the queues this user cannot see carry
}{
	{"alice", golden.Alice, false, []string{"Security Desk", "Badge access", "Carl Agent"}},
	{"bob", golden.Bob, false, []string{"IT Help Desk", "HR Services", "Outlook", "Ann Agent", "Ben Agent"}},
	{"hank", aclHank, false, []string{"IT Help Desk", "Security Desk", "Outlook", "Ann Agent", "Carl Agent"}},
	{"rita", golden.Rita, true, []string{"HR Services", "Security Desk", "Badge access", "Carl Agent"}},
	{"nobody", golden.Nobody, true, []string{"IT Help Desk", "HR Services", "Security Desk", "Ann Agent", "Ben Agent", "Carl Agent"}},
}

// aclWindow covers the golden sessions of the last week of October and
// the New York fall-back weekend, the hidden queue's included.
const aclWindow = "start=2024-10-27&stop=2024-11-04"

// missingQueue and missingSession exist in no world.
const (
	missingQueue   = 99
	missingSession = 424242
)

// TestACLMatrix asks every surface the same questions in world A (golden)
// and world B (golden without the queues the caller cannot see) and wants
// identical answers; see acl_helpers_test.go.
func TestACLMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		a, keysA, hA := openWorld(t, b, nil)
		var queues []uint32
		if err := a.DB.Model(&models.Queue{}).Order("id").Pluck("id", &queues).Error; err != nil {
			t.Fatal(err)
		}
		var sessions []models.ChatSession
		if err := a.DB.Select("id", "queue_id").Order("id").Find(&sessions).Error; err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { t.Logf("%d requests", aclCalls.Load()) })
		for _, u := range aclUsers {
			t.Run(u.name, func(t *testing.T) {
				// Users run side by side: most of a request is waiting
				// for the database (key check, audit record).
				t.Parallel()
				// Reports read the queues a user manages; SessionDetails also
				// those they review. Each surface gets the world without
				// the queues it must not show (one world when they agree).
				m := newMatrix(t, a.DB, u.id, []string{"manager"}, queues, sessions)
				m.A, m.light, m.leak.words = aclSide{h: hA, key: keysA[u.id]}, u.light, u.words
				d := newMatrix(t, a.DB, u.id, []string{"manager", "reviewer"}, queues, sessions)
				d.A, d.light, d.leak.words = m.A, u.light, u.words
				if u.id == golden.Rita {
					// Internal notes are for managers only.
					d.leak.words = append(slices.Clone(u.words), "Caller verified")
				}
				bw, keysB, hB := openWorld(t, dbtest.Backend{Name: b.Name}, m.hidden)
				m.B = aclSide{db: bw.DB, h: hB, key: keysB[u.id]}
				m.worldsDiffer(t, hA, keysA[golden.Admin], hB, keysB[golden.Admin])
				d.B = m.B
				if !slices.Equal(d.hidden, m.hidden) {
					dw, keysD, hD := openWorld(t, dbtest.Backend{Name: b.Name}, d.hidden)
					d.B = aclSide{db: dw.DB, h: hD, key: keysD[u.id]}
					d.worldsDiffer(t, hA, keysA[golden.Admin], hD, keysD[golden.Admin])
				}

				t.Run("native catalog", m.nativeCatalog)
				t.Run("native reports", m.nativeReports)
				t.Run("session details", func(t *testing.T) { d.sessionDetails(t, sessions) })
				t.Run("odata documents", m.odataDocuments)
				full := representatives()
				for _, set := range query.Sets() {
					t.Run("odata "+set.Name, func(t *testing.T) { m.odataSet(t, set, full[set] && !m.light) })
				}
				t.Run("admin api", m.adminAPI)
				m.compared += d.compared
				m.notVacuous(t, u.id)
			})
		}
	})
}

// newMatrix is a user's matrix over the queues not granted by roles.
func newMatrix(t *testing.T, db *gorm.DB, user uint, roles []string, queues []uint32, sessions []models.ChatSession) *matrix {
	t.Helper()
	var mine []uint32
	if err := db.Model(&models.QueueMember{}).Where("user_id = ? AND role IN ?", user, roles).
		Order("queue_id").Pluck("queue_id", &mine).Error; err != nil {
		t.Fatal(err)
	}
	m := &matrix{}
	for _, q := range queues {
		if !slices.Contains(mine, q) {
			m.hidden = append(m.hidden, q)
		}
	}
	for _, s := range sessions {
		if slices.Contains(m.hidden, s.QueueID) {
			m.hiddenSessions = append(m.hiddenSessions, s.ID)
		} else {
			m.visibleSessions = append(m.visibleSessions, s.ID)
		}
	}
	m.leak.queues, m.leak.sessions = m.hidden, m.hiddenSessions
	return m
}

// matrix is one user's pair of worlds.
type matrix struct {
	A, B                            aclSide
	hidden                          []uint32 // queues the user cannot see (absent from B)
	hiddenSessions, visibleSessions []uint
	leak                            leakCheck
	light                           bool
	compared                        int // answers compared with a 200 in A
}

// same asks A and B, wants the same answer and no hidden fact in A's; it
// returns A's answer. After ten failures the subtest stops.
func (m *matrix) same(t *testing.T, path string, hdr ...string) aclAnswer {
	t.Helper()
	a := call(m.A.h, m.A.key, path, hdr...)
	b := call(m.B.h, m.B.key, path, hdr...)
	if a.status >= 500 {
		m.fail(t, "GET %s %v: status %d: %s", path, hdr, a.status, clipBytes(a.body))
	}
	if d := sameAnswer(a, b); d != "" {
		m.fail(t, "GET %s %v: world A (golden) and world B (without queues %v) answer differently: %s", path, hdr, m.hidden, d)
	}
	if l := m.leak.check(a); l != "" {
		m.fail(t, "GET %s %v: %s (hidden queues %v)", path, hdr, l, m.hidden)
	}
	if a.status == http.StatusOK {
		m.compared++
	}
	return a
}

func (m *matrix) fail(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Errorf(format, args...)
	if t.Failed() && failures(t) >= 10 {
		t.Fatal("too many leaks in this surface; stopping it")
	}
}

var (
	failureMu    sync.Mutex
	failureCount = map[*testing.T]int{}
)

func failures(t *testing.T) int {
	failureMu.Lock()
	defer failureMu.Unlock()
	failureCount[t]++
	return failureCount[t]
}

// worldsDiffer proves B really lacks the hidden queues: the admin, who sees
// every queue, counts fewer sessions and queues there.
func (m *matrix) worldsDiffer(t *testing.T, hA http.Handler, keyA string, hB http.Handler, keyB string) {
	t.Helper()
	if len(m.hidden) == 0 {
		t.Fatal("the user sees every queue: the matrix would prove nothing")
	}
	for _, p := range []string{"/odata/Sessions/$count", "/odata/Queues/$count"} {
		a, b := call(hA, keyA, p), call(hB, keyB, p)
		if a.status != 200 || b.status != 200 || string(a.body) == string(b.body) {
			t.Fatalf("admin %s: A %d %s, B %d %s: world B does not lack queues %v", p, a.status, a.body, b.status, b.body, m.hidden)
		}
	}
}

// notVacuous checks that the user's own data did show up.
func (m *matrix) notVacuous(t *testing.T, user uint) {
	t.Helper()
	if want := map[bool]int{false: 500, true: 150}[m.light]; m.compared < want {
		t.Errorf("only %d answers with a 200 were compared", m.compared)
	}
	n := call(m.A.h, m.A.key, "/odata/Sessions/$count")
	a := call(m.A.h, m.A.key, "/Chime/Report/GetAvailableGlobalReports")
	var cat struct {
		Queues []reports.QueueRef `json:"queues"`
	}
	json.Unmarshal(a.body, &cat)
	var visible []uint32
	for _, q := range cat.Queues {
		visible = append(visible, q.ID)
	}
	var sessions int64
	if err := m.B.db.Model(&models.ChatSession{}).Where("queue_id IN ?", nonEmptyQueues(visible)).Count(&sessions).Error; err != nil {
		t.Fatal(err)
	}
	if string(n.body) != strconv.FormatInt(sessions, 10) {
		t.Errorf("Sessions/$count = %s, want the %d sessions of queues %v", n.body, sessions, visible)
	}
	switch user {
	case golden.Alice, golden.Bob, aclHank:
		if sessions == 0 {
			t.Errorf("a manager with no sessions: queues %v", visible)
		}
	}
}

func nonEmptyQueues(ids []uint32) []uint32 {
	if len(ids) == 0 {
		return []uint32{0}
	}
	return ids
}

// visibleQueue is the first golden queue the user sees (the missing one
// when there is none).
func (m *matrix) visibleQueue() uint32 {
	for _, q := range m.queueIDs() {
		if !slices.Contains(m.hidden, q) && q != missingQueue {
			return q
		}
	}
	return missingQueue
}

// queueIDs are the ids every per-queue route is asked with: each golden
// queue (visible or hidden) and one that never existed.
func (m *matrix) queueIDs() []uint32 {
	return []uint32{golden.HelpDesk, golden.HR, golden.Hidden, missingQueue}
}

func (m *matrix) nativeCatalog(t *testing.T) {
	for _, c := range reports.Categories {
		path := "/Chime/Report/" + c.Route
		m.same(t, path)
		if c.Category == reports.Global {
			continue
		}
		for _, q := range m.queueIDs() {
			m.same(t, path+"?queueId="+strconv.Itoa(int(q)))
		}
	}
}

func (m *matrix) nativeReports(t *testing.T) {
	// JSON for every queue; the exports (CSV, and workbooks, slow to write
	// and to read back) for one visible queue and the first hidden one.
	exports := []uint32{m.hidden[0], m.visibleQueue()}
	for _, r := range reports.All() {
		base := "/Chime/Report/" + r.Name + "?" + aclWindow
		if !r.RequiresQueue() {
			for _, f := range []string{"", "&csv=true", "&format=xlsx"} {
				m.same(t, base+f)
			}
			continue
		}
		for _, q := range m.queueIDs() {
			p := base + "&queueId=" + strconv.Itoa(int(q))
			m.same(t, p)
			if m.light {
				continue
			}
			if slices.Contains(exports, q) {
				m.same(t, p+"&csv=true")
				m.same(t, p+"&format=xlsx")
			}
		}
	}
	// A hidden queue answers like one that never existed, modulo its id.
	for _, q := range m.hidden {
		p := "/Chime/Report/InboundVsAnsweredChats?" + aclWindow + "&queueId="
		h, x := call(m.A.h, m.A.key, p+strconv.Itoa(int(q))), call(m.A.h, m.A.key, p+strconv.Itoa(missingQueue))
		if h.status != 404 || strings.Replace(string(h.body), strconv.Itoa(int(q)), "X", 1) != strings.Replace(string(x.body), strconv.Itoa(missingQueue), "X", 1) {
			t.Errorf("hidden queue %d: %d %s; missing queue: %d %s", q, h.status, h.body, x.status, x.body)
		}
	}
}

func (m *matrix) sessionDetails(t *testing.T, sessions []models.ChatSession) {
	ids := []uint{missingSession}
	for _, s := range sessions {
		ids = append(ids, s.ID)
	}
	for _, id := range ids {
		p := "/Chime/Session/SessionDetails/" + strconv.Itoa(int(id))
		m.same(t, p+"?zone=America/New_York")
		m.same(t, p+"?csv=true")
	}
	for _, id := range m.hiddenSessions {
		p := "/Chime/Session/SessionDetails/"
		h, x := call(m.A.h, m.A.key, p+strconv.Itoa(int(id))), call(m.A.h, m.A.key, p+strconv.Itoa(missingSession))
		if h.status != 404 || strings.Replace(string(h.body), strconv.Itoa(int(id)), "X", 1) != strings.Replace(string(x.body), strconv.Itoa(missingSession), "X", 1) {
			t.Errorf("hidden session %d: %d %s; missing session: %d %s", id, h.status, h.body, x.status, x.body)
		}
	}
}

func (m *matrix) odataDocuments(t *testing.T) {
	m.same(t, "/odata/")
	m.same(t, "/odata/$metadata")
	m.same(t, "/odata/NoSuchSet")
}

// esc encodes an OData option value for a query string.
func esc(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// queueFilters are $filter texts that try to reach a hidden queue q next
// to a visible one v.
func queueFilters(q, v uint32) []string {
	return []string{
		fmt.Sprintf("QueueId eq %d", q),
		fmt.Sprintf("QueueId eq %d or QueueId eq %d", q, v),
		fmt.Sprintf("not (QueueId ne %d)", q),
		fmt.Sprintf("QueueId in (%d,%d,%d)", golden.HelpDesk, golden.HR, golden.Hidden),
		fmt.Sprintf("((QueueId eq %d) or (true))", q),
		fmt.Sprintf("QueueId eq %d or 1 eq 1", q),
		fmt.Sprintf("not (QueueId eq %d and QueueId eq %d)", q, v),
		fmt.Sprintf("QueueId ne %d", v),
		"QueueId gt 0",
		fmt.Sprintf("QueueId eq %d", missingQueue),
	}
}

// representatives picks one set of each kind (raw, SQL-backed session
// log, and report sets by category and bucket) for the full list of
// $filter and $apply tricks; the other sets get the main ones.
func representatives() map[*query.Set]bool {
	seen := map[string]bool{}
	out := map[*query.Set]bool{}
	for _, s := range query.Sets() {
		kind := s.Name // raw sets: each its own kind
		if s.Report != nil {
			kind = fmt.Sprintf("%s/%s/%v", s.Report.Category, s.Bucket, s.SQLBacked())
		}
		if !seen[kind] {
			seen[kind], out[s] = true, true
		}
	}
	return out
}

func (m *matrix) odataSet(t *testing.T, set *query.Set, full bool) {
	base := "/odata/" + set.Name
	window := ""
	if set.Report != nil && !set.SQLBacked() {
		window = aclWindow + "&"
	}
	get := func(opts string, hdr ...string) aclAnswer {
		t.Helper()
		return m.same(t, base+"?"+window+strings.TrimSuffix(opts, "&"), hdr...)
	}
	get("")
	get("$count=true")
	m.same(t, base+"/$count?"+strings.TrimSuffix(window, "&"))
	hiddenQ, visibleQ := m.hidden[0], m.visibleQueue()
	filters := queueFilters(hiddenQ, visibleQ)
	if !full {
		filters = []string{filters[1], filters[3], filters[5]}
	}
	if set.Index("QueueId") >= 0 {
		for _, f := range filters {
			get("$filter=" + esc(f) + "&$count=true")
		}
	}
	if m.light {
		return
	}
	m.pages(t, set.Name, window)
	if !full {
		return
	}
	get("$top=3&$skip=1&$count=true")
	get("$format=csv")
	get("$format=xlsx")
	if set.Index("QueueId") >= 0 {
		m.same(t, base+"/$count?"+window+"$filter="+esc(fmt.Sprintf("QueueId eq %d or QueueId eq %d", hiddenQ, visibleQ)))
		get("$format=csv&$filter=" + esc(fmt.Sprintf("QueueId eq %d", hiddenQ)))
		get("$orderby=QueueId%20desc&$top=2")
		for _, apply := range []string{
			"groupby((QueueId),aggregate($count as N))",
			"aggregate($count as N)",
			fmt.Sprintf("filter(QueueId eq %d or true)/groupby((QueueId),aggregate($count as N))", hiddenQ),
			fmt.Sprintf("filter(not (QueueId ne %d))/aggregate($count as N)", hiddenQ),
		} {
			get("$apply=" + esc(apply))
		}
	}
	if set.Index("SessionId") >= 0 && len(m.hiddenSessions) > 0 {
		h := m.hiddenSessions[len(m.hiddenSessions)-1]
		v := uint(missingSession)
		if len(m.visibleSessions) > 0 {
			v = m.visibleSessions[0]
		}
		var all []string
		for _, id := range m.hiddenSessions {
			all = append(all, strconv.Itoa(int(id)))
		}
		for _, f := range []string{
			fmt.Sprintf("SessionId eq %d", h),
			fmt.Sprintf("SessionId eq %d or SessionId eq %d", h, v),
			fmt.Sprintf("SessionId in (%s)", strings.Join(all, ",")),
			fmt.Sprintf("not (SessionId ne %d)", h),
			fmt.Sprintf("SessionId ge %d and SessionId le %d", h, h),
		} {
			get("$filter=" + esc(f) + "&$count=true")
		}
	}
}

// pages follows @odata.nextLink in both worlds with pages of about a
// quarter of the set (at least 2 rows) and compares every page.
func (m *matrix) pages(t *testing.T, set, window string) {
	t.Helper()
	n, _ := strconv.Atoi(string(call(m.A.h, m.A.key, "/odata/"+set+"/$count?"+strings.TrimSuffix(window, "&")).body))
	prefer := []string{"Prefer", "odata.maxpagesize=" + strconv.Itoa(max(2, (n+3)/4))}
	path := "/odata/" + set + "?" + window + "$count=true"
	pa, pb := path, path
	for range 100 {
		a := call(m.A.h, m.A.key, pa, prefer...)
		b := call(m.B.h, m.B.key, pb, prefer...)
		if d := sameAnswer(a, b); d != "" {
			m.fail(t, "GET %s (page of 2): %s", pa, d)
			return
		}
		if l := m.leak.check(a); l != "" {
			m.fail(t, "GET %s (page of 2): %s", pa, l)
		}
		if a.status != 200 {
			return
		}
		m.compared++
		la, lb := nextLink(a.body), nextLink(b.body)
		if la == "" {
			return
		}
		pa, pb = strings.TrimPrefix(la, "http://chime.test"), strings.TrimPrefix(lb, "http://chime.test")
	}
	t.Errorf("%s: more than 100 pages", path)
}

func nextLink(body []byte) string {
	var v struct {
		Next string `json:"@odata.nextLink"`
	}
	json.Unmarshal(body, &v)
	return v.Next
}

// adminAPI: a non-admin gets the same 403 whatever exists.
func (m *matrix) adminAPI(t *testing.T) {
	for _, p := range []string{"/Chime/Admin/api/users", "/Chime/Admin/api/keys", "/Chime/Admin/api/audit", "/Chime/Admin/api/audit?queueId=3"} {
		a := m.same(t, p)
		if a.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", p, a.status)
		}
	}
	m.same(t, "/Chime/Admin/")
	m.same(t, "/Chime/Admin/people")
}
