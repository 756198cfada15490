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
	// serve prints its address once it listens (after seeding the demo data).
	srv := startServe(t)
	base := "http://" + srv.addr
	waitFor(t, srv.exited, time.Minute, "/readyz", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	key := srv.key(t, "admin")

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

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutdown closes the listener first: new connections are refused
	// while the export is still open.
	waitFor(t, srv.exited, 30*time.Second, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", srv.addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	// serve logs its shutdown before it closes the listener, but its
	// stderr reaches the test through a pipe that a loaded machine may
	// copy later than the refused dial: wait for the line, briefly.
	waitFor(t, srv.exited, 5*time.Second, "serve to log its shutdown", func() bool {
		return strings.Contains(srv.stderr.String(), "shutting down")
	})
	select {
	case <-srv.exited:
		t.Fatalf("serve srv.exited (%v) with an export in flight", srv.waitErr)
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

	srv.exitsCleanly(t, 60*time.Second) // serve's own deadline is 20 s
	// The export's access log line comes after the shutdown began: it was
	// in flight, not already sent into the socket buffers.
	log := srv.stderr.String()
	shut := strings.Index(log, "shutting down")
	done := strings.LastIndex(log, "path=/Chime/Report/GlobalChatSessionLog")
	if shut < 0 || done < shut {
		t.Fatalf("the export was not in flight when shutdown began:\n%s", log)
	}
}

// served is the built binary serving a fresh SQLite database (demo data).
type served struct {
	bin, dsn, addr string
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	// exited is closed once serve has exited, with its status in waitErr.
	exited  chan struct{}
	waitErr error
}

// startServe builds the binary, runs serve with args on 127.0.0.1:0 and
// returns once it prints the address it listens on. The process is
// killed at cleanup; its stderr is logged when the test failed.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	return startServeOver(t, nil, args...)
}

// startServeOver is startServe over a database first filled by the
// binary's own command load (its arguments, without --db; none: serve
// seeds the demo data itself).
func startServeOver(t *testing.T, load []string, args ...string) *served {
	t.Helper()
	dir := t.TempDir()
	s := &served{bin: buildBinary(t, dir), dsn: "sqlite:" + filepath.Join(dir, "chime.db"), exited: make(chan struct{})}
	if len(load) > 0 {
		if out, err := exec.Command(s.bin, append(load, "--db", s.dsn)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", load, err, out)
		}
	}
	s.cmd = exec.Command(s.bin, append([]string{"serve", "--db", s.dsn, "--addr", "127.0.0.1:0"}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("serve stderr:\n%.20000s", s.stderr.String())
		}
	})
	listening := regexp.MustCompile(`listening on http://(127\.0\.0\.1:\d+)`)
	waitFor(t, s.exited, 3*time.Minute, "serve to listen", func() bool {
		if m := listening.FindStringSubmatch(s.stdout.String()); m != nil {
			s.addr = m[1]
			// Nothing comes before the address line: no Gin debug-mode
			// warning from a router built before release mode was set.
			if out := s.stdout.String(); !strings.HasPrefix(out, "chime-reports is listening on ") {
				t.Errorf("serve's output does not start with its address:\n%.300s", out)
			}
			return true
		}
		return false
	})
	return s
}

// key generates a key for user with the binary's own command.
func (s *served) key(t *testing.T, user string) string {
	t.Helper()
	out, err := exec.Command(s.bin, "keys", "generate", "--user", user, "--db", s.dsn, "--log-level", "error").Output()
	if err != nil {
		t.Fatalf("keys generate: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// exitsCleanly waits up to bound for serve to exit and requires status 0.
func (s *served) exitsCleanly(t *testing.T, bound time.Duration) {
	t.Helper()
	select {
	case <-s.exited:
		if s.waitErr != nil {
			t.Fatalf("serve exited with %v, want 0", s.waitErr)
		}
	case <-time.After(bound):
		t.Fatal("serve did not exit")
	}
}

// buildBinary compiles this command into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not available")
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
