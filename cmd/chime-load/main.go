// Command chime-load runs a bounded load against a chime-reports server on
// this machine: --clients clients send a weighted mix of native JSON, CSV,
// XLSX and OData requests for --duration, every answer is checked, and the
// report gives latencies, throughput, status codes, a per-second timeline
// and (with --pid) the server's peak RSS.
//
// It exits 1 when any answer fails: a 5xx other than a clean 503 (error
// shape, code ServiceUnavailable, Retry-After), a 4xx, an error status not
// in the error shape, a request with no answer or past the timeout, or a
// silent loss — a 2xx whose body arrived without a transport error but is
// truncated or unparsable. A 2xx whose connection was cut mid-body counts
// as "aborted": the client sees the failure, so it is not silent.
//
//	chime-load --url http://127.0.0.1:8080 --key-file key.txt --clients 64 --duration 30s --pid $(pgrep -n chime-reports)
//	chime-load --url http://127.0.0.1:8080 --keys-file keys.txt --mix reports --clients 64 --duration 30s
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/cmd/chime-load/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chime-load:", err)
	}
	os.Exit(code)
}

// run parses args, runs the load and reports; the code is 0 (all good),
// 1 (failing answers) or 2 (bad usage).
func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string) (int, error) {
	fs := flag.NewFlagSet("chime-load", flag.ContinueOnError)
	fs.SetOutput(out)
	base := fs.String("url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	key := fs.String("key", "", "API key (prefer --key-file or env CHIME_KEY: a flag shows in ps)")
	keyFile := fs.String("key-file", "", "file holding the API key")
	keysFile := fs.String("keys-file", "", "file of API keys, one a line (blank lines and # comments skipped): client i uses key i mod n, so the load spreads over the server's per-key bounds")
	retryAfter := fs.Bool("retry-after", true, "after a 429 or 503, wait its Retry-After and send the request again (the refusal is counted, not failed); false: go on at once")
	clients := fs.Int("clients", 64, "concurrent clients")
	duration := fs.Duration("duration", 30*time.Second, "how long clients start new requests")
	timeout := fs.Duration("timeout", 60*time.Second, "per-request timeout (headers and whole body)")
	mix := fs.String("mix", "default", "a preset (default, reports: the native JSON reports alone) or weighted kinds, kind=weight,…; kinds: "+strings.Join(load.KindNames(), ", "))
	queues := fs.String("queues", "1-5", "queue ids to draw from: 1-5 or 1,3")
	first := fs.String("first-day", "", "first day with data (default: 365 days before --last-day)")
	last := fs.String("last-day", "", "last day with data (default: today, UTC)")
	zone := fs.String("zone", "America/New_York", "zone of the native report windows (empty: the user's default)")
	seed := fs.Uint64("seed", 1, "random seed (same seed, same request sequence per client)")
	pid := fs.Int("pid", 0, "server process id: report its peak RSS (VmHWM, reset at the start when permitted)")
	asJSON := fs.Bool("json", false, "write the summary as JSON instead of text")
	timeline := fs.Bool("timeline", false, "always print the per-second timeline")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, nil
		}
		return 2, err
	}
	if fs.NArg() > 0 {
		return 2, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if _, err := load.CheckLoopback(*base); err != nil {
		return 2, err
	}
	var k string
	var ks []string
	var err error
	if *keysFile != "" {
		if *key != "" || *keyFile != "" {
			return 2, errors.New("--keys-file replaces --key and --key-file")
		}
		if ks, err = readKeys(*keysFile); err != nil {
			return 2, err
		}
	} else if k, err = readKey(*key, *keyFile, getenv); err != nil {
		return 2, err
	}
	m, err := load.ParseMix(*mix)
	if err != nil {
		return 2, err
	}
	qs, err := parseQueues(*queues)
	if err != nil {
		return 2, err
	}
	span, err := parseSpan(*first, *last, *zone)
	if err != nil {
		return 2, err
	}
	res, err := load.Run(ctx, load.Config{BaseURL: *base, Key: k, Keys: ks, Clients: *clients, Duration: *duration,
		Timeout: *timeout, Mix: m, Queues: qs, Span: span, Seed: *seed, PID: *pid, RetryAfter: *retryAfter})
	if err != nil {
		return 2, err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res.Summary()); err != nil {
			return 2, err
		}
	} else {
		res.WriteText(out, *timeline)
	}
	if err := res.Err(); err != nil {
		return 1, err
	}
	return 0, nil
}

// readKey takes the key from the flag, the file or CHIME_KEY, in that order.
func readKey(flagKey, file string, getenv func(string) string) (string, error) {
	k := flagKey
	if k == "" && file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--key-file: %w", err)
		}
		k = string(b)
	}
	if k == "" {
		k = getenv("CHIME_KEY")
	}
	k = strings.TrimSpace(k)
	if k == "" {
		return "", errors.New("no API key: give --key-file, CHIME_KEY or --key")
	}
	if strings.ContainsAny(k, " \r\n\t") {
		return "", errors.New("the API key holds whitespace")
	}
	return k, nil
}

// readKeys reads one key a line; blank lines and lines starting with #
// are skipped.
func readKeys(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--keys-file: %w", err)
	}
	var ks []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("--keys-file: line %d holds whitespace inside the key", i+1)
		}
		ks = append(ks, line)
	}
	if len(ks) == 0 {
		return nil, errors.New("--keys-file: no key in the file")
	}
	return ks, nil
}

// parseQueues reads "1-5" or "1,3,4".
func parseQueues(s string) ([]int, error) {
	var qs []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 1 || b < a || b-a > 1000 {
			return nil, fmt.Errorf("--queues: %q is not 1-5 or 1,3", s)
		}
		for q := a; q <= b; q++ {
			qs = append(qs, q)
		}
	}
	return qs, nil
}

func parseSpan(first, last, zone string) (load.Span, error) {
	l := time.Now().UTC().Truncate(24 * time.Hour)
	if last != "" {
		t, err := time.Parse(time.DateOnly, last)
		if err != nil {
			return load.Span{}, fmt.Errorf("--last-day: %v", err)
		}
		l = t
	}
	f := l.AddDate(0, 0, -364)
	if first != "" {
		t, err := time.Parse(time.DateOnly, first)
		if err != nil {
			return load.Span{}, fmt.Errorf("--first-day: %v", err)
		}
		f = t
	}
	if l.Before(f) {
		return load.Span{}, errors.New("--last-day is before --first-day")
	}
	return load.Span{First: f, Last: l, Zone: zone}, nil
}
