package main

import (
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStoreMetricsAndProfiles: serve reports the interval store's
// maintenance passes on /metrics, and with --pprof-addr serves Go's
// profiles on that loopback address (and refuses any other).
func TestStoreMetricsAndProfiles(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pprofAddr := l.Addr().String()
	l.Close()
	s := startServe(t, "--store-every", "100ms", "--pprof-addr", pprofAddr)
	get := func(url string) string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
		}
		return string(b)
	}
	value := func(text, name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(text)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	var text string
	waitFor(t, s.exited, time.Minute, "three maintenance passes", func() bool {
		text = get("http://" + s.addr + "/metrics")
		return value(text, "chime_store_passes_total") >= 3
	})
	for _, name := range []string{"chime_store_pass_seconds_total", "chime_store_last_pass_seconds", "chime_store_captured_sessions_total",
		"chime_store_recomputed_ranges_total", "chime_store_dirty_intervals", "chime_store_watermark_age_seconds", "chime_store_pass_failures_total"} {
		if v := value(text, name); v < 0 {
			t.Errorf("metrics lack %s:\n%s", name, text)
		}
	}
	// The first pass built the store from the demo data: every session
	// was captured.
	if v := value(text, "chime_store_captured_sessions_total"); v < 1000 {
		t.Errorf("captured %v sessions, the demo data has thousands", v)
	}
	if v := value(text, "chime_store_pass_seconds_total"); v <= 0 {
		t.Errorf("passes took %v s", v)
	}
	if idx := get("http://" + pprofAddr + "/debug/pprof/"); !strings.Contains(idx, "goroutine") {
		t.Errorf("profile index:\n%.500s", idx)
	}
	// The command line (its --db may hold a password) is not served.
	if resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/cmdline"); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(b), "--db") {
			t.Errorf("/debug/pprof/cmdline: %d %.200s", resp.StatusCode, b)
		}
	}

	out, err := exec.Command(s.bin, "serve", "--db", s.dsn, "--addr", "127.0.0.1:0", "--pprof-addr", "0.0.0.0:6060").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not a loopback address") {
		t.Errorf("serve --pprof-addr 0.0.0.0:6060: %v\n%s", err, out)
	}
}
