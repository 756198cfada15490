package query

import (
	"strings"
	"time"

	"gorm.io/gorm"
)

// sqlColumn maps a property of a SQL-backed set to a column expression. An
// empty expr means the property is derived in Go and cannot be filtered or
// ordered in SQL. mysql, when set, replaces expr on MySQL/MariaDB.
type sqlColumn struct {
	expr, mysql string
}

// sqlCompiler turns a checked Expr into a parameterised SQL condition. SQL
// text comes only from this file and the set's column allow-list; every
// value is a placeholder argument. It targets SQLite and MySQL/MariaDB with
// the same answers as the Go evaluator:
//   - two-valued logic: NULL only ever stands for false, so "not" is
//     compiled as NOT COALESCE(x, 0) and the rest keeps index-friendly forms;
//   - eq and ne between expressions that may both be null are null-safe
//     (IS / <=>), as OData's null eq null is true;
//   - strings compare byte-wise (code-point order, case-sensitive) on both
//     back ends: MySQL's default collation is case-insensitive, so strings
//     are compared as CAST(… AS BINARY) and searched under utf8mb4_bin;
//   - date parts of instants are read in UTC, which is how they are stored.
type sqlCompiler struct {
	mysql bool
	cols  map[string]sqlColumn
	kinds map[string]Kind
	now   time.Time
	// zoned is true when the set shows instants in a zone other than UTC,
	// where SQL cannot take their local date parts.
	zoned bool
	args  []any
	// set is the set compiled for (its navigations), visible the
	// caller's queues, which subqueries over other rows carry.
	set     *Set
	visible []uint32
}

func (c *sqlCompiler) column(name string) (string, error) {
	if strings.Contains(name, "/") {
		return c.path(name)
	}
	col, ok := c.cols[name]
	if !ok || col.expr == "" {
		return "", unsupported("%s is computed after the query and cannot be used to filter, order or group here", clip(name))
	}
	if c.mysql && col.mysql != "" {
		return col.mysql, nil
	}
	return col.expr, nil
}

func (c *sqlCompiler) param(v any) string {
	if t, ok := v.(time.Time); ok {
		v = t.UTC() // stored instants are UTC
	}
	c.args = append(c.args, v)
	return "?"
}

// pred compiles a condition.
func (c *sqlCompiler) pred(x Expr) (string, error) {
	switch e := x.(type) {
	case Lit:
		if b, ok := e.V.(bool); ok && b {
			return "1=1", nil
		}
		return "1=0", nil
	case Unary:
		if e.Op == "not" {
			s, err := c.pred(e.X)
			if err != nil {
				return "", err
			}
			return "NOT COALESCE((" + s + "), 0)", nil
		}
	case Binary:
		switch e.Op {
		case "and", "or":
			l, err := c.pred(e.L)
			if err != nil {
				return "", err
			}
			r, err := c.pred(e.R)
			if err != nil {
				return "", err
			}
			return "(" + l + " " + strings.ToUpper(e.Op) + " " + r + ")", nil
		case "eq", "ne", "lt", "le", "gt", "ge":
			return c.comparison(e)
		}
	case In:
		return c.in(e)
	case Lambda:
		return c.lambda(e)
	case Call:
		switch e.Func {
		case "contains", "startswith", "endswith":
			return c.search(e)
		}
	}
	s, k, err := c.value(x)
	if err != nil {
		return "", err
	}
	if k != KindBool && k != KindNull {
		return "", invalid("the expression is %s, not a boolean condition", k)
	}
	return "(" + s + ") = 1", nil
}

var sqlOps = map[string]string{"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}

func isNullLit(x Expr) bool {
	l, ok := x.(Lit)
	return ok && l.V == nil
}

func isLit(x Expr) bool {
	_, ok := x.(Lit)
	return ok
}

func (c *sqlCompiler) comparison(e Binary) (string, error) {
	if isNullLit(e.L) || isNullLit(e.R) {
		other := e.L
		if isNullLit(e.L) {
			other = e.R
		}
		switch {
		case e.Op != "eq" && e.Op != "ne":
			return "1=0", nil // a comparison with null is false
		case isNullLit(other):
			return map[bool]string{true: "1=1", false: "1=0"}[e.Op == "eq"], nil
		}
		s, _, err := c.value(other)
		if err != nil {
			return "", err
		}
		if e.Op == "eq" {
			return "(" + s + ") IS NULL", nil
		}
		return "(" + s + ") IS NOT NULL", nil
	}
	l, lk, err := c.value(e.L)
	if err != nil {
		return "", err
	}
	r, rk, err := c.value(e.R)
	if err != nil {
		return "", err
	}
	if lk == KindString || rk == KindString {
		l, r = c.binary(l), c.binary(r)
	}
	nullSafe := !isLit(e.L) && !isLit(e.R)
	switch {
	case e.Op == "eq" && nullSafe:
		if c.mysql {
			return "(" + l + " <=> " + r + ")", nil
		}
		return "(" + l + " IS " + r + ")", nil
	case e.Op == "ne":
		// x ne v is true when x is null (OData), so it is null-safe too.
		if c.mysql {
			return "NOT (" + l + " <=> " + r + ")", nil
		}
		return "(" + l + " IS NOT " + r + ")", nil
	}
	return "(" + l + " " + sqlOps[e.Op] + " " + r + ")", nil
}

// binary makes a MySQL string operand compare byte-wise.
func (c *sqlCompiler) binary(s string) string {
	if !c.mysql {
		return s
	}
	return "CAST(" + s + " AS BINARY)"
}

func (c *sqlCompiler) in(e In) (string, error) {
	allLits := true
	for _, v := range e.List {
		if !isLit(v) || isNullLit(v) {
			allLits = false
		}
	}
	if !allLits || len(e.List) == 0 {
		var or Expr
		for _, v := range e.List {
			eq := Binary{Op: "eq", L: e.X, R: v}
			if or == nil {
				or = eq
			} else {
				or = Binary{Op: "or", L: or, R: eq}
			}
		}
		if or == nil {
			return "1=0", nil
		}
		return c.pred(or)
	}
	x, k, err := c.value(e.X)
	if err != nil {
		return "", err
	}
	str := k == KindString
	if str {
		x = c.binary(x)
	}
	items := make([]string, len(e.List))
	for i, v := range e.List {
		items[i] = c.param(v.(Lit).V)
		if str {
			items[i] = c.binary(items[i])
		}
	}
	return "(" + x + " IN (" + strings.Join(items, ", ") + "))", nil
}

// search compiles contains, startswith and endswith, case-sensitively.
// Operands are compiled in the order their placeholders appear in the text.
func (c *sqlCompiler) search(e Call) (string, error) {
	hay := func() (string, error) {
		s, _, err := c.value(e.Args[0])
		if err == nil && c.mysql {
			s = "(" + s + ") COLLATE utf8mb4_bin"
		}
		return s, err
	}
	needle := func() (string, error) {
		s, _, err := c.value(e.Args[1])
		return s, err
	}
	var parts []string
	seq := func(fs ...func() (string, error)) error {
		for _, f := range fs {
			s, err := f()
			if err != nil {
				return err
			}
			parts = append(parts, s)
		}
		return nil
	}
	switch {
	case c.mysql && e.Func != "endswith":
		if err := seq(needle, hay); err != nil {
			return "", err
		}
		if e.Func == "contains" {
			return "(LOCATE(" + parts[0] + ", " + parts[1] + ") > 0)", nil
		}
		return "(LOCATE(" + parts[0] + ", " + parts[1] + ") = 1)", nil
	case c.mysql:
		if err := seq(hay, needle, needle); err != nil {
			return "", err
		}
		return "(CAST(RIGHT(" + parts[0] + ", CHAR_LENGTH(" + parts[1] + ")) AS BINARY) = CAST(" + parts[2] + " AS BINARY))", nil
	case e.Func != "endswith":
		if err := seq(hay, needle); err != nil {
			return "", err
		}
		if e.Func == "contains" {
			return "(instr(" + parts[0] + ", " + parts[1] + ") > 0)", nil
		}
		return "(instr(" + parts[0] + ", " + parts[1] + ") = 1)", nil
	}
	if err := seq(hay, hay, needle, needle); err != nil {
		return "", err
	}
	return "(substr(" + parts[0] + ", length(" + parts[1] + ") - length(" + parts[2] + ") + 1) = " + parts[3] + ")", nil
}

// value compiles a value expression and returns its kind.
func (c *sqlCompiler) value(x Expr) (string, Kind, error) {
	switch e := x.(type) {
	case Prop:
		s, err := c.column(e.Name)
		k := c.kinds[e.Name]
		if strings.Contains(e.Name, "/") && c.set != nil {
			k = c.set.pathKind(e.Name)
		}
		return s, k, err
	case Lit:
		if e.V == nil {
			return "NULL", KindNull, nil
		}
		if t, ok := e.V.(time.Time); ok && e.Kind == KindDate {
			return c.param(t.Format(time.DateOnly)), KindDate, nil // as date() gives it on both back ends
		}
		return c.param(e.V), e.Kind, nil
	case Unary:
		if e.Op == "-" {
			s, k, err := c.value(e.X)
			return "(-" + s + ")", k, err
		}
		s, err := c.pred(x)
		return s, KindBool, err
	case Binary:
		switch e.Op {
		case "add", "sub", "mul", "div", "mod":
			return c.arith(e)
		}
		s, err := c.pred(x)
		return s, KindBool, err
	case In:
		s, err := c.pred(x)
		return s, KindBool, err
	case Call:
		return c.call(e)
	}
	return "", 0, unsupported("unsupported expression")
}

func (c *sqlCompiler) arith(e Binary) (string, Kind, error) {
	if t, ok, err := c.instantArith(e); ok || err != nil {
		return c.param(t), KindDateTime, err
	}
	l, lk, err := c.value(e.L)
	if err != nil {
		return "", 0, err
	}
	r, rk, err := c.value(e.R)
	if err != nil {
		return "", 0, err
	}
	k := KindInt
	if lk == KindFloat || rk == KindFloat {
		k = KindFloat
	}
	op := map[string]string{"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}[e.Op]
	switch {
	case e.Op == "div" && k == KindInt && c.mysql:
		op = "DIV"
	case e.Op == "div" && k == KindFloat && !c.mysql:
		l = "CAST(" + l + " AS REAL)" // SQLite divides two integers as integers
	}
	return "(" + l + " " + op + " " + r + ")", k, nil
}

func (c *sqlCompiler) call(e Call) (string, Kind, error) {
	switch e.Func {
	case "now":
		return c.param(c.now), KindDateTime, nil
	case "contains", "startswith", "endswith":
		s, err := c.search(e)
		return s, KindBool, err
	case "indexof":
		if c.mysql { // LOCATE(needle, haystack): the needle's placeholder comes first
			n, _, err := c.value(e.Args[1])
			if err != nil {
				return "", 0, err
			}
			h, _, err := c.value(e.Args[0])
			if err != nil {
				return "", 0, err
			}
			return "(LOCATE(" + n + ", (" + h + ") COLLATE utf8mb4_bin) - 1)", KindInt, nil
		}
	}
	args := make([]string, len(e.Args))
	kinds := make([]Kind, len(e.Args))
	for i, a := range e.Args {
		s, k, err := c.value(a)
		if err != nil {
			return "", 0, err
		}
		args[i], kinds[i] = s, k
	}
	switch e.Func {
	case "length":
		if c.mysql {
			return "CHAR_LENGTH(" + args[0] + ")", KindInt, nil
		}
		return "length(" + args[0] + ")", KindInt, nil
	case "indexof":
		return "(instr(" + args[0] + ", " + args[1] + ") - 1)", KindInt, nil
	case "substring":
		fn, greatest := "substr", "max"
		if c.mysql {
			fn, greatest = "SUBSTRING", "GREATEST"
		}
		s := fn + "(" + args[0] + ", " + greatest + "(" + args[1] + ", 0) + 1"
		if len(args) == 3 {
			s += ", " + greatest + "(" + args[2] + ", 0)"
		}
		return s + ")", KindString, nil
	case "tolower":
		return "LOWER(" + args[0] + ")", KindString, nil
	case "toupper":
		return "UPPER(" + args[0] + ")", KindString, nil
	case "trim":
		return "TRIM(" + args[0] + ")", KindString, nil
	case "concat":
		if c.mysql {
			return "CONCAT(" + args[0] + ", " + args[1] + ")", KindString, nil
		}
		return "(" + args[0] + " || " + args[1] + ")", KindString, nil
	case "date":
		if c.zoned {
			return "", 0, unsupported("date() of a local time is not supported on this set; use the UTC set Sessions or a range on the column")
		}
		if kinds[0] == KindDate {
			return args[0], KindDate, nil
		}
		if c.mysql {
			return "DATE(" + args[0] + ")", KindDate, nil
		}
		return "date(" + args[0] + ")", KindDate, nil
	case "year", "month", "day", "hour", "minute", "second":
		if c.zoned {
			return "", 0, unsupported("%s() of a local time is not supported on this set; use the UTC set Sessions or a range on the column", e.Func)
		}
		if c.mysql {
			fn := map[string]string{"year": "YEAR", "month": "MONTH", "day": "DAYOFMONTH", "hour": "HOUR", "minute": "MINUTE", "second": "SECOND"}[e.Func]
			return fn + "(" + args[0] + ")", KindInt, nil
		}
		f := map[string]string{"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M", "second": "%S"}[e.Func]
		return "CAST(strftime('" + f + "', " + args[0] + ") AS INTEGER)", KindInt, nil
	case "round", "floor", "ceiling":
		if kinds[0] != KindFloat {
			return args[0], kinds[0], nil
		}
		fn := map[string]string{"round": "ROUND", "floor": "FLOOR", "ceiling": "CEILING"}[e.Func]
		if !c.mysql && e.Func == "ceiling" {
			fn = "CEIL"
		}
		return fn + "(" + args[0] + ")", KindFloat, nil
	}
	return "", 0, unsupported("function %s is not supported", clip(e.Func))
}

// orderBy compiles sort keys to an ORDER BY list.
func (c *sqlCompiler) orderBy(keys []SortKey) (string, error) {
	parts := make([]string, len(keys))
	for i, k := range keys {
		s, err := c.column(k.Prop)
		if err != nil {
			return "", err
		}
		if c.kinds[k.Prop] == KindString {
			s = c.binary(s)
		}
		if k.Desc {
			s += " DESC"
		}
		parts[i] = s
	}
	return strings.Join(parts, ", "), nil
}

// WhereSQL compiles a checked predicate over a SQL-backed set to a
// condition with "?" placeholders and its arguments, for SQLite
// (mysql=false) or MySQL/MariaDB. The engine uses the same compiler; this
// entry point serves tests, fuzzing and diagnostics.
func (s *Set) WhereSQL(x Expr, mysql bool, now time.Time) (string, []any, error) {
	if s.kind != sessionSet {
		return "", nil, unsupported("%s is computed in Go, not in SQL", s.Name)
	}
	c := s.compiler(mysql, now, time.UTC, nil)
	where, err := c.pred(x)
	return where, c.args, err
}

// page narrows a query to the rows of one page: the filter pred, the
// order of sort, and q's $top and $skip.
func (c *sqlCompiler) page(db *gorm.DB, pred Expr, sort []SortKey, q *SetQuery) (*gorm.DB, error) {
	if pred != nil {
		where, err := c.pred(pred)
		if err != nil {
			return nil, err
		}
		db = db.Where(where, c.args...)
	}
	order, err := c.orderBy(sort)
	if err != nil {
		return nil, err
	}
	db = db.Order(order)
	if q.Top >= 0 {
		db = db.Limit(q.Top)
	}
	if q.Skip > 0 {
		if q.Top < 0 {
			db = db.Limit(1 << 62) // MySQL needs a LIMIT before OFFSET
		}
		db = db.Offset(q.Skip)
	}
	return db, nil
}
