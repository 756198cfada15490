package export

import (
	"encoding/csv"
	"io"

	"github.com/chime-reports/chime-reports/reports"
)

// CSVOptions tune WriteCSV.
type CSVOptions struct {
	// BOM writes a UTF-8 byte-order mark first, so Excel reads UTF-8.
	BOM bool
}

// WriteCSV streams RFC 4180 CSV (CRLF, UTF-8): a header row of column
// names, then one row per report row. Nulls are empty cells; numbers use
// "." and no thousands separator; text that a spreadsheet would run as a
// formula is neutralised (see Neutralise).
func WriteCSV(w io.Writer, res *reports.Result, opt CSVOptions) (int64, error) {
	if opt.BOM {
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return 0, err
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cols := res.Report.Columns
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c.Name
	}
	if err := cw.Write(rec); err != nil {
		return 0, err
	}
	var n int64
	for res.Rows.Next() {
		for i, v := range res.Rows.Row() {
			switch {
			case v == nil, !finiteValue(v):
				rec[i] = "" // NaN and ±Inf are nulls, as in JSON
			case cols[i].Type == reports.String:
				rec[i] = NeutraliseCSV(Text(cols[i], v))
			default:
				rec[i] = Text(cols[i], v)
			}
		}
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
	}
	if err := res.Rows.Err(); err != nil {
		cw.Flush()
		return n, err
	}
	cw.Flush()
	return n, cw.Error()
}

// Neutralise defuses text that Excel or LibreOffice would evaluate: a cell
// starting with = + - @, a tab or a carriage return gets a leading
// apostrophe, unless the whole cell is a plain decimal number such as
// -12.5 or +3e2 (never "-Inf" or "-0x1p3", which Excel would read as a
// formula). The XLSX writer applies the same rule to its text cells.
func Neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return "'" + s
	case '+', '-':
		if plainNumber(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// plainNumber reports whether s is a signed decimal number: digits with at
// most one point, and an optional exponent.
func plainNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// finiteValue is false for a float64 NaN or infinity.
func finiteValue(v any) bool {
	f, ok := v.(float64)
	return !ok || finite(f)
}
