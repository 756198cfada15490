package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestLinksIgnoreUntrustedHost: a Host or X-Forwarded-* header from a
// client that is not a trusted proxy never names the feed's absolute links;
// a configured public URL always does, and a trusted proxy's headers do.
func TestLinksIgnoreUntrustedHost(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		links := func(tune func(*server.Deps), hdr ...string) (context, next string) {
			t.Helper()
			w := dbtest.SQLite(t)
			if b.Name == "mysql" {
				w = dbtest.MySQL(t)
			}
			e := newEnvWith(t, w, tune)
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/odata/Sessions", nil)
			req.Header.Set("Authorization", "Bearer "+e.key[golden.Admin])
			req.Header.Set("Prefer", "odata.maxpagesize=1")
			for i := 0; i+1 < len(hdr); i += 2 {
				if hdr[i] == "Host" {
					req.Host = hdr[i+1] // net/http sends req.Host, not a Host header
				} else {
					req.Header.Set(hdr[i], hdr[i+1])
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			a := answer{resp.StatusCode, resp.Header, string(raw)}
			if a.status != http.StatusOK {
				t.Fatalf("%d %s", a.status, a.body)
			}
			var body struct {
				Context string `json:"@odata.context"`
				Next    string `json:"@odata.nextLink"`
			}
			if err := json.Unmarshal([]byte(a.body), &body); err != nil {
				t.Fatal(err)
			}
			if body.Next == "" {
				t.Fatalf("no nextLink: %s", a.body)
			}
			return body.Context, body.Next
		}
		evil := []string{"Host", "evil.example", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example"}
		c, n := links(nil, evil...)
		for _, l := range []string{c, n} {
			if strings.Contains(l, "evil.example") || !strings.HasPrefix(l, "http://127.0.0.1:") {
				t.Errorf("untrusted client's headers in a link: %s", l)
			}
		}
		c, n = links(func(d *server.Deps) { d.PublicURL = "https://reports.example.com" }, evil...)
		for _, l := range []string{c, n} {
			if !strings.HasPrefix(l, "https://reports.example.com/odata/") {
				t.Errorf("public URL not used: %s", l)
			}
		}
		c, n = links(func(d *server.Deps) { d.TrustedProxies = []string{"127.0.0.1"} },
			"X-Forwarded-Proto", "https", "X-Forwarded-Host", "reports.example.org")
		for _, l := range []string{c, n} {
			if !strings.HasPrefix(l, "https://reports.example.org/odata/") {
				t.Errorf("trusted proxy's headers not used: %s", l)
			}
		}
	})
}
