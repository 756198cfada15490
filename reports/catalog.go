package reports

import (
	"context"
	"fmt"
	"sort"

	"github.com/chime-reports/chime-reports/reports/store"
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

// ColumnType is the type of a report column (docs/data-model.md "Column types").
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
	// Measure or Calc computes the column of a measured report (one of
	// them, unless the column is a key of the report's grouping): a
	// measure over sessions, or a computation over the row's other
	// columns and inputs by name.
	Measure *Measure
	Calc    func(c Cells) any
	// Null says the column may be empty (null) in a row.
	Null bool
}

// Nullable reports whether the column's value may be null: a measure
// column's follows from its measure; a seconds, pct or decimal column of
// a computation may be null (an average or ratio with an empty
// denominator); any other only when declared Null.
func (c Column) Nullable() bool {
	switch {
	case c.Measure != nil:
		return c.Measure.Nullable()
	case c.Null:
		return true
	}
	return c.Calc == nil && (c.Type == Seconds || c.Type == Pct || c.Type == Decimal)
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
	// By and Inputs declare a measured report: its rows (a grouping) and
	// the measures its computed columns read besides the columns'. Without
	// By, run is the report's hand-written computation (sweep lines,
	// message-level logic).
	By     *Grouping
	Inputs map[string]*Measure
	run    func(ctx context.Context, x *execution) (Rows, error)
	// Keys are the columns that identify a row (QueueId is added for
	// per-queue report sets); by default the grain's keys, else the first
	// column.
	Keys []string
	// SessionLog marks a report that streams one row per session (the
	// session logs): it is served as a session set, without ETags.
	SessionLog bool
	// unversioned marks a report that reads rows the data version cannot
	// see change (agent presence carries no stamp): its answers are never
	// served from the answer cache.
	unversioned bool
	// columnIndex maps each column name to its position (rowBuilder).
	columnIndex map[string]int
	// cover says which data the report reads, for its ETag (fingerprint.go).
	// Measured reports over sessions derive it; every other report declares
	// it, so none is left without an ETag by omission.
	cover coverage
	// stored names the measure parts read from the interval store
	// (declareStored).
	stored map[*Measure]string
	// series is the default interval of a time series (a measured one's
	// from its grouping; a hand-written one declares it): such a report
	// takes interval, its first column (Date or HourStart) holding the
	// bucket. Empty for every other report.
	series store.Interval
	// intervalFormula, on a hand-written time series, says how its numbers
	// split at an interval other than its own (docs, and the formula of
	// the report at that interval).
	intervalFormula string
	// bucketLocal: a row depends only on the data of its own bucket, so a
	// long range may be computed piecewise (measured time series, queue
	// depth); the agent series list the window's agents, so they are not.
	bucketLocal bool
}

// Keys of report rows by grain (a report set adds QueueId for per-queue
// reports and names the bucket PeriodStart).
var grainKeys = map[Grain][]string{
	GrainDay:         {"PeriodStart"},
	GrainHour:        {"PeriodStart"},
	GrainAgentDay:    {"PeriodStart", "AgentId"},
	GrainDayKeyword:  {"PeriodStart", "Keyword"},
	GrainAgent:       {"AgentId"},
	GrainQueue:       {"QueueId"},
	GrainHourOfDay:   {"Hour"},
	GrainDayOfWeek:   {"DayOfWeek"},
	GrainWeekdayHour: {"DayOfWeek", "Hour"},
	GrainKeyword:     {"Keyword"},
	GrainSession:     {"SessionId"},
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
	if r.By != nil {
		r.checkMeasured()
		r.declareStored()
		r.run = r.runMeasured
		r.series, r.bucketLocal = r.By.series, r.By.series != ""
		if r.cover == coverUnset {
			r.cover = sessionFacts // measures read sessions, their ratings and their queues' settings
		}
	}
	if r.cover == coverUnset {
		panic("reports: " + r.Name + " declares no ETag coverage")
	}
	if r.series != "" && r.By == nil {
		if r.Columns[0].Type != Date && r.Columns[0].Type != DateTime || r.intervalFormula == "" {
			panic("reports: time series " + r.Name + " must hold its bucket in its first column and say how it splits at an interval")
		}
	}
	if r.Keys == nil {
		r.Keys = grainKeys[r.Grain]
	}
	if r.Keys == nil { // one row per entity of the window: its first column names it
		r.Keys = []string{r.Columns[0].Name}
	}
	r.columnIndex = make(map[string]int, len(r.Columns))
	for i := range r.Columns {
		c := &r.Columns[i]
		if _, dup := r.columnIndex[c.Name]; dup {
			panic("reports: " + r.Name + " declares column " + c.Name + " twice")
		}
		r.columnIndex[c.Name] = i
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
