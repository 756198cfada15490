package server

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/keys"
)

// Lifecycle lets Serve end the requests still running when the shutdown
// grace period is over: it marks the cut (their audit records and access
// log lines say "shutdown", not "client_gone") and waits for their
// handlers to have written those records before the audit trail closes.
//
// The zero value is ready; give the same one to Deps.Life and to
// ServeOptions.Life.
type Lifecycle struct {
	cutting  atomic.Bool
	inflight sync.WaitGroup
}

// track counts the request among those in flight.
func (l *Lifecycle) track() gin.HandlerFunc {
	return func(c *gin.Context) {
		l.inflight.Add(1)
		defer l.inflight.Done()
		c.Next()
	}
}

// isCutting reports whether the grace period is over.
func (l *Lifecycle) isCutting() bool { return l != nil && l.cutting.Load() }

// cut marks the grace period over; call it just before the connections
// are closed.
func (l *Lifecycle) cut() { l.cutting.Store(true) }

// wait waits up to bound for every tracked request to end; it reports
// whether they all did.
func (l *Lifecycle) wait(bound time.Duration) bool {
	done := make(chan struct{})
	go func() { l.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(bound):
		return false
	}
}

// logRequest writes the access log line of a request that ended, with
// panicked what its handlers panicked with (nil if they returned).
func logRequest(log *slog.Logger, c *gin.Context, start time.Time, panicked any) {
	ctx := c.Request.Context()
	e := keys.EndingFrom(ctx)
	attrs := []any{"method", c.Request.Method, "path", keys.RedactPath(c.Request.URL.Path), "query", keys.StripKey(c.Request.URL.RawQuery),
		"status", c.Writer.Status(), "bytes", max(c.Writer.Size(), 0), "rows", keys.RowsWritten(ctx),
		"ms", time.Since(start).Milliseconds(), "client", c.ClientIP(), "outcome", e.Outcome(ctx, panicked)}
	if p := e.Principal(); p != nil {
		attrs = append(attrs, "user", p.Login, "key", p.KeyHint)
	}
	log.Info("request", attrs...)
}

// DefaultShutdownGrace is how long requests in flight may run on after
// SIGTERM before they are cut (--shutdown-grace).
const DefaultShutdownGrace = 20 * time.Second
