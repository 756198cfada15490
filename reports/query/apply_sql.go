package query

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// SQL compilation of $apply on the session sets and the table sets: the
// leading filter() steps and the first groupby/aggregate become one
//
//	SELECT <keys>, <aggregates> FROM chat_sessions s [only the joins read]
//	WHERE s.queue_id IN (<visible>) AND <filter> GROUP BY <keys>
//
// (on a table set, FROM its table, joined to chat_sessions where the
// table holds no queue), and only the grouped rows (at most MaxGroups)
// come back to Go, where any further steps, the order and $top/$skip run
// over them. The answers are those of the Go evaluator (group, the oracle
// of the tests):
//   - text keys, minima, maxima and distinct counts compare bytes (as
//     binary strings on MySQL/MariaDB, trailing spaces included);
//   - the derived durations (WaitSeconds, HandleSeconds, DurationSeconds)
//     are the values a row shows, tenths of a second rounded half up from
//     whole milliseconds, aggregated as exact integers of tenths;
//   - sum of an Int is an exact integer; average is sum / count divided
//     in Go (MySQL's AVG would round to four decimals);
//   - an aggregate over no rows is one row (count 0, the others null); a
//     groupby over no rows is no row; null keys form one group.

// sessionJoin is the join a session-set property reads ("" for columns of
// chat_sessions itself).
var sessionJoin = map[string]string{
	"QueueName": "q", "GuestName": "sk", "GuestEmail": "sk", "AgentName": "u", "Rating": "r",
}

// tenths are the session-set properties held as tenths of a second in SQL.
func tenths(s *Set, name string) bool {
	c, ok := s.Property(name)
	return ok && c.Type == reports.Seconds
}

// aggregateSQL is one compiled groupby/aggregate step.
type aggregateSQL struct {
	c      *sqlCompiler
	set    *Set
	read   *reports.SessionLogRead // session sets; nil on a table set
	joins  []string
	selcts []string
	keys   []string // the grouping keys, first in selcts
}

// expr is the SQL of a property as grouped and aggregated: its column,
// COALESCE(q.name, ”) for QueueName as the rows show it, the derived
// durations in tenths of a second, text as bytes (sqlCompiler.binary:
// utf8mb4_bin would make 'Ann' and 'Ann ' one group). Only the session
// sets have joins and derived durations.
func (a *aggregateSQL) expr(name string) (string, error) {
	if a.read != nil {
		if j := sessionJoin[name]; j != "" && !slices.Contains(a.joins, j) {
			a.joins = append(a.joins, j)
		}
		if ms := a.read.DurationMillisSQL(name); ms != "" {
			div := "/"
			if a.c.mysql {
				div = "DIV"
			}
			return "((" + ms + ") + 50) " + div + " 100", nil
		}
		if name == "QueueName" {
			return a.c.binary("COALESCE(q.name, '')"), nil
		}
	}
	s, err := a.c.column(name)
	if err != nil {
		return "", err
	}
	if a.c.kinds[name] == KindString {
		s = a.c.binary(s)
	}
	return s, nil
}

// havingText is how a filter after the grouping reads the text result
// alias: as text again on MySQL, so that its functions (tolower, length in
// characters) see characters, not bytes.
func (a *aggregateSQL) havingText(alias string) sqlColumn {
	if a.c.mysql {
		return sqlColumn{expr: "CONVERT(" + alias + " USING utf8mb4)"}
	}
	return sqlColumn{expr: alias}
}

// groupSQL runs the groupby/aggregate step st over the rows of the
// session or table set of base (base.Filter holding the leading filter
// steps) in one SQL query, and returns the result set and its rows in no
// order. having is the filter step that follows st (nil if none): when it
// reads only result properties whose SQL value is the row's value
// (exact), it becomes the query's HAVING and used is true; otherwise the
// caller applies it to the rows.
func (e *Engine) groupSQL(ctx context.Context, base *SetQuery, st Transform, having Expr) (out *Set, result [][]any, used bool, err error) {
	src := base.Set
	out, _, _, err = groupShape(src, st)
	if err != nil {
		return nil, nil, false, err
	}
	var (
		a      *aggregateSQL
		from   func(joins []string) *gorm.DB
		filter = base.Filter
	)
	if src.kind == tableSet {
		t := tables[src.Name]
		a = &aggregateSQL{c: src.compiler(e.mysql(), e.Now().UTC(), time.UTC, base.Visible), set: src}
		from = func([]string) *gorm.DB {
			return e.DB().WithContext(ctx).Table(t.from).Where(t.queue+" IN ?", reports.NonEmpty(narrowQueues(base.Visible, base.Filter)))
		}
	} else {
		read, err := e.sessionExecution(ctx, base)
		if err != nil {
			return nil, nil, false, err
		}
		a = &aggregateSQL{c: src.compiler(e.mysql(), read.Now(), base.Zone, base.Visible), set: src, read: read}
		from = func(joins []string) *gorm.DB { return read.FromJoins(joins...) }
		if filter, err = e.withSessionRange(base, filter); err != nil {
			return nil, nil, false, err
		}
		a.joins = joinsOf(Props(filter))
	}
	var where string
	if filter != nil {
		if where, err = a.c.pred(filter); err != nil {
			return nil, nil, false, err
		}
	}
	// exact maps a result property whose SQL value is its row value to
	// its select alias: integer and text keys, counts, and sums, minima
	// and maxima of integers (not instants, tenths or averages).
	exact := map[string]sqlColumn{}
	alias := func() string { return "c" + strconv.Itoa(len(a.selcts)) }
	for _, g := range st.GroupBy {
		s, err := a.expr(g)
		if err != nil {
			return nil, nil, false, err
		}
		switch k := a.c.kinds[g]; {
		case k == KindInt && !tenths(src, g):
			exact[g] = sqlColumn{expr: alias()}
		case k == KindString:
			exact[g] = a.havingText(alias())
		}
		a.selcts = append(a.selcts, s)
		a.keys = append(a.keys, s)
	}
	for _, ag := range st.Aggregates {
		if ag.Method == "count" {
			exact[ag.As] = sqlColumn{expr: alias()}
			a.selcts = append(a.selcts, "COUNT(*)")
			continue
		}
		s, err := a.expr(ag.Prop)
		if err != nil {
			return nil, nil, false, err
		}
		switch k := a.c.kinds[ag.Prop]; {
		case ag.Method == "countdistinct",
			(ag.Method == "sum" || ag.Method == "min" || ag.Method == "max") && k == KindInt && !tenths(src, ag.Prop):
			exact[ag.As] = sqlColumn{expr: alias()}
		case (ag.Method == "min" || ag.Method == "max") && k == KindString:
			exact[ag.As] = a.havingText(alias())
		}
		switch ag.Method {
		case "sum":
			a.selcts = append(a.selcts, "SUM("+s+")")
		case "average":
			a.selcts = append(a.selcts, "SUM("+s+")", "COUNT("+s+")")
		case "min":
			a.selcts = append(a.selcts, "MIN("+s+")")
		case "max":
			a.selcts = append(a.selcts, "MAX("+s+")")
		case "countdistinct":
			a.selcts = append(a.selcts, "COUNT(DISTINCT "+s+")")
		}
	}
	cols := make([]string, len(a.selcts))
	for i, s := range a.selcts {
		cols[i] = s + " AS c" + strconv.Itoa(i)
	}
	db := from(a.joins).Select(strings.Join(cols, ", "))
	if where != "" {
		db = db.Where(where, a.c.args...)
	}
	if having != nil && out.CheckPredicate(having) == nil && !slices.ContainsFunc(Props(having), func(p string) bool {
		_, ok := exact[p]
		return !ok
	}) {
		// The filter over the result, on the select list's aliases (which
		// both back ends take in HAVING).
		hc := out.compiler(a.c.mysql, a.c.now, nil, nil)
		hc.cols = exact
		if cond, err := hc.pred(having); err == nil {
			db, used = db.Having(cond, hc.args...), true
		}
	}
	if len(a.keys) > 0 {
		// By position: MySQL's ONLY_FULL_GROUP_BY does not match a
		// COLLATE expression of the select list with its repetition.
		pos := make([]string, len(a.keys))
		for i := range pos {
			pos[i] = strconv.Itoa(i + 1)
		}
		db = db.Clauses(clause.GroupBy{Columns: []clause.Column{{Name: strings.Join(pos, ", "), Raw: true}}}).Limit(MaxGroups + 1)
	}
	rows, err := db.Rows()
	if err != nil {
		return nil, nil, false, models.Classify(err)
	}
	defer rows.Close()
	zone := time.UTC
	if src.zoned && base.Zone != nil {
		zone = base.Zone
	}
	dest := make([]any, len(a.selcts))
	for i := range dest {
		dest[i] = new(any)
	}
	for rows.Next() {
		if len(result) >= MaxGroups {
			return nil, nil, false, apierror.Invalid("apply", fmt.Sprintf("groupby would make more than %d groups", MaxGroups))
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, false, models.Classify(err)
		}
		row, err := a.row(st, out, dest, zone)
		if err != nil {
			return nil, nil, false, err
		}
		result = append(result, row)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, false, models.Classify(err)
	}
	return out, result, used, nil
}

// row converts one scanned row to the values the Go evaluator gives.
func (a *aggregateSQL) row(st Transform, out *Set, dest []any, zone *time.Location) ([]any, error) {
	row := make([]any, 0, len(out.Props))
	i := 0
	next := func() any { v := *(dest[i].(*any)); i++; return v }
	for _, g := range st.GroupBy {
		v, err := a.value(g, next(), zone)
		if err != nil {
			return nil, err
		}
		row = append(row, v)
	}
	for _, ag := range st.Aggregates {
		switch ag.Method {
		case "count", "countdistinct":
			n, err := toInt(next())
			if err != nil {
				return nil, err
			}
			row = append(row, n)
		case "average":
			sum, err := toInt(next())
			if err != nil {
				return nil, err
			}
			n, err := toInt(next())
			if err != nil {
				return nil, err
			}
			if n == 0 {
				row = append(row, nil)
				continue
			}
			s := float64(sum)
			if tenths(a.set, ag.Prop) {
				s /= 10
			}
			row = append(row, s/float64(n))
		case "sum":
			v := next()
			if v == nil {
				row = append(row, nil)
				continue
			}
			n, err := toInt(v)
			if err != nil {
				return nil, err
			}
			if tenths(a.set, ag.Prop) {
				row = append(row, float64(n)/10)
			} else {
				row = append(row, n)
			}
		default: // min, max
			v, err := a.value(ag.Prop, next(), zone)
			if err != nil {
				return nil, err
			}
			row = append(row, v)
		}
	}
	return row, nil
}

// value converts a scanned property value (a key, a minimum or maximum)
// to its row value: int64, float64 seconds, string or time.Time.
func (a *aggregateSQL) value(name string, v any, zone *time.Location) (any, error) {
	if v == nil {
		return nil, nil
	}
	if tenths(a.set, name) {
		n, err := toInt(v)
		return float64(n) / 10, err
	}
	switch a.c.kinds[name] {
	case KindInt:
		return toInt(v)
	case KindString:
		switch s := v.(type) {
		case string:
			return s, nil
		case []byte:
			return string(s), nil
		}
	case KindDateTime:
		t, err := toTime(v)
		if err != nil {
			return nil, err
		}
		return t.In(zone), nil
	}
	return nil, fmt.Errorf("query: %s: unexpected %T from the database", name, v)
}

func toInt(v any) (int64, error) {
	switch n := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return n, nil
	case int32:
		return int64(n), nil
	case uint64:
		return int64(n), nil
	case float64:
		return int64(n), nil
	case []byte:
		return parseInt(string(n))
	case string:
		return parseInt(n)
	}
	return 0, fmt.Errorf("query: unexpected %T for an integer from the database", v)
}

// parseInt reads MySQL's DECIMAL text of an integer sum ("123" or
// "123.0000").
func parseInt(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if strings.Trim(frac, "0") != "" {
		return 0, fmt.Errorf("query: %q is not an integer", s)
	}
	return strconv.ParseInt(whole, 10, 64)
}

// sqliteTimes are the layouts of instants stored as text on SQLite (the
// driver's own, and ISO 8601).
var sqliteTimes = []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00"}

func toTime(v any) (time.Time, error) {
	var s string
	switch t := v.(type) {
	case time.Time:
		return t.UTC(), nil
	case sql.NullTime:
		return t.Time.UTC(), nil
	case []byte:
		s = string(t)
	case string:
		s = t
	default:
		return time.Time{}, fmt.Errorf("query: unexpected %T for an instant from the database", v)
	}
	for _, l := range sqliteTimes {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("query: %q is not an instant", s)
}
