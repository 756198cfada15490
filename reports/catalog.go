package reports

import (
	"context"
	"fmt"
	"sort"
)

// Category groups reports as the native catalog routes do.
type Category string

// The six categories of the native API.
const (
	Global             Category = "Global"
	QueueBasic         Category = "QueueBasic"
	QueueAgent         Category = "QueueAgent"
	QueuePerformance   Category = "QueuePerformance"
	QueueTextAnalytics Category = "QueueTextAnalytics"
	QueueBot           Category = "QueueBot"
)

// Categories lists the categories in catalog order, with their routes.
var Categories = []struct {
	Category Category
	Route    string
}{
	{Global, "GetAvailableGlobalReports"},
	{QueueBasic, "GetQueueBasicReports"},
	{QueueAgent, "GetQueueAgentReports"},
	{QueuePerformance, "GetQueuePerformanceReports"},
	{QueueTextAnalytics, "GetQueueTextAnalyticsReports"},
	{QueueBot, "GetQueueBotReports"},
}

// Grain says what one row of a report stands for.
type Grain string

// Grains.
const (
	GrainDay       Grain = "day"
	GrainHour      Grain = "hour"
	GrainHourOfDay Grain = "hourOfDay"
	GrainSession   Grain = "session"
	GrainQueue     Grain = "queue"
)

// ColumnType is the type of a report column (REPORTS.md "Column types").
type ColumnType string

// Column types. Values in rows are: int → int64; seconds, pct, decimal →
// float64 (unrounded; writers round at output); string → string; date →
// time.Time at local midnight in the window's zone; datetime → time.Time in
// the window's zone. Any value may be nil (null).
const (
	Int      ColumnType = "int"
	Seconds  ColumnType = "seconds"
	Pct      ColumnType = "pct"
	Decimal  ColumnType = "decimal"
	String   ColumnType = "string"
	Date     ColumnType = "date"
	DateTime ColumnType = "datetime"
)

// Column describes one report column.
type Column struct {
	Name        string
	Type        ColumnType
	Unit        string // "s", "%", … ("" when none)
	Description string
	// Decimals is the number of decimal places at output for float types
	// (seconds and pct: 1, decimal: 2 unless set).
	Decimals int
}

// Report is one registered report: its declaration and computation.
type Report struct {
	Name        string
	Title       string
	Description string
	Category    Category
	Grain       Grain
	Columns     []Column
	// Formula says in words how the numbers are computed (docs).
	Formula string
	run     func(ctx context.Context, x *execution) (Rows, error)
}

// RequiresQueue reports whether the report needs a queueId.
func (r *Report) RequiresQueue() bool { return r.Category != Global }

var registry = map[string]*Report{}

// register adds a report to the catalog; called from init in each family
// file. Columns get their default units and decimals here.
func register(r *Report) {
	if _, dup := registry[r.Name]; dup {
		panic("reports: duplicate report " + r.Name)
	}
	for i := range r.Columns {
		c := &r.Columns[i]
		switch c.Type {
		case Seconds:
			c.Unit, c.Decimals = "s", 1
		case Pct:
			c.Unit, c.Decimals = "%", 1
		case Decimal:
			if c.Decimals == 0 {
				c.Decimals = 2
			}
		}
	}
	registry[r.Name] = r
}

// Lookup finds a report by its exact name.
func Lookup(name string) (*Report, bool) {
	r, ok := registry[name]
	return r, ok
}

// All returns every registered report, by category then name.
func All() []*Report {
	order := map[Category]int{}
	for i, c := range Categories {
		order[c.Category] = i
	}
	out := make([]*Report, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := order[out[i].Category], order[out[j].Category]; a != b {
			return a < b
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// InCategory returns the registered reports of one category, by name.
func InCategory(c Category) []*Report {
	var out []*Report
	for _, r := range All() {
		if r.Category == c {
			out = append(out, r)
		}
	}
	return out
}

// Names returns the names of every registered report, sorted.
func Names() []string {
	var out []string
	for _, r := range All() {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}

func (r *Report) String() string { return fmt.Sprintf("%s (%s)", r.Name, r.Category) }
