package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

func init() {
	// Gin prints a debug-mode warning from the first gin.New(); the server
	// is never in debug mode, and serve's first line is its address.
	gin.SetMode(gin.ReleaseMode)
}

// CheckTrustedProxies validates the trusted-proxy list before a handler
// is built with it (NewHandler panics on a bad list).
func CheckTrustedProxies(proxies []string) error {
	return gin.New().SetTrustedProxies(proxies)
}

// ServeOptions tune how Serve shuts down.
type ServeOptions struct {
	// Grace is how long in-flight requests may run on once the context
	// is cancelled (zero or negative: DefaultShutdownGrace).
	Grace time.Duration
	// Life is the Lifecycle the handler was built with (Deps.Life): the
	// requests still running after Grace are marked as cut by shutdown
	// and Serve waits, bounded by CutWait, for their audit records. Nil:
	// they are cut without waiting.
	Life *Lifecycle
}

// CutWait bounds how long Serve waits for the requests it cut at the end
// of the grace period to end (and to have queued their audit records).
const CutWait = 5 * time.Second

// Serve answers HTTP requests on ln with h until ctx is cancelled, then
// shuts down gracefully: the listener closes at once, in-flight requests
// get opt.Grace to finish, and those still running after it are cut
// (which cancels their contexts and queries; their audit records and
// access log lines say "shutdown"), and Serve returns once they have
// ended (at most CutWait later). With tlsCfg set, ln is wrapped to
// terminate TLS. The caller owns the listener's address, so tests listen
// on 127.0.0.1:0 and read the port back.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, tlsCfg *tls.Config, opt ServeOptions) error {
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down: finishing in-flight requests")
	grace := opt.Grace
	if grace <= 0 {
		grace = DefaultShutdownGrace
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		// Requests still running after the grace period: cut their
		// connections, which cancels their contexts (and queries), so they
		// end before the audit trail and the database are closed. Their
		// audit records say "shutdown"; wait (bounded) for the handlers to
		// have queued them.
		slog.Error("shutdown grace period over: cutting the requests still running", "err", err)
		if opt.Life != nil {
			opt.Life.cut()
		}
		srv.Close()
		if opt.Life != nil && !opt.Life.wait(CutWait) {
			slog.Error("requests still running after they were cut; their audit records may be missing", "waited", CutWait)
		}
		return err
	}
	return nil
}
