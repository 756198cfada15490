// Package query answers queries over entity sets: tables derived from the
// report registry (one set per report, plus the raw Sessions, Queues and
// Agents, and the raw tables beside chat_sessions with the navigation
// properties between them, nav.go). It is the query engine behind the OData feed, but speaks no
// OData: a surface parses its request into a SetQuery — a Set, a checked
// Expr (Set.Check), sort keys, a keyset position, $apply-style
// Transforms — and Engine.QuerySet answers it as typed columns and a row
// stream.
//
// The split follows parse → plan → execute: odata/filter parses text into
// Expr; Check types it against the set's properties; then the session sets
// compile it to parameterised SQL (sql.go, column names only from the
// set's allow-list) while computed sets run the report through the engine
// (package reports) and evaluate the same Expr over typed rows in Go
// (eval.go). A test runs every predicate both ways and requires the same
// rows on SQLite and MariaDB. A range on a time-series set's PeriodStart
// or Date becomes the report window, snapped to whole buckets with the
// engine's window arithmetic (reports.BucketAt, reports.TooLong).
//
// Errors carry an apierror class and a neutral target ("filter", "apply",
// "orderby", "skiptoken"); the surface names them after its own options.
// Kind names are neutral too ("integer", "date-time"): Edm type names
// belong to the OData surface. Like the engine, this package knows nothing
// of HTTP.
package query
