package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/models/dbtest/mariadbd"
)

// outageRoutes are answered by the key check and then by the report code;
// each must become a 503 with Retry-After while the database is down.
var outageRoutes = []struct{ name, path string }{
	{"native JSON", "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-10-01&stop=2024-11-03&zone=UTC"},
	{"native CSV", "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-10-01&stop=2024-11-03&zone=UTC&csv=true"},
	{"native XLSX", "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-10-01&stop=2024-11-03&zone=UTC&format=xlsx"},
	{"OData set", "/odata/Sessions?$top=5"},
	{"SessionDetails", "/Chime/Session/SessionDetails/1?zone=UTC"},
}

// outageEnv is the service over a private MariaDB server that the test
// stops and starts under it.
type outageEnv struct {
	t   *testing.T
	srv *mariadbd.Server
	db  *gorm.DB
	web *httptest.Server
	key string
	// stopBeforeReport, when set, stops MariaDB inside the next request
	// after its key was checked, just before its first report query.
	stopBeforeReport atomic.Bool
	stopErr          error
}

func newOutageEnv(t *testing.T) *outageEnv {
	t.Helper()
	ctx := context.Background()
	srv := mariadbd.New(t, mariadbd.Options{})
	if err := srv.CreateDatabase("chime"); err != nil {
		t.Fatal(err)
	}
	dsn, err := models.ParseDSN(srv.DSN("chime"))
	if err != nil {
		t.Fatal(err)
	}
	db := dbtest.Open(t, dsn).DB
	if err := golden.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return golden.Now }
	key, err := keys.New(db, clock, nil).Generate(ctx, golden.Alice)
	if err != nil {
		t.Fatal(err)
	}
	e := &outageEnv{t: t, srv: srv, db: db, key: key}
	// Alice's key check reads these tables only; the first other query of
	// a request is the report's.
	authTables := map[string]bool{"api_keys": true, "users": true, "queue_members": true}
	stop := func(tx *gorm.DB) {
		if !authTables[tx.Statement.Table] && e.stopBeforeReport.CompareAndSwap(true, false) {
			e.stopErr = srv.Stop()
		}
	}
	if err := db.Callback().Query().Before("gorm:query").Register("outage:stop", stop); err != nil {
		t.Fatal(err)
	}
	if err := db.Callback().Row().Before("gorm:row").Register("outage:stop", stop); err != nil {
		t.Fatal(err)
	}
	e.web = httptest.NewServer(server.NewHandler(server.Deps{DB: db, Clock: clock, Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(e.web.Close)
	return e
}

// get sends a GET with Alice's key; it must be answered, whatever the
// status, before the request's own deadline.
func (e *outageEnv) get(path string) answer {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.web.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s: no answer: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s: body: %v", path, err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (e *outageEnv) wantOK(path string) {
	e.t.Helper()
	if a := e.get(path); a.status != http.StatusOK {
		e.t.Fatalf("%s: status %d, want 200: %.300s", path, a.status, a.body)
	}
}

// wantUnavailable checks a 503 in the error shape with Retry-After.
func (e *outageEnv) wantUnavailable(path string) {
	e.t.Helper()
	a := e.get(path)
	if a.status != http.StatusServiceUnavailable {
		e.t.Fatalf("%s: status %d, want 503: %.300s", path, a.status, a.body)
	}
	if a.header.Get("Retry-After") == "" {
		e.t.Errorf("%s: 503 without Retry-After", path)
	}
	if code, _, _, _ := errorBody(e.t, a); code != "ServiceUnavailable" {
		e.t.Errorf("%s: code %q", path, code)
	}
}

func (e *outageEnv) restart(how func() error) {
	e.t.Helper()
	if err := how(); err != nil {
		e.t.Fatal(err)
	}
	if err := e.srv.Start(); err != nil {
		e.t.Fatal(err)
	}
}

// TestDatabaseOutage stops a real MariaDB server under the running service:
// every route that needs the database answers 503 with Retry-After (the key
// check itself says 503, not 401), /readyz turns 503 while /healthz stays
// 200, and once MariaDB is back the same handler answers 200 again, on
// the first request, without being rebuilt.
func TestDatabaseOutage(t *testing.T) {
	e := newOutageEnv(t)
	paths := []string{"/readyz", "/healthz"}
	for _, r := range outageRoutes {
		paths = append(paths, r.path)
	}
	for _, p := range paths {
		e.wantOK(p)
	}

	// Down: the key check is the first database call of every route.
	if err := e.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, r := range outageRoutes {
		t.Run("down/"+r.name, func(t *testing.T) { e.t = t; e.wantUnavailable(r.path) })
	}
	e.t = t
	e.wantUnavailable("/readyz")
	// The service document needs no database: once the key's cached
	// check (keys.PrincipalTTL) has expired, the key check asks it and
	// gets no answer.
	time.Sleep(keys.PrincipalTTL)
	e.wantUnavailable("/odata/")
	// The key check cannot tell a good key from a bad one without the
	// database: an unknown key is a 503 too, not a 401.
	good := e.key
	e.key = "00000000-0000-4000-8000-000000000000"
	e.wantUnavailable(outageRoutes[0].path)
	e.key = good
	if a := e.get("/healthz"); a.status != http.StatusOK {
		t.Fatalf("/healthz during the outage: %d", a.status)
	}

	// Back: the same handler and pool answer again, first request included.
	if err := e.srv.Start(); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		e.wantOK(p)
	}

	// Down between the key check and the report query: the report code
	// itself answers 503 (in the OData shape under /odata).
	for _, r := range []struct{ name, path string }{outageRoutes[1], outageRoutes[3], outageRoutes[4]} {
		t.Run("mid-request/"+r.name, func(t *testing.T) {
			e.t = t
			e.stopBeforeReport.Store(true)
			e.wantUnavailable(r.path)
			if e.stopBeforeReport.Load() || e.stopErr != nil {
				t.Fatalf("MariaDB was not stopped mid-request (%v)", e.stopErr)
			}
			if err := e.srv.Start(); err != nil {
				t.Fatal(err)
			}
			e.wantOK(r.path)
		})
	}
	e.t = t
}

// TestDatabaseRestartStalePool restarts MariaDB (cleanly, then by a crash)
// while the pool holds idle connections to the old server: the first
// requests afterwards must not see them (the driver's liveness check turns
// them into driver.ErrBadConn and database/sql retries on a new one).
func TestDatabaseRestartStalePool(t *testing.T) {
	e := newOutageEnv(t)
	pool, err := e.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		halt func() error
	}{{"stop", e.srv.Stop}, {"kill", e.srv.Kill}} {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			// Fill the pool with several idle connections.
			var wg sync.WaitGroup
			for range 6 {
				wg.Go(func() { e.get(outageRoutes[0].path) })
			}
			wg.Wait()
			if idle := pool.Stats().Idle; idle < 2 {
				t.Fatalf("only %d idle connections: the test would prove nothing", idle)
			}
			e.restart(c.halt)
			// Every route, in parallel, on the first try.
			for _, r := range outageRoutes {
				wg.Go(func() {
					a := e.get(r.path)
					if a.status != http.StatusOK {
						t.Errorf("%s after restart: %d: %.300s", r.name, a.status, a.body)
					}
				})
			}
			wg.Wait()
			if a := e.get("/readyz"); a.status != http.StatusOK || !strings.HasPrefix(a.body, "ready") {
				t.Fatalf("/readyz after restart: %d %q", a.status, a.body)
			}
		})
	}
	e.t = t
}
