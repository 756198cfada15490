package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chime-reports/chime-reports/cmd/chime-load/load"
	"github.com/chime-reports/chime-reports/keys"
)

// loadResult is one 64-client run of one mix against the real server on
// one back end.
type loadResult struct {
	Mix      string // a chime-load preset
	Warm     bool   // the second run on the same server (its answer cache filled by the first)
	Clients  int
	Duration time.Duration
	Text     string // the chime-load report
	Cache    string // the answer cache's counters over the run
	Err      string // the run's failing answers, if any
}

// buildServer builds cmd/chime-reports into dir (chime-bench runs from the
// module, with go on the PATH: `go run ./cmd/chime-bench`).
func buildServer(ctx context.Context, dir string) (string, error) {
	mod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(mod)) == "" || strings.TrimSpace(string(mod)) == os.DevNull {
		return "", fmt.Errorf("--clients needs the module's source and go on the PATH (go env GOMOD: %v)", err)
	}
	bin := filepath.Join(dir, "chime-reports")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/chime-reports")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/chime-reports: %v\n%s", err, out)
	}
	return bin, nil
}

// measureLoad serves be with the real binary and its default bounds
// (every middleware, the key check, the audit trail, the per-key rate
// limit and admission bounds) and drives cfg.Clients clients with each
// of chime-load's presets in cfg.LoadMixes for cfg.LoadFor, each on a
// server of its own, cold then warm (loadMix). Each client has a key of its own (users load01, load02, …,
// admins, created when missing; their keys are replaced) and honours
// Retry-After, as a well-behaved client does: refusals are counted, not
// failed. Users, keys and audit rows are the only writes.
func measureLoad(ctx context.Context, be *backend, cfg config, bin string) ([]*loadResult, error) {
	ks := keys.New(be.DB, nil, nil)
	clientKeys := make([]string, cfg.Clients)
	for i := range clientKeys {
		login := fmt.Sprintf("load%02d", i+1)
		u, err := ks.UserByLogin(ctx, login)
		if errors.Is(err, keys.ErrUnknownUser) {
			u, err = ks.AddUser(ctx, keys.NewUser{Login: login, DisplayName: "Load client " + strconv.Itoa(i+1), Admin: true})
		}
		if err != nil {
			return nil, fmt.Errorf("load user %s: %w", login, err)
		}
		if clientKeys[i], err = ks.Generate(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	var out []*loadResult
	for _, name := range cfg.LoadMixes {
		rs, err := loadMix(ctx, be, cfg, bin, name, clientKeys)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// loadMix runs one mix on a server just started, whose answer cache is
// empty (cold), then once more on the same server with another random
// sequence of the same kinds of questions (warm).
func loadMix(ctx context.Context, be *backend, cfg config, bin, name string, clientKeys []string) ([]*loadResult, error) {
	mix, err := load.ParseMix(name)
	if err != nil {
		return nil, err
	}
	srv, err := startServe(ctx, bin, be.Raw)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	var out []*loadResult
	for _, warm := range []bool{false, true} {
		seed := uint64(1)
		if warm {
			seed = 2
		}
		before, err := answerCounters(srv.base)
		if err != nil {
			return nil, err
		}
		slog.Info("load", "backend", be.Name, "mix", name, "warm", warm, "clients", cfg.Clients, "for", cfg.LoadFor)
		res, err := load.Run(ctx, load.Config{BaseURL: srv.base, Keys: clientKeys, Clients: cfg.Clients, Duration: cfg.LoadFor,
			Timeout: 60 * time.Second, Mix: mix, Queues: []int{1, 2, 3, 4, 5}, RetryAfter: true,
			Span: load.Span{First: dataStart, Last: dataStop.AddDate(0, 0, -1), Zone: "America/New_York"}, Seed: seed, PID: srv.pid})
		if err != nil {
			return nil, err
		}
		after, err := answerCounters(srv.base)
		if err != nil {
			return nil, err
		}
		var text bytes.Buffer
		res.WriteText(&text, false)
		r := &loadResult{Mix: name, Warm: warm, Clients: cfg.Clients, Duration: cfg.LoadFor, Text: text.String(),
			Cache: fmt.Sprintf("answer cache over the run: %.0f lookups served from memory, %.0f not (a daily series looks up each of its days), %.0f computations (a report, a run of days or a fingerprint)",
				after["hits"]-before["hits"], after["misses"]-before["misses"], after["computed"]-before["computed"])}
		if err := res.Err(); err != nil {
			r.Err = err.Error()
		}
		out = append(out, r)
	}
	return out, nil
}

// answerCounters reads the answer cache's counters from the server's
// /metrics (hits, misses, computed).
func answerCounters(base string) (map[string]float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		for _, c := range []string{"hits", "misses", "computed"} {
			if v, ok := strings.CutPrefix(line, "chime_answer_cache_"+c+"_total "); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					return nil, fmt.Errorf("/metrics: %q: %w", line, err)
				}
				out[c] = f
			}
		}
	}
	return out, nil
}

// freeAddr is a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// served is a serve process started by startServe.
type served struct {
	base string        // http://127.0.0.1:port
	pid  int           // its process id
	logs *bytes.Buffer // what it wrote (warnings and errors)
	stop func()        // SIGTERM, then SIGKILL after 30 s; waits for the exit
}

// startServe runs bin serve on database raw at a free loopback address
// and waits until it answers /readyz (its output in the error when it
// exits first).
func startServe(ctx context.Context, bin, raw string) (*served, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logs := new(bytes.Buffer)
	cmd := exec.Command(bin, "--db", raw, "--log-level", "warn", "serve", "--addr", addr)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	srv := &served{base: "http://" + addr, pid: cmd.Process.Pid, logs: logs, stop: func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}}
	if err := waitReady(ctx, srv.base, exited); err != nil {
		cmd.Process.Kill() // it may have exited already (waitReady took its status)
		return nil, fmt.Errorf("%w\n%s", err, logs.String())
	}
	return srv, nil
}

// waitReady polls /readyz until the server answers 200.
func waitReady(ctx context.Context, base string, exited <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("the server exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("the server was not ready within 60 s")
}
