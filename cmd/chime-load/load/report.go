package load

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func nextLink(body []byte) string {
	var doc struct {
		Next string `json:"@odata.nextLink"`
	}
	json.Unmarshal(body, &doc)
	return doc.Next
}

// watchRSS resets the server's VmHWM when permitted (clear_refs 5) and
// samples VmRSS every 100 ms until the returned function is called, which
// also reads the final VmHWM.
func (res *Result) watchRSS(pid int) func() {
	res.HWMReset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _ := procStatus(pid, "VmRSS"); rss > res.PeakRSSSampled {
				res.PeakRSSSampled = rss
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		res.PeakRSS, _ = procStatus(pid, "VmHWM")
	}
}

// procStatus reads one "Name:  123 kB" line of /proc/PID/status, in bytes.
func procStatus(pid int, name string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			break
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, err
		}
		return n * 1024, nil
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, name)
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }

func mib(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB" }

// WriteText writes the report: per-kind table, statuses, outcomes, the
// timeline (when anything but OK happened, or always with full), samples
// of failures and peak RSS.
func (res *Result) WriteText(w io.Writer, full bool) {
	secs := res.Elapsed.Seconds()
	c := res.Config
	fmt.Fprintf(w, "chime-load: %d clients, %s (ran %.1f s), timeout %s, queues %v, days %s..%s, seed %d\n\n",
		c.Clients, c.Duration, secs, c.Timeout, c.Queues, c.Span.First.Format(day), c.Span.Last.Format(day), c.Seed)
	fmt.Fprintf(w, "%-18s %8s %8s %8s %8s %8s %9s %9s %8s  %s\n", "kind", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "MiB/s", "ok", "not ok")
	names := make([]string, 0, len(res.ByKind))
	for n := range res.ByKind {
		names = append(names, n)
	}
	slices.Sort(names)
	row := func(name string, s *Stats) {
		fmt.Fprintf(w, "%-18s %8d %8.1f %8s %8s %8s %9s %9.2f %8d  %s\n", name, s.Requests, float64(s.Requests)/secs,
			ms(s.Percentile(.50)), ms(s.Percentile(.90)), ms(s.Percentile(.99)), ms(s.Percentile(1)),
			float64(s.Bytes)/(1<<20)/secs, s.Outcomes[OK], notOK(s))
	}
	for _, n := range names {
		row(n, res.ByKind[n])
	}
	row("total", &res.Total)

	if refused := res.Total.Outcomes[Throttled] + res.Total.Outcomes[Clean503]; refused > 0 {
		// The table above mixes refusals, answered at once, with answers:
		// the answers alone are what a client waits for.
		fmt.Fprintf(w, "\nanswers alone (ok; the %d refusals left out)\n", refused)
		fmt.Fprintf(w, "%-18s %8s %8s %8s %8s %8s %9s\n", "kind", "ok", "ok/s", "p50 ms", "p90 ms", "p99 ms", "max ms")
		okRow := func(name string, s *Stats) {
			fmt.Fprintf(w, "%-18s %8d %8.1f %8s %8s %8s %9s\n", name, s.Outcomes[OK], float64(s.Outcomes[OK])/secs,
				ms(s.OKPercentile(.50)), ms(s.OKPercentile(.90)), ms(s.OKPercentile(.99)), ms(s.OKPercentile(1)))
		}
		for _, n := range names {
			okRow(n, res.ByKind[n])
		}
		okRow("total", &res.Total)
	}
	fmt.Fprintf(w, "\nstatus codes:")
	codes := make([]int, 0, len(res.Total.Statuses))
	for code := range res.Total.Statuses {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		label := strconv.Itoa(code)
		if code == 0 {
			label = "none"
		}
		fmt.Fprintf(w, " %s=%d", label, res.Total.Statuses[code])
	}
	fmt.Fprintf(w, "\noutcomes:    ")
	for o := Outcome(0); o < numOutcomes; o++ {
		fmt.Fprintf(w, " %s=%d", o, res.Total.Outcomes[o])
	}
	fmt.Fprintln(w)
	if c.RetryAfter {
		fmt.Fprintf(w, "refusals:     %d requests sent again after their Retry-After, %.1f s waited in all\n", res.Retried, res.Waited.Seconds())
	}
	if c.PID > 0 {
		reset := "since the server started (reset not permitted)"
		if res.HWMReset {
			reset = "during the run"
		}
		fmt.Fprintf(w, "server pid %d: peak RSS %s (VmHWM, %s), largest sampled VmRSS %s\n", c.PID, mib(res.PeakRSS), reset, mib(res.PeakRSSSampled))
	}
	if full || res.Total.Outcomes[OK] != res.Total.Requests {
		fmt.Fprintf(w, "\ntimeline (second: outcomes of the requests that ended in it)\n")
		for i, s := range res.Timeline {
			var parts []string
			for o := Outcome(0); o < numOutcomes; o++ {
				if s.Outcomes[o] > 0 {
					parts = append(parts, fmt.Sprintf("%s=%d", o, s.Outcomes[o]))
				}
			}
			fmt.Fprintf(w, "  %3d s  %s\n", i, strings.Join(parts, " "))
		}
	}
	if len(res.Samples) > 0 {
		fmt.Fprintf(w, "\nsamples (up to 10 of each outcome but ok)\n")
		for _, s := range res.Samples {
			fmt.Fprintf(w, "  %6.1f s %-9s %-17s %s\n      %s\n", s.At.Seconds(), s.Outcome, s.Kind, s.Path, s.Detail)
		}
	}
}

func notOK(s *Stats) string {
	var parts []string
	for o := Outcome(1); o < numOutcomes; o++ {
		if s.Outcomes[o] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", o, s.Outcomes[o]))
		}
	}
	return strings.Join(parts, " ")
}

// Summary is the machine-readable form of a result (chime-load --json,
// and what other harnesses record).
type Summary struct {
	Clients        int                    `json:"clients"`
	DurationS      float64                `json:"duration_s"`
	ElapsedS       float64                `json:"elapsed_s"`
	Total          KindSummary            `json:"total"`
	Kinds          map[string]KindSummary `json:"kinds"`
	Timeline       []map[string]int       `json:"timeline"`
	Samples        []Sample               `json:"samples,omitempty"`
	PeakRSSBytes   int64                  `json:"peak_rss_bytes,omitempty"`
	SampledRSSPeak int64                  `json:"sampled_rss_peak_bytes,omitempty"`
	Failed         string                 `json:"failed,omitempty"`
	Retried        int                    `json:"retried,omitempty"`
	WaitedS        float64                `json:"waited_s,omitempty"`
}

// KindSummary is Stats in numbers.
type KindSummary struct {
	Requests  int     `json:"requests"`
	PerSecond float64 `json:"per_second"`
	BytesPerS float64 `json:"bytes_per_second"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	// Of the OK answers alone.
	OKPerSecond float64        `json:"ok_per_second"`
	OKP50ms     float64        `json:"ok_p50_ms"`
	OKP99ms     float64        `json:"ok_p99_ms"`
	Statuses    map[string]int `json:"statuses"`
	Outcomes    map[string]int `json:"outcomes"`
}

// Summary condenses the result.
func (res *Result) Summary() Summary {
	secs := res.Elapsed.Seconds()
	k := func(s *Stats) KindSummary {
		ks := KindSummary{Requests: s.Requests, PerSecond: float64(s.Requests) / secs, BytesPerS: float64(s.Bytes) / secs,
			P50ms: float64(s.Percentile(.5)) / 1e6, P90ms: float64(s.Percentile(.9)) / 1e6,
			P99ms: float64(s.Percentile(.99)) / 1e6, MaxMs: float64(s.Percentile(1)) / 1e6,
			OKPerSecond: float64(s.Outcomes[OK]) / secs, OKP50ms: float64(s.OKPercentile(.5)) / 1e6, OKP99ms: float64(s.OKPercentile(.99)) / 1e6,
			Statuses: map[string]int{}, Outcomes: map[string]int{}}
		for code, n := range s.Statuses {
			ks.Statuses[strconv.Itoa(code)] = n
		}
		for o := Outcome(0); o < numOutcomes; o++ {
			if s.Outcomes[o] > 0 {
				ks.Outcomes[o.String()] = s.Outcomes[o]
			}
		}
		return ks
	}
	sum := Summary{Clients: res.Config.Clients, DurationS: res.Config.Duration.Seconds(), ElapsedS: secs,
		Total: k(&res.Total), Kinds: map[string]KindSummary{}, Samples: res.Samples,
		PeakRSSBytes: res.PeakRSS, SampledRSSPeak: res.PeakRSSSampled, Retried: res.Retried, WaitedS: res.Waited.Seconds()}
	for n, s := range res.ByKind {
		sum.Kinds[n] = k(s)
	}
	for _, s := range res.Timeline {
		m := map[string]int{}
		for o := Outcome(0); o < numOutcomes; o++ {
			if s.Outcomes[o] > 0 {
				m[o.String()] = s.Outcomes[o]
			}
		}
		sum.Timeline = append(sum.Timeline, m)
	}
	if err := res.Err(); err != nil {
		sum.Failed = err.Error()
	}
	return sum
}

// MarshalJSON writes an outcome by name.
func (o Outcome) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }
