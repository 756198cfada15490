package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// scaleGet sends a GET to srv with a Bearer key ("" = none) and returns
// the status and body.
func scaleGet(t *testing.T, srv *httptest.Server, key, pathAndQuery string, hdr ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+pathAndQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestNextLinkAcrossProcesses: behind a load balancer the page after a
// nextLink may be served by another process; processes that share
// --admin-secret accept each other's $skiptoken, others refuse it (400).
func TestNextLinkAcrossProcesses(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	key := e.key[golden.Admin]
	proc := func(secret string) *httptest.Server {
		srv := httptest.NewServer(server.NewHandler(server.Deps{DB: e.b.DB, Clock: func() time.Time { return golden.Now }, Log: slog.New(slog.DiscardHandler), AdminSecret: []byte(secret)}))
		t.Cleanup(srv.Close)
		return srv
	}
	a, b, other := proc("shared secret"), proc("shared secret"), proc("another secret")
	status, body := scaleGet(t, a, key, "/odata/Sessions?$select=SessionId", "Prefer", "odata.maxpagesize=2")
	var page struct {
		Value []json.RawMessage `json:"value"`
		Next  string            `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(body, &page); err != nil || status != 200 || page.Next == "" || len(page.Value) != 2 {
		t.Fatalf("first page: %d %v %s", status, err, body)
	}
	u, err := url.Parse(page.Next)
	if err != nil {
		t.Fatal(err)
	}
	next := u.Path + "?" + u.RawQuery
	if status, body := scaleGet(t, b, key, next, "Prefer", "odata.maxpagesize=2"); status != 200 {
		t.Errorf("nextLink on a process with the same secret: %d %s", status, body)
	}
	if status, body := scaleGet(t, other, key, next, "Prefer", "odata.maxpagesize=2"); status != 400 {
		t.Errorf("nextLink on a process with another secret: %d %s, want 400", status, body)
	}
}
