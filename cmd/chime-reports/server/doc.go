// Package server is the HTTP side of chime-reports: it assembles the
// routes of every surface (native reports, the OData feed, the admin pages,
// health and metrics) behind one middleware chain, and runs the
// http.Server on a net.Listener the caller opened.
//
// The chain, outermost first: recovery (a panic becomes a 500 in the error
// shape, except http.ErrAbortHandler, which cuts the connection), metrics
// (Prometheus counters and histograms by route pattern), the access log
// (one slog line per request, api_key stripped), security headers, request
// limits (414/413 before any handler reads), and the first-byte deadline
// (504 when no answer has started in time; a stalled reader is cut). Behind
// it, authenticated routes pass the key middleware of package keys and a
// per-key token-bucket rate limiter (429 with Retry-After).
//
// Package main keeps flags, environment and wiring: it parses the
// configuration, opens the database and the listener, and hands plain
// values to NewHandler and Serve. Tests listen on 127.0.0.1:0 and pass the
// listener, so they never race for a free port.
package server
