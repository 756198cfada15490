package export_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/chime-reports/chime-reports/reports/export"
)

// halfRows hold values as the engine computes them in float64: each sits
// exactly on a half of its last shown decimal (binary arithmetic leaves it
// just below), or just below a half.
func halfRows() [][]any {
	day := time.Date(2024, 11, 1, 0, 0, 0, 0, newYork)
	return [][]any{
		// 0.35 s = 700 ms / 1000 / 2; 23/80·100 = 28.75 %; 161/40 = 4.025.
		{day, int64(1), float64(700) / 1000 / 2, float64(23) / float64(80) * 100, float64(161) / float64(40), "on a half", nil},
		{day, int64(2), 0.3499, 28.7499, 4.02499, "just below", nil},
		{day, int64(3), -float64(700) / 1000 / 2, float64(1) / float64(8) * 100, float64(33) / float64(8), "exact in binary", nil},
	}
}

// want: seconds 1 dp, percent 1 dp, rating 2 dp, half away from zero.
var halfWant = [][3]string{{"0.4", "28.8", "4.03"}, {"0.3", "28.7", "4.02"}, {"-0.4", "12.5", "4.13"}}

// halfFractions are the percentages of halfWant as workbook cells hold them.
var halfFractions = []string{"0.288", "0.287", "0.125"}

func TestRoundingCSVAndJSON(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(string(writeCSV(t, result(typed, halfRows(), nil)))), "\r\n")
	for i, w := range halfWant {
		cells := strings.Split(lines[i+1], ",")
		if got := [3]string{cells[2], cells[3], cells[4]}; got != w {
			t.Errorf("CSV row %d: %v, want %v", i+1, got, w)
		}
	}
	var buf bytes.Buffer
	if _, err := export.WriteJSON(&buf, result(typed, halfRows(), nil)); err != nil {
		t.Fatal(err)
	}
	for i, w := range halfWant {
		want := `"WaitSeconds":` + w[0] + `,"AnsweredPct":` + w[1] + `,"AvgRating":` + w[2] + `,`
		if !strings.Contains(buf.String(), want) {
			t.Errorf("JSON row %d lacks %s:\n%s", i+1, want, buf.String())
		}
	}
}

func TestRoundingXLSX(t *testing.T) {
	b, _ := writeXLSX(t, result(typed, halfRows(), nil), export.XLSXOptions{})
	f := open(t, b)
	for i, w := range halfWant {
		for j, col := range []string{"C", "D", "E"} {
			ref := col + strconv.Itoa(i+2)
			raw, err := f.GetCellValue("TypedColumns", ref, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			want := w[j]
			if col == "D" {
				want = halfFractions[i] // percent cells hold the fraction
			}
			if raw != want {
				t.Errorf("%s = %s, want %s", ref, raw, want)
			}
		}
	}
}
