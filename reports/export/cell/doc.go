// Package cell holds the one rule that makes a text cell safe to open in a
// spreadsheet: Neutralise defuses text that Excel or LibreOffice would
// evaluate as a formula, and NeutraliseCSV extends it to every piece a
// reader splitting on comma, semicolon or tab, or starting a line at an
// embedded line break, would see as a cell. The XLSX writer of
// reports/export applies Neutralise; its CSV writer, the session transcript
// CSV of reports/native and the audit-log CSV of keys/admin apply
// NeutraliseCSV. It is a leaf: it imports nothing of this module,
// so a package that writes a CSV does not pull in the report engine.
package cell
