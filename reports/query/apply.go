package query

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// Transform is one step of an $apply pipeline: filter(Filter),
// groupby((GroupBy…)[, aggregate(Aggregates…)]) or aggregate(Aggregates…).
type Transform struct {
	Filter     Expr
	GroupBy    []string
	Grouped    bool // groupby, as opposed to a plain aggregate
	Aggregates []Aggregate
}

// Aggregate is "Prop with Method as As"; Method "count" is $count as As.
type Aggregate struct {
	Prop, Method, As string
}

// Aggregation methods.
var aggregateMethods = []string{"sum", "min", "max", "average", "countdistinct", "count"}

// applySet runs an $apply pipeline: leading filter() steps join the
// query's filter (a navigation's scope, the only filter a surface sends
// with $apply), pushed into SQL for session and table sets and into the
// window for report sets. On session and table sets the first
// groupby/aggregate runs in SQL with the filter, and a filter() right
// after it becomes its HAVING when it reads only values SQL holds exactly
// (apply_sql.go); on report sets, and for the other steps after the first
// grouping (over at most MaxGroups grouped rows), grouping and aggregation
// run in Go.
func (e *Engine) applySet(ctx context.Context, q SetQuery) (*SetResult, error) {
	steps := q.Apply
	base := q
	base.Apply, base.After, base.Skip, base.Top, base.OrderBy = nil, nil, 0, -1, nil
	for len(steps) > 0 && steps[0].Filter != nil {
		if err := q.Set.CheckPredicate(steps[0].Filter); err != nil {
			return nil, err
		}
		base.Filter = And(base.Filter, steps[0].Filter)
		steps = steps[1:]
	}
	grouped := len(steps) > 0
	var (
		res       *SetResult
		cur       *Set
		rows      [][]any
		streaming bool // rows still come from res.Rows
		err       error
	)
	if (q.Set.kind == sessionSet || q.Set.kind == tableSet) && grouped && !e.goApply {
		// One SQL GROUP BY (apply_sql.go), with a filter that follows it
		// as its HAVING where the filter reads exact values only; later
		// steps run over its rows.
		var having Expr
		if len(steps) > 1 {
			having = steps[1].Filter
		}
		var used bool
		if cur, rows, used, err = e.groupSQL(ctx, &base, steps[0], having); err != nil {
			return nil, err
		}
		res, steps = &SetResult{Rows: reports.NewSliceRows(nil)}, steps[1:]
		if used {
			steps = steps[1:]
		}
	} else {
		if res, err = e.QuerySet(ctx, base); err != nil {
			return nil, err
		}
		cur, streaming = &Set{Name: q.Set.Name, Props: res.Props, index: q.Set.index}, true
	}
	defer res.Rows.Close()
	for _, st := range steps {
		if st.Filter != nil {
			if err := cur.CheckPredicate(st.Filter); err != nil {
				return nil, err
			}
			if streaming {
				if rows, err = collectAll(res.Rows); err != nil {
					return nil, err
				}
				streaming = false
			}
			rows = filterRows(rows, &evaluator{index: cur.index, now: e.Now().UTC()}, st.Filter)
			continue
		}
		var next reports.Rows = reports.NewSliceRows(rows)
		if streaming {
			next, streaming = res.Rows, false
		}
		cur, rows, err = group(cur, next, st)
		if err != nil {
			return nil, err
		}
	}
	if streaming {
		if rows, err = collectAll(res.Rows); err != nil {
			return nil, err
		}
	}
	// A total, deterministic order: the requested keys, then the set's key
	// (filters only) or every property of the result (after grouping).
	keys := q.Set.Sort(q.OrderBy)
	if grouped {
		keys = slices.Clone(q.OrderBy)
		for _, c := range cur.Props {
			keys = append(keys, SortKey{Prop: c.Name})
		}
	}
	for _, k := range q.OrderBy {
		if _, ok := cur.index[k.Prop]; !ok {
			return nil, apierror.Invalid("orderby", fmt.Sprintf("the transformed rows have no property %q", clip(k.Prop)))
		}
	}
	if err := sortRows(rows, cur.index, keys); err != nil {
		return nil, err
	}
	rows = window(rows, q.Skip, q.Top)
	return &SetResult{Props: cur.Props, Rows: reports.NewSliceRows(rows), Window: res.Window}, nil
}

func collectAll(r reports.Rows) ([][]any, error) {
	var out [][]any
	for r.Next() {
		if len(out) >= MaxGroups {
			return nil, apierror.Invalid("apply", fmt.Sprintf("the transformations would hold more than %d rows; filter first", MaxGroups))
		}
		out = append(out, slices.Clone(r.Row()))
	}
	return out, r.Err()
}

// accumulator is the running state of one aggregate in one group.
type accumulator struct {
	n        int64
	sumI     int64
	sumF     float64
	best     any
	distinct map[string]struct{}
}

// group runs a groupby or aggregate step over rows of set cur.
func group(cur *Set, rows reports.Rows, st Transform) (*Set, [][]any, error) {
	out, gidx, aidx, err := groupShape(cur, st)
	if err != nil {
		return nil, nil, err
	}
	return groupRows(out, gidx, aidx, rows, st)
}

// groupShape checks a groupby or aggregate step over set cur and returns
// the set of its result, and the positions in cur of its grouping keys
// and of its aggregated properties.
func groupShape(cur *Set, st Transform) (out *Set, gidx, aidx []int, err error) {
	gidx = make([]int, len(st.GroupBy))
	out = &Set{Name: cur.Name, index: map[string]int{}}
	for i, g := range st.GroupBy {
		j, ok := cur.index[g]
		if !ok {
			return nil, nil, nil, apierror.Invalid("apply", fmt.Sprintf("groupby: no property %q", clip(g)))
		}
		if slices.Contains(st.GroupBy[:i], g) {
			return nil, nil, nil, apierror.Invalid("apply", fmt.Sprintf("groupby names %q twice", clip(g)))
		}
		gidx[i] = j
		out.Props = append(out.Props, cur.Props[j])
	}
	aidx = make([]int, len(st.Aggregates))
	for i, a := range st.Aggregates {
		if !slices.Contains(aggregateMethods, a.Method) {
			return nil, nil, nil, &apierror.Error{Code: apierror.NotImplemented, Target: "apply", Message: fmt.Sprintf("aggregation method %q is not supported", clip(a.Method))}
		}
		col := reports.Column{Name: a.As, Type: reports.Int}
		if a.Method != "count" {
			j, ok := cur.index[a.Prop]
			if !ok {
				return nil, nil, nil, apierror.Invalid("apply", fmt.Sprintf("aggregate: no property %q", clip(a.Prop)))
			}
			aidx[i] = j
			src := cur.Props[j]
			switch a.Method {
			case "sum", "average":
				if src.Type != reports.Int && KindOf(src.Type) != KindFloat {
					return nil, nil, nil, apierror.Invalid("apply", fmt.Sprintf("%s of %s: not a number", a.Method, a.Prop))
				}
				if a.Method == "average" || src.Type != reports.Int {
					col = reports.Column{Name: a.As, Type: reports.Decimal, Decimals: max(src.Decimals, 2)}
				}
			case "min", "max":
				col = reports.Column{Name: a.As, Type: src.Type, Decimals: src.Decimals}
			}
		}
		if _, dup := out.index[a.As]; dup || slices.ContainsFunc(out.Props, func(c reports.Column) bool { return c.Name == a.As }) {
			return nil, nil, nil, apierror.Invalid("apply", fmt.Sprintf("the alias %q is used twice", clip(a.As)))
		}
		col.Description = fmt.Sprintf("%s of %s", a.Method, a.Prop)
		out.Props = append(out.Props, col)
	}
	for i, c := range out.Props {
		if _, dup := out.index[c.Name]; dup {
			return nil, nil, nil, apierror.Invalid("apply", fmt.Sprintf("the name %q is used twice", clip(c.Name)))
		}
		out.index[c.Name] = i
	}
	return out, gidx, aidx, nil
}

// groupRows groups and aggregates rows in Go (the evaluator of computed
// sets, and the oracle the SQL compilation of session sets is tested
// against).
func groupRows(out *Set, gidx, aidx []int, rows reports.Rows, st Transform) (*Set, [][]any, error) {
	type groupState struct {
		key  []any
		accs []accumulator
	}
	groups := map[string]*groupState{}
	var order []string
	var kb strings.Builder
	for rows.Next() {
		r := rows.Row()
		kb.Reset()
		for _, j := range gidx {
			writeKey(&kb, r[j])
		}
		g, ok := groups[kb.String()]
		if !ok {
			if len(groups) >= MaxGroups {
				return nil, nil, apierror.Invalid("apply", fmt.Sprintf("groupby would make more than %d groups", MaxGroups))
			}
			g = &groupState{accs: make([]accumulator, len(st.Aggregates))}
			for _, j := range gidx {
				g.key = append(g.key, r[j])
			}
			groups[kb.String()] = g
			order = append(order, kb.String())
		}
		for i, a := range st.Aggregates {
			acc := &g.accs[i]
			if a.Method == "count" {
				acc.n++
				continue
			}
			v := r[aidx[i]]
			if v == nil {
				continue
			}
			acc.n++
			switch a.Method {
			case "sum", "average":
				switch n := v.(type) {
				case int64:
					acc.sumI += n
					acc.sumF += float64(n)
				case float64:
					acc.sumF += n
				}
			case "min", "max":
				if acc.best == nil {
					acc.best = v
				} else if c := orderValues(v, acc.best); (a.Method == "min" && c < 0) || (a.Method == "max" && c > 0) {
					acc.best = v
				}
			case "countdistinct":
				if acc.distinct == nil {
					acc.distinct = map[string]struct{}{}
				}
				var b strings.Builder
				writeKey(&b, v)
				acc.distinct[b.String()] = struct{}{}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(groups) == 0 && len(st.GroupBy) == 0 { // aggregate over nothing: one row
		groups[""] = &groupState{accs: make([]accumulator, len(st.Aggregates))}
		order = []string{""}
	}
	result := make([][]any, 0, len(groups))
	for _, k := range order {
		g := groups[k]
		row := slices.Clone(g.key)
		for i, a := range st.Aggregates {
			acc := g.accs[i]
			var v any
			switch a.Method {
			case "count":
				v = acc.n
			case "countdistinct":
				v = int64(len(acc.distinct))
			case "sum":
				if acc.n > 0 {
					if out.Props[len(gidx)+i].Type == reports.Int {
						v = acc.sumI
					} else {
						v = acc.sumF
					}
				}
			case "average":
				if acc.n > 0 {
					v = acc.sumF / float64(acc.n)
				}
			default:
				v = acc.best
			}
			if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
				v = nil
			}
			row = append(row, v)
		}
		result = append(result, row)
	}
	return out, result, nil
}

// writeKey appends a typed, unambiguous encoding of v.
func writeKey(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("n;")
	case int64:
		b.WriteString("i" + strconv.FormatInt(x, 10) + ";")
	case float64:
		b.WriteString("f" + strconv.FormatFloat(x, 'g', -1, 64) + ";")
	case string:
		b.WriteString("s" + strconv.Itoa(len(x)) + ":" + x)
	case time.Time:
		b.WriteString("t" + strconv.FormatInt(x.UnixNano(), 10) + ";")
	case bool:
		b.WriteString("b" + strconv.FormatBool(x) + ";")
	default:
		fmt.Fprintf(b, "?%v;", x)
	}
}
