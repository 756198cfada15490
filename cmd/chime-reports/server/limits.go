package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

// Defaults of the request guards (flags of serve).
const (
	DefaultRequestTimeout = 60 * time.Second
	DefaultMaxURLBytes    = 16 << 10
	DefaultMaxBodyBytes   = 1 << 20
	DefaultStallTimeout   = 2 * time.Minute
)

// requestLimits refuses requests that are too big before any handler reads
// them: a URL longer than maxURL (414) and a body longer than maxBody (413;
// a declared Content-Length is refused at once, an undeclared one is cut by
// http.MaxBytesReader).
func requestLimits(maxURL int, maxBody int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		if maxURL > 0 && len(r.RequestURI) > maxURL {
			apierror.Write(c.Writer, &apierror.Error{Code: apierror.URITooLong,
				Message: "the URL is longer than " + strconv.Itoa(maxURL) + " bytes"})
			c.Abort()
			return
		}
		if maxBody > 0 {
			if r.ContentLength > maxBody {
				apierror.Write(c.Writer, &apierror.Error{Code: apierror.PayloadTooLarge,
					Message: "the request body is larger than " + strconv.FormatInt(maxBody, 10) + " bytes"})
				c.Abort()
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(c.Writer, r.Body, maxBody)
			}
		}
		c.Next()
	}
}

// securityHeaders sets the headers every response carries. The admin pages
// add their own Content-Security-Policy with a nonce; the API answers get a
// policy that allows nothing, since none of them is a page.
func securityHeaders(tls bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		if tls {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		c.Next()
	}
}

// firstByteTimeout bounds how long a request may take before its answer
// starts. Until the first byte is written the request context carries the
// deadline, so a slow query is cancelled and answered 504 (the engine maps
// context.DeadlineExceeded to apierror.Timeout). Once the answer has
// started the deadline is lifted: a long export that is streaming keeps
// going for as long as the client reads it, and a client that goes away
// still cancels its query through the request context.
//
// stall bounds the other end: once streaming, a client that accepts no
// byte for that long (it stopped reading, its network is gone without a
// reset) is cut, so it cannot hold a handler, a socket and a database
// connection forever. Zero: no bound.
func firstByteTimeout(d, stall time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		tw := &startWriter{ResponseWriter: c.Writer, stall: stall}
		tw.rc = http.NewResponseController(c.Writer)
		c.Writer = tw
		if stall > 0 {
			// The deadline stays on the connection: clear it for the next
			// request of a kept-alive connection.
			defer tw.rc.SetWriteDeadline(time.Time{})
		}
		if d <= 0 {
			c.Next()
			return
		}
		ctx := newStartDeadline(c.Request.Context(), d, &tw.started)
		defer ctx.stop()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// startWriter records whether the answer has started: bytes (headers or
// body) went to the client. Gin's WriteHeader only records the status, so
// it does not count: a workbook built in full before its first byte is
// under the deadline on every route.
type startWriter struct {
	gin.ResponseWriter
	started atomic.Bool
	rc      *http.ResponseController
	stall   time.Duration
	armed   time.Time // when the write deadline was last pushed back
}

// progress marks the answer started and pushes the write deadline back
// (at most once a second: it is a system call).
func (w *startWriter) progress() {
	w.started.Store(true)
	if w.stall <= 0 {
		return
	}
	if now := time.Now(); now.Sub(w.armed) > time.Second {
		w.armed = now
		w.rc.SetWriteDeadline(now.Add(w.stall))
	}
}

func (w *startWriter) WriteHeaderNow() {
	w.progress()
	w.ResponseWriter.WriteHeaderNow()
}

func (w *startWriter) Write(b []byte) (int, error) {
	w.progress()
	return w.ResponseWriter.Write(b)
}

func (w *startWriter) WriteString(s string) (int, error) {
	w.progress()
	return w.ResponseWriter.WriteString(s)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *startWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *startWriter) Flush() {
	w.progress()
	w.ResponseWriter.Flush()
}

// startDeadline is a context that ends with its parent, or with
// context.DeadlineExceeded when its timer fires before the answer started.
// The standard contexts cannot lift a deadline once set, hence this type.
type startDeadline struct {
	context.Context
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	err   error
	timer *time.Timer
	quit  chan struct{}
}

func newStartDeadline(parent context.Context, d time.Duration, started *atomic.Bool) *startDeadline {
	c := &startDeadline{Context: parent, done: make(chan struct{}), quit: make(chan struct{})}
	c.timer = time.AfterFunc(d, func() {
		if !started.Load() {
			c.end(context.DeadlineExceeded)
		}
	})
	go func() {
		select {
		case <-parent.Done():
			c.end(parent.Err())
		case <-c.quit:
		case <-c.done:
		}
	}()
	return c
}

func (c *startDeadline) end(err error) {
	c.once.Do(func() {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		close(c.done)
	})
}

// stop releases the timer and the watcher once the request is over.
func (c *startDeadline) stop() {
	c.timer.Stop()
	close(c.quit)
}

func (c *startDeadline) Done() <-chan struct{} { return c.done }

func (c *startDeadline) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Deadline reports the parent's only: ours applies until the answer starts,
// so no callee may plan on it.
func (c *startDeadline) Deadline() (time.Time, bool) { return c.Context.Deadline() }
