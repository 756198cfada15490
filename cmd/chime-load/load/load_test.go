package load

import (
	"archive/zip"
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// fake answers every way a server can answer or fail.
func fake(t *testing.T) *httptest.Server {
	t.Helper()
	var wb bytes.Buffer
	z := zip.NewWriter(&wb)
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		f, _ := z.Create(name)
		f.Write([]byte("<x/>"))
	}
	z.Close()
	workbook := wb.Bytes()

	mux := http.NewServeMux()
	ok := func(ctype, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer k" {
				apierror.Write(w, &apierror.Error{Code: apierror.Unauthorized, Message: "no key"})
				return
			}
			w.Header().Set("Content-Type", ctype)
			w.Write([]byte(body))
		}
	}
	mux.HandleFunc("/json", ok("application/json", `{"rows":[[1,2]]}`))
	mux.HandleFunc("/json-cut", ok("application/json", `{"rows":[[1,2],`))
	mux.HandleFunc("/csv", ok("text/csv", "a,b\r\n1,\"x\"\"y\"\r\n"))
	mux.HandleFunc("/csv-cut", ok("text/csv", "a,b\r\n1,\"x"))
	mux.HandleFunc("/csv-nocrlf", ok("text/csv", "a,b\r\n1,2"))
	mux.HandleFunc("/xlsx", ok("application/octet-stream", string(workbook)))
	mux.HandleFunc("/xlsx-cut", ok("application/octet-stream", string(workbook[:len(workbook)/2])))
	mux.HandleFunc("/count", ok("text/plain", "1234"))
	mux.HandleFunc("/count-bad", ok("text/plain", "12x"))
	mux.HandleFunc("/odata-novalue", ok("application/json", `{"@odata.context":"x"}`))
	mux.HandleFunc("/odata/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		n := r.URL.Query().Get("n")
		pageHits[n].Add(1)
		next := ""
		if n != "3" {
			next = `,"@odata.nextLink":"http://` + r.Host + `/odata/page?n=` + string(rune(n[0]+1)) + `"`
		}
		w.Write([]byte(`{"value":[{"n":` + n + `}]` + next + `}`))
	})
	mux.HandleFunc("/odata/away", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"value":[],"@odata.nextLink":"http://example.com/odata/x"}`))
	})
	mux.HandleFunc("/503", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, models.Classify(errString503{}))
	})
	mux.HandleFunc("/503-bare", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, &apierror.Error{Code: apierror.Unavailable, Message: "down"})
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, &apierror.Error{Code: apierror.Internal, Message: "internal error"})
	})
	mux.HandleFunc("/504", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, models.Classify(context.DeadlineExceeded))
	})
	mux.HandleFunc("/502-text", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	})
	mux.HandleFunc("/400", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, apierror.Invalid("start", "bad start"))
	})
	mux.HandleFunc("/429", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, &apierror.Error{Code: apierror.TooManyRequests, Message: "slow down", RetryAfter: 1})
	})
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"rows":[[1,2],`))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte(`{"rows":[]}`))
	})
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// pageHits counts requests of /odata/page by page number.
var pageHits = map[string]*atomic.Int64{"1": {}, "2": {}, "3": {}}

type errString503 struct{}

func (errString503) Error() string { return "dial tcp 127.0.0.1:3306: connect: connection refused" }

func TestClassify(t *testing.T) {
	srv := fake(t)
	client := &http.Client{Timeout: 500 * time.Millisecond}
	cases := []struct {
		path string
		body Body
		want Outcome
	}{
		{"/json", JSON, OK},
		{"/json-cut", JSON, Silent},
		{"/csv", CSV, OK},
		{"/csv-cut", CSV, Silent},
		{"/csv-nocrlf", CSV, Silent},
		{"/xlsx", XLSX, OK},
		{"/xlsx-cut", XLSX, Silent},
		{"/count", Count, OK},
		{"/count-bad", Count, Silent},
		{"/odata/page?n=3", OData, OK},
		{"/odata-novalue", OData, Silent},
		{"/503", JSON, Clean503},
		{"/503-bare", JSON, ServerError},
		{"/500", JSON, ServerError},
		{"/504", JSON, ServerError},
		{"/502-text", JSON, BadShape},
		{"/400", JSON, ClientError},
		{"/429", JSON, Throttled},
		{"/abort", JSON, Aborted},
		{"/short", JSON, Aborted},
		{"/hangup", JSON, Lost},
		{"/stall", JSON, Timeout},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			_, got, detail, _, _, _ := do(context.Background(), client, "k", srv.URL+c.path, Request{Body: c.body})
			if got != c.want {
				t.Errorf("%s: outcome %s (%s), want %s", c.path, got, detail, c.want)
			}
			if got.Failing() != (c.want != OK && c.want != Clean503 && c.want != Throttled && c.want != Aborted) {
				t.Errorf("%s: Failing() = %v", c.path, got.Failing())
			}
		})
	}
	// Without the key the fake answers 401 in the shape: a client error.
	if _, got, _, _, _, _ := do(context.Background(), client, "wrong", srv.URL+"/json", Request{Body: JSON}); got != ClientError {
		t.Errorf("401: outcome %s, want 4xx", got)
	}
}

// A run follows nextLinks up to Pages, counts per kind and fails when any
// answer fails.
func TestRun(t *testing.T) {
	srv := fake(t)
	fixed := func(name, path string, body Body, pages int) Weighted {
		return Weighted{Weight: 1, Kind: Kind{Name: name, Make: func(*rand.Rand, int, Span) Request {
			return Request{Path: path, Body: body, Pages: pages}
		}}}
	}
	cfg := Config{BaseURL: srv.URL, Key: "k", Clients: 2, Duration: 200 * time.Millisecond, Timeout: 2 * time.Second,
		Queues: []int{1}, Span: Span{First: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}}

	for _, h := range pageHits {
		h.Store(0)
	}
	cfg.Mix = []Weighted{fixed("pages", "/odata/page?n=1", OData, 1), fixed("csv", "/csv", CSV, 0), fixed("503", "/503", JSON, 0)}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("clean run failed: %v", err)
	}
	pages := res.ByKind["pages"]
	if pages.Requests == 0 || res.ByKind["csv"].Requests == 0 || res.ByKind["503"].Count(Clean503) == 0 {
		t.Fatalf("kinds not all sent: %+v", res.ByKind)
	}
	// n=1 and n=2 are fetched; n=3 would be a third page (Pages: 1).
	if h1, h2, h3 := pageHits["1"].Load(), pageHits["2"].Load(), pageHits["3"].Load(); h2 == 0 || h2 > h1 || h3 != 0 || int(h1+h2) != pages.Requests {
		t.Errorf("pages: %d first, %d second, %d third pages fetched (%d counted), want one nextLink followed per sequence", h1, h2, h3, pages.Requests)
	}
	var sum int
	for _, s := range res.Timeline {
		sum += s.Outcomes[OK] + s.Outcomes[Clean503]
	}
	if sum != res.Total.Requests {
		t.Errorf("timeline holds %d answers, total %d", sum, res.Total.Requests)
	}
	if res.Total.Percentile(1) < res.Total.Percentile(.5) {
		t.Errorf("max below p50")
	}

	// One request per client is enough for the failing kinds.
	cfg.Duration = time.Millisecond
	for _, c := range []struct {
		w    Weighted
		want Outcome
	}{
		{fixed("cut", "/json-cut", JSON, 0), Silent},
		{fixed("away", "/odata/away", OData, 3), BadShape},
		{fixed("abort", "/abort", JSON, 0), Aborted},
	} {
		cfg.Mix = []Weighted{c.w}
		res, err = Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.Count(c.want) == 0 {
			t.Errorf("%s: no %s answer: %+v", c.w.Kind.Name, c.want, res.Total.Outcomes)
		}
		if failed := res.Err() != nil; failed != c.want.Failing() {
			t.Errorf("%s: run failed %v, want %v (%v)", c.w.Kind.Name, failed, c.want.Failing(), res.Err())
		}
	}
	cfg.Mix = []Weighted{fixed("cut", "/json-cut", JSON, 0)}
	res, _ = Run(context.Background(), cfg)
	var text bytes.Buffer
	res.WriteText(&text, false)
	if !strings.Contains(text.String(), "/json-cut") || strings.Contains(text.String(), "Bearer") {
		t.Errorf("report lacks the failing path or shows the key:\n%s", text.String())
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost", "http://[::1]:80/", "https://127.0.0.2"} {
		if _, err := CheckLoopback(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1", "http://example.com", "ftp://127.0.0.1", "http://u:p@127.0.0.1", "http://127.0.0.1.example.com"} {
		if _, err := CheckLoopback(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix(DefaultMix)
	if err != nil || len(m) != len(Kinds) {
		t.Fatalf("default mix: %d kinds, %v", len(m), err)
	}
	r, err := ParseMix("reports")
	if err != nil || len(r) != 4 {
		t.Fatalf("reports mix: %d kinds, %v", len(r), err)
	}
	for _, w := range r {
		if !strings.HasPrefix(w.Kind.Name, "native-") || strings.Contains(w.Kind.Help, "CSV") || strings.Contains(w.Kind.Help, "XLSX") {
			t.Errorf("reports mix holds %s (%s)", w.Kind.Name, w.Kind.Help)
		}
		if req := w.Kind.Make(rand.New(rand.NewPCG(1, 2)), 1, Span{First: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}); req.Body != JSON || !strings.HasPrefix(req.Path, "/Chime/Report/") {
			t.Errorf("reports mix: %s sends %+v", w.Kind.Name, req)
		}
	}
	for _, bad := range []string{"", "nope=1", "xlsx=-1", "xlsx=1,xlsx=2", "xlsx=0"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("mix %q accepted", bad)
		}
	}
}

// TestKeysAndRetryAfter: clients take the keys round robin, and a client
// refused with 429 or 503 waits the Retry-After and sends the same request
// again; the refusals are counted apart from the answers and fail nothing.
func TestKeysAndRetryAfter(t *testing.T) {
	var (
		mu       sync.Mutex
		byKey    = map[string]int{}
		refused  = map[string]time.Time{} // key: when its first request was refused
		retryGap = map[string]time.Duration{}
		firstReq = map[string]bool{}
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/r", func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		byKey[key]++
		first := !firstReq[key]
		firstReq[key] = true
		if at, ok := refused[key]; ok && retryGap[key] == 0 {
			retryGap[key] = time.Since(at)
		}
		if first {
			refused[key] = time.Now()
		}
		mu.Unlock()
		switch {
		case first && key == "a":
			w.Header().Set("Retry-After", "1")
			apierror.Write(w, &apierror.Error{Code: apierror.TooManyRequests, Message: "slow down", RetryAfter: 1})
		case first:
			apierror.Write(w, models.Classify(errString503{})) // 503, Retry-After: 5
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"rows":[]}`))
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mix := []Weighted{{Weight: 1, Kind: Kind{Name: "r", Make: func(*rand.Rand, int, Span) Request { return Request{Path: "/r", Body: JSON} }}}}
	cfg := Config{BaseURL: srv.URL, Keys: []string{"a", "b"}, Clients: 2, Duration: 1500 * time.Millisecond, Timeout: 2 * time.Second,
		Mix: mix, Queues: []int{1}, RetryAfter: true,
		Span: Span{First: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)}}
	// Client 0 has key a (429, Retry-After 1 s); client 1 key b, whose
	// 503 asks for more than the run has left: it stops instead.
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("refusals failed the run: %v", err)
	}
	if res.Total.Count(Throttled) != 1 || res.Total.Count(Clean503) != 1 || res.Retried != 1 || res.Waited != time.Second {
		t.Errorf("429s %d, 503s %d, retried %d, waited %v; want 1, 1, 1, 1s", res.Total.Count(Throttled), res.Total.Count(Clean503), res.Retried, res.Waited)
	}
	mu.Lock()
	if g := retryGap["a"]; g < time.Second {
		t.Errorf("key a sent again %v after its 429 with Retry-After: 1", g)
	}
	if byKey["a"] < 2 || byKey["b"] != 1 || len(byKey) != 2 {
		t.Errorf("requests by key %v: want a refused then answered, b refused once (its wait outlasts the run)", byKey)
	}
	mu.Unlock()
	var text bytes.Buffer
	res.WriteText(&text, false)
	if ok := res.Total.Count(OK); ok == 0 || res.Total.OKPercentile(1) > res.Total.Percentile(1) || len(res.Total.okLat) != ok {
		t.Errorf("%d OK answers, %d OK latencies", ok, len(res.Total.okLat))
	}
	if !strings.Contains(text.String(), "answers alone (ok; the 2 refusals left out)") ||
		!strings.Contains(text.String(), "1 requests sent again after their Retry-After") || strings.Contains(text.String(), "Bearer") {
		t.Errorf("report:\n%s", text.String())
	}

	// Four clients, three keys: 0 and 3 share the first. The answers
	// take longer than the run, so each client sends one request.
	var slowMu sync.Mutex
	slowBy := map[string]int{}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowMu.Lock()
		slowBy[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]++
		slowMu.Unlock()
		time.Sleep(100 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"rows":[]}`))
	}))
	defer slow.Close()
	cfg.BaseURL, cfg.Keys, cfg.Clients, cfg.Duration = slow.URL, []string{"x", "y", "z"}, 4, 20*time.Millisecond
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	slowMu.Lock()
	defer slowMu.Unlock()
	if slowBy["x"] != 2 || slowBy["y"] != 1 || slowBy["z"] != 1 || len(slowBy) != 3 {
		t.Errorf("one request per client: by key %v, want x=2 y=1 z=1", slowBy)
	}
}
