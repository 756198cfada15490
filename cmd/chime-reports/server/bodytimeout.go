package server

import (
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// DefaultBodyTimeout bounds how long a client may take to send a request
// body (serve --body-timeout), as ReadHeaderTimeout bounds the headers.
const DefaultBodyTimeout = 10 * time.Second

// bodyTimeout sets a read deadline on the connection of a request that
// has a body, so that a client sending it a byte at a time cannot hold a
// handler and a socket: past d the body read fails and the request ends.
// The deadline is lifted once the body has been read. (http.Server's
// ReadTimeout would do it too, but it would also end the request context
// of long downloads, whose connection stays read-armed.)
func bodyTimeout(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		if d <= 0 || r.Body == nil || r.Body == http.NoBody || (r.ContentLength == 0 && len(r.TransferEncoding) == 0) {
			c.Next()
			return
		}
		rc := http.NewResponseController(c.Writer)
		if rc.SetReadDeadline(time.Now().Add(d)) == nil {
			c.Request.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		}
		c.Next()
	}
}

// deadlineBody lifts the read deadline once the whole body has been read,
// so a handler that runs on is not cut. A body left unread keeps it: the
// server reads the rest of a small body after the handler, and that read
// must not wait for a slow client either.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
