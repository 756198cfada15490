package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// slowDial is an HTTP client whose sockets receive into a tiny buffer, so a
// server streaming a large answer is still writing while the client reads
// its first bytes.
func slowDial() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}).DialContext,
	}}
}

// TestAuditOutcomeOfEveryEnd runs the real binary over its demo data: a
// year's session log CSV read in part and dropped, one left unread until
// the stall timeout cuts it, and one still streaming when the shutdown
// grace period runs out each leave exactly one audit row with the rows and
// bytes sent and how it ended, and one access log line naming the caller
// and the outcome; a whole download is "complete".
func TestAuditOutcomeOfEveryEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	// A year of 40,000 sessions: its session log CSV (about 9 MB) is far
	// more than the socket buffers of a loopback connection hold.
	srv := startServeOver(t, []string{"fixtures", "load", "--start", "2020-01-01", "--end", "2020-12-31", "--sessions", "40000", "--seed", "3"},
		"--rate-limit", "0", "--stall-timeout", "3s", "--shutdown-grace", "1s")
	key := srv.key(t, "admin")
	base := "http://" + srv.addr
	path := "/Chime/Report/GlobalChatSessionLog?start=2020-01-01&stop=2020-12-31&zone=UTC&csv=true"
	// Each download is told apart by its user agent.
	get := func(c *http.Client, agent string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("User-Agent", agent)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", agent, resp.StatusCode)
		}
		return resp
	}

	// complete: read to the end.
	resp := get(http.DefaultClient, "whole")
	whole, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(whole) < 5_000_000 {
		t.Fatalf("whole export: %d bytes, %v", len(whole), err)
	}

	// client_gone: read 15 % and close the connection.
	resp = get(slowDial(), "gone")
	if _, err := io.ReadFull(resp.Body, make([]byte, len(whole)*15/100)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// stalled: read the first bytes, then nothing.
	stalled := get(slowDial(), "stalled")
	defer stalled.Body.Close()
	if _, err := io.ReadFull(stalled.Body, make([]byte, 512)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, srv.exited, 30*time.Second, "the stalled client to be cut", func() bool {
		return strings.Contains(srv.stderr.String(), "outcome=stalled")
	})

	// shutdown: still streaming when SIGTERM's grace period ends (read
	// slowly, so the stall timeout does not cut it first).
	cut := get(slowDial(), "cut")
	defer cut.Body.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := cut.Body.Read(buf); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-srv.exited

	parsed, err := models.ParseDSN(srv.dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := dbtest.Open(t, parsed).DB
	var recs []models.AuditRecord
	if err := db.Where("route = ?", "/Chime/Report/GlobalChatSessionLog").Order("id").Find(&recs).Error; err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"whole": keys.OutcomeComplete, "gone": keys.OutcomeClientGone,
		"stalled": keys.OutcomeStalled, "cut": keys.OutcomeShutdown}
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.UserAgent]++
		w, ok := want[r.UserAgent]
		if !ok {
			t.Errorf("unexpected record %+v", r)
			continue
		}
		if r.Outcome != w {
			t.Errorf("%s: outcome %q, want %q", r.UserAgent, r.Outcome, w)
		}
		if r.Rows <= 0 || r.Bytes <= 0 || r.Status != http.StatusOK || r.KeyHint != key[len(key)-4:] {
			t.Errorf("%s: %+v: want the rows and bytes sent, status 200 and the key hint", r.UserAgent, r)
		}
		if w == keys.OutcomeComplete && r.Bytes != int64(len(whole)) {
			t.Errorf("complete: %d bytes recorded, %d received", r.Bytes, len(whole))
		}
		if w != keys.OutcomeComplete && r.Bytes >= int64(len(whole)) {
			t.Errorf("%s: %d bytes recorded of %d: the cut answer looks whole", r.UserAgent, r.Bytes, len(whole))
		}
	}
	for agent := range want {
		if seen[agent] != 1 {
			t.Errorf("%s: %d audit rows, want exactly 1", agent, seen[agent])
		}
	}
	log := srv.stderr.String()
	for _, w := range want {
		if !strings.Contains(log, "outcome="+w) {
			t.Errorf("no access log line with outcome=%s", w)
		}
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "path=/Chime/Report/GlobalChatSessionLog") &&
			(!strings.Contains(line, "user=admin") || !strings.Contains(line, "key="+key[len(key)-4:])) {
			t.Errorf("access log line without the caller: %s", line)
		}
	}
}

// TestOutcomeOfAFailedStream: a stream that fails on the server side after
// its first byte (the report handlers' abort, with the client still there)
// is recorded as db_error, in the audit trail, in the access log line and
// in the admin API's audit entries (which filter by outcome).
func TestOutcomeOfAFailedStream(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if err := golden.Load(ctx, b.DB); err != nil {
			t.Fatal(err)
		}
		clock := func() time.Time { return golden.Now }
		ks := keys.New(b.DB, clock, nil)
		key, err := ks.Generate(ctx, golden.Admin)
		if err != nil {
			t.Fatal(err)
		}
		var logBuf syncBuffer
		h := server.NewHandler(server.Deps{DB: b.DB, Clock: clock, Log: slog.New(slog.NewJSONHandler(&logBuf, nil))}).(*gin.Engine)
		h.GET("/Chime/Test/fails-mid-stream", ks.Authenticate(), func(c *gin.Context) {
			c.Writer.WriteString("first row\r\n")
			keys.AddRows(c.Request.Context(), 1)
			c.Writer.Flush()
			panic(http.ErrAbortHandler) // what a handler does when its rows stop with an error
		})
		srv := httptest.NewServer(h)
		defer srv.Close()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/Chime/Test/fails-mid-stream", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Fatal("a failed stream looked whole to the client")
			}
		}
		var rec models.AuditRecord
		if err := b.DB.Where("route = ?", "/Chime/Test/fails-mid-stream").First(&rec).Error; err != nil {
			t.Fatalf("no audit row for a stream that failed: %v", err)
		}
		if rec.Outcome != keys.OutcomeDBError || rec.Rows != 1 || rec.Bytes != int64(len("first row\r\n")) {
			t.Errorf("record %+v: want db_error, 1 row, 11 bytes", rec)
		}
		var line map[string]any
		for _, l := range strings.Split(logBuf.String(), "\n") {
			if strings.Contains(l, "fails-mid-stream") {
				if err := json.Unmarshal([]byte(l), &line); err != nil {
					t.Fatal(err)
				}
			}
		}
		if line["outcome"] != keys.OutcomeDBError || line["user"] != "admin" || line["rows"] != float64(1) {
			t.Errorf("access log line %v: want outcome db_error, user admin, rows 1", line)
		}

		// The admin API shows the outcome and filters by it; the CSV has it.
		get := func(path string) string {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
			}
			return string(b)
		}
		var page struct {
			Items []struct {
				Route   string `json:"route"`
				Outcome string `json:"outcome"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(get("/Chime/Admin/api/audit?outcome=db_error")), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].Route != "/Chime/Test/fails-mid-stream" || page.Items[0].Outcome != keys.OutcomeDBError {
			t.Errorf("audit API filtered by outcome: %+v", page.Items)
		}
	})
}
