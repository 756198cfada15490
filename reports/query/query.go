package query

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/store"
)

// SortKey orders a set by one property.
type SortKey struct {
	Prop string
	Desc bool
}

// SetQuery asks for rows of a Set. Surfaces fill it from a request (the
// OData feed from $filter, $orderby, $top, $skip, $skiptoken and $apply);
// every expression must come from Set.Check-ed parts.
type SetQuery struct {
	Set *Set
	// Filter is a checked predicate, or nil.
	Filter Expr
	// Start and Stop are the custom window options (the native start/stop
	// rules): the range of a report set's table (else the data's extent),
	// a range of started_at on the session sets.
	Start, Stop string
	// Zone is the zone of local dates, hours and (session logs) times.
	Zone *time.Location
	// Visible are the caller's queues: no row of another queue is read.
	Visible []uint32
	// OrderBy is the requested order; the key follows as a tie-breaker.
	OrderBy []SortKey
	// After is a keyset position: the values of Sort(OrderBy) of the last
	// row already sent. Rows strictly after it are returned.
	After []any
	Skip  int
	// Top limits the rows returned; < 0 means no limit.
	Top int
	// MaxDays caps the window of one report computation (0 =
	// DefaultMaxDays); longer ranges of chunkable sets are computed in
	// pieces, other sets refuse them.
	MaxDays int
	// Interval is the grain of a time-series report set ("" for its own).
	Interval store.Interval
	// Extent caches the data's first instant per queue across the calls
	// of one request; nil reads it each time.
	Extent *Extent
	// Apply transforms the rows ($apply); nil for none.
	Apply []Transform
	// Select names the properties the caller reads; nil reads all. A
	// session set leaves out the joins only the others need, and those
	// others come back null.
	Select []string
}

// SetResult is the answer to a SetQuery: its properties (those of the set,
// or of the $apply result) and a stream of rows. Close Rows.
type SetResult struct {
	Props []reports.Column
	Rows  reports.Rows
	// Window is the report window used (report sets only).
	Window *reports.Window
}

// Sort is the full order of a query: the requested keys, then the set's
// key properties not already named, ascending. Keyset positions hold the
// values of these properties.
func (s *Set) Sort(orderBy []SortKey) []SortKey {
	out := slices.Clone(orderBy)
	for _, k := range s.Key {
		if !slices.ContainsFunc(out, func(o SortKey) bool { return o.Prop == k }) {
			out = append(out, SortKey{Prop: k})
		}
	}
	return out
}

// MaxGroups bounds the rows an $apply may produce and the rows a computed
// set may hold in memory.
const MaxGroups = 200_000

// QuerySet answers q.
func (e *Engine) QuerySet(ctx context.Context, q SetQuery) (*SetResult, error) {
	s := q.Set
	if err := e.resolveLambdas(ctx, &q); err != nil {
		return nil, err
	}
	if len(q.Apply) > 0 {
		return e.applySet(ctx, q)
	}
	sort := s.Sort(q.OrderBy)
	pred := q.Filter
	if len(q.After) > 0 {
		after, err := s.AfterPredicate(sort, q.After)
		if err != nil {
			return nil, err
		}
		pred = And(pred, after)
	}
	if s.kind == sessionSet || s.kind == tableSet {
		query := e.querySessions
		if s.kind == tableSet {
			query = e.queryTable
		}
		rows, err := query(ctx, &q, pred, sort)
		if err != nil {
			return nil, err
		}
		return &SetResult{Props: s.Props, Rows: rows}, nil
	}
	rows, w, err := e.computeSet(ctx, &q)
	if err != nil {
		return nil, err
	}
	ev := &evaluator{index: s.index, now: e.Now().UTC()}
	rows = filterRows(rows, ev, pred)
	if err := sortRows(rows, s.index, sort); err != nil {
		return nil, err
	}
	rows = window(rows, q.Skip, q.Top)
	return &SetResult{Props: s.Props, Rows: reports.NewSliceRows(rows), Window: w}, nil
}

// CountSet counts the rows of q (its filter and $apply; never its keyset
// position, $skip or $top).
func (e *Engine) CountSet(ctx context.Context, q SetQuery) (int64, error) {
	q.After, q.Skip, q.Top, q.OrderBy = nil, 0, -1, nil
	if err := e.resolveLambdas(ctx, &q); err != nil {
		return 0, err
	}
	if len(q.Apply) > 0 {
		res, err := e.applySet(ctx, q)
		if err != nil {
			return 0, err
		}
		rows, err := reports.Collect(res.Rows)
		return int64(len(rows)), err
	}
	if q.Set.kind == sessionSet {
		return e.countSessions(ctx, &q, q.Filter)
	}
	if q.Set.kind == tableSet {
		return e.countTable(ctx, &q, q.Filter)
	}
	rows, _, err := e.computeSet(ctx, &q)
	if err != nil {
		return 0, err
	}
	ev := &evaluator{index: q.Set.index, now: e.Now().UTC()}
	return int64(len(filterRows(rows, ev, q.Filter))), nil
}

func filterRows(rows [][]any, ev *evaluator, pred Expr) [][]any {
	if pred == nil {
		return rows
	}
	out := rows[:0]
	for _, r := range rows {
		if ev.test(pred, r) {
			out = append(out, r)
		}
	}
	return out
}

func window(rows [][]any, skip, top int) [][]any {
	if skip > 0 {
		rows = rows[min(skip, len(rows)):]
	}
	if top >= 0 && top < len(rows) {
		rows = rows[:top]
	}
	return rows
}

// sortRows sorts in the order SQL gives on both back ends: nulls first
// ascending (last descending), strings byte-wise.
func sortRows(rows [][]any, index map[string]int, keys []SortKey) error {
	idx := make([]int, len(keys))
	for i, k := range keys {
		j, ok := index[k.Prop]
		if !ok {
			return apierror.Invalid("orderby", fmt.Sprintf("no property %q", clip(k.Prop)))
		}
		idx[i] = j
	}
	slices.SortStableFunc(rows, func(a, b []any) int {
		for i, k := range keys {
			c := orderValues(a[idx[i]], b[idx[i]])
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return nil
}

func orderValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	c, _ := compare(a, b)
	return c
}

// AfterPredicate is the keyset condition "after the row whose sort values
// are vals" in the order sort, as an expression both SQL and Go evaluate:
// for keys k1..kn it is the OR over i of (k1 = v1 … k(i-1) = v(i-1) and
// ki after vi), where nulls sort first ascending and last descending.
func (s *Set) AfterPredicate(sort []SortKey, vals []any) (Expr, error) {
	if len(vals) != len(sort) {
		return nil, apierror.Invalid("skiptoken", "the keyset position does not belong to this query")
	}
	lits := make([]Expr, len(vals))
	for i, v := range vals {
		c, ok := s.Property(sort[i].Prop)
		if !ok {
			return nil, apierror.Invalid("skiptoken", "the keyset position does not belong to this query")
		}
		l, err := litOf(c.Type, v)
		if err != nil {
			return nil, err
		}
		lits[i] = l
	}
	var or Expr
	for i := range sort {
		var conj Expr
		for j := 0; j < i; j++ {
			conj = And(conj, Binary{Op: "eq", L: Prop{sort[j].Prop}, R: lits[j]})
		}
		p, v := Prop{sort[i].Prop}, lits[i]
		var after Expr
		isNull := v.(Lit).V == nil
		switch {
		case !sort[i].Desc && isNull:
			after = Binary{Op: "ne", L: p, R: v}
		case !sort[i].Desc:
			after = Binary{Op: "gt", L: p, R: v}
		case isNull:
			continue // nothing sorts after null, descending
		default:
			after = Binary{Op: "or", L: Binary{Op: "lt", L: p, R: v}, R: Binary{Op: "eq", L: p, R: Lit{Kind: KindNull}}}
		}
		term := And(conj, after)
		if or == nil {
			or = term
		} else {
			or = Binary{Op: "or", L: or, R: term}
		}
	}
	if or == nil {
		return Lit{Kind: KindBool, V: false}, nil
	}
	return or, nil
}

// litOf types a keyset value read back from a token.
func litOf(t reports.ColumnType, v any) (Expr, error) {
	bad := apierror.Invalid("skiptoken", "the keyset position is not valid")
	if v == nil {
		return Lit{Kind: KindNull}, nil
	}
	switch KindOf(t) {
	case KindInt:
		if n, ok := v.(int64); ok {
			return Lit{Kind: KindInt, V: n}, nil
		}
	case KindFloat:
		if f, ok := v.(float64); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return Lit{Kind: KindFloat, V: f}, nil
		}
	case KindString:
		if s, ok := v.(string); ok {
			return Lit{Kind: KindString, V: s}, nil
		}
	case KindDate:
		if tm, ok := v.(time.Time); ok {
			return Lit{Kind: KindDate, V: civilDate(tm)}, nil
		}
	case KindDateTime:
		if tm, ok := v.(time.Time); ok {
			return Lit{Kind: KindDateTime, V: tm}, nil
		}
	}
	return nil, bad
}

// computeSet computes the rows of a report, queue or agent set for the
// caller, before the residual filter. A report set runs its plan; the
// window returned is the hull of its runs (nil when none).
func (e *Engine) computeSet(ctx context.Context, q *SetQuery) ([][]any, *reports.Window, error) {
	switch q.Set.kind {
	case queueSet:
		rows, err := e.queueRows(ctx, narrowQueues(q.Visible, q.Filter))
		return rows, nil, err
	case agentSet:
		rows, err := e.agentRows(ctx, q.Visible)
		return rows, nil, err
	}
	s := q.Set
	p, err := e.plan(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	var hull *reports.Window
	var out [][]any
	for _, run := range p.runs {
		w := run.window
		if hull == nil {
			h := w
			hull = &h
		} else {
			hull.Start, hull.Stop = earliest(hull.Start, w.Start), latest(hull.Stop, w.Stop)
		}
		rq := reports.Query{Report: s.Report, Window: w, QueueID: run.queue, Visible: q.Visible, Interval: q.Interval}
		if !s.Report.RequiresQueue() {
			rq.Visible = run.queues
		}
		res, err := e.Run(ctx, rq)
		if err != nil {
			return nil, nil, err
		}
		swapped := res.Report != s.Report // an interval: the bucket column is PeriodStart
		rows := &setRows{src: res.Rows, props: res.Report.Columns}
		for rows.Next() {
			if len(out) >= MaxGroups {
				rows.Close()
				return nil, nil, apierror.Invalid("filter", fmt.Sprintf("%s would return more than %d rows; narrow the range or the queues", s.Name, MaxGroups))
			}
			row := make([]any, 0, len(s.Props))
			if s.extra > 0 && s.Props[0].Name == "QueueId" {
				row = append(row, int64(rq.QueueID))
			}
			if s.Bucket != "" {
				row = append(row, nil) // PeriodStart, below
			}
			row = append(row, rows.Row()...)
			if swapped {
				row[s.extra-1] = bucketStart(s, row[s.extra:], w.Zone)
			} else if s.Bucket != "" {
				row[s.extra-1] = periodStart(s, row[s.extra:], w.Zone)
			}
			out = append(out, row)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	return out, hull, nil
}

// bucketStart moves the local bucket start a run at another interval
// puts in place of the set's bucket column to PeriodStart (UTC), and
// leaves that column what it is at the set's own grain, so the set keeps
// one shape: Date the local day the bucket starts on, HourStart the
// bucket's local start.
func bucketStart(s *Set, cols []any, zone *time.Location) any {
	col := s.Report.SeriesColumn()
	for i, c := range s.Report.Columns {
		if c.Name == col {
			t, ok := cols[i].(time.Time)
			if !ok {
				return nil
			}
			if c.Type == reports.Date {
				cols[i] = civilDate(t.In(zone))
			}
			return t.UTC()
		}
	}
	return nil
}

// periodStart is the instant a row's bucket starts: local midnight of its
// Date, or its HourStart.
func periodStart(s *Set, cols []any, zone *time.Location) any {
	for i, c := range s.Report.Columns {
		switch {
		case s.Bucket == reports.GrainDay && c.Name == "Date":
			if d, ok := cols[i].(time.Time); ok {
				return reports.LocalMidnight(d.Year(), d.Month(), d.Day(), zone).UTC()
			}
		case s.Bucket == reports.GrainHour && c.Type == reports.DateTime:
			if t, ok := cols[i].(time.Time); ok {
				return t.UTC()
			}
		}
	}
	return nil
}

func (e *Engine) queueRows(ctx context.Context, ids []uint32) ([][]any, error) {
	var qs []models.Queue
	if err := e.DB().WithContext(ctx).Unscoped().Where("id IN ?", reports.NonEmpty(ids)).Order("id").Find(&qs).Error; err != nil {
		return nil, models.Classify(err)
	}
	out := make([][]any, len(qs))
	for i, q := range qs {
		out[i] = []any{int64(q.ID), q.Name, q.Mode, int64(q.SLAThresholdSeconds), reports.Round(q.SLATargetPct, 1), int64(q.ShortAbandonSeconds)}
	}
	return out, nil
}

func (e *Engine) agentRows(ctx context.Context, visible []uint32) ([][]any, error) {
	var us []models.User
	sub := e.DB().Model(&models.QueueMember{}).Select("user_id").Where("queue_id IN ? AND role IN ?", reports.NonEmpty(visible), []string{"agent", "manager"})
	if err := e.DB().WithContext(ctx).Unscoped().Where("id IN (?)", sub).Order("id").Find(&us).Error; err != nil {
		return nil, models.Classify(err)
	}
	out := make([][]any, len(us))
	for i, u := range us {
		var email any
		if u.Email != nil {
			email = *u.Email
		}
		out[i] = []any{int64(u.ID), u.DisplayName, email, int64(u.MaxConcurrentChats)}
	}
	return out, nil
}

// setRows normalises engine rows to the values a set shows and filters on:
// integers as int64, numbers rounded as at output (so a filter sees what
// the client sees), NaN and infinities as null, dates as civil dates.
type setRows struct {
	src   reports.Rows
	props []reports.Column
	row   []any
}

func (r *setRows) Next() bool {
	if !r.src.Next() {
		return false
	}
	in := r.src.Row()
	if r.row == nil {
		r.row = make([]any, len(in))
	}
	for i, v := range in {
		r.row[i] = normalise(r.props[i], v)
	}
	return true
}

func (r *setRows) Row() []any   { return r.row }
func (r *setRows) Err() error   { return r.src.Err() }
func (r *setRows) Close() error { return r.src.Close() }

func normalise(c reports.Column, v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		if c.Type == reports.Int {
			return int64(reports.Round(x, 0))
		}
		return reports.Round(x, c.Decimals)
	case time.Time:
		if c.Type == reports.Date {
			return civilDate(x)
		}
	}
	return v
}
