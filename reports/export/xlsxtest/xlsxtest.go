// Package xlsxtest checks workbooks with a real spreadsheet program in
// tests: it finds LibreOffice (installed by .ci/install-libreoffice),
// converts every sheet of XLSX files to CSV with it, and compares those
// cells with the CSV export of the same report.
//
// Comparison rules (CompareWithCSV), by column type:
//   - every data sheet starts with the CSV's header row; the data rows of
//     the sheets, in order, are the CSV's rows;
//   - nulls are empty in both;
//   - int, seconds, decimal: equal as numbers at the column's decimals
//     (the workbook shows 20.0 where the CSV says 20);
//   - pct: the workbook shows a percentage ("42.5%") equal to the CSV's
//     number (42.5) at the column's decimals;
//   - date: the same yyyy-mm-dd text;
//   - datetime: the CSV's RFC 3339 text, read as the local wall time it
//     states (its offset dropped), equals the workbook's "yyyy-mm-dd
//     hh:mm:ss" text, with ".000" milliseconds when the instant has any;
//   - string: the same text (both neutralised alike), except a text longer
//     than Excel's cell limit, which the workbook must hold cut, ending with
//     export.CutMarker.
package xlsxtest

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export"
)

// Soffice returns the path of LibreOffice's soffice. When it is missing the
// test is skipped with a message that says how to install it, except in CI
// (CI=true), where the test fails: CI must not silently skip the workbook
// checks.
func Soffice(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"soffice", "libreoffice"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "LibreOffice (soffice) is not installed: run .ci/install-libreoffice (Debian package libreoffice-calc-nogui) to open the workbooks"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// csvFilter is LibreOffice's CSV export: comma, double quote, UTF-8, from
// line 1, en-US (so "." is the decimal separator), cells as shown (their
// number formats applied), no formulas, every sheet to its own file.
const csvFilter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,1033,false,true,true,false,false,-1"

// Sheets maps a sheet name to its records as LibreOffice exports them.
type Sheets map[string][][]string

// ConvertAll opens every workbook (name → XLSX bytes) in one LibreOffice
// run with a fresh user profile and returns each one's sheets as CSV
// records. Names must be plain file names without extension.
func ConvertAll(t testing.TB, books map[string][]byte) map[string]Sheets {
	t.Helper()
	soffice := Soffice(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	for _, d := range []string{in, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"-env:UserInstallation=file://" + filepath.Join(dir, "profile"), "--headless", "--norestore",
		"--convert-to", csvFilter, "--outdir", out}
	for name, b := range books {
		p := filepath.Join(in, name+".xlsx")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, soffice, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, log)
	}
	files, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]Sheets{}
	for _, fi := range files {
		base := strings.TrimSuffix(fi.Name(), ".csv")
		for name := range books {
			sheet, ok := strings.CutPrefix(base, name+"-")
			if !ok {
				continue
			}
			b, err := os.ReadFile(filepath.Join(out, fi.Name()))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := parseCSV(b)
			if err != nil {
				t.Fatalf("%s: %v", fi.Name(), err)
			}
			if res[name] == nil {
				res[name] = Sheets{}
			}
			res[name][sheet] = recs
		}
	}
	for name := range books {
		if len(res[name]) == 0 {
			t.Fatalf("LibreOffice wrote no sheet of %s (files: %v)", name, files)
		}
	}
	return res
}

func parseCSV(b []byte) ([][]string, error) {
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	return r.ReadAll()
}

// CompareWithCSV checks the cells of the data sheets (in order) against the
// CSV export of the same report under the package's rules. A CSV written
// with bom=true is accepted.
func CompareWithCSV(t testing.TB, cols []reports.Column, csvExport []byte, sheets [][][]string) {
	t.Helper()
	want, err := parseCSV(csvExport)
	if err != nil {
		t.Fatalf("CSV export: %v", err)
	}
	if len(want) == 0 {
		t.Fatal("CSV export has no header")
	}
	var got [][]string
	for i, s := range sheets {
		if len(s) == 0 || !equalRecords(s[0], want[0]) {
			t.Fatalf("sheet %d: header %q, want %q", i+1, first(s), want[0])
		}
		got = append(got, s[1:]...)
	}
	if len(got) != len(want)-1 {
		t.Fatalf("workbook has %d data rows, CSV %d", len(got), len(want)-1)
	}
	bad := 0
	for r, row := range want[1:] {
		for c, col := range cols {
			w, g := cell(row, c), cell(got[r], c)
			if err := compare(col, w, g); err != nil {
				bad++
				if bad <= 10 {
					t.Errorf("row %d column %s: %v", r+1, col.Name, err)
				}
			}
		}
	}
	if bad > 10 {
		t.Errorf("… %d cells differ in all", bad)
	}
}

func first(s [][]string) []string {
	if len(s) == 0 {
		return nil
	}
	return s[0]
}

func equalRecords(a, b []string) bool {
	a, b = trimTrailingEmpty(a), trimTrailingEmpty(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func trimTrailingEmpty(r []string) []string {
	for len(r) > 0 && r[len(r)-1] == "" {
		r = r[:len(r)-1]
	}
	return r
}

func cell(r []string, i int) string {
	if i < len(r) {
		return r[i]
	}
	return ""
}

// compare applies the rule of col's type to the CSV text w and the
// workbook's text g.
func compare(col reports.Column, w, g string) error {
	if w == "" || g == "" {
		if w != g {
			return fmt.Errorf("CSV %q, workbook %q", w, g)
		}
		return nil
	}
	switch col.Type {
	case reports.Int, reports.Seconds, reports.Decimal, reports.Pct:
		d := col.Decimals
		if col.Type == reports.Int {
			d = 0
		}
		gs := g
		if col.Type == reports.Pct {
			var ok bool
			if gs, ok = strings.CutSuffix(g, "%"); !ok {
				return fmt.Errorf("workbook %q is not shown as a percentage", g)
			}
		}
		wf, err1 := strconv.ParseFloat(w, 64)
		gf, err2 := strconv.ParseFloat(gs, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("CSV %q, workbook %q: not numbers", w, g)
		}
		if math.Abs(export.Round(wf, d)-export.Round(gf, d)) > math.Pow10(-d)/2 {
			return fmt.Errorf("CSV %q, workbook %q differ at %d decimals", w, g, d)
		}
	case reports.Date:
		if w != g {
			return fmt.Errorf("CSV %q, workbook %q", w, g)
		}
	case reports.DateTime:
		t, err := time.Parse(time.RFC3339Nano, w)
		if err != nil {
			return fmt.Errorf("CSV %q: %v", w, err)
		}
		wall := t.Format("2006-01-02 15:04:05")
		if t.Nanosecond()/int(time.Millisecond) != 0 {
			wall = t.Format("2006-01-02 15:04:05.000")
		}
		if wall != g {
			return fmt.Errorf("CSV %q is local %q, workbook %q", w, wall, g)
		}
	default:
		if units(w) > export.MaxCellChars {
			prefix, ok := strings.CutSuffix(g, export.CutMarker)
			if !ok || units(g) > export.MaxCellChars || !strings.HasPrefix(w, prefix) {
				return fmt.Errorf("a %d-unit text is not cut to at most %d units with the marker (workbook has %d)", units(w), export.MaxCellChars, units(g))
			}
			return nil
		}
		if w != g {
			return fmt.Errorf("CSV %q, workbook %q", clip(w), clip(g))
		}
	}
	return nil
}

func units(s string) int { return len(utf16.Encode([]rune(s))) }

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
