package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// TestKeyLimiterRefills checks the bucket arithmetic with a fake clock.
func TestKeyLimiterRefills(t *testing.T) {
	now := time.Date(2024, 11, 4, 12, 0, 0, 0, time.UTC)
	l := newKeyLimiter(2, 1)
	l.now = func() time.Time { return now }
	if d := l.wait(7); d != 0 {
		t.Fatalf("first request waits %v", d)
	}
	if d := l.wait(7); d != 500*time.Millisecond {
		t.Fatalf("second request waits %v, want 500ms at 2/s", d)
	}
	now = now.Add(500 * time.Millisecond)
	if d := l.wait(7); d != 0 {
		t.Fatalf("after the refill: waits %v", d)
	}
	// A refused request takes no token: the wait does not grow with retries.
	for range 3 {
		if d := l.wait(7); d != 500*time.Millisecond {
			t.Fatalf("retry waits %v", d)
		}
	}
	// Idle buckets are dropped.
	now = now.Add(idleTTL + time.Second)
	l.wait(8)
	if _, ok := l.byKey[7]; ok {
		t.Fatal("idle bucket kept")
	}
}

// TestFirstByteTimeout pins the middleware's two promises: before the first
// byte the deadline cancels the request context (DeadlineExceeded); after
// it, a slow stream runs to its end with a live context.
func TestFirstByteTimeout(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(firstByteTimeout(50*time.Millisecond, 0))
	// slow waits for the request's context, as a query does, or 10 s.
	slow := func(c *gin.Context) {
		select {
		case <-c.Request.Context().Done():
			apierror.Write(c.Writer, models.Classify(c.Request.Context().Err()))
		case <-time.After(10 * time.Second):
			c.String(http.StatusOK, "too late")
		}
	}
	r.GET("/slow-start", slow)
	// Gin's Status records a code but sends nothing: still before the
	// first byte (a workbook being built after c.Status(200)).
	r.GET("/status-then-slow", func(c *gin.Context) {
		c.Status(http.StatusOK)
		slow(c)
	})
	r.GET("/slow-stream", func(c *gin.Context) {
		c.Writer.WriteHeader(http.StatusOK)
		c.Writer.Write([]byte("first\n"))
		c.Writer.Flush()
		select {
		case <-c.Request.Context().Done():
			c.Writer.Write([]byte("cancelled\n"))
		case <-time.After(200 * time.Millisecond):
			c.Writer.Write([]byte("done\n"))
		}
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/slow-start")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), `"Timeout"`) {
		t.Fatalf("slow start: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(srv.URL + "/status-then-slow")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status recorded, nothing sent: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(srv.URL + "/slow-stream")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "first\ndone\n" {
		t.Fatalf("a started stream was cut by the deadline: %q", body)
	}
}

// TestClientGoneCancels: when the client goes away before the answer, the
// request context ends with context.Canceled (and the query under it).
func TestClientGoneCancels(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(firstByteTimeout(time.Minute, 0))
	got := make(chan error, 1)
	entered := make(chan struct{})
	r.GET("/wait", func(c *gin.Context) {
		close(entered)
		<-c.Request.Context().Done()
		got <- c.Request.Context().Err()
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/wait", nil)
	go func() {
		<-entered
		cancel()
	}()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("request not cancelled")
	}
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("handler saw %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the handler never saw the client go away")
	}
}

// TestStalledClientIsCut: a client that stops reading a streamed answer is
// cut after the stall timeout; the handler's writes fail instead of
// blocking forever.
func TestStalledClientIsCut(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(firstByteTimeout(time.Minute, 300*time.Millisecond))
	got := make(chan error, 1)
	r.GET("/flood", func(c *gin.Context) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := c.Writer.Write(chunk); err != nil {
				got <- err
				return
			}
			c.Writer.Flush()
		}
		got <- nil
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(4096)
	}
	if _, err := conn.Write([]byte("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	// Never read.
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("the handler wrote for 30 s to a client that reads nothing")
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the handler is still blocked on a client that reads nothing")
	}
}
