package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"runtime/pprof"
	"time"

	"github.com/gin-gonic/gin"
)

// ServeProfiles serves Go's profiles (/debug/pprof/) on addr, a loopback
// address apart from the service's listener, until ctx ends: for
// `go tool pprof http://addr/debug/pprof/profile?seconds=30` while the
// service is under load. Anything but a loopback address is refused: the
// profiles show the process's internals and have no key check. The
// command line is not served (its --db may hold a password).
func ServeProfiles(ctx context.Context, addr string, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--pprof-addr: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--pprof-addr: %q is not a loopback address (127.0.0.1, ::1 or localhost)", host)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("serving Go profiles", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("profile listener", "err", err)
		}
	}()
	return nil
}

// profileLabels labels the CPU samples of each request with its route
// pattern and, for a report, its name and format, so that a profile taken under a
// mixed load splits by request kind (go tool pprof -tagfocus
// route=/odata/*path, or -tags for the shares).
func profileLabels() gin.HandlerFunc {
	return func(c *gin.Context) {
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		labels := []string{"route", route}
		if name := c.Param("name"); name != "" && len(name) <= 64 {
			format := "json"
			switch {
			case c.Query("format") == "xlsx":
				format = "xlsx"
			case c.Query("format") == "csv" || c.Query("csv") == "true":
				format = "csv"
			}
			labels = append(labels, "report", name, "format", format)
		}
		pprof.Do(c.Request.Context(), pprof.Labels(labels...), func(ctx context.Context) {
			c.Request = c.Request.WithContext(ctx)
			c.Next()
		})
	}
}
