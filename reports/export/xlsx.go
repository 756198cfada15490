package export

import (
	"archive/zip"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
	"github.com/xuri/excelize/v2"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export/cell"
)

// XLSXMediaType is the media type of an XLSX workbook.
const XLSXMediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Excel's limits (and what WriteXLSX does at them).
const (
	// MaxSheetRows is the number of data rows that fit on one worksheet
	// under its header row (Excel's 1,048,576 rows less one).
	MaxSheetRows = 1_048_575
	// MaxCellChars is the longest text a cell holds, in UTF-16 code units.
	MaxCellChars = 32_767
	// CutMarker ends a text that was cut to MaxCellChars.
	CutMarker = "… [truncated]"
)

// maxSheetBytes bounds the XML of one streamed worksheet: a zip entry over
// 4 GiB needs ZIP64 headers that Excel checks strictly and that a streamed
// zip cannot patch afterwards, so a sheet continues well before that.
const maxSheetBytes = 3 << 30

// widthSample is how many rows are read ahead to size the columns (widths
// must be set before the first row of a streamed sheet).
const widthSample = 200

// XLSXOptions tune WriteXLSX.
type XLSXOptions struct {
	// GeneratedBy names the caller on the About sheet ("Alice Manager (alice)").
	GeneratedBy string
	// MaxRowsPerSheet is the number of data rows per worksheet before the
	// rows continue on a new one; 0 or more than MaxSheetRows means
	// MaxSheetRows. Tests set it small.
	MaxRowsPerSheet int
	// TmpDir is where excelize spills streamed sheets over 16 MB ("" = the
	// system's temporary directory).
	TmpDir string
}

// XLSXSummary says what WriteXLSX wrote.
type XLSXSummary struct {
	Rows   int64
	Sheets []string // data sheets, in order
	// Cut lists the cells whose text was cut to MaxCellChars ("Data!J5"),
	// at most maxCutRefs of them; CutCount counts them all.
	Cut      []string
	CutCount int64
	Chart    bool
}

const maxCutRefs = 20

// WriteXLSX streams res as an XLSX workbook to w: one data sheet (more when
// the rows exceed MaxRowsPerSheet, each with the header), a native chart for
// time-series reports, and an "About" sheet that describes the report, the
// window, the caller and every column.
//
// Cells are typed from the column types alone: int as whole numbers;
// seconds, pct and decimal rounded as in CSV, with number formats 0.0,
// 0.0% and 0.00 (a pct of 42.5 is stored as 0.425 and shown as 42.5%);
// date and datetime as Excel serial dates of their wall time in the
// window's zone (Excel has no offsets); text as inline strings, never as
// formulas, neutralised as in CSV (see cell.Neutralise) and cut to MaxCellChars
// with CutMarker, counted on the About sheet. Nulls, NaN and infinities are
// empty cells.
//
// Rows are streamed through excelize's StreamWriter (spilling to TmpDir)
// and the package is zipped straight into w, so memory stays flat in the
// number of rows. Every row is read before the first byte reaches w, so an
// error from the row stream leaves w untouched.
func WriteXLSX(w io.Writer, res *reports.Result, opt XLSXOptions) (XLSXSummary, error) {
	x, err := newWorkbook(res, opt)
	if err != nil {
		return XLSXSummary{}, err
	}
	defer x.f.Close()
	rows := newPrefetchRows(res.Rows, len(x.cols))
	err = x.writeData(rows)
	rows.Close()
	if err != nil {
		return x.sum, err
	}
	if err := x.writeAbout(); err != nil {
		return x.sum, err
	}
	zw := zip.NewWriter(w)
	// Speed over size: compress/flate at its default level takes longer to
	// compress a sheet than excelize takes to write it; klauspost's level 1
	// is about 6 times as fast for files about 30 % larger.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	// excelize builds the package in a bytes.Buffer by default; handing it a
	// zip writer over w streams the package instead (the buffer stays empty).
	x.f.ZipWriter = func(io.Writer) excelize.ZipWriter { return zw }
	if _, err := x.f.WriteTo(io.Discard); err != nil {
		return x.sum, err
	}
	return x.sum, nil
}

// workbook is the state of one WriteXLSX.
type workbook struct {
	f      *excelize.File
	res    *reports.Result
	opt    XLSXOptions
	cols   []reports.Column
	styles cellStyles
	widths []float64
	sum    XLSXSummary

	sw        *excelize.StreamWriter
	sheet     string
	sheetRow  int // rows written on the current sheet, header included
	sheetSize int64
	cells     []any
	cellBuf   []excelize.Cell
	rowRef    []byte
}

func newWorkbook(res *reports.Result, opt XLSXOptions) (*workbook, error) {
	if opt.MaxRowsPerSheet <= 0 || opt.MaxRowsPerSheet > MaxSheetRows {
		opt.MaxRowsPerSheet = MaxSheetRows
	}
	f := excelize.NewFile(excelize.Options{TmpDir: opt.TmpDir})
	x := &workbook{f: f, res: res, opt: opt, cols: res.Report.Columns}
	var err error
	if x.styles, err = newCellStyles(f, x.cols); err != nil {
		f.Close()
		return nil, err
	}
	x.cells = make([]any, len(x.cols))
	x.cellBuf = make([]excelize.Cell, len(x.cols))
	return x, nil
}

// writeData streams every row onto the data sheets.
func (x *workbook) writeData(rows reports.Rows) error {
	// Read ahead to size the columns.
	var sample [][]any
	for len(sample) < widthSample && rows.Next() {
		sample = append(sample, append([]any(nil), rows.Row()...))
	}
	more := len(sample) == widthSample // else the stream has ended
	if !more {
		if err := rows.Err(); err != nil {
			return err
		}
	}
	x.widths = columnWidths(x.cols, sample)
	if err := x.startSheet(); err != nil {
		return err
	}
	for _, r := range sample {
		if err := x.writeRow(r); err != nil {
			return err
		}
	}
	sample = nil
	if more {
		for rows.Next() {
			if err := x.writeRow(rows.Row()); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if err := x.addChart(); err != nil {
		return err
	}
	return x.endSheet()
}

// sheetName names data sheet n (1-based): the report name, then
// "Name (2)", "Name (3)" for continuations, within Excel's 31 characters.
func (x *workbook) sheetName(n int) string {
	base := x.res.Report.Name
	if strings.EqualFold(base, AboutSheet) {
		base = "Data"
	}
	suffix := ""
	if n > 1 {
		suffix = " (" + strconv.Itoa(n) + ")"
	}
	if room := 31 - len(suffix); len(base) > room {
		base = base[:room]
	}
	return base + suffix
}

// startSheet opens the next data sheet: widths, frozen bold header.
func (x *workbook) startSheet() error {
	n := len(x.sum.Sheets) + 1
	name := x.sheetName(n)
	if n == 1 {
		if err := x.f.SetSheetName("Sheet1", name); err != nil {
			return err
		}
	} else if _, err := x.f.NewSheet(name); err != nil {
		return err
	}
	sw, err := x.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	// The stream writer writes <col> elements in reverse order of the calls
	// and Excel wants them ascending: set the last column first.
	for i := len(x.widths) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, x.widths[i]); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	header := make([]any, len(x.cols))
	for i, c := range x.cols {
		header[i] = excelize.Cell{StyleID: x.styles.header, Value: c.Name}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	x.sw, x.sheet, x.sheetRow, x.sheetSize = sw, name, 1, 0
	x.sum.Sheets = append(x.sum.Sheets, name)
	return nil
}

// endSheet adds the autofilter over the sheet's rows and flushes it.
func (x *workbook) endSheet() error {
	last, err := excelize.CoordinatesToCellName(len(x.cols), max(x.sheetRow, 1))
	if err != nil {
		return err
	}
	if err := x.f.AutoFilter(x.sheet, "A1:"+last, nil); err != nil {
		return err
	}
	return x.sw.Flush()
}

// writeRow writes one report row, continuing on a new sheet when the
// current one is full.
func (x *workbook) writeRow(row []any) error {
	if x.sheetRow-1 >= x.opt.MaxRowsPerSheet || x.sheetSize >= maxSheetBytes {
		if err := x.endSheet(); err != nil {
			return err
		}
		if err := x.startSheet(); err != nil {
			return err
		}
	}
	x.sheetRow++
	size := int64(16)
	for i, v := range row {
		c := &x.cellBuf[i]
		c.StyleID, c.Value = x.cell(i, v)
		if c.Value == nil {
			x.cells[i] = nil // an empty cell: nothing is written
			continue
		}
		x.cells[i] = c
		if s, ok := c.Value.(string); ok {
			size += int64(len(s))
		}
		size += 24
	}
	x.sheetSize += size
	x.rowRef = strconv.AppendInt(append(x.rowRef[:0], 'A'), int64(x.sheetRow), 10)
	if err := x.sw.SetRow(string(x.rowRef), x.cells); err != nil {
		return err
	}
	x.sum.Rows++
	return nil
}

// cell converts value v of column i to an excelize value and its style.
func (x *workbook) cell(i int, v any) (int, any) {
	c := x.cols[i]
	if v == nil {
		return 0, nil
	}
	switch c.Type {
	case reports.Int:
		if n, ok := v.(int64); ok { // the common case, without a conversion
			return x.styles.col[i], n
		}
		if f, ok := number(v); ok {
			if !finite(f) {
				return 0, nil
			}
			return x.styles.col[i], Round(f, 0)
		}
	case reports.Seconds, reports.Pct, reports.Decimal:
		f, ok := number(v)
		if !ok {
			break
		}
		if !finite(f) {
			return 0, nil
		}
		f = Round(f, c.Decimals)
		if c.Type == reports.Pct {
			// 33.3 → 0.333, not 0.33299999999999996.
			f = Round(f/100, c.Decimals+2)
		}
		return x.styles.col[i], f
	case reports.Date, reports.DateTime:
		if t, ok := v.(time.Time); ok {
			t = t.In(x.res.Window.Zone).Truncate(time.Millisecond)
			style := x.styles.col[i]
			if c.Type == reports.DateTime && t.Nanosecond() != 0 {
				style = x.styles.datetimeMS
			}
			return style, t
		}
	}
	return x.text(i, Text(c, v))
}

// text returns a neutralised text cell, cut to Excel's limit.
func (x *workbook) text(i int, s string) (int, any) {
	s = cell.Neutralise(s)
	if cut, ok := cutText(s); ok {
		x.sum.CutCount++
		if len(x.sum.Cut) < maxCutRefs {
			ref, _ := excelize.CoordinatesToCellName(i+1, x.sheetRow)
			x.sum.Cut = append(x.sum.Cut, quoteSheet(x.sheet)+"!"+ref)
		}
		s = cut
	}
	return 0, s
}

// cutText cuts s to MaxCellChars UTF-16 units including CutMarker; ok
// reports whether it had to.
func cutText(s string) (string, bool) {
	if len(s) <= MaxCellChars/2 { // at most 2 bytes per unit below this
		return s, false
	}
	units := 0
	for _, r := range s {
		units += utf16.RuneLen(max(r, 0))
	}
	if units <= MaxCellChars {
		return s, false
	}
	room := MaxCellChars - len(utf16.Encode([]rune(CutMarker)))
	units = 0
	for i, r := range s {
		n := utf16.RuneLen(r)
		if n < 0 {
			n = 1
		}
		if units+n > room {
			return s[:i] + CutMarker, true
		}
		units += n
	}
	return s, false
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// number reads a numeric value of any Go kind (a duration as seconds).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float32:
		return float64(n), true
	case time.Duration:
		return n.Seconds(), true
	}
	return 0, false
}

// quoteSheet writes a sheet name as a cell reference needs it: quoted
// unless it is letters, digits and underscores.
func quoteSheet(name string) string {
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "'" + strings.ReplaceAll(name, "'", "''") + "'"
		}
	}
	return name
}

// cellStyles are the style ids of one workbook.
type cellStyles struct {
	header     int
	bold       int
	wrap       int
	datetimeMS int
	col        []int // per data column
}

// NumberFormat is the Excel number format WriteXLSX gives a column type
// ("" for text).
func NumberFormat(c reports.Column) string {
	switch c.Type {
	case reports.Int:
		return "0"
	case reports.Seconds, reports.Decimal:
		return decimals(c.Decimals)
	case reports.Pct:
		return decimals(c.Decimals) + "%"
	case reports.Date:
		return "yyyy-mm-dd"
	case reports.DateTime:
		return "yyyy-mm-dd hh:mm:ss"
	}
	return ""
}

// dateTimeMSFormat shows milliseconds, for the instants that have them.
const dateTimeMSFormat = "yyyy-mm-dd hh:mm:ss.000"

func decimals(d int) string {
	if d <= 0 {
		return "0"
	}
	b := []byte("0.")
	for range d {
		b = append(b, '0')
	}
	return string(b)
}

func newCellStyles(f *excelize.File, cols []reports.Column) (cellStyles, error) {
	var s cellStyles
	var err error
	if s.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}}); err != nil {
		return s, err
	}
	if s.bold, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "top"}}); err != nil {
		return s, err
	}
	if s.wrap, err = f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}); err != nil {
		return s, err
	}
	if s.datetimeMS, err = numberStyle(f, dateTimeMSFormat); err != nil {
		return s, err
	}
	s.col = make([]int, len(cols))
	for i, c := range cols {
		if nf := NumberFormat(c); nf != "" {
			if s.col[i], err = numberStyle(f, nf); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

func numberStyle(f *excelize.File, format string) (int, error) {
	return f.NewStyle(&excelize.Style{CustomNumFmt: &format})
}

// columnWidths sizes each column to its header and the sampled rows, in
// characters, between 6 and 60.
func columnWidths(cols []reports.Column, sample [][]any) []float64 {
	out := make([]float64, len(cols))
	for i, c := range cols {
		w := utf8.RuneCountInString(c.Name) + 3 // room for the filter button
		for _, r := range sample {
			if i < len(r) && r[i] != nil {
				w = max(w, displayWidth(c, r[i]))
			}
		}
		out[i] = float64(min(max(w, 6), 60)) + 1
	}
	return out
}

// displayWidth estimates the characters a value shows in its format.
func displayWidth(c reports.Column, v any) int {
	switch c.Type {
	case reports.Date:
		return 10
	case reports.DateTime:
		if t, ok := v.(time.Time); ok && t.Nanosecond()/int(time.Millisecond) != 0 {
			return len(dateTimeMSFormat)
		}
		return 19
	case reports.Pct:
		return len(Text(c, v)) + 3
	case reports.Seconds, reports.Decimal:
		return len(Text(c, v)) + c.Decimals + 1
	}
	w := 0
	for _, line := range strings.Split(Text(c, v), "\n") {
		w = max(w, utf8.RuneCountInString(line))
	}
	return w
}

// describeFormat tells people how a column shows in the workbook.
func describeFormat(c reports.Column) string {
	switch c.Type {
	case reports.Pct:
		return fmt.Sprintf("%s (a percentage: 42.5 in CSV/JSON is the cell value 0.425)", NumberFormat(c))
	case reports.Date:
		return "yyyy-mm-dd (an Excel date, local day in the zone)"
	case reports.DateTime:
		return "yyyy-mm-dd hh:mm:ss[.000] (an Excel date-time, local wall time in the zone)"
	case reports.String:
		return "text"
	}
	return NumberFormat(c)
}
