// Package cell holds the one rule that makes a text cell safe to open in a
// spreadsheet: Neutralise defuses text that Excel or LibreOffice would
// evaluate as a formula. The CSV and XLSX writers of reports/export, the
// session transcript CSV of reports/native and the audit-log CSV of
// keys/admin all apply it. It is a leaf: it imports nothing of this module,
// so a package that writes a CSV does not pull in the report engine.
package cell
