package export

import (
	"fmt"

	"github.com/xuri/excelize/v2"

	"github.com/chime-reports/chime-reports/reports"
)

// ChartPlan is the native chart WriteXLSX draws for a report, derived from
// its grain and column types only, never from its name: a time series
// (grain day or hour) is charted along its first date or datetime column,
// with its counts (int columns without a unit) as clustered columns and
// its rates as lines: the pct columns, or when there are none the seconds
// columns, or else the decimal columns. Lines go on a secondary axis when
// there are columns too. Text and other measures are left to the reader.
type ChartPlan struct {
	Category int                // the axis column
	Columns  []int              // counts, drawn as clustered columns
	Lines    []int              // rates, drawn as lines
	LineType reports.ColumnType // the type of the Lines columns
}

// PlanChart returns the chart of rep, or nil when rep is not a time series
// or has nothing to chart.
func PlanChart(rep *reports.Report) *ChartPlan {
	if rep.Grain != reports.GrainDay && rep.Grain != reports.GrainHour {
		return nil
	}
	p := &ChartPlan{Category: -1}
	lines := map[reports.ColumnType][]int{}
	for i, c := range rep.Columns {
		switch {
		case p.Category < 0 && (c.Type == reports.Date || c.Type == reports.DateTime):
			p.Category = i
		case c.Type == reports.Int && c.Unit == "":
			p.Columns = append(p.Columns, i)
		case c.Type == reports.Pct || c.Type == reports.Seconds || c.Type == reports.Decimal:
			lines[c.Type] = append(lines[c.Type], i)
		}
	}
	for _, t := range []reports.ColumnType{reports.Pct, reports.Seconds, reports.Decimal} {
		if len(lines[t]) > 0 {
			p.Lines, p.LineType = lines[t], t
			break
		}
	}
	if p.Category < 0 || len(p.Columns)+len(p.Lines) == 0 {
		return nil
	}
	return p
}

// addChart draws the plan's chart beside the data on the current sheet; it
// must run before the sheet is flushed (a chart added later is invisible in
// Excel). A series split over several sheets is not charted; time series
// are far below a sheet's rows (400 days of hours are 9,600).
func (x *workbook) addChart() error {
	p := PlanChart(x.res.Report)
	if p == nil || len(x.sum.Sheets) != 1 || x.sum.Rows == 0 {
		return nil
	}
	sheet := quoteSheet(x.sheet)
	last := x.sheetRow
	ref := func(col int, from, to int) string {
		name, _ := excelize.ColumnNumberToName(col + 1)
		if from == to {
			return fmt.Sprintf("%s!$%s$%d", sheet, name, from)
		}
		return fmt.Sprintf("%s!$%s$%d:$%s$%d", sheet, name, from, name, to)
	}
	categories := ref(p.Category, 2, last)
	marker := excelize.ChartMarker{Symbol: "none"}
	if last <= 63 {
		marker = excelize.ChartMarker{Symbol: "circle", Size: 5}
	}
	series := func(cols []int, line bool) []excelize.ChartSeries {
		out := make([]excelize.ChartSeries, len(cols))
		for i, c := range cols {
			out[i] = excelize.ChartSeries{Name: ref(c, 1, 1), Categories: categories, Values: ref(c, 2, last)}
			if line {
				out[i].Marker = marker
				out[i].Line = excelize.LineOptions{Smooth: false, Width: 2.25}
			}
		}
		return out
	}
	zero, one, vary := 0.0, 1.0, false
	title := []excelize.RichTextRun{{Text: x.res.Report.Title}}
	format := excelize.GraphicOptions{OffsetX: 10, OffsetY: 0, AltText: x.res.Report.Title}
	dim := excelize.ChartDimension{Width: 760, Height: 380}
	legend := excelize.ChartLegend{Position: "bottom"}
	xAxis := excelize.ChartAxis{NumFmt: excelize.ChartNumFmt{CustomNumFmt: NumberFormat(x.cols[p.Category])}}
	lineAxis := excelize.ChartAxis{Minimum: &zero, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0"}}
	switch p.LineType {
	case reports.Pct:
		lineAxis.Maximum, lineAxis.NumFmt.CustomNumFmt = &one, "0%"
	case reports.Decimal:
		lineAxis.NumFmt.CustomNumFmt = "0.0"
	}
	anchor, err := excelize.CoordinatesToCellName(len(x.cols)+2, 2)
	if err != nil {
		return err
	}
	var main *excelize.Chart
	var combo []*excelize.Chart
	switch {
	case len(p.Columns) > 0:
		main = &excelize.Chart{Type: excelize.Col, Series: series(p.Columns, false), Title: excelize.ChartTitle{Paragraph: title}, VaryColors: &vary,
			Format: format, Dimension: dim, Legend: legend, XAxis: xAxis,
			YAxis: excelize.ChartAxis{MajorGridLines: true, Minimum: &zero, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0"}}}
		if len(p.Lines) > 0 {
			lineAxis.Secondary = true
			combo = append(combo, &excelize.Chart{Type: excelize.Line, Series: series(p.Lines, true),
				Format: format, Legend: legend, YAxis: lineAxis})
		}
	default:
		lineAxis.MajorGridLines = true
		main = &excelize.Chart{Type: excelize.Line, Series: series(p.Lines, true), Title: excelize.ChartTitle{Paragraph: title}, VaryColors: &vary,
			Format: format, Dimension: dim, Legend: legend, XAxis: xAxis, YAxis: lineAxis}
	}
	if err := x.f.AddChart(x.sheet, anchor, main, combo...); err != nil {
		return err
	}
	x.sum.Chart = true
	return nil
}
