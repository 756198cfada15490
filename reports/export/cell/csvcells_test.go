package cell_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/chime-reports/chime-reports/reports/export/cell"
	"github.com/chime-reports/chime-reports/reports/export/xlsxtest"
)

// hostileCells are guest texts and attachment names that become formulas
// when a reader splits on another separator than the writer's, or starts a
// line at an embedded line break.
var hostileCells = []string{
	`x;=1+1;@SUM(9*9);-2+3+cmd|' /C calc'!A0`,
	"x,=2+2",
	"x\t=3+3",
	"\n=4+4",
	"line one\r\n=5+5",
	`a; "=6+6"`,
	`report.pdf; =HYPERLINK("http://evil.example","x").png`,
	`quote"; =7+7`,
	"x, +8+8",
	"x; -9*9",
}

// TestCSVSafeForEverySeparator opens a CSV of hostile text cells in
// LibreOffice with comma, semicolon and tab as the separator: no cell
// becomes a formula. The same cells merely neutralised at their start
// (the control) do give formulas, so the check can fail.
func TestCSVSafeForEverySeparator(t *testing.T) {
	write := func(f func(string) string) []byte {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.UseCRLF = true
		w.Write([]string{"Id", "Text"})
		for i, c := range hostileCells {
			w.Write([]string{string(rune('a' + i)), f(c)})
		}
		w.Flush()
		return buf.Bytes()
	}
	safe, control := write(cell.NeutraliseCSV), write(cell.Neutralise)
	for _, sep := range []byte{',', ';', '\t'} {
		if got := xlsxtest.CSVFormulas(t, safe, sep); len(got) != 0 {
			t.Errorf("separator %q: formula cells %q", sep, got)
		}
		if sep != ',' {
			if got := xlsxtest.CSVFormulas(t, control, sep); len(got) == 0 {
				t.Errorf("separator %q: the control file made no formula: the check cannot fail", sep)
			}
		}
	}
	// What a reader splitting on the writer's own separator sees is
	// unchanged but for the apostrophes.
	if got := cell.NeutraliseCSV("x;=1+1"); got != "x;'=1+1" {
		t.Errorf("NeutraliseCSV: %q", got)
	}
	if got := cell.NeutraliseCSV("from 10, -5 degrees; -2.5"); got != "from 10, -5 degrees; -2.5" {
		t.Errorf("plain numbers after a separator were changed: %q", got)
	}
}
