package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestAdminThrottle: sign-in attempts and admin API calls from one address
// get 429 with Retry-After once over their budget (in the error shape),
// while another address is still served.
func TestAdminThrottle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		h := e.srv.Config.Handler
		send := func(method, path, from string, body string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.RemoteAddr = from + ":40000"
			if body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			req.Header.Set("Authorization", "Bearer "+e.key[golden.Admin])
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		form := url.Values{"key": {"00000000-0000-4000-8000-000000000000"}}.Encode()
		refused := 0
		for range 300 {
			rec := send(http.MethodPost, "/Chime/Admin/signin", "198.51.100.7", form)
			if rec.Code == http.StatusTooManyRequests {
				refused++
				if rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"TooManyRequests"`) {
					t.Fatalf("429 without Retry-After or error shape: %v %s", rec.Header(), rec.Body)
				}
			}
		}
		if refused < 250 {
			t.Errorf("300 sign-ins at once: %d refused, want all but the burst", refused)
		}
		if rec := send(http.MethodPost, "/Chime/Admin/signin", "198.51.100.8", form); rec.Code == http.StatusTooManyRequests {
			t.Errorf("another address was refused")
		}
		refused = 0
		for range 200 {
			if rec := send(http.MethodGet, "/Chime/Admin/api/users", "198.51.100.9", ""); rec.Code == http.StatusTooManyRequests {
				refused++
			} else if rec.Code != http.StatusOK {
				t.Fatalf("admin API: %d %s", rec.Code, rec.Body)
			}
		}
		if refused == 0 {
			t.Errorf("200 admin API calls at once: none refused")
		}
	})
}
