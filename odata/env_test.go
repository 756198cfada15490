package odata_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
	"github.com/chime-reports/chime-reports/reports"
)

// env is a running service over the golden data set: the key middleware
// and the feed mounted at /odata/, as cmd/chime-reports wires them.
type env struct {
	t      *testing.T
	b      dbtest.Backend
	srv    *httptest.Server
	engine *reports.Engine
	key    map[uint]string
}

// PowerQueryAccept is the Accept header of Power Query's first request.
const PowerQueryAccept = "application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7"

func newEnv(t *testing.T, b dbtest.Backend, opt odata.Options) *env {
	t.Helper()
	ctx := context.Background()
	if err := golden.Load(ctx, b.DB); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return golden.Now }
	ks := keys.New(b.DB, clock, slog.New(slog.DiscardHandler))
	e := &env{t: t, b: b, key: map[uint]string{}, engine: reports.NewEngine(b.DB, clock)}
	for _, u := range []uint{golden.Admin, golden.Alice, golden.Bob} {
		k, err := ks.Generate(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		e.key[u] = k
	}
	e.srv = httptest.NewServer(handler(ks, e.engine, opt))
	t.Cleanup(e.srv.Close)
	return e
}

// handler mirrors newHandler in cmd/chime-reports: recovery that re-raises
// http.ErrAbortHandler, the key middleware, the feed at /odata/.
func handler(ks *keys.Service, engine *reports.Engine, opt odata.Options) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && err == http.ErrAbortHandler {
					panic(v)
				}
				c.AbortWithStatus(500)
			}
		}()
		c.Next()
	})
	feed := gin.WrapH(odata.New(engine, slog.New(slog.DiscardHandler), opt))
	authed := r.Group("/", ks.Authenticate())
	authed.GET("/odata", feed)
	authed.HEAD("/odata", feed)
	authed.GET("/odata/*path", feed)
	authed.HEAD("/odata/*path", feed)
	for _, p := range []string{"/odata", "/odata/*path"} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			authed.Handle(m, p, feed)
		}
	}
	return r
}

type answer struct {
	status int
	header http.Header
	body   string
}

// get sends a GET with the user's key as a Bearer token plus hdr pairs.
func (e *env) get(user uint, path string, hdr ...string) answer {
	e.t.Helper()
	h := append([]string{"Authorization", "Bearer " + e.key[user]}, hdr...)
	return e.do(e.srv.URL+path, h...)
}

func (e *env) do(url string, hdr ...string) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("reading %s: %v", url, err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// page is a decoded collection answer.
type page struct {
	Context  string           `json:"@odata.context"`
	Count    *int64           `json:"@odata.count"`
	NextLink string           `json:"@odata.nextLink"`
	Value    []map[string]any `json:"value"`
}

func (e *env) page(user uint, path string, hdr ...string) page {
	e.t.Helper()
	a := e.get(user, path, hdr...)
	return e.decode(a, path)
}

func (e *env) decode(a answer, what string) page {
	e.t.Helper()
	if a.status != 200 {
		e.t.Fatalf("%s: status %d: %s", what, a.status, a.body)
	}
	var p page
	dec := json.NewDecoder(strings.NewReader(a.body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		e.t.Fatalf("%s: %v: %s", what, err, a.body)
	}
	return p
}

// odataError checks the OData error shape and returns its code.
func odataError(t *testing.T, a answer) (code, message string) {
	t.Helper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Target  string `json:"target"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(a.body), &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("not an OData error body (%v): %s", err, a.body)
	}
	if got := a.header.Values("OData-Version"); len(got) != 1 || got[0] != "4.0" {
		t.Errorf("error without exactly one OData-Version: %q", got)
	}
	return body.Error.Code, body.Error.Message
}
