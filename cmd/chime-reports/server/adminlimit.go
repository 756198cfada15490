package server

import (
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

// Throttles of the admin surface, per client address: sign-in attempts
// (a key is a 122-bit secret, but a sign-in costs a key check and an
// audit record, and a flood of them is a probe), and every other admin
// page or API call.
const (
	signinRate, signinBurst = 1.0, 10 // per second, at once
	adminRate, adminBurst   = 20.0, 60
)

// addrLimiter holds one token bucket per client address; buckets unused
// for idleTTL are dropped.
type addrLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*addrBucket
	swept   time.Time
}

type addrBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newAddrLimiter(perSecond float64, burst int) *addrLimiter {
	return &addrLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[string]*addrBucket{}}
}

// wait reports how long addr must wait; zero means go ahead (a token
// was taken).
func (l *addrLimiter) wait(addr string) time.Duration {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleTTL {
		for a, b := range l.buckets {
			if now.Sub(b.seen) > idleTTL {
				delete(l.buckets, a)
			}
		}
		l.swept = now
	}
	b := l.buckets[addr]
	if b == nil {
		b = &addrBucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[addr] = b
	}
	b.seen = now
	if b.lim.AllowN(now, 1) {
		return 0
	}
	r := b.lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}

// adminThrottle answers 429 with Retry-After when a client address sends
// sign-ins (POST /Chime/Admin/signin) or admin calls faster than allowed.
// It runs before authentication: the admin surface takes sessions and
// keys, and a refused call costs no database work.
func adminThrottle() gin.HandlerFunc {
	signin, other := newAddrLimiter(signinRate, signinBurst), newAddrLimiter(adminRate, adminBurst)
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if !strings.HasPrefix(p, "/Chime/Admin") {
			c.Next()
			return
		}
		l, what := other, "admin requests"
		if c.Request.Method == http.MethodPost && strings.TrimSuffix(p, "/") == "/Chime/Admin/signin" {
			l, what = signin, "sign-in attempts"
		}
		if d := l.wait(c.ClientIP()); d > 0 {
			apierror.Write(c.Writer, &apierror.Error{Code: apierror.TooManyRequests, RetryAfter: max(int(math.Ceil(d.Seconds())), 1),
				Message: "too many " + what + " from this address: retry after the Retry-After delay"})
			c.Abort()
			return
		}
		c.Next()
	}
}
