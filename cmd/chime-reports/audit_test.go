package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestAuditWriterMetrics: with server.Deps.Audit (as serve sets it) every call is
// audited through the writer, and /metrics exports its counters.
func TestAuditWriterMetrics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		var w *keys.AuditWriter
		e := newEnvWith(t, b, func(d *server.Deps) {
			w = keys.NewAuditWriter(d.DB, d.Log, keys.AuditOptions{})
			t.Cleanup(func() { w.Close(context.Background()) })
			d.Audit = w
		})
		const clients, each = 8, 5
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for range each {
					if a := e.get(golden.Alice, opsReport); a.status != http.StatusOK {
						t.Errorf("%d %s", a.status, a.body)
					}
				}
			})
		}
		wg.Wait()
		if err := w.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var n int64
		b.DB.Model(&models.AuditRecord{}).Where("user_id = ? AND route = ?", golden.Alice, "/Chime/Report/InboundVsAnsweredChats").Count(&n)
		if n != clients*each {
			t.Errorf("%d audit rows after %d calls", n, clients*each)
		}
		body := e.do(http.MethodGet, "/metrics").body
		for _, want := range []string{
			"chime_audit_records_written_total 40\n",
			"chime_audit_records_dropped_total 0\n",
			"chime_audit_records_pending 0\n",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	})
}

// TestServeWritesAuditOnShutdown runs the real binary: the records of the
// calls answered just before SIGTERM are still in audit_log after exit
// (serve closes the audit writer after the HTTP server, before the
// database).
func TestServeWritesAuditOnShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := startServe(t, "--rate-limit", "0")
	key := srv.key(t, "admin")

	const calls = 25
	for i := range calls {
		req, _ := http.NewRequest(http.MethodGet, "http://"+srv.addr+"/Chime/Report/GetQueueBasicReports?queueId=1", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d: %d", i, resp.StatusCode)
		}
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	srv.exitsCleanly(t, 60*time.Second)

	parsed, err := models.ParseDSN(srv.dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := dbtest.Open(t, parsed).DB
	var n int64
	if err := db.Model(&models.AuditRecord{}).Where("route = ?", "/Chime/Report/GetQueueBasicReports").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != calls {
		t.Errorf("%d audit rows after exit, want %d", n, calls)
	}
}
