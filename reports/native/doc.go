// Package native serves the published HTTP contract (docs/api.md) over the reports engine:
// the six catalog routes, /Chime/Report/{ReportName} (JSON envelope or CSV)
// and /Chime/Session/SessionDetails/{SessionID}.
//
// Handlers are thin: parse the raw query string into a reports.Query, call
// the engine, hand the Result to a writer in reports/export. Every failure
// leaves through apierror in the one error shape. The caller's identity and
// visible queues come from keys.PrincipalFrom on the request context.
package native
