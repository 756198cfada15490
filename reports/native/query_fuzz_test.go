package native_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/keys/keystest"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/native"
)

// FuzzQuery sends any raw query string (and Accept header) to the native
// routes — every report, the catalogs and SessionDetails — over the golden
// data (SQLite), as an admin or as Alice. The answer is 200, 400, 404 or
// 406, and every error is the one error shape.
func FuzzQuery(f *testing.F) {
	b := dbtest.SQLite(f)
	ctx := context.Background()
	if err := golden.Load(ctx, b.DB); err != nil {
		f.Fatal(err)
	}
	clock := func() time.Time { return golden.Now }
	callers := keystest.Principals(f, b.DB, clock, golden.Admin, golden.Alice)
	// The Gin routes as cmd/chime-reports mounts them, with the caller put
	// in the context instead of a key check (and no recovery: a panic is a
	// crash the fuzzer reports).
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	authed := r.Group("/", func(c *gin.Context) {
		who := callers[0]
		if c.GetHeader("X-Fuzz-Caller") == "alice" {
			who = callers[1]
		}
		c.Request = c.Request.WithContext(keys.WithPrincipal(c.Request.Context(), who))
	})
	native.New(reports.NewEngine(b.DB, clock), slog.New(slog.DiscardHandler), native.Options{}).Register(authed)

	var paths []string
	for _, c := range reports.Categories {
		paths = append(paths, "/Chime/Report/"+c.Route)
	}
	for _, rep := range reports.All() {
		paths = append(paths, "/Chime/Report/"+rep.Name)
	}
	paths = append(paths, "/Chime/Report/NoSuchReport", "/Chime/Session/SessionDetails/1", "/Chime/Session/SessionDetails/3",
		"/Chime/Session/SessionDetails/999999", "/Chime/Session/SessionDetails/0")
	index := func(path string) uint8 {
		for i, p := range paths {
			if p == path {
				return uint8(i)
			}
		}
		f.Fatalf("no path %s", path)
		return 0
	}

	const seed = "/Chime/Report/InboundVsAnsweredChats"
	for _, c := range []struct{ path, query, accept string }{
		{seed, "queueId=1&start=2020-11-01T04:00:00.000Z&stop=2020-12-01T04:59:59.999Z&csv=true", ""},
		{seed, "queueId=1&start=2020-11-01T04:00:00.000Z&stop=2020-12-01T04:59:59.999Z&zone=America/New_York&format=xlsx", ""},
		{seed, "queueId=1&start=2024-11-03T01:30:00+01:00&stop=2024-11-03T01:30:00%2B01:00&bom=true", "text/csv"},
		{seed, "queueId=99999999999999999999&start=0000-01-01&stop=9999-12-31T24:00", ""},
		{seed, "queueId=1%27%20OR%201=1--&zone=America/../../etc&strat=2024-01-01", ""},
		{seed, "queueId=1&queueId=2&api_key=x&api_key=y", "application/xml"},
		{seed, "queueId=1&start=2023-02-29&stop=%zz&%", ""},
		{seed, "queueId=1&csv=maybe&format=pdf", "image/png;q=0, */*;q=0"},
		{"/Chime/Report/GetQueueBasicReports", "queueId=1", ""},
		{"/Chime/Report/GetAvailableGlobalReports", "", "text/html"},
		{"/Chime/Report/GlobalQueueSummary", "start=2024-10-01&stop=2024-11-04&zone=Asia/Kolkata", ""},
		{"/Chime/Report/QueueChatSessionLog", "queueId=3&start=2024-11-03&format=csv", ""},
		{"/Chime/Report/NoSuchReport", "queueId=1", ""},
		{"/Chime/Session/SessionDetails/1", "zone=Europe/London&csv=true", ""},
		{"/Chime/Session/SessionDetails/999999", "format=json", "application/json"},
	} {
		f.Add(index(c.path), c.query, c.accept)
		f.Add(index(c.path)+128, c.query, c.accept)
	}
	f.Fuzz(func(t *testing.T, which uint8, rawQuery, accept string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = paths[int(which%128)%len(paths)]
		req.URL.RawQuery = rawQuery
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if which >= 128 {
			req.Header.Set("X-Fuzz-Caller", "alice")
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		switch w.Code {
		case 200, 400, 404, 406:
		default:
			t.Fatalf("%s?%s (Accept %q): status %d: %s", req.URL.Path, rawQuery, accept, w.Code, w.Body.String())
		}
		if w.Code == 200 {
			return
		}
		var body struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("error content type %q", w.Header().Get("Content-Type"))
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
			t.Fatalf("%s?%s: status %d, not the error shape (%v): %s", req.URL.Path, rawQuery, w.Code, err, w.Body.String())
		}
	})
}
