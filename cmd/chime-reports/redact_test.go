package main

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestKeyNeverLogged: a key sent as api%5Fkey (the parameter name
// percent-encoded) authenticates and stays out of the audit trail and the
// log; a key under a misspelt name (API_KEY, apikey, key) or in the path
// gets its answer and is redacted from both too.
func TestKeyNeverLogged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		var logBuf syncBuffer
		e := newEnvWith(t, b, func(d *server.Deps) { d.Log = slog.New(slog.NewTextHandler(&logBuf, nil)) })
		key := e.key[golden.Alice]
		upper := strings.ToUpper(key)
		calls := []struct {
			path   string
			status int
		}{
			{"/Chime/Report/GetQueueBasicReports?queueId=1&api%5Fkey=" + key, http.StatusOK},
			{"/Chime/Report/GetQueueBasicReports?queueId=1&%61pi_key=" + key, http.StatusOK},
			{"/Chime/Report/GetQueueBasicReports?queueId=1&API_KEY=" + key, http.StatusUnauthorized},
			{"/Chime/Report/GetQueueBasicReports?apikey=%7B" + upper + "%7D&queueId=1", http.StatusUnauthorized},
			{"/odata/Queues?key=" + strings.ReplaceAll(key, "-", ""), http.StatusUnauthorized},
			{"/Chime/Report/" + key, http.StatusUnauthorized},
		}
		for _, c := range calls {
			if a := e.do(http.MethodGet, c.path); a.status != c.status {
				t.Errorf("%s: %d, want %d", c.path, a.status, c.status)
			}
		}
		// An authenticated call with a key under another name: a 400,
		// audited.
		if a := e.get(golden.Alice, "/Chime/Report/GetQueueBasicReports?queueId=1&token="+key+"&x"); a.status != http.StatusBadRequest {
			t.Fatalf("misspelt extra parameter: %d %s", a.status, a.body)
		}
		if a := e.get(golden.Alice, "/Chime/Report/"+key+"?queueId=1"); a.status != http.StatusNotFound {
			t.Fatalf("key in the path: %d %s", a.status, a.body)
		}
		var recs []models.AuditRecord
		if err := b.DB.Find(&recs).Error; err != nil {
			t.Fatal(err)
		}
		if len(recs) != 4 {
			t.Errorf("%d audit records, want 4", len(recs))
		}
		hex := strings.ReplaceAll(key, "-", "")
		for _, r := range recs {
			for _, s := range []string{r.Query, r.Route} {
				if l := strings.ToLower(strings.ReplaceAll(s, "-", "")); strings.Contains(l, hex) {
					t.Errorf("the key is in the audit trail: %q", s)
				}
			}
		}
		if !strings.Contains(recs[len(recs)-2].Query, "token="+keys.Redacted) || !strings.HasSuffix(recs[len(recs)-2].Query, "&x") {
			t.Errorf("audited query %q: want the key-shaped value redacted, the rest kept", recs[len(recs)-2].Query)
		}
		log := strings.ToLower(strings.ReplaceAll(logBuf.String(), "-", ""))
		if strings.Contains(log, hex) {
			t.Errorf("the key is in the log:\n%s", logBuf.String())
		}
		if n := strings.Count(logBuf.String(), "msg=request"); n != len(calls)+2 {
			t.Errorf("%d access log lines, want %d", n, len(calls)+2)
		}
	})
}
