// Package export writes a report Result as JSON (the native envelope) or
// CSV. Writers take an io.Writer and a row stream and know only column
// types, never which report they write; they hold one row at a time, so a
// million-row session log streams in constant memory.
//
// Values are rounded here and only here (REPORTS.md "Output values"):
// seconds and percentages to 1 decimal place, decimals to 2 (or the
// column's Decimals); null is JSON null and an empty CSV cell.
package export
