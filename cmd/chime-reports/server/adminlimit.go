package server

import (
	"math"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

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

// adminThrottle answers 429 with Retry-After when a client address sends
// sign-ins (POST /Chime/Admin/signin) or admin calls faster than allowed.
// It runs before authentication: the admin surface takes sessions and
// keys, and a refused call costs no database work.
func adminThrottle() gin.HandlerFunc {
	signin, other := newBuckets[string](signinRate, signinBurst), newBuckets[string](adminRate, adminBurst)
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
