package export_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/export/xlsxtest"
)

// memRows serves rows from memory; err, when set, is reported after them.
type memRows struct {
	rows [][]any
	i    int
	err  error
}

func (m *memRows) Next() bool {
	if m.i >= len(m.rows) {
		return false
	}
	m.i++
	return true
}
func (m *memRows) Row() []any { return m.rows[m.i-1] }
func (m *memRows) Err() error {
	if m.i < len(m.rows) {
		return nil
	}
	return m.err
}
func (m *memRows) Close() error { return nil }

var newYork = mustZone("America/New_York")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// typed is a day-grain report with one column of every type, declared here
// as register would leave it (units and decimals filled in).
var typed = &reports.Report{
	Name: "TypedColumns", Title: "Typed Columns", Description: "One column of every type", Category: reports.QueueBasic,
	Grain: reports.GrainDay, Formula: "Test data.",
	Columns: []reports.Column{
		{Name: "Day", Type: reports.Date, Description: "Local day"},
		{Name: "Inbound", Type: reports.Int, Description: "A count"},
		{Name: "WaitSeconds", Type: reports.Seconds, Unit: "s", Decimals: 1, Description: "A duration"},
		{Name: "AnsweredPct", Type: reports.Pct, Unit: "%", Decimals: 1, Description: "A rate, 0–100"},
		{Name: "AvgRating", Type: reports.Decimal, Decimals: 2, Description: "A mean"},
		{Name: "Note", Type: reports.String, Description: "Text from a guest"},
		{Name: "At", Type: reports.DateTime, Description: "An instant, local"},
	},
}

// typedRows covers the fall-back day of America/New_York (01:30 twice),
// milliseconds, the last millisecond of a day, nulls, NaN, rounding
// half-way cases and text that looks like a formula.
func typedRows() [][]any {
	day := func(d int) time.Time { return time.Date(2024, 11, d, 0, 0, 0, 0, newYork) }
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t.In(newYork)
	}
	return [][]any{
		{day(1), int64(6), 20.04, 50.0, 4.333333, "Outlook password reset", at("2024-11-01T04:30:00Z")},
		{day(2), int64(0), nil, nil, nil, nil, nil},
		{day(3), int64(1234567), 90.05, 100.0 / 3, 3.005, "=HYPERLINK(\"http://x\",\"y\")", at("2024-11-03T05:30:00Z")},
		{day(3), int64(-2), 0.0, 0.0, math.NaN(), "=1+1", at("2024-11-03T06:30:00Z")},
		{day(4), int64(7), 5400.0, 66.66666, 5.0, "-12.5", at("2024-11-05T04:59:59.999Z")},
		{day(5), int64(1), math.Inf(1), 12.25, 1.0, "line one\nline two, \"quoted\"", at("2024-11-05T05:00:00.250Z")},
	}
}

func result(rep *reports.Report, rows [][]any, rowErr error) *reports.Result {
	return &reports.Result{
		Report: rep,
		Window: reports.Window{Start: time.Date(2024, 11, 1, 0, 0, 0, 0, newYork), Stop: time.Date(2024, 11, 6, 0, 0, 0, 0, newYork), Zone: newYork},
		Queue:  &reports.QueueRef{ID: 1, Name: "IT Help Desk"}, GeneratedAt: time.Date(2024, 11, 6, 12, 0, 0, 0, time.UTC),
		Rows: &memRows{rows: rows, err: rowErr},
	}
}

func writeXLSX(t *testing.T, res *reports.Result, opt export.XLSXOptions) ([]byte, export.XLSXSummary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := export.WriteXLSX(&buf, res, opt)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum
}

func writeCSV(t *testing.T, res *reports.Result) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := export.WriteCSV(&buf, res, export.CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func open(t *testing.T, b []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// part returns one part of the package.
func part(t *testing.T, b []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// excelSerial is the Excel date of a wall-clock time.
func excelSerial(y int, m time.Month, d, h, min, s, ms int) float64 {
	wall := time.Date(y, m, d, h, min, s, ms*int(time.Millisecond), time.UTC)
	return wall.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
}

func TestXLSXTypedCells(t *testing.T) {
	b, sum := writeXLSX(t, result(typed, typedRows(), nil), export.XLSXOptions{GeneratedBy: "Alice Manager (alice)"})
	if sum.Rows != 6 || len(sum.Sheets) != 1 || !sum.Chart || sum.CutCount != 0 {
		t.Errorf("summary %+v", sum)
	}
	f := open(t, b)
	if got := f.GetSheetList(); strings.Join(got, ",") != "TypedColumns,About" {
		t.Fatalf("sheets %v", got)
	}
	const sh = "TypedColumns"
	if f.GetActiveSheetIndex() != 0 {
		t.Errorf("active sheet %d, want the data", f.GetActiveSheetIndex())
	}

	// Bold header, frozen under row 1.
	for i, c := range typed.Columns {
		ref, _ := excelize.CoordinatesToCellName(i+1, 1)
		if v, _ := f.GetCellValue(sh, ref); v != c.Name {
			t.Errorf("header %s = %q", ref, v)
		}
		if st := style(t, f, sh, ref); st.Font == nil || !st.Font.Bold {
			t.Errorf("header %s is not bold", ref)
		}
	}
	if p, err := f.GetPanes(sh); err != nil || !p.Freeze || p.YSplit != 1 || p.TopLeftCell != "A2" {
		t.Errorf("panes %+v %v", p, err)
	}
	sheetXML := part(t, b, "xl/worksheets/sheet1.xml")
	if !strings.Contains(sheetXML, `<autoFilter ref="$A$1:$G$7">`) {
		t.Errorf("no autofilter over A1:G7 in %s", tail(sheetXML))
	}
	if strings.Contains(sheetXML, "<f>") || strings.Contains(sheetXML, "<f ") {
		t.Error("the data sheet holds a formula")
	}

	// Widths from the data: the note is wider than the count.
	wNote, _ := f.GetColWidth(sh, "F")
	wDay, _ := f.GetColWidth(sh, "A")
	if wDay < 10 || wNote < 23 || wNote > 61 {
		t.Errorf("widths: Day %v, Note %v", wDay, wNote)
	}

	// Number formats by column type.
	for i, c := range typed.Columns {
		ref, _ := excelize.CoordinatesToCellName(i+1, 2)
		st := style(t, f, sh, ref)
		want := export.NumberFormat(c)
		got := ""
		if st.CustomNumFmt != nil {
			got = *st.CustomNumFmt
		}
		if c.Type == reports.String {
			continue
		}
		if got != want {
			t.Errorf("%s (%s): number format %q, want %q", c.Name, c.Type, got, want)
		}
	}
	if st := style(t, f, sh, "G6"); st.CustomNumFmt == nil || *st.CustomNumFmt != "yyyy-mm-dd hh:mm:ss.000" {
		t.Errorf("an instant with milliseconds is not shown with them: %+v", st.CustomNumFmt)
	}

	raw := func(ref string) string {
		v, err := f.GetCellValue(sh, ref, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	num := func(ref string) float64 {
		v, err := strconv.ParseFloat(raw(ref), 64)
		if err != nil {
			t.Fatalf("%s = %q: not a number", ref, raw(ref))
		}
		return v
	}
	cases := []struct {
		ref  string
		want float64
	}{
		{"A2", excelSerial(2024, 11, 1, 0, 0, 0, 0)},
		{"B2", 6},
		{"C2", 20.0},    // 20.04 rounded to 1 dp, as in CSV
		{"D2", 0.5},     // 50 % is the fraction 0.5
		{"E2", 4.33},    // decimals to 2 dp
		{"B4", 1234567}, // no thousands separator anywhere: a number
		{"C4", 90.1},    // half away from zero
		{"D4", 0.333},   // 33.3 %
		{"E4", 3.01},
		{"G2", excelSerial(2024, 11, 1, 0, 30, 0, 0)},     // 00:30 EDT
		{"G4", excelSerial(2024, 11, 3, 1, 30, 0, 0)},     // the first 01:30 (EDT)
		{"G5", excelSerial(2024, 11, 3, 1, 30, 0, 0)},     // the second 01:30 (EST): same wall time
		{"G6", excelSerial(2024, 11, 4, 23, 59, 59, 999)}, // the last millisecond of the 4th
		{"C6", 5400},
		{"D6", 0.667},
	}
	for _, c := range cases {
		if got := num(c.ref); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.ref, got, c.want)
		}
	}
	for _, ref := range []string{"C3", "D3", "E3", "F3", "G3", "E5", "C7"} { // nulls, NaN, +Inf
		if v := raw(ref); v != "" {
			t.Errorf("%s = %q, want an empty cell", ref, v)
		}
	}
	for ref, want := range map[string]string{
		"F2": "Outlook password reset",
		"F4": `'=HYPERLINK("http://x","y")`,
		"F5": "'=1+1",
		"F6": "-12.5",
		"F7": "line one\nline two, \"quoted\"",
	} {
		if v := raw(ref); v != want {
			t.Errorf("%s = %q, want %q", ref, v, want)
		}
		if ct, _ := f.GetCellType(sh, ref); ct != excelize.CellTypeInlineString {
			t.Errorf("%s: cell type %v, want an inline string", ref, ct)
		}
		if fx, _ := f.GetCellFormula(sh, ref); fx != "" {
			t.Errorf("%s holds the formula %q", ref, fx)
		}
	}
}

func style(t *testing.T, f *excelize.File, sheet, ref string) *excelize.Style {
	t.Helper()
	id, err := f.GetCellStyle(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func tail(s string) string {
	if len(s) > 600 {
		return "…" + s[len(s)-600:]
	}
	return s
}

// about reads the About sheet's label → value lines and its column table.
func about(t *testing.T, f *excelize.File) (map[string]string, [][]string) {
	t.Helper()
	rows, err := f.GetRows(export.AboutSheet)
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{}
	var i int
	for i = 0; i < len(rows) && len(rows[i]) > 0; i++ {
		if len(rows[i]) >= 2 {
			kv[rows[i][0]] = rows[i][1]
		}
	}
	var cols [][]string
	for i++; i < len(rows); i++ {
		cols = append(cols, rows[i])
	}
	return kv, cols
}

func TestXLSXAboutSheet(t *testing.T) {
	b, _ := writeXLSX(t, result(typed, typedRows(), nil), export.XLSXOptions{GeneratedBy: "=1+1 (guest)"})
	kv, cols := about(t, open(t, b))
	want := map[string]string{
		"Report":                   "TypedColumns",
		"Title":                    "Typed Columns",
		"Description":              "One column of every type",
		"Grain":                    "day",
		"Queue":                    "1: IT Help Desk",
		"Zone":                     "America/New_York",
		"Window start (inclusive)": "2024-11-01T00:00:00-04:00",
		"Window stop (inclusive)":  "2024-11-05T23:59:59.999-05:00",
		"Local days":               "2024-11-01 to 2024-11-05",
		"Generated at":             "2024-11-06T07:00:00-05:00 (2024-11-06T12:00:00Z)",
		"Generated by":             "'=1+1 (guest)", // a display name is text, never a formula
		"Cut cells":                "none",
	}
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("About %q = %q, want %q", k, kv[k], v)
		}
	}
	if !strings.HasPrefix(kv["Rows"], "6 rows on 1 sheet (1,048,575 data rows per sheet at most") {
		t.Errorf("About Rows = %q", kv["Rows"])
	}
	if !strings.Contains(kv["Times"], "local wall-clock time in America/New_York") || !strings.Contains(kv["Times"], "no UTC offset") {
		t.Errorf("About Times = %q", kv["Times"])
	}
	if kv["Chart"] != "on sheet TypedColumns, by Day: Inbound as clustered columns; AnsweredPct as lines on the right axis" {
		t.Errorf("About Chart = %q", kv["Chart"])
	}
	if len(cols) != 1+len(typed.Columns) || strings.Join(cols[0], "|") != "Column|Description|Type|Unit|Shown as" {
		t.Fatalf("column table %q", cols)
	}
	for i, c := range typed.Columns {
		r := cols[i+1]
		if r[0] != c.Name || r[1] != c.Description || r[2] != string(c.Type) {
			t.Errorf("column line %q for %s", r, c.Name)
		}
	}
	if !strings.Contains(strings.Join(cols[4], "|"), "0.0% (a percentage: 42.5 in CSV/JSON is the cell value 0.425)") {
		t.Errorf("pct column line %q", cols[4])
	}
}

func TestXLSXChart(t *testing.T) {
	b, _ := writeXLSX(t, result(typed, typedRows(), nil), export.XLSXOptions{})
	chart := part(t, b, "xl/charts/chart1.xml")
	for _, want := range []string{
		`<barDir val="col">`, `<grouping val="clustered">`, `<varyColors val="0">`,
		`<f>TypedColumns!$B$1</f>`, `<f>TypedColumns!$B$2:$B$7</f>`, `<f>TypedColumns!$A$2:$A$7</f>`,
		`<lineChart>`, `<f>TypedColumns!$D$1</f>`, `<f>TypedColumns!$D$2:$D$7</f>`,
		`<a:t>Typed Columns</a:t>`, `<numFmt formatCode="0%" sourceLinked="false">`,
	} {
		if !strings.Contains(chart, want) {
			t.Errorf("chart1.xml lacks %s", want)
		}
	}
	// Counts only as columns, rates only as the line.
	bar := between(chart, "<barChart>", "</barChart>")
	line := between(chart, "<lineChart>", "</lineChart>")
	if strings.Count(bar, "<ser>") != 1 || strings.Contains(bar, "$D$") || strings.Count(line, "<ser>") != 1 || strings.Contains(line, "$B$") {
		t.Errorf("series: %d columns, %d lines", strings.Count(bar, "<ser>"), strings.Count(line, "<ser>"))
	}
	// The line has its own value axis, on the right (a secondary axis).
	if n := strings.Count(chart, "<valAx>"); n != 2 {
		t.Errorf("%d value axes, want 2 (the rate on a secondary axis)", n)
	}
	if right := between(chart[strings.LastIndex(chart, "<valAx>"):], "<valAx>", "</valAx>"); !strings.Contains(right, `<axPos val="r">`) || !strings.Contains(right, `<crosses val="max">`) {
		t.Errorf("no secondary axis on the right: %s", right)
	}
	// The chart sits on the data sheet, which was still open when it was added.
	if !strings.Contains(part(t, b, "xl/worksheets/sheet1.xml"), "<drawing ") {
		t.Error("the data sheet has no drawing")
	}
	if !strings.Contains(part(t, b, "xl/worksheets/_rels/sheet1.xml.rels"), "drawing1.xml") {
		t.Error("the drawing is not related to the data sheet")
	}

	// A report that is not a time series gets none.
	log := &reports.Report{Name: "Log", Title: "Log", Grain: reports.GrainSession, Columns: typed.Columns}
	b, sum := writeXLSX(t, result(log, typedRows(), nil), export.XLSXOptions{})
	if sum.Chart || strings.Contains(part(t, b, "[Content_Types].xml"), "chart") {
		t.Error("a session log got a chart")
	}
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	in, _, _ := strings.Cut(after, to)
	return in
}

func TestPlanChart(t *testing.T) {
	col := func(name string, ty reports.ColumnType, unit string) reports.Column {
		return reports.Column{Name: name, Type: ty, Unit: unit}
	}
	date, dt := col("Date", reports.Date, ""), col("HourStart", reports.DateTime, "")
	cases := []struct {
		name    string
		grain   reports.Grain
		cols    []reports.Column
		want    string // "category|columns|lines", "" for none
		comment string
	}{
		{"counts and a rate", reports.GrainDay, []reports.Column{date, col("Inbound", reports.Int, ""), col("Answered", reports.Int, ""), col("AnsweredPct", reports.Pct, "%")}, "0|1,2|3", "the seed's report"},
		{"hourly series", reports.GrainHour, []reports.Column{dt, col("Arrivals", reports.Int, ""), col("AvgWaiting", reports.Decimal, "")}, "0|1|2", "decimals are the line when there is no rate"},
		{"durations only", reports.GrainDay, []reports.Column{date, col("AvgWaitSeconds", reports.Seconds, "s")}, "0||1", ""},
		{"rates win over durations", reports.GrainDay, []reports.Column{date, col("Answered", reports.Int, ""), col("AvgWaitSeconds", reports.Seconds, "s"), col("SLPct", reports.Pct, "%")}, "0|1|3", ""},
		{"an int with a unit is a measure, not a count", reports.GrainDay, []reports.Column{date, col("ThresholdSeconds", reports.Int, "s"), col("Inbound", reports.Int, "")}, "0|2|", ""},
		{"not a time series", reports.GrainSession, []reports.Column{dt, col("Messages", reports.Int, "")}, "", ""},
		{"hour of day is a profile", reports.GrainHourOfDay, []reports.Column{col("Hour", reports.Int, ""), col("Inbound", reports.Int, "")}, "", ""},
		{"nothing to chart", reports.GrainDay, []reports.Column{date, col("Queue", reports.String, "")}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := export.PlanChart(&reports.Report{Name: "R", Grain: c.grain, Columns: c.cols})
			got := ""
			if p != nil {
				got = fmt.Sprintf("%d|%s|%s", p.Category, ints(p.Columns), ints(p.Lines))
			}
			if got != c.want {
				t.Errorf("plan %q, want %q", got, c.want)
			}
		})
	}
}

func ints(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// logReport is shaped like a session log: no chart, many rows.
var logReport = &reports.Report{
	Name: "SessionLogShaped", Title: "Session log", Grain: reports.GrainSession,
	Columns: []reports.Column{
		{Name: "SessionId", Type: reports.Int},
		{Name: "Started", Type: reports.DateTime},
		{Name: "Question", Type: reports.String},
		{Name: "WaitSeconds", Type: reports.Seconds, Unit: "s", Decimals: 1},
	},
}

func logRows(n int) [][]any {
	out := make([][]any, n)
	start := time.Date(2024, 11, 3, 0, 0, 0, 0, newYork)
	for i := range out {
		out[i] = []any{int64(i + 1), start.Add(time.Duration(i) * 37 * time.Minute), fmt.Sprintf("question %d", i+1), float64(i) * 1.25}
	}
	return out
}

func TestXLSXContinuesOnNewSheets(t *testing.T) {
	b, sum := writeXLSX(t, result(logReport, logRows(7), nil), export.XLSXOptions{MaxRowsPerSheet: 3})
	want := []string{"SessionLogShaped", "SessionLogShaped (2)", "SessionLogShaped (3)"}
	if sum.Rows != 7 || strings.Join(sum.Sheets, ",") != strings.Join(want, ",") {
		t.Fatalf("summary %+v", sum)
	}
	f := open(t, b)
	if got := f.GetSheetList(); strings.Join(got, ",") != strings.Join(append(want, "About"), ",") {
		t.Fatalf("sheets %v", got)
	}
	id := 0
	for i, sh := range want {
		rows, err := f.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows[0], ",") != "SessionId,Started,Question,WaitSeconds" {
			t.Errorf("%s: header %v", sh, rows[0])
		}
		wantRows := []int{3, 3, 1}[i]
		if len(rows)-1 != wantRows {
			t.Errorf("%s: %d data rows, want %d", sh, len(rows)-1, wantRows)
		}
		for _, r := range rows[1:] {
			id++
			if r[0] != strconv.Itoa(id) {
				t.Errorf("%s: row with id %s, want %d", sh, r[0], id)
			}
		}
		if p, _ := f.GetPanes(sh); !p.Freeze {
			t.Errorf("%s: header not frozen", sh)
		}
		if xml := part(t, b, fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1)); !strings.Contains(xml, fmt.Sprintf(`<autoFilter ref="$A$1:$D$%d">`, wantRows+1)) {
			t.Errorf("%s: autofilter %s", sh, tail(xml))
		}
	}
	kv, _ := about(t, f)
	if !strings.HasPrefix(kv["Rows"], "7 rows on 3 sheets (3 data rows per sheet at most, each sheet with its header): SessionLogShaped, SessionLogShaped (2), SessionLogShaped (3)") {
		t.Errorf("About Rows = %q", kv["Rows"])
	}
}

func TestXLSXCutsLongText(t *testing.T) {
	long := strings.Repeat("é", 40_000)               // 40,000 UTF-16 units
	emoji := strings.Repeat("😀", 20_000)              // 40,000 units in surrogate pairs
	exact := strings.Repeat("x", export.MaxCellChars) // fits exactly
	rows := [][]any{
		{int64(1), nil, long, nil},
		{int64(2), nil, emoji, nil},
		{int64(3), nil, exact, nil},
		{int64(4), nil, "=" + long, nil},
	}
	b, sum := writeXLSX(t, result(logReport, rows, nil), export.XLSXOptions{})
	if sum.CutCount != 3 || strings.Join(sum.Cut, ",") != "SessionLogShaped!C2,SessionLogShaped!C3,SessionLogShaped!C5" {
		t.Errorf("cut %d: %v", sum.CutCount, sum.Cut)
	}
	f := open(t, b)
	for ref, src := range map[string]string{"C2": long, "C3": emoji, "C5": "'=" + long} {
		v, _ := f.GetCellValue("SessionLogShaped", ref)
		prefix, ok := strings.CutSuffix(v, export.CutMarker)
		if n := len(utf16.Encode([]rune(v))); !ok || n > export.MaxCellChars || n < export.MaxCellChars-1 || !strings.HasPrefix(src, prefix) {
			t.Errorf("%s: %d units, marker %v", ref, n, ok)
		}
	}
	if v, _ := f.GetCellValue("SessionLogShaped", "C4"); v != exact {
		t.Errorf("a text of exactly %d characters was changed (%d)", export.MaxCellChars, len(v))
	}
	kv, _ := about(t, f)
	if want := `3 cells were longer than Excel's 32,767 characters: cut, ending with "… [truncated]" (the CSV export holds the full text): SessionLogShaped!C2, SessionLogShaped!C3, SessionLogShaped!C5`; kv["Cut cells"] != want {
		t.Errorf("About Cut cells = %q\nwant %q", kv["Cut cells"], want)
	}
}

func TestXLSXRowErrorWritesNothing(t *testing.T) {
	boom := errors.New("connection lost")
	var buf bytes.Buffer
	sum, err := export.WriteXLSX(&buf, result(logReport, logRows(500), boom), export.XLSXOptions{})
	if !errors.Is(err, boom) || buf.Len() != 0 || sum.Rows != 500 {
		t.Errorf("err %v, %d bytes written, %d rows", err, buf.Len(), sum.Rows)
	}
}

// TestXLSXWithLibreOffice opens the workbooks with LibreOffice and compares
// every cell with the CSV of the same rows (xlsxtest's rules).
func TestXLSXWithLibreOffice(t *testing.T) {
	xlsxtest.Soffice(t)
	type book struct {
		rep  *reports.Report
		rows [][]any
		opt  export.XLSXOptions
	}
	cut := logRows(4)
	cut[1][2] = strings.Repeat("é", 40_000)
	cut[2][2] = "@SUM(A1:A9)"
	books := map[string]book{
		"typed":     {typed, typedRows(), export.XLSXOptions{}},
		"continued": {logReport, logRows(10), export.XLSXOptions{MaxRowsPerSheet: 4}},
		"cut":       {logReport, cut, export.XLSXOptions{}},
	}
	files := map[string][]byte{}
	sheets := map[string][]string{}
	for name, bk := range books {
		b, sum := writeXLSX(t, result(bk.rep, bk.rows, nil), bk.opt)
		files[name], sheets[name] = b, sum.Sheets
	}
	got := xlsxtest.ConvertAll(t, files)
	for name, bk := range books {
		t.Run(name, func(t *testing.T) {
			var data [][][]string
			for _, sh := range sheets[name] {
				data = append(data, got[name][sh])
			}
			xlsxtest.CompareWithCSV(t, bk.rep.Columns, writeCSV(t, result(bk.rep, bk.rows, nil)), data)
		})
	}
	// The formulas stayed text: LibreOffice shows them, never their results.
	typedSheet := got["typed"]["TypedColumns"]
	if typedSheet[3][5] != `'=HYPERLINK("http://x","y")` || typedSheet[4][5] != "'=1+1" {
		t.Errorf("LibreOffice evaluated a guest's text: %q, %q", typedSheet[3][5], typedSheet[4][5])
	}
	if len(got["continued"]) != 4 { // 3 data sheets and About
		t.Errorf("LibreOffice saw sheets %v", keys(got["continued"]))
	}
	if !regexp.MustCompile(`^10 rows on 3 sheets`).MatchString(aboutValue(got["continued"]["About"], "Rows")) {
		t.Errorf("About as LibreOffice reads it: %q", got["continued"]["About"])
	}
}

func keys(m xlsxtest.Sheets) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func aboutValue(recs [][]string, label string) string {
	for _, r := range recs {
		if len(r) > 1 && r[0] == label {
			return r[1]
		}
	}
	return ""
}
