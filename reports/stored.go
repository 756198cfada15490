package reports

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/store"
)

// The interval store holds the additive measures of the reports whose
// rows are unions of whole 15-minute intervals of their queues, and only
// those: the time series (a bucket of an interval), the hour-of-day,
// weekday and weekday × hour profiles (every IANA offset is a multiple of
// 15 minutes, so an interval lies in one local hour and weekday) and the
// per-queue summaries (the window's intervals of one queue). Each such
// report declares its additive measure parts to reports/store
// (store.Declare) with the SQL of their predicates and values, so the
// store's tables are generated from the declarations here and there is
// one definition per measure. A run reads these parts from the store
// (store.Read: stored intervals plus raw rows for whatever the store does
// not hold exactly) and computes the others (percentiles, distinct
// counts) from raw rows as before (docs/architecture.md, "The interval
// store").

// storeAttr maps an attribution time to the store's.
var storeAttr = map[string]store.Attr{QueuedAt.Name: store.Queued, StartedAt.Name: store.Started, BotStartedAt.Name: store.Bot}

// storedScale are the values kept in the store as integers of a finer
// unit: the sentiment score (DECIMAL(4,3)) in thousandths, so sums are
// exact integers. The others are integers already (milliseconds, counts,
// ratings).
var storedScale = map[*Value]int64{Sentiment: 1000}

// storedName is the column name of a part in the store: its attribution
// time (the store's name of it), kind, value and predicates.
func storedName(m *Measure) string {
	n := storeAttr[m.At.Name].String() + "_" + string(m.Kind)
	if m.Of != nil {
		n += "_" + m.Of.Name
	}
	for _, p := range m.Where.conjuncts() {
		n += "_" + p.Name
	}
	n = strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, n)
	if len(n) > 60 {
		h := sha256.Sum256([]byte(n))
		n = n[:48] + "_" + hex.EncodeToString(h[:])[:8]
	}
	return n
}

// storeExecution renders measure SQL for the store's dialect: a run over
// the queues whose thresholds d carries.
func storeExecution(d store.Dialect) *execution {
	x := &execution{storeMySQL: d.MySQL, info: make(map[uint32]queueInfo, len(d.Thresholds))}
	for id, t := range d.Thresholds {
		x.queues = append(x.queues, id)
		x.info[id] = queueInfo{ID: id, SLASeconds: float64(t.SLAMs) / 1000, ShortAbandon: float64(t.ShortAbandonMs) / 1000}
	}
	return x
}

// storedSQL is the per-session SQL the store aggregates for the part m:
// the predicate of a count, the value (NULL outside the predicate)
// otherwise, in integers.
func storedSQL(m *Measure) func(store.Dialect) string {
	return func(d store.Dialect) string {
		x := storeExecution(d)
		where := "1 = 1"
		if m.Where != nil {
			where = m.Where.SQL(x)
		}
		if m.Kind == KindCount {
			if m.Of != nil {
				return where + " AND " + m.Of.SQL(x) + " IS NOT NULL"
			}
			return where
		}
		v := m.Of.SQL(x)
		if k, ok := storedScale[m.Of]; ok {
			typ := "INTEGER"
			if d.MySQL {
				typ = "SIGNED"
			}
			v = fmt.Sprintf("CAST(ROUND(%s * %d) AS %s)", v, k, typ)
		}
		if m.Where == nil {
			return v
		}
		return "CASE WHEN " + where + " THEN " + v + " END"
	}
}

var storedAgg = map[MeasureKind]store.Agg{KindCount: store.Count, KindSum: store.Sum, KindMin: store.Min, KindMax: store.Max}

// declareStored declares the parts of a report whose grouping the store
// answers (Grouping.stored) that the store can hold exactly, and records
// them on the report. A part can be stored when it is additive,
// attributed by a time the store keys, reads no join the store's source
// of that time lacks, and is not a sum shown as a nullable column (the
// store keeps an empty sum as 0, SQL's SUM says NULL); the parts of an
// attribution time are stored when all of them can be.
func (r *Report) declareStored() {
	if r.By == nil || r.By.stored == nil {
		return
	}
	direct := map[*Measure]ColumnType{}
	for _, c := range r.Columns {
		if c.Measure != nil {
			direct[c.Measure] = c.Type
		}
	}
	type cand struct {
		p    *Measure
		decl store.Measure
	}
	byAt := map[string][]cand{}
	whole := map[string]bool{}
	var order []string // declaration order: the fingerprint depends on it
	_, ms := r.measures()
	for _, m := range ms {
		for _, p := range m.parts() {
			if _, seen := whole[p.At.Name]; !seen {
				whole[p.At.Name] = true
				order = append(order, p.At.Name)
			}
			agg, ok := storedAgg[p.Kind]
			attr, keyed := storeAttr[p.At.Name]
			joins := p.Where.joins()
			if p.Of != nil && p.Of.join != "" {
				joins = append(joins, p.Of.join)
			}
			t, isCol := direct[p]
			if !ok || !keyed || isCol && p.Kind == KindSum && t != Int || len(joins) > 0 && attr != store.Queued { // only the queued source joins the ratings
				whole[p.At.Name] = false
				continue
			}
			byAt[p.At.Name] = append(byAt[p.At.Name], cand{p, store.Measure{Name: storedName(p), Attr: attr, Agg: agg, SQL: storedSQL(p)}})
		}
	}
	// Only attribution times the store serves whole (runMeasured).
	for _, at := range order {
		if !whole[at] {
			continue
		}
		for _, c := range byAt[at] {
			store.Declare(c.decl)
			if r.stored == nil {
				r.stored = map[*Measure]string{}
			}
			r.stored[c.p] = c.decl.Name
		}
	}
}

// readStored reads the parts of one attribution time from the store for
// the run's rows (the buckets of a time series, the hours, weekdays or
// queues of another grouping), as an attrQuery keyed like the grouping's
// rows.
func readStored(ctx context.Context, x *execution, r *Report, at string, parts []*Measure) (*attrQuery, error) {
	a := &attrQuery{slot: map[*Measure]int{}, vals: map[any][]sql.NullFloat64{}}
	var names []string
	scale := []float64{}
	for _, p := range parts {
		name := r.stored[p]
		i := -1
		for j, n := range names {
			if n == name {
				i = j
			}
		}
		if i < 0 {
			i = len(names)
			names = append(names, name)
			s := 1.0
			if p.Of != nil && p.Kind != KindCount {
				if k, ok := storedScale[p.Of]; ok {
					s = float64(k)
				}
			}
			scale = append(scale, s)
		}
		a.slot[p] = i
	}
	a.width = len(names)
	w := x.q.Window
	sq := store.Query{Attr: storeAttr[at], Queues: x.queueIDs(), Start: w.Start, Stop: w.Stop, Zone: w.Zone,
		Group: *r.By.stored, Measures: names}
	if sq.Group == store.ByBucket {
		sq.Interval = x.interval()
	}
	res, err := store.Read(ctx, x.db, sq)
	if err != nil {
		return nil, err
	}
	for i, vals := range res.Values {
		var key int64
		if sq.Group == store.ByBucket {
			b := res.Buckets[i]
			if !b.Start.Before(b.End) {
				continue
			}
			key = seriesKey(sq.Interval, i, b.Label)
		} else {
			key = res.Keys[i] // the grouping's own keys: hour, weekday, weekday·24 + hour, queue id
		}
		v := make([]sql.NullFloat64, len(names))
		for j, s := range vals {
			v[j] = sql.NullFloat64{Float64: float64(s.Int64) / scale[j], Valid: s.Valid}
		}
		a.vals[key] = v
	}
	return a, nil
}

// storeAligned reports whether the window can be read from the store:
// both ends on 15-minute boundaries (every window of whole local days,
// hours or quarter-hours is), in a zone whose offsets are whole
// quarter-hours throughout it.
func storeAligned(w Window) bool {
	return store.Aligned(w.Start, w.Stop, w.Zone)
}

// ReadsStore reports whether the report reads additive measures from the
// interval store (when the window is on 15-minute boundaries).
func (r *Report) ReadsStore() bool { return len(r.stored) > 0 }

// interval is the grain of a time-series run: the query's, else the
// report's own.
func (x *execution) interval() store.Interval {
	if x.q.Interval != "" {
		return x.q.Interval
	}
	return x.q.Report.series
}

// seriesBuckets are the buckets of a time-series run: the window's local
// days for P1D (Window.Days), else the buckets of the interval
// (store.Cut: sub-day grains step by UTC time from the local boundary at
// or before the start, weeks and months run between local midnights).
func (x *execution) seriesBuckets() []store.Bucket {
	w := x.q.Window
	if x.interval() == store.P1D {
		days := w.Days()
		out := make([]store.Bucket, len(days))
		for i, d := range days {
			out[i] = store.Bucket{Start: d.Start, End: d.End, Label: d.Label}
		}
		return out
	}
	out, err := store.Cut(x.interval(), w.Start, w.Stop, w.Zone)
	if err != nil { // a window is never empty, the interval is checked by Run
		panic(err)
	}
	return out
}

// seriesKey is the group key of bucket i labelled label: the local epoch
// day (P1D), the local epoch ISO week (P1W), else the bucket's index.
func seriesKey(iv store.Interval, i int, label time.Time) int64 {
	y, m, d := label.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	switch iv {
	case store.P1D:
		return day
	case store.P1W:
		return (day + 3) / 7 // 1970-01-05, epoch day 4, was a Monday
	}
	return int64(i)
}

// seriesRows lists every bucket of the run, empty ones included.
func (x *execution) seriesRows() []groupRow {
	iv := x.interval()
	bs := x.seriesBuckets()
	out := make([]groupRow, 0, len(bs))
	for i, b := range bs {
		days := 1
		if iv == store.P1W || iv == store.P1M || iv == store.Total {
			days = len(Window{Start: b.Start, Stop: b.End, Zone: x.q.Window.Zone}.Days())
		}
		out = append(out, groupRow{key: seriesKey(iv, i, b.Label), keys: []any{b.Label}, days: days})
	}
	return out
}

// seriesKeySQL is the SQL of seriesKey for the time column col: local
// days and weeks from the local epoch day, sub-day buckets by their fixed
// UTC length from the first bucket's start, months by their UTC bounds.
func (x *execution) seriesKeySQL(col string) string {
	w, d := x.q.Window, x.daySQL()
	iv := x.interval()
	switch iv {
	case store.P1D:
		return d.dayOf(col, w.Zone, w.Stop)
	case store.P1W:
		return d.div(d.dayOf(col, w.Zone, w.Stop)+" + 3", 7)
	case store.Total:
		return "0"
	}
	bs := x.seriesBuckets()
	if iv == store.P1M {
		if len(bs) == 1 {
			return "0"
		}
		var b strings.Builder
		since := d.sinceRef(col)
		b.WriteString("CASE")
		for i, bk := range bs[:len(bs)-1] {
			fmt.Fprintf(&b, " WHEN %s < %d THEN %d", since, bk.End.Sub(d.ref).Milliseconds(), i)
		}
		fmt.Fprintf(&b, " ELSE %d END", len(bs)-1)
		return b.String()
	}
	step := map[store.Interval]int64{store.PT15M: 15, store.PT30M: 30, store.PT1H: 60}[iv] * 60 * 1000
	off := d.ref.Sub(bs[0].Label).Milliseconds()
	return d.div(d.sinceRef(col)+" + "+strconv.FormatInt(off, 10), step)
}

// TakesInterval reports whether the report is a time series that takes an
// interval (PT15M … P1M, total); DefaultInterval is its own.
func (r *Report) TakesInterval() bool { return r.series != "" }

// DefaultInterval is the grain a time-series report has when the query
// names none ("" for other reports).
func (r *Report) DefaultInterval() store.Interval { return r.series }

// SeriesColumn is the column holding a time series' bucket at its own
// grain (Date, HourStart); "" for other reports.
func (r *Report) SeriesColumn() string {
	switch {
	case r.series == "":
		return ""
	case r.By != nil:
		return r.By.Keys[0]
	}
	return r.Columns[0].Name
}

// BucketLocal reports whether a row depends only on the data of its own
// bucket, so that a long range may be computed piecewise at bucket
// boundaries (the measured time series and the queue depth; not the
// agent series, which list the window's agents).
func (r *Report) BucketLocal() bool { return r.bucketLocal }

// AtInterval is the report as a run at interval iv describes it: itself
// for its own grain; otherwise a copy whose bucket column is PeriodStart,
// the bucket's local start (a datetime), and whose grain is iv. A report
// that is not a time series takes no interval (400).
func (r *Report) AtInterval(iv store.Interval) (*Report, error) {
	if !r.TakesInterval() {
		return nil, apierror.Invalid("interval", "interval: "+r.Name+" is not a time series; the reports that take an interval are listed in docs/reports.md")
	}
	if iv == r.series {
		return r, nil
	}
	c := *r
	c.Grain = Grain(iv)
	c.Columns = slices.Clone(r.Columns)
	col := r.SeriesColumn()
	for i, cl := range c.Columns {
		if cl.Name == col {
			c.Columns[i] = Column{Name: "PeriodStart", Type: DateTime,
				Description: "Local start of the bucket (interval " + string(iv) + "); the first and last buckets count only what lies inside the window but keep their own start"}
		}
	}
	c.Keys = []string{"PeriodStart"}
	for _, k := range r.Keys { // the keys beside the bucket (AgentId, Keyword)
		if k != col && k != "PeriodStart" {
			c.Keys = append(c.Keys, k)
		}
	}
	if r.intervalFormula != "" {
		c.Formula = r.intervalFormula
	}
	return &c, nil
}

// ParseInterval reads a given interval parameter.
func ParseInterval(s string) (store.Interval, error) {
	iv, err := store.ParseInterval(s)
	if err != nil {
		return "", apierror.Invalid("interval", err.Error())
	}
	return iv, nil
}
