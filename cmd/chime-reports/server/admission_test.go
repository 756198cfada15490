package server

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/keys"
)

// TestAdmission: a key with MaxPerKey requests running gets 429 with
// Retry-After at once (not a place in a queue) while another key still
// gets in; with MaxConcurrent running in all, everyone gets 503 with
// Retry-After; a place is given back when its answer has been sent.
func TestAdmission(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	adm := newAdmission(2, 3)
	var checked sync.Map                               // key → key checks
	r.Use(adm.refuseWhenFull(), func(c *gin.Context) { // the key middleware, reduced to its principal
		id, _ := strconv.Atoi(c.GetHeader("X-Key"))
		n, _ := checked.LoadOrStore(id, new(int))
		*n.(*int)++
		c.Request = c.Request.WithContext(keys.WithPrincipal(c.Request.Context(), &keys.Principal{KeyID: uint(id)}))
	}, adm.middleware())
	release := make(chan struct{})
	entered := make(chan struct{}, 8)
	r.GET("/report", func(c *gin.Context) {
		entered <- struct{}{}
		<-release
		c.String(http.StatusOK, "ok")
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	get := func(key string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/report", nil)
		req.Header.Set("X-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		resp.Body.Close()
		return resp
	}
	var wg sync.WaitGroup
	hold := func(key string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp := get(key); resp != nil && resp.StatusCode != http.StatusOK {
				t.Errorf("key %s: %d", key, resp.StatusCode)
			}
		}()
		<-entered
	}
	hold("1")
	hold("1")
	if resp := get("1"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("third request of key 1: %d, Retry-After %q; want 429 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	hold("2")
	if resp := get("3"); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("a fourth request in all: %d, Retry-After %q; want 503 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Refused before its key was checked: the check would wait for a
	// connection the running requests hold.
	if _, ok := checked.Load(3); ok {
		t.Error("the key of a request refused because the server is full was checked")
	}
	close(release)
	wg.Wait()
	if resp := get("1"); resp.StatusCode != http.StatusOK {
		t.Errorf("after the answers were sent: %d", resp.StatusCode)
	}
}
