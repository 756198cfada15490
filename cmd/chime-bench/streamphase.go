package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

// The stream phase (--stream DSN) measures what keeping the interval store
// current costs while sessions arrive: the real server maintains the store
// of a database (its default --store-every) first idle, then while
// fixtures.Stream writes conversations at --stream-rate per second into
// it, and the phase reports
//
//   - the maintenance passes of each stretch, from serve's /metrics: how
//     many, their mean and largest wall time, sessions captured and
//     interval ranges recomputed per pass; and the CPU time of serve and of
//     the MariaDB server over the stretch;
//   - for sessions ending in queue 1, the lag from the commit of the write
//     that ended them to (a) a store-backed report counting them: the
//     report ChatOutcomesByDay for queue 1 over the quarter-hours of the
//     stream, whose ended sessions (Sessions - InProgress) must reach what
//     the stream has ended there; (b) the store's tables holding them: a
//     pass whose capture reached their updated_at has run (report_store_state
//     shows it); (c) reads taking them from the store instead of raw rows:
//     the session watermark has passed their updated_at.
//
// The database must be a copy: the stream adds sessions to it.

// streamResult is what the stream phase measured.
type streamResult struct {
	DSN                 string
	Rate                float64
	Idle, For           time.Duration
	First               time.Duration // serve's first pass, which sweeps every session
	IdlePasses, Passes  passCost
	Stream              fixtures.StreamStats
	ReportLag, ReadTime []time.Duration // (a), and each probe read's own time
	CaptureLag, Served  []time.Duration // (b), (c)
	Unseen              int             // probes still not counted when the stream ended
	Load                string          // load average at the end
}

// passCost is the store's maintenance over a stretch, from /metrics and
// /proc.
type passCost struct {
	Passes, Failed, Captured, Recomputed float64
	PassTime                             time.Duration
	LastPass, MaxLastPass                time.Duration
	ServeCPU, DBCPU, Wall                time.Duration
}

func measureStream(ctx context.Context, cfg config, bin string) (*streamResult, error) {
	be, err := openBackend(ctx, "MariaDB", cfg.Stream, false)
	if err != nil {
		return nil, err
	}
	defer func() {
		if sqlDB, err := be.DB.DB(); err == nil {
			sqlDB.Close()
		}
	}()
	var st models.ReportStoreState
	if err := be.DB.First(&st).Error; err != nil || !st.Built {
		return nil, fmt.Errorf("--stream: the interval store of %s is not built (run chime-reports rollup first): %v", cfg.Stream, err)
	}
	srv, err := startServe(ctx, bin, be.Raw)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	base, logs := srv.base, srv.logs
	res := &streamResult{DSN: cfg.Stream, Rate: cfg.StreamRate, Idle: cfg.StreamIdle, For: cfg.StreamFor}
	pid := srv.pid
	watch := func(d time.Duration, during func(context.Context) error) (passCost, error) {
		m0, err := scrape(ctx, base)
		if err != nil {
			return passCost{}, err
		}
		s0, d0, t0 := procCPU(strconv.Itoa(pid)), dbCPU(be), time.Now()
		var maxLast float64
		wctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		var wg sync.WaitGroup
		var duringErr error
		if during != nil {
			wg.Add(1)
			go func() { defer wg.Done(); duringErr = during(wctx) }()
		}
		tick := time.NewTicker(time.Second)
		for wctx.Err() == nil {
			select {
			case <-wctx.Done():
			case <-tick.C:
				if m, err := scrape(ctx, base); err == nil {
					maxLast = max(maxLast, m["chime_store_last_pass_seconds"])
				}
			}
		}
		tick.Stop()
		wg.Wait()
		m1, err := scrape(ctx, base)
		if err != nil {
			return passCost{}, err
		}
		sec := func(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }
		return passCost{
			Passes: m1["chime_store_passes_total"] - m0["chime_store_passes_total"], Failed: m1["chime_store_pass_failures_total"] - m0["chime_store_pass_failures_total"], PassTime: sec(m1["chime_store_pass_seconds_total"] - m0["chime_store_pass_seconds_total"]),
			Captured: m1["chime_store_captured_sessions_total"] - m0["chime_store_captured_sessions_total"], Recomputed: m1["chime_store_recomputed_ranges_total"] - m0["chime_store_recomputed_ranges_total"],
			LastPass: sec(m1["chime_store_last_pass_seconds"]), MaxLastPass: sec(maxLast),
			ServeCPU: procCPU(strconv.Itoa(pid)) - s0, DBCPU: dbCPU(be) - d0, Wall: time.Since(t0),
		}, duringErr
	}
	// serve's first pass also sweeps (every session, by id ranges): it is
	// timed on its own, and the stretches start after it.
	for {
		m, err := scrape(ctx, base)
		if err != nil {
			return nil, err
		}
		if m["chime_store_passes_total"] >= 1 {
			res.First = time.Duration(m["chime_store_pass_seconds_total"] * float64(time.Second))
			if m["chime_store_pass_failures_total"] > 0 {
				return nil, fmt.Errorf("serve's first maintenance pass failed:\n%s", logs.String())
			}
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if cfg.StreamIdle > 0 {
		slog.Info("stream phase: serve idle", "for", cfg.StreamIdle)
		if res.IdlePasses, err = watch(cfg.StreamIdle, nil); err != nil {
			return nil, err
		}
	}
	slog.Info("stream phase: streaming", "rate", cfg.StreamRate, "for", cfg.StreamFor)
	res.Passes, err = watch(cfg.StreamFor, func(sctx context.Context) error {
		return streamAndProbe(sctx, be, cfg, res)
	})
	if err != nil {
		return nil, err
	}
	res.Load = loadAverage()
	return res, nil
}

// pending is a write that ended sessions in queue 1, waiting for the
// probes.
type pending struct {
	committed, stamp time.Time
	ended            int // sessions of queue 1 the stream had ended by this write
}

// streamAndProbe runs the stream until ctx ends and probes the lags of
// the writes that ended sessions in queue 1.
func streamAndProbe(ctx context.Context, be *backend, cfg config, res *streamResult) error {
	engine := reports.NewEngine(be.DB, nil)
	rep, ok := reports.Lookup("ChatOutcomesByDay")
	if !ok {
		return fmt.Errorf("no report ChatOutcomesByDay")
	}
	const q = 1
	start := time.Now().UTC()
	from := start.Truncate(15 * time.Minute)
	// ended counts the sessions of queue 1 in the probe's window that
	// have ended: Sessions - InProgress of the report.
	ended := func() (int, time.Duration, error) {
		stop := time.Now().UTC().Truncate(15 * time.Minute).Add(30 * time.Minute)
		t0 := time.Now()
		r, err := engine.Run(ctx, reports.Query{Report: rep, QueueID: q, Visible: []uint32{q}, Interval: store.Total,
			Window: reports.Window{Start: from, Stop: stop, Zone: time.UTC}})
		if err != nil {
			return 0, 0, err
		}
		defer r.Rows.Close()
		cols := map[string]int{}
		for i, c := range r.Report.Columns {
			cols[c.Name] = i
		}
		n := 0
		for r.Rows.Next() {
			row := r.Rows.Row()
			n += asInt(row[cols["Sessions"]]) - asInt(row[cols["InProgress"]])
		}
		return n, time.Since(t0), r.Rows.Err()
	}
	base, _, err := ended()
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		queue   []pending // for the report probe: the latest only
		stores  []pending // for the store probes
		closedQ int
		done    bool
	)
	var wg sync.WaitGroup
	wg.Add(2)
	// (a) the report probe: the newest write that ended a session of
	// queue 1, until the report counts what it ended.
	go func() {
		defer wg.Done()
		for {
			mu.Lock()
			for len(queue) == 0 && !done {
				cond.Wait()
			}
			if done {
				res.Unseen += len(queue)
				mu.Unlock()
				return
			}
			p := queue[len(queue)-1]
			queue = queue[:0]
			mu.Unlock()
			for ctx.Err() == nil {
				n, took, err := ended()
				if err != nil {
					if ctx.Err() == nil {
						slog.Error("stream phase: report probe", "err", err)
					}
					break
				}
				res.ReadTime = append(res.ReadTime, took)
				if n-base >= p.ended {
					res.ReportLag = append(res.ReportLag, time.Since(p.committed)-took)
					break
				}
			}
		}
	}()
	// (b), (c): the state row, every 100 ms.
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var s models.ReportStoreState
			if be.DB.WithContext(ctx).First(&s).Error != nil || s.PassAt == nil {
				continue
			}
			now := time.Now()
			mu.Lock()
			keep := stores[:0]
			for _, p := range stores {
				captured := s.PassAt.After(p.committed) && !s.SessionWatermark.Add(store.Margin).Before(p.stamp)
				if captured && p.ended >= 0 {
					res.CaptureLag = append(res.CaptureLag, now.Sub(p.committed))
					p.ended = -1 // captured; served next
				}
				if p.ended < 0 && s.SessionWatermark.After(p.stamp) {
					res.Served = append(res.Served, now.Sub(p.committed))
					continue
				}
				keep = append(keep, p)
			}
			stores = keep
			mu.Unlock()
		}
	}()
	st, err := fixtures.Stream(ctx, be.DB, fixtures.StreamOptions{Rate: cfg.StreamRate, Seed: 11, Log: slog.Default(), LogEvery: 30 * time.Second,
		OnWrite: func(w fixtures.StreamWrite) {
			n := 0
			for _, c := range w.Closed {
				if c.QueueID == q {
					n++
				}
			}
			if n == 0 {
				return
			}
			mu.Lock()
			closedQ += n
			p := pending{committed: w.Committed, stamp: w.Stamp, ended: closedQ}
			queue = append(queue, p)
			stores = append(stores, p)
			mu.Unlock()
			cond.Signal()
		}})
	mu.Lock()
	done = true
	mu.Unlock()
	cond.Broadcast()
	wg.Wait()
	res.Stream = st
	return err
}

func asInt(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case uint64:
		return int(x)
	case float64:
		return int(x)
	}
	return 0
}

// scrape reads the unlabelled series of serve's /metrics.
func scrape(ctx context.Context, base string) (map[string]float64, error) {
	resp, err := get(ctx, base+"/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		name, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out[name] = f
		}
	}
	return out, sc.Err()
}

// procCPU is the user and system CPU time of process pid so far, from
// /proc/<pid>/stat (0 when it cannot be read).
func procCPU(pid string) time.Duration {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 14th and 15th fields, in clock ticks (100 per second
	// on Linux).
	rest := string(stat)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// markdown of the stream phase, for docs/benchmarks.md.
func (r *streamResult) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	pct := func(ds []time.Duration) string {
		if len(ds) == 0 {
			return "none"
		}
		s := slices.Clone(ds)
		slices.Sort(s)
		at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
		return fmt.Sprintf("n %d, p50 %s, p90 %s, max %s", len(s), at(.5).Round(time.Millisecond), at(.9).Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
	}
	cost := func(name string, c passCost) {
		per := func(v float64) float64 {
			if c.Passes == 0 {
				return 0
			}
			return v / c.Passes
		}
		p("| %s | %s | %.0f (%.0f) | %s | %s | %.0f | %.1f | %s (%.0f %%) | %s (%.0f %%) |\n", name, c.Wall.Round(time.Second), c.Passes, c.Failed,
			time.Duration(per(float64(c.PassTime))).Round(time.Millisecond), c.MaxLastPass.Round(time.Millisecond), per(c.Captured), per(c.Recomputed),
			c.ServeCPU.Round(100*time.Millisecond), 100*c.ServeCPU.Seconds()/c.Wall.Seconds(), c.DBCPU.Round(100*time.Millisecond), 100*c.DBCPU.Seconds()/c.Wall.Seconds())
	}
	p("Interval store under a stream of %.0f conversations/s (`chime-bench --stream`), load average at the end %s.\n\n", r.Rate, r.Load)
	p("serve's first pass (it also sweeps every session by id): %s.\n\n", r.First.Round(100*time.Millisecond))
	p("| Stretch | Wall | Passes (failed) | Mean pass | Longest pass seen | Captured per pass | Ranges recomputed per pass | serve CPU | MariaDB CPU |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	if r.Idle > 0 {
		cost("idle", r.IdlePasses)
	}
	cost("streaming", r.Passes)
	s := r.Stream
	p("\nThe stream: %d conversations, %d sessions (%d transfers), %d ended, %d ratings, %d messages in %d writes (%.1f s in write transactions; %d run again after a deadlock).\n\n",
		s.Conversations, s.Sessions, s.Transfers, s.Closed, s.Ratings, s.Messages, s.Writes, s.WriteTime.Seconds(), s.Retries)
	p("Lag from the commit of a write that ended sessions of queue 1:\n\n")
	p("- (a) until a store-backed report (ChatOutcomesByDay, queue 1, the stream's quarter-hours) counts them: %s; the probe's reads took %s; not yet counted at the end: %d\n", pct(r.ReportLag), pct(r.ReadTime), r.Unseen)
	p("- (b) until a maintenance pass has captured them (the store's tables hold them once that pass's recompute ends): %s\n", pct(r.CaptureLag))
	p("- (c) until reads take them from the store instead of raw rows (the session watermark passed them): %s\n", pct(r.Served))
	return b.String()
}
