package reports

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/reports/store"
)

// A measured report is declared by a Grouping (its rows) and columns
// bound by name to measures or to computations over the row (Calc). The
// engine compiles the measures of each attribution time into one
// aggregate query grouped by the grouping's key, and builds each row by
// column name.

// Grouping keys the rows of a measured report.
type Grouping struct {
	// Keys are the columns the grouping fills (Date, Hour, SkillTag…).
	Keys []string
	text bool
	// key is the SQL group key of a row attributed at the time column col.
	key func(x *execution, col string) string
	// rows lists the report's rows in order; a ranked grouping reads the
	// values found through the results.
	rows func(x *execution, r *results) []groupRow
	// where, when set, limits the rows a key is computed for (the wait
	// bands group only sessions that have a wait).
	strict bool // a key outside rows is an error (time buckets)
	// series, when set, makes the grouping a time series: one row per
	// bucket of an interval (this one unless the query names another).
	series store.Interval
	// stored, when set, says each row is a union of whole 15-minute
	// intervals of the store, grouped as this store.Group (ByBucket: the
	// buckets of the series): the additive measures are read from the
	// interval store.
	stored *store.Group
}

func storeGroup(g store.Group) *store.Group { return &g }

type groupRow struct {
	key  any   // the SQL key: int64 or string
	keys []any // values of the grouping's Keys
	days int   // local days the row covers (averages per day)
}

// ByDay: one row per local day of the window, every day listed; or, with
// another interval, one row per bucket of that interval (seriesRows).
var ByDay = &Grouping{Keys: []string{"Date"}, strict: true, series: store.P1D, stored: storeGroup(store.ByBucket),
	key:  func(x *execution, col string) string { return x.seriesKeySQL(col) },
	rows: func(x *execution, _ *results) []groupRow { return x.seriesRows() }}

// ByHourOfDay: one row per local hour of day (0–23).
var ByHourOfDay = &Grouping{Keys: []string{"Hour"}, strict: true, stored: storeGroup(store.ByHourOfDay),
	key: func(x *execution, col string) string {
		w := x.q.Window
		return x.daySQL().hourOfDay(col, w.Zone, w.Stop)
	},
	rows: func(x *execution, _ *results) []groupRow {
		days := len(x.q.Window.Days())
		out := make([]groupRow, 24)
		for h := range 24 {
			out[h] = groupRow{key: int64(h), keys: []any{int64(h)}, days: days}
		}
		return out
	}}

// ByWeekday: one row per ISO weekday (1 = Monday).
var ByWeekday = &Grouping{Keys: []string{"DayOfWeek", "DayName"}, strict: true, stored: storeGroup(store.ByWeekday),
	key: func(x *execution, col string) string { w := x.q.Window; return x.daySQL().weekday(col, w.Zone, w.Stop) },
	rows: func(x *execution, _ *results) []groupRow {
		days := weekdayCounts(x.q.Window)
		out := make([]groupRow, 0, 7)
		for d := 1; d <= 7; d++ {
			out = append(out, groupRow{key: int64(d), keys: []any{int64(d), time.Weekday(d % 7).String()}, days: days[d]})
		}
		return out
	}}

// ByWeekdayHour: 168 rows, weekday × local hour, keyed weekday·24 + hour.
var ByWeekdayHour = &Grouping{Keys: []string{"DayOfWeek", "DayName", "Hour"}, strict: true, stored: storeGroup(store.ByWeekdayHour),
	key: func(x *execution, col string) string {
		w := x.q.Window
		return x.daySQL().hourOfWeek(col, w.Zone, w.Stop)
	},
	rows: func(x *execution, _ *results) []groupRow {
		days := weekdayCounts(x.q.Window)
		out := make([]groupRow, 0, 7*24)
		for wd := 1; wd <= 7; wd++ {
			for h := range 24 {
				out = append(out, groupRow{key: int64(wd*24 + h), keys: []any{int64(wd), time.Weekday(wd % 7).String(), int64(h)}, days: days[wd]})
			}
		}
		return out
	}}

// ByText groups by a text expression filling column col: every value of
// fixed in that order, or (fixed nil) the values found, ranked by the
// count of column rankBy, largest first, ties in byte order.
func ByText(col, expr string, fixed []string, rankBy string) *Grouping {
	return &Grouping{Keys: []string{col}, text: true,
		key: func(x *execution, _ string) string { return x.daySQL().textKey(expr) },
		rows: func(_ *execution, r *results) []groupRow {
			keys := fixed
			if keys == nil {
				keys = r.ranked(rankBy)
			}
			out := make([]groupRow, len(keys))
			for i, k := range keys {
				out[i] = groupRow{key: k, keys: []any{k}}
			}
			return out
		}}
}

// Top keeps the first n rows of a ranked grouping.
func (g *Grouping) Top(n int) *Grouping {
	top := *g
	top.rows = func(x *execution, r *results) []groupRow {
		rows := g.rows(x, r)
		return rows[:min(len(rows), n)]
	}
	return &top
}

// ByBands groups by the band of the value v (its SQL, in milliseconds):
// bands start at each of from (seconds), the last is open.
func ByBands(v func(x *execution) string, from []int64) *Grouping {
	return &Grouping{Keys: []string{"Band", "FromSeconds", "ToSeconds"}, strict: true,
		key: func(x *execution, _ string) string {
			// The last band whose start the value reaches.
			ms := v(x)
			band := "CASE"
			for i := len(from) - 1; i > 0; i-- {
				band += fmt.Sprintf(" WHEN %s >= %d THEN %d", ms, from[i]*1000, i)
			}
			return band + " ELSE 0 END"
		},
		rows: func(*execution, *results) []groupRow {
			out := make([]groupRow, len(from))
			for i, f := range from {
				var to any
				name := fmt.Sprintf("%ds+", f)
				if i+1 < len(from) {
					to = from[i+1]
					name = fmt.Sprintf("%d-%ds", f, from[i+1])
				}
				out[i] = groupRow{key: int64(i), keys: []any{name, f, to}}
			}
			return out
		}}
}

// Cells are one row of a measured report, by column name, for Calc.
type Cells struct {
	x    *execution
	rows []map[string]any
	i    int
	g    groupRow
}

// Get is the value of a column or input of this row.
func (c Cells) Get(name string) any {
	v, ok := c.rows[c.i][name]
	if !ok {
		panic("reports: no value " + name + " in this row")
	}
	return v
}

// Int is Get for a count.
func (c Cells) Int(name string) int64 {
	v, _ := c.Get(name).(int64)
	return v
}

// Total is the sum of a count over every row.
func (c Cells) Total(name string) int64 {
	var n int64
	for i := range c.rows {
		n += Cells{rows: c.rows, i: i}.Int(name)
	}
	return n
}

// Running is the sum of a count over the rows up to this one.
func (c Cells) Running(name string) int64 {
	var n int64
	for i := 0; i <= c.i; i++ {
		n += Cells{rows: c.rows, i: i}.Int(name)
	}
	return n
}

// Days is the number of local days this row covers.
func (c Cells) Days() int { return c.g.days }

// SLASeconds and SLATarget are the settings of the report's queue.
func (c Cells) SLASeconds() float64 { return c.x.info[c.x.q.QueueID].SLASeconds }

// SLATarget is the queue's service-level target in percent.
func (c Cells) SLATarget() float64 { return c.x.info[c.x.q.QueueID].SLATarget }

// results are the aggregates of one run: per attribution time, the
// aggregate query over raw rows and the read of the store, and for each
// measure part the one that holds it.
type results struct {
	x    *execution
	r    *Report
	all  []*attrQuery
	from map[*Measure]*attrQuery
}

// attrQuery is the one aggregate query of an attribution time.
type attrQuery struct {
	q     dayQuery
	slot  map[*Measure]int // part → column of vals
	width int
	vals  map[any][]sql.NullFloat64
}

func (r *results) part(m *Measure, key any) sql.NullFloat64 {
	a := r.from[m]
	if v, ok := a.vals[key]; ok {
		return v[a.slot[m]]
	}
	return sql.NullFloat64{}
}

// value is the output value of m (declared with column type t) for key.
func (r *results) value(m *Measure, t ColumnType, key any) any {
	n := func(m *Measure) int64 { return int64(r.part(m, key).Float64) }
	switch m.Kind {
	case KindCount, KindDistinct:
		return n(m)
	case KindMean:
		if n(m.Den) == 0 {
			return nil
		}
		return r.part(m.Num, key).Float64 / m.Num.Of.Scale / r.part(m.Den, key).Float64
	case KindRatio:
		return ratio(n(m.Num), n(m.Den))
	}
	if t == Int {
		return n(m)
	}
	v := r.part(m, key)
	if !v.Valid {
		return nil
	}
	return v.Float64 / m.Of.Scale
}

// ranked returns the text keys found for the count of column name,
// largest first, ties in byte order.
func (r *results) ranked(name string) []string {
	m := r.r.measure(name)
	a := r.from[m]
	counts := make(map[string]int64, len(a.vals))
	for k := range a.vals {
		counts[k.(string)] = int64(r.part(m, k).Float64)
	}
	return rankedKeys(counts, func(n int64) int64 { return n })
}

// measure finds the measure of a column or input by name.
func (r *Report) measure(name string) *Measure {
	for _, c := range r.Columns {
		if c.Name == name {
			return c.Measure
		}
	}
	return r.Inputs[name]
}

// measures returns every measure of r: the columns' in order, then the
// inputs' by name.
func (r *Report) measures() (names []string, ms []*Measure) {
	for _, c := range r.Columns {
		if c.Measure != nil {
			names, ms = append(names, c.Name), append(ms, c.Measure)
		}
	}
	in := make([]string, 0, len(r.Inputs))
	for name := range r.Inputs {
		in = append(in, name)
	}
	sort.Strings(in)
	for _, name := range in {
		names, ms = append(names, name), append(ms, r.Inputs[name])
	}
	return names, ms
}

// compile builds the aggregate query of the measures parts (all at one
// attribution time): conjuncts every part shares become its WHERE; with a
// percentile, per-session predicates and values are computed once in a
// derived table that the aggregates and the rank read.
func compile(x *execution, parts []*Measure) *attrQuery {
	common := parts[0].Where.conjuncts()
	for _, m := range parts[1:] {
		common = slices.DeleteFunc(slices.Clone(common), func(p *Pred) bool { return !slices.Contains(m.Where.conjuncts(), p) })
	}
	rest := func(m *Measure) *Pred {
		var ps []*Pred
		for _, p := range m.Where.conjuncts() {
			if !slices.Contains(common, p) {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			return nil
		}
		return AllOf(ps...)
	}
	at := parts[0].At
	a := &attrQuery{q: dayQuery{timeCol: at.col, from: at.from, queueCol: at.queueCol}, slot: map[*Measure]int{}}
	var joins []string
	addJoins := func(js ...string) {
		for _, j := range js {
			if !slices.Contains(joins, j) {
				joins = append(joins, j)
			}
		}
	}
	if len(common) > 0 {
		a.q.where = AllOf(common...).SQL(x)
		for _, p := range common {
			addJoins(p.joins()...)
		}
	}
	ranked := slices.ContainsFunc(parts, func(m *Measure) bool { return m.Kind == KindPercentile })
	// pred and val are the SQL a part's aggregate reads.
	aliases := map[string]string{}
	alias := func(prefix, expr string) string {
		if !ranked {
			return expr
		}
		if name, ok := aliases[expr]; ok {
			return name
		}
		name := fmt.Sprintf("%s%d", prefix, len(aliases))
		aliases[expr] = name
		a.q.values = append(a.q.values, expr+" AS "+name)
		return "s." + name
	}
	pred := func(p *Pred) string {
		addJoins(p.joins()...)
		if !ranked {
			return p.SQL(x)
		}
		return alias("p", "CASE WHEN "+p.SQL(x)+" THEN 1 ELSE 0 END") + " = 1"
	}
	val := func(v *Value) string {
		if v.join != "" {
			addJoins(v.join)
		}
		return alias("v", v.SQL(x))
	}
	of := func(m *Measure) string {
		if w := rest(m); w != nil {
			return "CASE WHEN " + pred(w) + " THEN " + val(m.Of) + " END"
		}
		return val(m.Of)
	}
	slots := map[string]int{}
	for _, m := range parts {
		var s string
		switch m.Kind {
		case KindCount:
			switch w := rest(m); {
			case m.Of != nil:
				s = "COUNT(" + of(m) + ")"
			case w == nil:
				s = "COUNT(*)"
			case ranked:
				s = "SUM(" + alias("p", "CASE WHEN "+w.SQL(x)+" THEN 1 ELSE 0 END") + ")"
				addJoins(w.joins()...)
			default:
				s = count(pred(w))
			}
		case KindSum:
			s = "SUM(" + of(m) + ")"
		case KindMax:
			s = "MAX(" + of(m) + ")"
		case KindMin:
			s = "MIN(" + of(m) + ")"
		case KindDistinct:
			s = "COUNT(DISTINCT " + of(m) + ")"
		case KindPercentile:
			a.q.rank = of(m)
			continue
		default:
			panic("reports: measure kind " + string(m.Kind) + " has no SQL")
		}
		if i, ok := slots[s]; ok {
			a.slot[m] = i
			continue
		}
		slots[s] = len(a.q.sels)
		a.slot[m] = len(a.q.sels)
		a.q.sels = append(a.q.sels, s)
	}
	for _, m := range parts {
		if m.Kind == KindPercentile {
			if i := slices.Index(a.q.pcts, m.P); i >= 0 {
				a.slot[m] = len(a.q.sels) + i
				continue
			}
			a.slot[m] = len(a.q.sels) + len(a.q.pcts)
			a.q.pcts = append(a.q.pcts, m.P)
		}
	}
	a.q.join = strings.Join(joins, " ")
	a.width = len(a.q.sels) + len(a.q.pcts)
	return a
}

// runMeasured computes a measured report: per attribution time, one
// aggregate query over raw rows or, for a grouping the store can answer,
// one read of the interval store for the parts it holds; then its rows
// by column name.
func (r *Report) runMeasured(ctx context.Context, x *execution) (Rows, error) {
	_, ms := r.measures()
	res := &results{x: x, r: r, from: map[*Measure]*attrQuery{}}
	var order []string
	byAt := map[string][]*Measure{}
	for _, m := range ms {
		for _, p := range m.parts() {
			if _, ok := byAt[p.At.Name]; !ok {
				order = append(order, p.At.Name)
			}
			byAt[p.At.Name] = append(byAt[p.At.Name], p)
		}
	}
	useStore := r.By.stored != nil && !x.engine.raw && storeAligned(x.q.Window)
	for _, at := range order {
		// The store serves an attribution time whose parts it holds all
		// of; one that needs a raw scan anyway (a percentile, a distinct
		// count) computes its other parts in that same scan, which costs
		// less than a store read beside it.
		stored, rest := byAt[at], []*Measure(nil)
		for _, p := range byAt[at] {
			if _, ok := r.stored[p]; !ok || !useStore {
				stored, rest = nil, byAt[at]
				break
			}
		}
		if len(stored) > 0 {
			a, err := readStored(ctx, x, r, at, stored)
			if err != nil {
				return nil, err
			}
			res.add(a, stored)
		}
		if len(rest) == 0 {
			continue
		}
		a := compile(x, rest)
		a.vals = map[any][]sql.NullFloat64{}
		key := r.By.key(x, a.q.timeCol)
		var err error
		if r.By.text {
			err = aggregate(x, a.q, key, func(k string, v []sql.NullFloat64) error { a.vals[k] = v; return nil })
		} else {
			err = aggregate(x, a.q, key, func(k int64, v []sql.NullFloat64) error { a.vals[k] = v; return nil })
		}
		if err != nil {
			return nil, err
		}
		res.add(a, rest)
	}
	groups := r.By.rows(x, res)
	if r.By.strict {
		known := make(map[any]bool, len(groups))
		for _, g := range groups {
			known[g.key] = true
		}
		for _, a := range res.all {
			for k := range a.vals {
				if !known[k] {
					return nil, fmt.Errorf("reports: %s key %v is outside the report's rows", r.Name, k)
				}
			}
		}
	}
	names, _ := r.measures()
	cells := make([]map[string]any, len(groups))
	for i, g := range groups {
		c := make(map[string]any, len(r.Columns)+len(r.Inputs))
		for k, name := range r.By.Keys {
			c[name] = g.keys[k]
		}
		for _, name := range names {
			m := r.measure(name)
			t := Int
			if col, ok := r.column(name); ok {
				t = col.Type
			}
			c[name] = res.value(m, t, g.key)
		}
		cells[i] = c
	}
	out := make([][]any, len(groups))
	for i, g := range groups {
		for _, col := range r.Columns {
			if col.Calc != nil {
				cells[i][col.Name] = col.Calc(Cells{x: x, rows: cells, i: i, g: g})
			}
		}
		row := make([]any, len(r.Columns))
		for j, col := range r.Columns {
			row[j] = cells[i][col.Name]
		}
		out[i] = row
	}
	return newSliceRows(out), nil
}

// add records the aggregates a holds for parts.
func (r *results) add(a *attrQuery, parts []*Measure) {
	r.all = append(r.all, a)
	for _, p := range parts {
		r.from[p] = a
	}
}

// column finds a column by name.
func (r *Report) column(name string) (Column, bool) {
	for _, c := range r.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// checkMeasured validates a measured report's declaration at
// registration: every column is a key of its grouping, a measure or a
// computation; the percentiles of an attribution time rank one value.
func (r *Report) checkMeasured() {
	for _, c := range r.Columns {
		n := 0
		if slices.Contains(r.By.Keys, c.Name) {
			n++
		}
		if c.Measure != nil {
			n++
		}
		if c.Calc != nil {
			n++
		}
		if n != 1 {
			panic(fmt.Sprintf("reports: %s column %s must be exactly one of a key, a measure or a computation", r.Name, c.Name))
		}
	}
	for _, k := range r.By.Keys {
		if _, ok := r.column(k); !ok {
			panic("reports: " + r.Name + " has no column for its key " + k)
		}
	}
	rank := map[string]*Measure{}
	_, ms := r.measures()
	for _, m := range ms {
		for _, p := range m.parts() {
			if p.At.Name != m.At.Name {
				panic("reports: " + r.Name + " mixes attribution times within one measure")
			}
			if p.readsInteraction() && p.At.Name != BotStartedAt.Name {
				panic("reports: " + r.Name + " reads the bot interaction in a measure attributed by " + p.At.Name)
			}
			if p.Kind != KindPercentile {
				continue
			}
			if q, ok := rank[p.At.Name]; ok && (q.Of != p.Of || q.Where != p.Where) {
				panic("reports: " + r.Name + " ranks two values at " + p.At.Name)
			}
			rank[p.At.Name] = p
		}
	}
}
