package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
)

// env is a running service over the golden data set with a key per user.
type env struct {
	t    *testing.T
	b    dbtest.Backend
	srv  *httptest.Server
	keys *keys.Service
	key  map[uint]string // user → key
}

func newEnv(t *testing.T, b dbtest.Backend) *env {
	t.Helper()
	return newEnvWith(t, b, nil)
}

// newEnvWith is newEnv with server.Deps adjusted by tune (limits, timeouts).
func newEnvWith(t *testing.T, b dbtest.Backend, tune func(*server.Deps)) *env {
	t.Helper()
	ctx := context.Background()
	if err := golden.Load(ctx, b.DB); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return golden.Now }
	e := &env{t: t, b: b, keys: keys.New(b.DB, clock, nil), key: map[uint]string{}}
	for _, u := range []uint{golden.Admin, golden.Alice, golden.Bob, golden.Rita, golden.Nobody} {
		k, err := e.keys.Generate(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		e.key[u] = k
	}
	// The answer cache is on, as in serve: every HTTP test also checks
	// that a served answer is the current one.
	d := server.Deps{DB: b.DB, Clock: clock, Log: slog.New(slog.DiscardHandler), Answers: reports.NewAnswerCache(16 << 20)}
	if tune != nil {
		tune(&d)
	}
	e.srv = httptest.NewServer(server.NewHandler(d))
	t.Cleanup(e.srv.Close)
	return e
}

type answer struct {
	status int
	header http.Header
	body   string
}

// get sends a GET with the user's key as a Bearer token (user 0: no key).
func (e *env) get(user uint, path string, hdr ...string) answer {
	e.t.Helper()
	return e.do(http.MethodGet, path, append([]string{"Authorization", bearer(e.key[user])}, hdr...)...)
}

func bearer(k string) string {
	if k == "" {
		return ""
	}
	return "Bearer " + k
}

func (e *env) do(method, path string, hdr ...string) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] != "" {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// errorBody checks the one error shape and returns it.
func errorBody(t *testing.T, a answer) (code, message, target string, details []string) {
	t.Helper()
	var body struct {
		Error struct {
			Code    string   `json:"code"`
			Message string   `json:"message"`
			Target  string   `json:"target"`
			Details []string `json:"details"`
		} `json:"error"`
	}
	if !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Fatalf("error content type %q", a.header.Get("Content-Type"))
	}
	dec := json.NewDecoder(strings.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("not the error shape (%v): %s", err, a.body)
	}
	return body.Error.Code, body.Error.Message, body.Error.Target, body.Error.Details
}

const seedPath = "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2020-11-01T04:00:00.000Z&stop=2020-12-01T04:59:59.999Z&csv=true"

func TestSeedExample(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		// As written in the published API post: UTC, so the window touches 31 UTC days.
		a := e.get(golden.Alice, seedPath+"&zone=UTC")
		if a.status != 200 || a.header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("status %d, type %q: %s", a.status, a.header.Get("Content-Type"), a.body)
		}
		lines := strings.Split(strings.TrimSuffix(a.body, "\r\n"), "\r\n")
		if len(lines) != 32 || lines[0] != "Date,Inbound,Answered,NotAnswered,AnsweredPct" {
			t.Fatalf("UTC: %d lines, header %q", len(lines), lines[0])
		}

		// With zone=America/New_York: exactly the 30 local days of November.
		a = e.get(golden.Alice, seedPath+"&zone=America/New_York")
		if a.status != 200 {
			t.Fatalf("status %d: %s", a.status, a.body)
		}
		if got := a.header.Get("Content-Disposition"); got != `attachment; filename="InboundVsAnsweredChats_queue1_2020-11-01_2020-11-30.csv"` {
			t.Errorf("Content-Disposition = %q", got)
		}
		want := "Date,Inbound,Answered,NotAnswered,AnsweredPct\r\n2020-11-01,1,1,0,100\r\n"
		for d := 2; d <= 29; d++ {
			want += "2020-11-" + twoDigits(d) + ",0,0,0,\r\n"
		}
		want += "2020-11-30,1,0,1,0\r\n"
		if a.body != want {
			t.Errorf("body:\n%s\nwant:\n%s", a.body, want)
		}
		// Alice's default zone is America/New_York: the same without zone=.
		if b := e.get(golden.Alice, seedPath); b.body != want {
			t.Errorf("default zone not applied:\n%s", b.body)
		}
	})
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

func TestAuthentication(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	path := "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-11-01&stop=2024-11-04"
	k := e.key[golden.Alice]
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("anything:"+k))
	cases := []struct {
		name   string
		path   string
		hdr    []string
		status int
	}{
		{"bearer", path, []string{"Authorization", "Bearer " + k}, 200},
		{"bearer, upper-case key", path, []string{"Authorization", "Bearer " + strings.ToUpper(k)}, 200},
		{"api_key query parameter", path + "&api_key=" + k, nil, 200},
		{"api_key repeated", path + "&api_key=" + k + "&api_key=" + k, nil, 200},
		{"basic with the key as password", path, []string{"Authorization", basic}, 200},
		{"no key", path, nil, 401},
		{"unknown key", path, []string{"Authorization", "Bearer 3f2504e0-4f89-41d3-9a0c-0305e82c3301"}, 401},
		{"not a GUID", path, []string{"Authorization", "Bearer hunter2"}, 401},
		{"unknown scheme", path, []string{"Authorization", "Digest " + k}, 401},
		{"broken basic", path, []string{"Authorization", "Basic %%%"}, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.do(http.MethodGet, c.path, c.hdr...)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			if c.status == 401 {
				if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", a.header.Get("WWW-Authenticate"))
				}
				if code, _, _, _ := errorBody(t, a); code != "Unauthorized" {
					t.Errorf("code %s", code)
				}
			}
		})
	}

	t.Run("regenerating revokes the old key at once", func(t *testing.T) {
		old := e.key[golden.Bob]
		fresh, err := e.keys.Generate(context.Background(), golden.Bob)
		if err != nil {
			t.Fatal(err)
		}
		p := "/Chime/Report/GetAvailableGlobalReports"
		if a := e.do(http.MethodGet, p, "Authorization", "Bearer "+old); a.status != 401 {
			t.Errorf("old key: %d", a.status)
		}
		if a := e.do(http.MethodGet, p, "Authorization", "Bearer "+fresh); a.status != 200 {
			t.Errorf("new key: %d %s", a.status, a.body)
		}
		var active int64
		e.b.DB.Model(&models.APIKey{}).Where("user_id = ? AND revoked_at IS NULL", golden.Bob).Count(&active)
		if active != 1 {
			t.Errorf("%d active keys for bob, want 1", active)
		}
	})

	t.Run("audit records every call without the key", func(t *testing.T) {
		e.do(http.MethodGet, path+"&api_key="+k)
		var recs []models.AuditRecord
		e.b.DB.Where("user_id = ?", golden.Alice).Order("id").Find(&recs)
		if len(recs) == 0 {
			t.Fatal("no audit records")
		}
		last := recs[len(recs)-1]
		if strings.Contains(last.Query, k) || strings.Contains(last.Query, "api_key") {
			t.Errorf("audit query leaks the key: %q", last.Query)
		}
		if last.Route != "/Chime/Report/InboundVsAnsweredChats" || last.Status != 200 || last.Rows != 4 || last.KeyHint != k[len(k)-4:] {
			t.Errorf("audit record %+v", last)
		}
		var hashes int64
		e.b.DB.Model(&models.APIKey{}).Where("key_hint = ?", k[len(k)-4:]).Count(&hashes)
		var leaked int64
		e.b.DB.Model(&models.AuditRecord{}).Where("query LIKE ?", "%"+k+"%").Count(&leaked)
		if leaked != 0 {
			t.Errorf("%d audit rows hold the key", leaked)
		}
	})
}

func TestMalformedInputIsA4xx(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	base := "/Chime/Report/InboundVsAnsweredChats?queueId=1"
	cases := []struct {
		name, path string
		hdr        []string
		status     int
		code       string
		target     string
	}{
		{"month 13", base + "&start=2020-13-01", nil, 400, "InvalidParameter", "start"},
		{"bad stop", base + "&stop=2020-02-30", nil, 400, "InvalidParameter", "stop"},
		{"start after stop", base + "&start=2024-03-02&stop=2024-03-01", nil, 400, "InvalidParameter", "start"},
		{"window over the cap", base + "&start=2020-01-01&stop=2022-01-01", nil, 400, "InvalidParameter", "stop"},
		{"unknown zone", base + "&zone=Mars/Olympus", nil, 400, "InvalidParameter", "zone"},
		{"path as zone", base + "&zone=/etc/passwd", nil, 400, "InvalidParameter", "zone"},
		{"queue id not a number", "/Chime/Report/InboundVsAnsweredChats?queueId=abc", nil, 400, "InvalidParameter", "queueId"},
		{"negative queue id", "/Chime/Report/InboundVsAnsweredChats?queueId=-1", nil, 400, "InvalidParameter", "queueId"},
		{"huge queue id", "/Chime/Report/InboundVsAnsweredChats?queueId=99999999999999999999", nil, 400, "InvalidParameter", "queueId"},
		{"missing queue id", "/Chime/Report/InboundVsAnsweredChats", nil, 400, "InvalidParameter", "queueId"},
		{"unknown queue id on a global report", "/Chime/Report/GlobalQueueSummary?queueId=99", nil, 404, "NotFound", "queueId"},
		{"repeated parameter", base + "&start=2024-01-01&start=2024-01-02", nil, 400, "InvalidParameter", "start"},
		{"misspelt parameter", base + "&strat=2024-01-01", nil, 400, "InvalidParameter", "strat"},
		{"bad percent-encoding", base + "&start=%zz", nil, 400, "InvalidParameter", "start"},
		{"csv not a boolean", base + "&csv=maybe", nil, 400, "InvalidParameter", "csv"},
		{"unknown format", base + "&format=pdf", nil, 400, "InvalidParameter", "format"},
		{"csv against format=json", base + "&csv=true&format=json", nil, 400, "InvalidParameter", "format"},
		{"nothing acceptable", base, []string{"Accept", "image/png"}, 406, "NotAcceptable", ""},
		{"huge query string", base + "&start=" + strings.Repeat("9", 5000), nil, 400, "InvalidParameter", ""},
		{"unknown report", "/Chime/Report/NoSuchReport", nil, 404, "NotFound", "ReportName"},
		{"session id not a number", "/Chime/Session/SessionDetails/abc", nil, 400, "InvalidParameter", "SessionID"},
		{"session id zero", "/Chime/Session/SessionDetails/0", nil, 400, "InvalidParameter", "SessionID"},
		{"no such route", "/Chime/Nope", nil, 404, "NotFound", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.get(golden.Alice, c.path, c.hdr...)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			code, _, target, _ := errorBody(t, a)
			if code != c.code || target != c.target {
				t.Errorf("code %s target %q, want %s %q", code, target, c.code, c.target)
			}
		})
	}
	t.Run("unknown report lists the valid names", func(t *testing.T) {
		_, _, _, details := errorBody(t, e.get(golden.Alice, "/Chime/Report/NoSuchReport"))
		if !contains(details, "InboundVsAnsweredChats") || !contains(details, "GlobalQueueSummary") {
			t.Errorf("details %v", details)
		}
	})
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestACL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		report := "/Chime/Report/InboundVsAnsweredChats?start=2024-11-01&stop=2024-11-04&queueId="
		hidden := e.get(golden.Alice, report+"3")
		missing := e.get(golden.Alice, report+"999")
		if hidden.status != 404 || missing.status != 404 {
			t.Fatalf("hidden %d, missing %d", hidden.status, missing.status)
		}
		if strings.Replace(hidden.body, "3", "X", 1) != strings.Replace(missing.body, "999", "X", 1) {
			t.Errorf("hidden and missing queues answer differently:\n%s\n%s", hidden.body, missing.body)
		}
		if a := e.get(golden.Bob, report+"1"); a.status != 404 {
			t.Errorf("bob reads queue 1: %d", a.status)
		}
		if a := e.get(golden.Bob, "/Chime/Report/GetQueueBasicReports?queueId=1"); a.status != 404 {
			t.Errorf("bob lists queue 1's catalog: %d", a.status)
		}

		// The global log for alice never holds a queue-3 row; for nobody it is empty.
		log := "/Chime/Report/GlobalChatSessionLog?start=2024-10-01&stop=2024-11-04&csv=true"
		if a := e.get(golden.Alice, log); a.status != 200 || strings.Contains(a.body, "Security Desk") || !strings.Contains(a.body, "HR Services") {
			t.Errorf("alice's global log: %d\n%s", a.status, a.body)
		}
		if a := e.get(golden.Nobody, log); a.status != 200 || strings.Count(a.body, "\r\n") != 1 {
			t.Errorf("nobody's global log should be the header only: %q", a.body)
		}
		if a := e.get(golden.Nobody, "/Chime/Report/GetAvailableGlobalReports"); strings.Contains(a.body, `"queues"`) {
			t.Errorf("nobody sees queues: %s", a.body)
		}

		// SessionDetails: reviewers open sessions but never internal notes;
		// a session in a queue one cannot see is the same 404 as none.
		sd := func(user uint, id string) answer {
			return e.get(user, "/Chime/Session/SessionDetails/"+id+"?zone=America/New_York")
		}
		if a := sd(golden.Bob, "1"); a.status != 404 {
			t.Errorf("bob opens session 1: %d", a.status)
		}
		a1, a2 := sd(golden.Bob, "1"), sd(golden.Bob, "424242")
		if strings.Replace(a1.body, "1", "X", 1) != strings.Replace(a2.body, "424242", "X", 1) {
			t.Errorf("hidden vs missing session differ:\n%s\n%s", a1.body, a2.body)
		}
		rita := sd(golden.Rita, "1")
		if rita.status != 200 || strings.Contains(rita.body, "Caller verified") {
			t.Errorf("reviewer: %d, internal note visible: %v", rita.status, strings.Contains(rita.body, "Caller verified"))
		}
		if a := sd(golden.Alice, "1"); a.status != 200 || !strings.Contains(a.body, "Caller verified") {
			t.Errorf("manager does not see the internal note: %d", a.status)
		}
	})
}

func TestJSONEnvelopeAndCatalog(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	a := e.get(golden.Alice, "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-11-03&stop=2024-11-04&zone=America/New_York")
	if a.status != 200 || a.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %s", a.status, a.body)
	}
	var env struct {
		Report string `json:"report"`
		Queue  struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"queue"`
		Start, Stop, Zone, Grain, GeneratedAt string
		Columns                               []struct{ Name, Type string }
		Rows                                  []map[string]any
		Truncated                             *bool
	}
	if err := json.Unmarshal([]byte(a.body), &env); err != nil {
		t.Fatal(err)
	}
	if env.Report != "InboundVsAnsweredChats" || env.Queue.ID != 1 || env.Queue.Name != "IT Help Desk" ||
		env.Start != "2024-11-03T00:00:00-04:00" || env.Stop != "2024-11-04T23:59:59.999-05:00" || env.Zone != "America/New_York" ||
		env.Grain != "day" || env.GeneratedAt != "2024-11-04T12:00:00Z" || env.Truncated == nil || *env.Truncated {
		t.Errorf("envelope %+v", env)
	}
	if len(env.Rows) != 2 || env.Rows[0]["Date"] != "2024-11-03" || env.Rows[0]["Inbound"] != 6.0 || env.Rows[0]["AnsweredPct"] != 50.0 {
		t.Errorf("rows %v", env.Rows)
	}

	cat := e.get(golden.Alice, "/Chime/Report/GetQueueBasicReports?queueId=1")
	var c struct {
		Category string `json:"category"`
		QueueID  int    `json:"queueId"`
		Reports  []struct {
			Name, URL       string
			RequiresQueueID bool `json:"requiresQueueId"`
			Columns         []struct{ Name, Type, Description string }
		}
	}
	if err := json.Unmarshal([]byte(cat.body), &c); err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, r := range c.Reports {
		names = append(names, r.Name)
		if !r.RequiresQueueID || !strings.HasSuffix(r.URL, "?queueId=1") || len(r.Columns) == 0 || r.Columns[0].Description == "" {
			t.Errorf("catalog entry %+v", r)
		}
	}
	if c.Category != "QueueBasic" || c.QueueID != 1 || strings.Join(names, ",") != "ChatOutcomesByDay,ChatsByDayOfWeek,ChatsByEntryPoint,ChatsByHourOfDay,InboundVsAnsweredChats,QueueChatSessionLog" {
		t.Errorf("catalog %s %d %v", c.Category, c.QueueID, names)
	}
	g := e.get(golden.Alice, "/Chime/Report/GetAvailableGlobalReports")
	if !strings.Contains(g.body, `"queues":[{"id":1,"name":"IT Help Desk"},{"id":2,"name":"HR Services"}]`) {
		t.Errorf("global catalog queues: %s", g.body)
	}
	for _, route := range []string{"GetQueueAgentReports", "GetQueuePerformanceReports", "GetQueueTextAnalyticsReports", "GetQueueBotReports"} {
		if a := e.get(golden.Alice, "/Chime/Report/"+route); a.status != 200 || !strings.Contains(a.body, `"reports":[`) {
			t.Errorf("%s: %d %s", route, a.status, a.body)
		}
	}
	if h := e.do(http.MethodHead, seedPath, "Authorization", bearer(e.key[golden.Alice])); h.status != 200 || h.body != "" || h.header.Get("Content-Disposition") == "" {
		t.Errorf("HEAD: %d %q %v", h.status, h.body, h.header)
	}
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	a := e.get(golden.Admin, "/Chime/Report/QueueChatSessionLog?queueId=1&start=2024-10-27&stop=2024-10-27&csv=true&bom=true")
	if !strings.HasPrefix(a.body, "\uFEFFSessionId,") {
		t.Errorf("no BOM: %q", a.body[:20])
	}
	// S2's question is =HYPERLINK(...) and its guest is "=1+1".
	if !strings.Contains(a.body, `'=HYPERLINK(""http://x"",""y"")"`) || !strings.Contains(a.body, ",'=1+1,") {
		t.Errorf("formulas not neutralised:\n%s", a.body)
	}
	tr := e.get(golden.Admin, "/Chime/Session/SessionDetails/5?csv=true")
	if !strings.Contains(tr.body, `'=HYPERLINK(`) {
		t.Errorf("transcript CSV: %s", tr.body)
	}
}

func TestSessionDetails(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	a := e.get(golden.Alice, "/Chime/Session/SessionDetails/1?zone=America/New_York")
	if a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	var d struct {
		SessionID  int `json:"sessionId"`
		Queue      struct{ ID int }
		Zone       string
		Timestamps map[string]*string
		Metrics    map[string]any
		Agents     []map[string]any
		Offers     []map[string]any
		Rating     map[string]any
		Sentiment  map[string]any
		Events     []map[string]any
		Transcript []map[string]any
	}
	if err := json.Unmarshal([]byte(a.body), &d); err != nil {
		t.Fatal(err)
	}
	// S1: queued 00:30:00Z = 20:30 EDT on Oct 26; accepted 20 s later;
	// first reply 15 s after accept; handle 900 s; duration 920 s.
	if d.SessionID != 1 || d.Queue.ID != 1 || *d.Timestamps["queuedAt"] != "2024-10-26T20:30:00-04:00" {
		t.Errorf("details %+v", d)
	}
	m := d.Metrics
	if m["waitSeconds"] != 20.0 || m["firstResponseSeconds"] != 15.0 || m["handleSeconds"] != 900.0 || m["durationSeconds"] != 920.0 || m["botSeconds"] != nil {
		t.Errorf("metrics %v", m)
	}
	if len(d.Agents) != 1 || d.Agents[0]["displayName"] != "Ann Agent" || len(d.Offers) != 2 || d.Offers[1]["outcome"] != "taken_by_other" {
		t.Errorf("agents %v offers %v", d.Agents, d.Offers)
	}
	if d.Rating["label"] != "Excellent" || d.Sentiment["label"] != "Positive" || len(d.Events) != 4 || len(d.Transcript) != 7 {
		t.Errorf("rating %v sentiment %v events %d transcript %d", d.Rating, d.Sentiment, len(d.Events), len(d.Transcript))
	}
	// The transfer chain: S10 → S11.
	x := e.get(golden.Admin, "/Chime/Session/SessionDetails/10")
	if !strings.Contains(x.body, `"childSessionId":11`) || !strings.Contains(x.body, `"toQueueId":2`) {
		t.Errorf("transfer chain: %s", x.body)
	}
	csv := e.get(golden.Alice, "/Chime/Session/SessionDetails/1?csv=true&zone=UTC")
	if !strings.HasPrefix(csv.body, "Seq,SentAt,SenderType,SenderName,ContentType,Text,Attachments\r\n1,2024-10-27T00:30:00Z,seeker,") ||
		!strings.Contains(csv.body, "error.png") {
		t.Errorf("transcript CSV:\n%s", csv.body)
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	if a := e.do(http.MethodGet, "/healthz"); a.status != 200 {
		t.Errorf("healthz %d", a.status)
	}
	if a := e.do(http.MethodGet, "/readyz"); a.status != 200 {
		t.Errorf("readyz %d", a.status)
	}
	if s, _ := e.b.DB.DB(); s != nil {
		s.Close()
	}
	a := e.do(http.MethodGet, "/readyz")
	if a.status != 503 || a.header.Get("Retry-After") == "" {
		t.Errorf("readyz with the database closed: %d", a.status)
	}
	errorBody(t, a)
}

func TestAdminIsMounted(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	a := e.do(http.MethodGet, "/Chime/Admin/api/users", "Authorization", bearer(e.key[golden.Admin]))
	if a.status != 200 || !strings.Contains(a.body, "alice") {
		t.Errorf("admin API: %d %s", a.status, a.body)
	}
	if a := e.do(http.MethodGet, "/Chime/Admin/api/users", "Authorization", bearer(e.key[golden.Alice])); a.status != 403 {
		t.Errorf("admin API for a non-admin: %d", a.status)
	}
}

func TestODataIsMounted(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	a := e.do(http.MethodGet, "/odata/?api_key="+e.key[golden.Alice])
	if a.status != 200 || len(a.header.Values("OData-Version")) != 1 || !strings.Contains(a.body, `"InboundVsAnsweredChats"`) {
		t.Errorf("service document: %d %v %s", a.status, a.header, a.body)
	}
	if a := e.do(http.MethodGet, "/odata/$metadata"); a.status != 401 {
		t.Errorf("metadata without a key: %d", a.status)
	}
}
