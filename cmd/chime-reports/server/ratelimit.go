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

// buckets holds one token bucket per caller (an API key, a client
// address). Buckets unused for idleTTL are dropped so the map stays as
// small as the set of active callers.
type buckets[K comparable] struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu    sync.Mutex
	byKey map[K]*bucket
	swept time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const idleTTL = 10 * time.Minute

func newBuckets[K comparable](perSecond float64, burst int) *buckets[K] {
	return &buckets[K]{limit: rate.Limit(perSecond), burst: max(burst, 1), now: time.Now, byKey: map[K]*bucket{}}
}

// wait reports how long caller k must wait before its next request is
// allowed; zero means go ahead (and a token was taken).
func (l *buckets[K]) wait(k K) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleTTL {
		for id, b := range l.byKey {
			if now.Sub(b.seen) > idleTTL {
				delete(l.byKey, id)
			}
		}
		l.swept = now
	}
	b := l.byKey[k]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.byKey[k] = b
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

// keyLimiter is the per-API-key rate limit.
type keyLimiter struct{ *buckets[uint] }

func newKeyLimiter(perSecond float64, burst int) keyLimiter {
	return keyLimiter{newBuckets[uint](perSecond, burst)}
}

// middleware answers 429 with Retry-After (whole seconds, at least 1) when
// the caller's bucket is empty. It runs after authentication, so an
// unauthenticated flood is answered 401 without touching a bucket.
func (l keyLimiter) middleware() gin.HandlerFunc {
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
