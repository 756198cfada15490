// Command chime-reports is the one binary of the service: serve, migrate,
// keys, users and fixtures. It parses configuration (flags over
// environment) and wires the packages together; it holds no logic of its
// own. The HTTP middleware and the http.Server live in
// cmd/chime-reports/server, which serve hands a listener.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
