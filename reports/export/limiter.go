package export

import (
	"fmt"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

// DefaultMaxXLSX is how many XLSX exports run at once unless configured:
// each holds a workbook being built (styles, a 16 MB stream buffer, the
// zip writer) and a temporary file the size of its sheet XML, and takes a
// core while it compresses.
const DefaultMaxXLSX = 4

// Limiter caps how many exports of one kind run at once. Its zero value
// admits nothing; use NewLimiter.
type Limiter struct {
	slots chan struct{}
}

// NewLimiter admits n exports at once (n < 1 means 1).
func NewLimiter(n int) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(n, 1))}
}

// TryAcquire takes a slot without waiting. When it reports true the caller
// must call release exactly once when its export is done.
func (l *Limiter) TryAcquire() (release func(), ok bool) {
	select {
	case l.slots <- struct{}{}:
		done := false
		return func() {
			if !done {
				done = true
				<-l.slots
			}
		}, true
	default:
		return nil, false
	}
}

// Cap is the number of exports the limiter admits at once.
func (l *Limiter) Cap() int { return cap(l.slots) }

// InUse is the number of slots taken now.
func (l *Limiter) InUse() int { return len(l.slots) }

// retryAfter is the Retry-After, in seconds, of a full limiter.
const retryAfter = 5

// Admit takes a slot for one workbook export. A full limiter is a 503
// with Retry-After, answered before any query runs. The caller must call
// release exactly once.
func (l *Limiter) Admit() (release func(), err error) {
	release, ok := l.TryAcquire()
	if !ok {
		return nil, &apierror.Error{Code: apierror.Unavailable, RetryAfter: retryAfter,
			Message: fmt.Sprintf("%d workbook exports are running, the most this server builds at once; retry in a few seconds or ask for CSV", l.Cap())}
	}
	return release, nil
}
