// Package load is a bounded HTTP load generator for chime-reports: a fixed
// number of clients send a weighted mix of native, CSV, XLSX and OData
// requests for a fixed time against a server on this machine, check every
// answer (see Classify) and report latencies, throughput, a per-second
// timeline of outcomes and the server's peak memory.
//
// It refuses any host but loopback: it is for benchmarking a server that
// you run, not for loading someone else's.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config describes a run.
type Config struct {
	BaseURL string // http://127.0.0.1:8080
	Key     string // API key, sent as a Bearer header
	// Keys, when set, are the API keys of the clients instead of Key:
	// client i sends Keys[i % len(Keys)] (round robin), so each key
	// carries its share of the load through the server's per-key bounds.
	Keys     []string
	Clients  int
	Duration time.Duration
	Timeout  time.Duration // per request, headers and body
	Mix      []Weighted
	Queues   []int
	Span     Span
	Seed     uint64
	// PID of the server process: its peak RSS is reported (0: none).
	PID int
	// RetryAfter makes a client that is refused (429, or a clean 503)
	// wait the answer's Retry-After (1 s without one, never past the end
	// of the run) and send the same request again, as a well-behaved
	// client does. The refusal is counted as its outcome (429,
	// 503-clean), not as an error; Result.Waited adds up the waits.
	// Without it a refused client sends its next request at once.
	RetryAfter bool
	// Client overrides the HTTP client (tests); its Timeout is left as is.
	Client *http.Client
}

// Sample is one failing or noteworthy request, for the report.
type Sample struct {
	At      time.Duration // since the start
	Kind    string
	Path    string
	Status  int
	Outcome Outcome
	Detail  string
}

// Stats are the counts and latencies of one kind, or of all.
type Stats struct {
	Requests int
	Outcomes [numOutcomes]int
	Statuses map[int]int
	Bytes    int64
	lat      []time.Duration // of completed answers (any status)
	okLat    []time.Duration // of the OK answers alone
}

// Percentile of the latencies, p in [0,1] (nearest rank).
func (s *Stats) Percentile(p float64) time.Duration {
	return nearestRank(s.lat, p)
}

// OKPercentile is Percentile over the OK answers alone: with refusals in
// the run, the latency of the answers a client got.
func (s *Stats) OKPercentile(p float64) time.Duration { return nearestRank(s.okLat, p) }

func nearestRank(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Count of one outcome.
func (s *Stats) Count(o Outcome) int { return s.Outcomes[o] }

func (s *Stats) add(status int, o Outcome, n int64, d time.Duration) {
	if s.Statuses == nil {
		s.Statuses = map[int]int{}
	}
	s.Requests++
	s.Outcomes[o]++
	s.Statuses[status]++
	s.Bytes += n
	s.lat = append(s.lat, d)
	if o == OK {
		s.okLat = append(s.okLat, d)
	}
}

// Second is the outcomes of the requests that ended in one second.
type Second struct {
	Outcomes [numOutcomes]int
}

// Result is what a run measured.
type Result struct {
	Config   Config
	Elapsed  time.Duration // first request to the last answer
	Total    Stats
	ByKind   map[string]*Stats
	Timeline []Second // by the second in which a request ended
	Samples  []Sample // up to 10 per failing outcome
	// PeakRSS of the server in bytes: VmHWM (reset at the start when
	// permitted) and the largest VmRSS sampled every 100 ms; 0 without PID.
	PeakRSS, PeakRSSSampled int64
	HWMReset                bool
	// Retried counts the requests sent again after a refusal and Waited
	// the time clients spent waiting for their Retry-After.
	Retried int
	Waited  time.Duration
}

// Err is non-nil when the run failed: any outcome that is Failing.
func (r *Result) Err() error {
	var bad []string
	for o := Outcome(0); o < numOutcomes; o++ {
		if o.Failing() && r.Total.Outcomes[o] > 0 {
			bad = append(bad, fmt.Sprintf("%d %s", r.Total.Outcomes[o], o))
		}
	}
	if len(bad) > 0 {
		return errors.New("failing answers: " + strings.Join(bad, ", "))
	}
	if r.Total.Requests == 0 {
		return errors.New("no request completed")
	}
	return nil
}

// CheckLoopback refuses base URLs that are not http(s) on a loopback host.
func CheckLoopback(base string) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("--url: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--url: want http:// or https://, not %q", base)
	}
	if u.User != nil {
		return nil, errors.New("--url: no credentials in the URL")
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--url: %q is not a loopback address (127.0.0.0/8, ::1 or localhost): this tool only loads a server on this machine", host)
	}
	return u, nil
}

// Run sends the mix for cfg.Duration and returns what it saw. Requests in
// flight when the time is up are waited for (up to the timeout); ctx
// cancels the run early.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	base, err := CheckLoopback(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Clients <= 0 || cfg.Duration <= 0 || len(cfg.Mix) == 0 || len(cfg.Queues) == 0 {
		return nil, errors.New("load: need clients, duration, a mix and queues")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{
			Timeout: cfg.Timeout,
			Transport: &http.Transport{
				Proxy:               nil, // never through a proxy: loopback only
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				MaxIdleConns:        cfg.Clients,
				MaxIdleConnsPerHost: cfg.Clients,
				IdleConnTimeout:     90 * time.Second,
			},
			// Redirects would leave the checked host: not followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	res := &Result{Config: cfg, ByKind: map[string]*Stats{}}
	res.Config.Key, res.Config.Keys = "", nil
	keys := cfg.Keys
	if len(keys) == 0 {
		keys = []string{cfg.Key}
	}
	for _, w := range cfg.Mix {
		res.ByKind[w.Kind.Name] = &Stats{}
	}
	var mu sync.Mutex
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	record := func(kind, path string, status int, o Outcome, detail string, n int64, began, ended time.Time) {
		mu.Lock()
		defer mu.Unlock()
		d := ended.Sub(began)
		res.Total.add(status, o, n, d)
		res.ByKind[kind].add(status, o, n, d)
		sec := int(ended.Sub(start) / time.Second)
		for len(res.Timeline) <= sec {
			res.Timeline = append(res.Timeline, Second{})
		}
		res.Timeline[sec].Outcomes[o]++
		if o != OK {
			n := 0
			for _, s := range res.Samples {
				if s.Outcome == o {
					n++
				}
			}
			if n < 10 {
				res.Samples = append(res.Samples, Sample{At: ended.Sub(start), Kind: kind, Path: path, Status: status, Outcome: o, Detail: detail})
			}
		}
	}

	stopRSS := func() {}
	if cfg.PID > 0 {
		stopRSS = res.watchRSS(cfg.PID)
	}
	var wg sync.WaitGroup
	for c := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(cfg.Seed, uint64(c)))
			key := keys[c%len(keys)]
			// Every client sends at least one request, however short the run.
			stopped := false
			for first := true; !stopped && ctx.Err() == nil && (first || time.Now().Before(deadline)); first = false {
				k := pick(r, cfg.Mix)
				req := k.Make(r, cfg.Queues[r.IntN(len(cfg.Queues))], cfg.Span)
				target := base.String()
				target = strings.TrimSuffix(target, "/") + req.Path
				for page := 0; ; page++ {
					began := time.Now()
					status, o, detail, n, next, retryAfter := do(ctx, client, key, target, req)
					record(k.Name, strings.TrimPrefix(target, strings.TrimSuffix(base.String(), "/")), status, o, detail, n, began, time.Now())
					if cfg.RetryAfter && (o == Throttled || o == Clean503) {
						wait := retryAfter
						if wait <= 0 {
							wait = time.Second
						}
						if !time.Now().Add(wait).Before(deadline) || !sleep(ctx, wait) {
							// The run is over before the wait is: this
							// client sends nothing more.
							stopped = true
							break
						}
						mu.Lock()
						res.Retried++
						res.Waited += wait
						mu.Unlock()
						page-- // the same page again
						continue
					}
					if o != OK || next == "" {
						break
					}
					// A nextLink must stay on the checked host: the key goes with it.
					nu, err := url.Parse(next)
					if err != nil || nu.Host != base.Host || nu.Scheme != base.Scheme {
						record(k.Name, next, status, BadShape, "nextLink leaves the server: "+next, 0, began, time.Now())
						break
					}
					if page >= req.Pages || !time.Now().Before(deadline) {
						break
					}
					target = next
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	stopRSS()
	for _, s := range append([]*Stats{&res.Total}, values(res.ByKind)...) {
		slices.Sort(s.lat)
		slices.Sort(s.okLat)
	}
	return res, nil
}

func values(m map[string]*Stats) []*Stats {
	var out []*Stats
	for _, s := range m {
		out = append(out, s)
	}
	return out
}

// sleep waits d or until ctx ends; it reports whether the wait ran out.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// do sends one request and classifies the answer; next is the OData
// nextLink of a good page, retryAfter the Retry-After of a refusal (whole
// seconds; 0 when absent).
func do(ctx context.Context, client *http.Client, key, target string, r Request) (status int, o Outcome, detail string, n int64, next string, retryAfter time.Duration) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, Lost, err.Error(), 0, "", 0
	}
	req.Header.Set("Authorization", "Bearer "+key)
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, rtErr := client.Do(req)
	var body []byte
	var readErr error
	if resp != nil {
		status = resp.StatusCode
		var buf bytes.Buffer
		_, readErr = io.Copy(&buf, resp.Body)
		resp.Body.Close()
		body = buf.Bytes()
	}
	o, detail = Classify(r.Body, resp, rtErr, body, readErr)
	if o == OK && r.Body == OData {
		next = nextLink(body)
	}
	if resp != nil {
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			retryAfter = time.Duration(secs) * time.Second
		}
	}
	return status, o, detail, int64(len(body)), next, retryAfter
}
