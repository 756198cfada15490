package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestODataErrorsBeforeTheFeed: the answers under /odata written before
// the feed's own handler (no key, a bad key, a wrong method, a long URL,
// the rate limit, admission control) have the OData error shape and one
// OData-Version header.
func TestODataErrorsBeforeTheFeed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnvWith(t, b, func(d *server.Deps) { d.RateLimit, d.RateBurst, d.MaxURLBytes = 0.001, 1, 200 })
		check := func(what string, a answer, status int) {
			t.Helper()
			if a.status != status {
				t.Fatalf("%s: %d, want %d: %s", what, a.status, status, a.body)
			}
			odataErrorBody(t, a)
		}
		check("no key", e.do(http.MethodGet, "/odata/Sessions"), http.StatusUnauthorized)
		check("bad key", e.do(http.MethodGet, "/odata/Sessions", "Authorization", "Bearer 00000000-0000-4000-8000-000000000000"), http.StatusUnauthorized)
		// A write method: without a key the key check answers first; with
		// one, the read-only feed refuses it. Both in the OData shape.
		check("method without a key", e.do(http.MethodPost, "/odata/Sessions"), http.StatusUnauthorized)
		check("method", e.do(http.MethodPost, "/odata/Sessions", "Authorization", bearer(e.key[golden.Bob])), http.StatusMethodNotAllowed)
		check("long URL", e.do(http.MethodGet, "/odata/Sessions?$filter="+strings.Repeat("x", 300)), http.StatusRequestURITooLong)
		if a := e.get(golden.Alice, "/odata/"); a.status != http.StatusOK {
			t.Fatalf("first call: %d", a.status)
		}
		check("rate limit", e.get(golden.Alice, "/odata/"), http.StatusTooManyRequests)
		// The feed's own answers keep exactly one header.
		if a := e.get(golden.Admin, "/odata/"); len(a.header.Values("OData-Version")) != 1 {
			t.Errorf("feed answer: OData-Version %q", a.header.Values("OData-Version"))
		}
	})
}
