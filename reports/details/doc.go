// Package details loads one chat session with everything around it — the
// seeker, agents, offers, bot hand-off, transfers, rating, events and the
// transcript — as the SessionDetails API shape behind
// /Chime/Session/SessionDetails/{id}.
//
// It sits beside the report engine, not inside it: a report is a typed
// table over a window, while this is one record read by primary key. It
// reuses the engine's duration rules (reports.SessionDurations) so a
// session's wait and handle times here equal the ones the reports count,
// and, like the engine, knows nothing of HTTP: the native routes in
// reports/native parse the request, check the caller's queues and write
// the result.
package details
