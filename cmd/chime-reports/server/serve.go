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

// ShutdownGrace is how long Serve lets in-flight requests finish once its
// context is cancelled.
const ShutdownGrace = 20 * time.Second

// Serve answers HTTP requests on ln with h until ctx is cancelled, then
// shuts down gracefully: the listener closes at once, in-flight requests
// get ShutdownGrace to finish, and those still running after it are cut
// (which cancels their contexts and queries). With tlsCfg set, ln is
// wrapped to terminate TLS. The caller owns the listener's address, so
// tests listen on 127.0.0.1:0 and read the port back.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, tlsCfg *tls.Config) error {
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
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		// Requests still running after the grace period: cut their
		// connections, which cancels their contexts (and queries), so they
		// end before the audit trail and the database are closed.
		slog.Error("shutdown grace period over: cutting the requests still running", "err", err)
		srv.Close()
		return err
	}
	return nil
}
