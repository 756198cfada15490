// Package export writes a report Result as JSON (the native envelope), CSV
// or an XLSX workbook. Writers take an io.Writer and a row stream and know
// only column types, never which report they write. JSON and CSV hold one
// row at a time; XLSX streams through excelize's StreamWriter and zips
// straight into the response, so a million-row session log stays in
// constant memory (about 85 MB for a workbook). Package xlsxtest checks
// workbooks with LibreOffice in tests.
//
// Values are rounded here and only here (docs/data-model.md "Output values and rounding"):
// seconds and percentages to 1 decimal place, decimals to 2 (or the
// column's Decimals); null is JSON null and an empty CSV or workbook cell.
package export
