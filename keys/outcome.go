package keys

import (
	"context"
	"errors"
	"net/http"
	"os"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"
)

// How the answer of a call ended, as the audit trail and the access log
// record it.
const (
	// OutcomeComplete: the handler finished and every byte it wrote was
	// handed to the operating system (the status says what the answer was:
	// a 504 or a 401 is a complete answer too).
	OutcomeComplete = "complete"
	// OutcomeClientGone: the client closed or reset the connection before
	// the answer was whole.
	OutcomeClientGone = "client_gone"
	// OutcomeStalled: the client accepted no byte for the stall timeout and
	// was cut.
	OutcomeStalled = "stalled"
	// OutcomeDBError: the answer failed on the server side after it had
	// started (the database went away or a statement was stopped), and the
	// connection was cut so the client sees a broken transfer.
	OutcomeDBError = "db_error"
	// OutcomeShutdown: the server's shutdown grace period ran out and cut
	// the connection.
	OutcomeShutdown = "shutdown"
	// OutcomeServerError: the handler panicked (answered 500 if nothing
	// had been sent).
	OutcomeServerError = "server_error"
)

// Outcomes lists every outcome.
var Outcomes = []string{OutcomeComplete, OutcomeClientGone, OutcomeStalled, OutcomeDBError, OutcomeShutdown, OutcomeServerError}

// Ending follows one request to its end: write failures, a stall cut, the
// caller and the decided outcome. TrackEnding installs it first in the
// chain, so the key middleware (audit) and the access log read the same
// facts.
type Ending struct {
	cutting     func() bool
	writeFailed atomic.Bool
	stalled     atomic.Bool

	mu        sync.Mutex
	outcome   string
	principal *Principal
}

type endingKey struct{}

// EndingFrom returns the Ending of a request context, or nil.
func EndingFrom(ctx context.Context) *Ending {
	e, _ := ctx.Value(endingKey{}).(*Ending)
	return e
}

// Principal is the caller the key middleware authenticated, or nil.
func (e *Ending) Principal() *Principal {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.principal
}

func (e *Ending) setPrincipal(p *Principal) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.principal = p
	e.mu.Unlock()
}

// Outcome decides (once) how the request ended. panicked is what the
// handler chain panicked with (nil if it returned). The first decision
// stands: the key middleware decides first, the access log repeats it.
func (e *Ending) Outcome(ctx context.Context, panicked any) string {
	if e == nil {
		return decide(ctx, panicked, false, false, false)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.outcome == "" {
		cut := e.cutting != nil && e.cutting()
		e.outcome = decide(ctx, panicked, e.writeFailed.Load(), e.stalled.Load(), cut)
	}
	return e.outcome
}

func decide(ctx context.Context, panicked any, writeFailed, stalled, cutting bool) string {
	abort := false
	if panicked != nil {
		err, ok := panicked.(error)
		if !ok || !errors.Is(err, http.ErrAbortHandler) {
			return OutcomeServerError
		}
		abort = true
	}
	// The request context ends with Canceled when the connection is gone
	// (closed, reset, or cut by a failed write); DeadlineExceeded is the
	// service's own first-byte timeout, answered 504 in full.
	gone := writeFailed || errors.Is(ctx.Err(), context.Canceled)
	switch {
	case !abort && !gone:
		return OutcomeComplete
	case stalled:
		return OutcomeStalled
	case cutting:
		return OutcomeShutdown
	case gone:
		return OutcomeClientGone
	}
	return OutcomeDBError
}

// TrackEnding is the outermost middleware of the server: it puts an Ending
// in the request context and wraps the writer so that failed writes and
// stall cuts (a write past its deadline) are noticed. cutting reports
// whether the server is cutting connections at the end of its shutdown
// grace period (nil: never).
func TrackEnding(cutting func() bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		e := &Ending{cutting: cutting}
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), endingKey{}, e))
		c.Writer = &endingWriter{ResponseWriter: c.Writer, e: e}
		c.Next()
	}
}

// endingWriter notes write failures on the way to the client.
type endingWriter struct {
	gin.ResponseWriter
	e *Ending
}

func (w *endingWriter) note(err error) {
	if err == nil {
		return
	}
	w.e.writeFailed.Store(true)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		w.e.stalled.Store(true)
	}
}

func (w *endingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.note(err)
	return n, err
}

func (w *endingWriter) WriteString(s string) (int, error) {
	n, err := w.ResponseWriter.WriteString(s)
	w.note(err)
	return n, err
}

// Flush flushes through the standard writer's FlushError, so that a failed
// flush is noticed too (gin's Flush drops the error).
func (w *endingWriter) Flush() {
	w.ResponseWriter.WriteHeaderNow()
	if u, ok := w.ResponseWriter.(interface{ Unwrap() http.ResponseWriter }); ok {
		w.note(http.NewResponseController(u.Unwrap()).Flush())
		return
	}
	w.ResponseWriter.Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *endingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
