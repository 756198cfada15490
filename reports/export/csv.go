package export

import (
	"encoding/csv"
	"io"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export/cell"
)

// CSVOptions tune WriteCSV.
type CSVOptions struct {
	// BOM writes a UTF-8 byte-order mark first, so Excel reads UTF-8.
	BOM bool
}

// WriteCSV streams RFC 4180 CSV (CRLF, UTF-8): a header row of column
// names, then one row per report row. Nulls are empty cells; numbers use
// "." and no thousands separator; text that a spreadsheet would run as a
// formula is neutralised (see cell.Neutralise).
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
				rec[i] = cell.NeutraliseCSV(Text(cols[i], v))
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

// finiteValue is false for a float64 NaN or infinity.
func finiteValue(v any) bool {
	f, ok := v.(float64)
	return !ok || finite(f)
}
