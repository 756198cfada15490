// Package reports is the report catalog and the engine behind every surface.
//
// Data flow: a surface (the native routes in reports/native, the OData feed
// in odata) parses a request into a Query — a registered Report, a Window
// in a zone, an optional queue and the caller's visible queues — and calls
// Engine.Run. The engine computes the report through GORM and returns a
// Result: the report's typed columns and a stream of rows. Writers in
// reports/export turn a Result into JSON or CSV without knowing which report
// it is.
//
// A report is declared once, in the registry (catalog.go and one file per
// family): name, category, title, description, grain, typed columns with
// units and descriptions, and its computation. Catalog routes, native
// routes, docs and the OData entity sets (reports/query) are all derived
// from that declaration.
//
// Beside the engine, not inside it: reports/query (entity-set queries:
// filters compiled to SQL or evaluated in Go, $apply-style grouping) and
// reports/details (one session with everything around it). They use the
// small exported surface in query_api.go and details_api.go, so neither
// re-implements the window arithmetic (window_bounds.go) or the duration
// rules.
//
// Where the numbers are computed: the daily queue, global and bot
// reports, the keyword trend, and the breakdowns by local hour, weekday,
// wait band, entry point, skill tag, hand-off reason and intent aggregate
// in SQL (daily.go): the database sends one row per group, and the local
// day, hour and weekday of an instant are found without time-zone tables.
// The SQL predicates there are the twins of the Go ones in sessions.go,
// checked session by session by TestSessionPredsMatchFacts. Reports that
// need every session or message (sweep lines for concurrency and queue
// depth, per-agent overlaps, message-level response times, the per-queue
// summary, the session logs) stream rows into Go accumulators.
//
// This package knows nothing about HTTP: errors it returns carry an
// apierror class, and the transport maps them to statuses.
package reports
