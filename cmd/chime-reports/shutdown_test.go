package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown runs the real binary: SIGTERM while a large CSV
// export is being read lets that export finish whole, closes the listener
// at once, and exits 0 within serve's 20 s deadline.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	db := "sqlite:" + filepath.Join(dir, "chime.db")

	var stdout, stderr syncBuffer
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed once serve has exited, with its status in waitErr.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("serve stderr:\n%s", stderr.String())
		}
	})

	// serve prints its address once it listens (after seeding the demo data).
	listening := regexp.MustCompile(`listening on http://(127\.0\.0\.1:\d+)`)
	var addr string
	waitFor(t, exited, 3*time.Minute, "serve to listen", func() bool {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			addr = m[1]
			return true
		}
		return false
	})
	base := "http://" + addr
	waitFor(t, exited, time.Minute, "/readyz", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	out, err := exec.Command(bin, "keys", "generate", "--user", "admin", "--db", db, "--log-level", "error").Output()
	if err != nil {
		t.Fatalf("keys generate: %v", err)
	}
	key := strings.TrimSpace(string(out))

	// The whole demo session log: thousands of rows, far more than the
	// socket buffers below hold.
	today := time.Now().UTC()
	path := fmt.Sprintf("/Chime/Report/GlobalChatSessionLog?start=%s&stop=%s&zone=UTC&csv=true",
		today.AddDate(0, 0, -95).Format(time.DateOnly), today.Format(time.DateOnly))
	get := func(c *http.Client) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("export: %d: %.300s", resp.StatusCode, b)
		}
		return resp
	}
	resp := get(http.DefaultClient)
	want, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	wantRows := bytes.Count(want, []byte("\r\n"))
	if wantRows < 1000 || !bytes.HasSuffix(want, []byte("\r\n")) {
		t.Fatalf("reference export: %d lines, %d bytes", wantRows, len(want))
	}

	// The in-flight export: a client with a tiny receive buffer that reads
	// the first bytes, so the server is still writing when SIGTERM comes.
	slow := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}).DialContext,
	}}
	resp = get(slow)
	defer resp.Body.Close()
	first := make([]byte, 512)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutdown closes the listener first: new connections are refused
	// while the export is still open.
	waitFor(t, exited, 30*time.Second, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Fatal("the listener closed before serve logged its shutdown")
	}
	select {
	case <-exited:
		t.Fatalf("serve exited (%v) with an export in flight", waitErr)
	default:
	}

	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("the in-flight export was cut: %v", err)
	}
	got := append(first, rest...)
	if !bytes.Equal(got, want) {
		t.Fatalf("in-flight export: %d bytes, %d lines; want %d bytes, %d lines", len(got), bytes.Count(got, []byte("\r\n")), len(want), wantRows)
	}

	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("serve exited with %v, want 0", waitErr)
		}
	case <-time.After(60 * time.Second): // serve's own deadline is 20 s
		t.Fatal("serve did not exit after the last request finished")
	}
	// The export's access log line comes after the shutdown began: it was
	// in flight, not already sent into the socket buffers.
	log := stderr.String()
	shut := strings.Index(log, "shutting down")
	done := strings.LastIndex(log, "path=/Chime/Report/GlobalChatSessionLog")
	if shut < 0 || done < shut {
		t.Fatalf("the export was not in flight when shutdown began:\n%s", log)
	}
}

// buildBinary compiles this command into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "chime-reports")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// waitFor polls cond until it holds, failing if the process exits first
// or the bound passes.
func waitFor(t *testing.T, exited <-chan struct{}, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		select {
		case <-exited:
			t.Fatalf("serve exited while waiting for %s", what)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, bound)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer process and a reader test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
