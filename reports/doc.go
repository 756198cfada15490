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
// Most columns are measures over sessions (measure.go): count, sum, min,
// max, mean, ratio, nearest-rank percentile and distinct count, each with
// an attribution time (queued_at, started_at, or a bot interaction's
// started_at) and a predicate, where one value carries both the SQL and
// the Go evaluation (TestMeasuresMatchFacts compares them session by
// session and interaction by interaction). A measured report declares a
// grouping (day, hour of day, weekday, weekday × hour, queue, a text key,
// wait bands) and columns bound by name to measures or to computations
// over the row (measured.go); the engine runs one aggregate query per
// attribution time, grouped by the local day, hour or weekday of an
// instant without time-zone tables in the database (daily.go), and builds
// rows by column name. Reports that need every interval, message or
// keyword (sweep lines for concurrency and queue depth, per-agent
// overlaps, message-level response times, keyword ranking, rating
// comments, the session logs) keep hand-written computations, which use
// the declared predicates and values where they need one and build their
// rows by column name too (rowBuilder in rows.go: an unknown or missing
// column panics). TestRowsMatchColumns checks every report's rows against
// its columns.
// docs/architecture.md ("Reports and measures") says how to add one.
//
// This package knows nothing about HTTP: errors it returns carry an
// apierror class, and the transport maps them to statuses.
package reports
