package server

import (
	"database/sql"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// Defaults of admission control (flags of serve). A key may run
// DefaultMaxPerKey requests at once (a Power BI refresh loads a few tables
// in parallel); all keys together may run as many as the database pool
// has connections, less two kept for key checks, the audit writer and the
// admin pages.
const (
	DefaultMaxPerKey = 4
	poolReserve      = 2
)

// admission bounds the authenticated requests running at once, per key
// and in all. A request over either bound is refused at once, never
// queued: 429 TooManyRequests (this key has enough running) or 503
// ServiceUnavailable (the server has), both with Retry-After, so a client
// that floods one route cannot make every other caller's request wait for
// a pool connection. A request holds its place until its answer has been
// sent (a streamed export, until its last byte).
type admission struct {
	perKey, global int

	mu      sync.Mutex
	running map[uint]int // key id → requests running
	total   int
}

// DefaultMaxConcurrent is the global bound serve uses when none is given:
// the database pool's size less the reserve, at least 1.
func DefaultMaxConcurrent(pool *sql.DB) int {
	if pool == nil {
		return 1
	}
	return max(pool.Stats().MaxOpenConnections-poolReserve, 1)
}

func newAdmission(perKey, global int) *admission {
	return &admission{perKey: perKey, global: global, running: map[uint]int{}}
}

// enter takes a place for key; it reports the refusal, if any.
func (a *admission) enter(key uint) *apierror.Error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.perKey > 0 && a.running[key] >= a.perKey {
		return &apierror.Error{Code: apierror.TooManyRequests, RetryAfter: 1,
			Message: "this key already has " + strconv.Itoa(a.perKey) + " requests running: retry after the Retry-After delay, or send fewer at once"}
	}
	if a.global > 0 && a.total >= a.global {
		return &apierror.Error{Code: apierror.Unavailable, RetryAfter: 1,
			Message: "the server is running as many reports as it can: retry after the Retry-After delay"}
	}
	a.running[key]++
	a.total++
	return nil
}

func (a *admission) leave(key uint) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.total--
	if a.running[key]--; a.running[key] <= 0 {
		delete(a.running, key)
	}
}

// full reports whether the global bound is reached.
func (a *admission) full() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.global > 0 && a.total >= a.global
}

// refuseWhenFull answers 503 (Retry-After: 1) before the key check while
// the global bound is reached. The key check of a key not seen in the last
// second needs database connections, which the running reports hold, so
// checking it only to refuse the request would make the refusal wait
// (measured: about half a second per refusal under 64 clients, whose
// retries after Retry-After: 1 always miss the 1-second principal cache).
// Such a refusal is not an authenticated call and has no audit record,
// like a 401; the request admitted later has one.
func (a *admission) refuseWhenFull() gin.HandlerFunc {
	return func(c *gin.Context) {
		if a.full() {
			apierror.Write(c.Writer, &apierror.Error{Code: apierror.Unavailable, RetryAfter: 1,
				Message: "the server is running as many reports as it can: retry after the Retry-After delay"})
			c.Abort()
			return
		}
		c.Next()
	}
}

// middleware admits the authenticated caller or refuses the request.
func (a *admission) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := keys.PrincipalFrom(c.Request.Context())
		if !ok {
			c.Next()
			return
		}
		if e := a.enter(p.KeyID); e != nil {
			apierror.Write(c.Writer, e)
			c.Abort()
			return
		}
		defer a.leave(p.KeyID)
		c.Next()
	}
}
