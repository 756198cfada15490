package server

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// Defaults of the per-key rate limit. A Power BI refresh of a model with a
// dozen tables sends a few requests per table, partly in parallel; 20 per
// second with a burst of 60 lets that through and stops a runaway script.
const (
	DefaultRateLimit = 20.0
	DefaultRateBurst = 60
)

// keyLimiter holds one token bucket per API key. Buckets unused for idleTTL are dropped so the map stays as
// small as the set of active callers.
type keyLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[uint]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const idleTTL = 10 * time.Minute

func newKeyLimiter(perSecond float64, burst int) *keyLimiter {
	return &keyLimiter{limit: rate.Limit(perSecond), burst: max(burst, 1), now: time.Now, buckets: map[uint]*bucket{}}
}

// wait reports how long the key must wait before the next request is
// allowed; zero means go ahead (and a token was taken).
func (l *keyLimiter) wait(key uint) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleTTL {
		for id, b := range l.buckets {
			if now.Sub(b.seen) > idleTTL {
				delete(l.buckets, id)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
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

// middleware answers 429 with Retry-After (whole seconds, at least 1) when
// the caller's bucket is empty. It runs after authentication, so an
// unauthenticated flood is answered 401 without touching a bucket.
func (l *keyLimiter) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := keys.PrincipalFrom(c.Request.Context())
		if !ok {
			c.Next()
			return
		}
		if d := l.wait(p.KeyID); d > 0 {
			secs := int(math.Ceil(d.Seconds()))
			apierror.Write(c.Writer, &apierror.Error{Code: apierror.TooManyRequests, RetryAfter: max(secs, 1),
				Message: "too many requests for this key: at most " + strconv.FormatFloat(float64(l.limit), 'f', -1, 64) +
					" per second (burst " + strconv.Itoa(l.burst) + "); retry after the Retry-After delay"})
			c.Abort()
			return
		}
		c.Next()
	}
}
