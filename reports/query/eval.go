package query

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chime-reports/chime-reports/reports"
)

// evaluator evaluates a checked expression over one row of a set in Go,
// with OData's two-valued logic: a comparison with null is false, except
// that null eq null is true and x ne null is true for a non-null x; a
// function or arithmetic with a null operand is null; a null condition is
// false.
type evaluator struct {
	index map[string]int
	now   time.Time
}

func (ev *evaluator) test(x Expr, row []any) bool {
	b, _ := ev.eval(x, row).(bool)
	return b
}

func (ev *evaluator) eval(x Expr, row []any) any {
	switch e := x.(type) {
	case Prop:
		return row[ev.index[e.Name]]
	case Lit:
		return e.V
	case Unary:
		v := ev.eval(e.X, row)
		if e.Op == "not" {
			b, _ := v.(bool)
			return !b
		}
		switch n := v.(type) {
		case int64:
			return -n
		case float64:
			return -n
		}
		return nil
	case Binary:
		switch e.Op {
		case "and":
			return ev.test(e.L, row) && ev.test(e.R, row)
		case "or":
			return ev.test(e.L, row) || ev.test(e.R, row)
		}
		l, r := ev.eval(e.L, row), ev.eval(e.R, row)
		switch e.Op {
		case "eq":
			return equal(l, r)
		case "ne":
			return !equal(l, r)
		case "lt", "le", "gt", "ge":
			c, ok := compare(l, r)
			if !ok {
				return false
			}
			switch e.Op {
			case "lt":
				return c < 0
			case "le":
				return c <= 0
			case "gt":
				return c > 0
			}
			return c >= 0
		}
		return arith(e.Op, l, r)
	case In:
		v := ev.eval(e.X, row)
		for _, item := range e.List {
			if equal(v, ev.eval(item, row)) {
				return true
			}
		}
		return false
	case Call:
		args := make([]any, len(e.Args))
		for i, a := range e.Args {
			args[i] = ev.eval(a, row)
		}
		return ev.call(e.Func, args)
	}
	return nil
}

// equal is OData eq: null eq null is true.
func equal(l, r any) bool {
	if l == nil || r == nil {
		return l == nil && r == nil
	}
	if lb, ok := l.(bool); ok {
		rb, ok := r.(bool)
		return ok && lb == rb
	}
	c, ok := compare(l, r)
	return ok && c == 0
}

// compare orders two non-null values of comparable kinds; false when
// either is null or they do not compare.
func compare(l, r any) (int, bool) {
	switch a := l.(type) {
	case int64:
		switch b := r.(type) {
		case int64:
			return cmp3(a < b, a > b), true
		case float64:
			return cmpFloat(float64(a), b)
		}
	case float64:
		switch b := r.(type) {
		case int64:
			return cmpFloat(a, float64(b))
		case float64:
			return cmpFloat(a, b)
		}
	case string:
		if b, ok := r.(string); ok {
			return strings.Compare(a, b), true
		}
	case time.Time:
		if b, ok := r.(time.Time); ok {
			return a.Compare(b), true
		}
	}
	return 0, false
}

func cmp3(less, more bool) int {
	switch {
	case less:
		return -1
	case more:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) (int, bool) {
	if math.IsNaN(a) || math.IsNaN(b) {
		return 0, false
	}
	return cmp3(a < b, a > b), true
}

func arith(op string, l, r any) any {
	if l == nil || r == nil {
		return nil
	}
	if t, ok := addDuration(op, l, r); ok {
		return t
	}
	a, aInt := l.(int64)
	b, bInt := r.(int64)
	if aInt && bInt {
		switch op {
		case "add":
			return a + b
		case "sub":
			return a - b
		case "mul":
			return a * b
		case "div":
			if b == 0 || (a == math.MinInt64 && b == -1) {
				return nil // SQL gives NULL for a division by zero too
			}
			return a / b
		case "mod":
			if b == 0 || b == -1 {
				if b == -1 {
					return int64(0)
				}
				return nil
			}
			return a % b
		}
		return nil
	}
	x, ok1 := toFloat(l)
	y, ok2 := toFloat(r)
	if !ok1 || !ok2 {
		return nil
	}
	var v float64
	switch op {
	case "add":
		v = x + y
	case "sub":
		v = x - y
	case "mul":
		v = x * y
	case "div":
		if y == 0 {
			return nil
		}
		v = x / y
	case "mod":
		if y == 0 {
			return nil
		}
		v = math.Mod(x, y)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func (ev *evaluator) call(fn string, a []any) any {
	if fn == "now" {
		return ev.now
	}
	for _, v := range a {
		if v == nil {
			return nil
		}
	}
	str := func(i int) string { s, _ := a[i].(string); return s }
	num := func(i int) int64 { n, _ := a[i].(int64); return n }
	switch fn {
	case "contains":
		return strings.Contains(str(0), str(1))
	case "startswith":
		return strings.HasPrefix(str(0), str(1))
	case "endswith":
		return strings.HasSuffix(str(0), str(1))
	case "length":
		return int64(utf8.RuneCountInString(str(0)))
	case "indexof":
		i := strings.Index(str(0), str(1))
		if i < 0 {
			return int64(-1)
		}
		return int64(utf8.RuneCountInString(str(0)[:i]))
	case "substring":
		rs := []rune(str(0))
		from := min(max(num(1), 0), int64(len(rs)))
		to := int64(len(rs))
		if len(a) == 3 {
			to = min(from+max(num(2), 0), to)
		}
		return string(rs[from:to])
	case "tolower":
		return strings.ToLower(str(0))
	case "toupper":
		return strings.ToUpper(str(0))
	case "trim":
		return strings.Trim(str(0), " ")
	case "concat":
		return str(0) + str(1)
	case "year", "month", "day", "hour", "minute", "second":
		t, ok := a[0].(time.Time)
		if !ok {
			return nil
		}
		switch fn {
		case "year":
			return int64(t.Year())
		case "month":
			return int64(t.Month())
		case "day":
			return int64(t.Day())
		case "hour":
			return int64(t.Hour())
		case "minute":
			return int64(t.Minute())
		}
		return int64(t.Second())
	case "date":
		if t, ok := a[0].(time.Time); ok {
			return civilDate(t)
		}
		return nil
	case "round", "floor", "ceiling":
		f, ok := a[0].(float64)
		if !ok {
			return a[0] // integers are their own rounding
		}
		switch fn {
		case "round":
			return reports.Round(f, 0)
		case "floor":
			return math.Floor(f)
		}
		return math.Ceil(f)
	}
	return nil
}
