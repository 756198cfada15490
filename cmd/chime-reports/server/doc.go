// Package server is the HTTP side of chime-reports: it assembles the
// routes of every surface (native reports, the OData feed, the admin pages,
// health and metrics) behind one middleware chain, and runs the
// http.Server on a net.Listener the caller opened.
//
// The chain, outermost first: the in-flight tracking of a Lifecycle (when
// one is given), the ending tracker of package keys (how each request
// ended, for its audit record and log line), recovery (a panic becomes a
// 500 in the error shape, except http.ErrAbortHandler, which cuts the
// connection), metrics (Prometheus counters and histograms by route
// pattern), the access log (one slog line per request however it ends,
// with the caller, rows and outcome; api_key stripped and key-shaped values
// redacted), security headers, the OData-Version header on early answers
// under /odata, admin throttling per address (429 with Retry-After),
// the request-body deadline, request limits (414/413 before any handler
// reads), and the first-byte deadline (504 when no answer has started in
// time; a stalled reader is cut). Behind it, authenticated routes pass the
// key middleware of package keys, a per-key token-bucket rate limiter and
// admission control (requests running at once per key, 429, and in all,
// 503; both with Retry-After). Absolute links come from the public URL or
// a trusted proxy, never from an untrusted Host header.
//
// Serve runs the http.Server; on shutdown it lets requests run for the
// grace period, then cuts those still running and waits, bounded, until
// they have ended, so their audit records (outcome "shutdown") are queued
// before the caller closes the audit trail.
//
// Package main keeps flags, environment and wiring: it parses the
// configuration, opens the database and the listener, and hands plain
// values to NewHandler and Serve. Tests listen on 127.0.0.1:0 and pass the
// listener, so they never race for a free port.
package server
