package query

import (
	"fmt"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// Expr is a predicate or value expression over the properties of a Set: the
// compiled form of an OData $filter (odata/filter parses the text into it).
// Surfaces build it; the engine checks it against a set (Set.Check), then
// either compiles it to parameterised SQL (SQL-backed sets) or evaluates it
// over typed rows in Go (computed sets). It never carries SQL text.
type Expr interface{ isExpr() }

// Kind is the type of an expression value.
type Kind int

// Expression kinds. A Date value is a time.Time at UTC midnight of the
// civil date; a DateTime value is an instant (compared as such, whatever
// its offset).
const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat
	KindString
	KindDateTime
	KindDate
	KindDuration
	KindGUID
)

func (k Kind) String() string {
	return [...]string{"null", "boolean", "integer", "number", "string", "date-time",
		"date", "duration", "GUID"}[k]
}

// Prop names a property of the set.
type Prop struct{ Name string }

// Lit is a literal. V is nil, bool, int64, float64, string (also GUIDs),
// time.Time (DateTime; Date at UTC midnight) or time.Duration.
type Lit struct {
	Kind Kind
	V    any
}

// Unary is "not" or "-" (negation).
type Unary struct {
	Op string
	X  Expr
}

// Binary is a logical (and, or), comparison (eq ne lt le gt ge) or
// arithmetic (add sub mul div mod) operation.
type Binary struct {
	Op   string
	L, R Expr
}

// In is "X in (a, b, …)".
type In struct {
	X    Expr
	List []Expr
}

// Call is a function call such as contains(Question,'vpn').
type Call struct {
	Func string
	Args []Expr
}

func (Prop) isExpr()   {}
func (Lit) isExpr()    {}
func (Unary) isExpr()  {}
func (Binary) isExpr() {}
func (In) isExpr()     {}
func (Call) isExpr()   {}

// And joins predicates with "and"; nil operands are skipped.
func And(xs ...Expr) Expr {
	var out Expr
	for _, x := range xs {
		switch {
		case x == nil:
		case out == nil:
			out = x
		default:
			out = Binary{Op: "and", L: out, R: x}
		}
	}
	return out
}

// Conjuncts splits a predicate at its top-level "and"s.
func Conjuncts(x Expr) []Expr {
	if b, ok := x.(Binary); ok && b.Op == "and" {
		return append(Conjuncts(b.L), Conjuncts(b.R)...)
	}
	if x == nil {
		return nil
	}
	return []Expr{x}
}

// Functions lists the $filter functions the engine evaluates, with their
// argument counts (min, max).
var Functions = map[string][2]int{
	"contains": {2, 2}, "startswith": {2, 2}, "endswith": {2, 2}, "length": {1, 1}, "indexof": {2, 2},
	"substring": {2, 3}, "tolower": {1, 1}, "toupper": {1, 1}, "trim": {1, 1}, "concat": {2, 2},
	"year": {1, 1}, "month": {1, 1}, "day": {1, 1}, "hour": {1, 1}, "minute": {1, 1}, "second": {1, 1},
	"now": {0, 0}, "round": {1, 1}, "floor": {1, 1}, "ceiling": {1, 1}, "date": {1, 1},
}

// KindOf maps a column type to its expression kind.
func KindOf(t reports.ColumnType) Kind {
	switch t {
	case reports.Int:
		return KindInt
	case reports.Seconds, reports.Pct, reports.Decimal:
		return KindFloat
	case reports.Date:
		return KindDate
	case reports.DateTime:
		return KindDateTime
	}
	return KindString
}

func invalid(format string, args ...any) error {
	return apierror.Invalid("filter", fmt.Sprintf(format, args...))
}

func unsupported(format string, args ...any) error {
	return &apierror.Error{Code: apierror.NotImplemented, Target: "filter", Message: fmt.Sprintf(format, args...)}
}

// MaxExprDepth bounds the nesting of a checked expression (a long chain of
// "or"s is as deep as it is long, so this is a guard, not a style limit).
const MaxExprDepth = 4096

// Check type-checks x against the set's properties and returns its kind.
// Unknown properties and type errors are 400s; constructs the engine does
// not evaluate are 501s.
func (s *Set) Check(x Expr) (Kind, error) { return s.check(x, 0) }

// CheckPredicate checks that x is a boolean expression.
func (s *Set) CheckPredicate(x Expr) error {
	k, err := s.Check(x)
	if err != nil {
		return err
	}
	if k != KindBool {
		return invalid("the expression is %s, not a boolean condition", k)
	}
	return nil
}

func numeric(k Kind) bool { return k == KindInt || k == KindFloat }

func (s *Set) check(x Expr, depth int) (Kind, error) {
	if depth > MaxExprDepth {
		return 0, invalid("the expression is nested more than %d levels deep", MaxExprDepth)
	}
	switch e := x.(type) {
	case Prop:
		if strings.Contains(e.Name, "/") {
			return s.checkPath(e.Name)
		}
		c, ok := s.Property(e.Name)
		if !ok {
			return 0, invalid("%s has no property %q", s.Name, clip(e.Name))
		}
		return KindOf(c.Type), nil
	case Lit:
		if e.Kind == KindGUID {
			return 0, unsupported("%s values are not supported in a filter (no property of %s has that type)", e.Kind, s.Name)
		}
		return e.Kind, nil
	case Unary:
		k, err := s.check(e.X, depth+1)
		if err != nil {
			return 0, err
		}
		switch {
		case e.Op == "not" && (k == KindBool || k == KindNull):
			return KindBool, nil
		case e.Op == "-" && (numeric(k) || k == KindNull):
			return k, nil
		}
		return 0, invalid("%s cannot be applied to %s", e.Op, k)
	case Binary:
		l, err := s.check(e.L, depth+1)
		if err != nil {
			return 0, err
		}
		r, err := s.check(e.R, depth+1)
		if err != nil {
			return 0, err
		}
		return binaryKind(e.Op, l, r)
	case In:
		k, err := s.check(e.X, depth+1)
		if err != nil {
			return 0, err
		}
		for _, v := range e.List {
			lk, err := s.check(v, depth+1)
			if err != nil {
				return 0, err
			}
			if _, err := binaryKind("eq", k, lk); err != nil {
				return 0, err
			}
		}
		return KindBool, nil
	case Call:
		return s.checkCall(e, depth)
	case Lambda:
		return s.checkLambda(e, depth)
	case nil:
		return 0, invalid("empty expression")
	}
	return 0, unsupported("unsupported expression")
}

// comparable reports whether two kinds may be compared.
func comparable(l, r Kind) bool {
	return l == r || l == KindNull || r == KindNull || (numeric(l) && numeric(r))
}

func binaryKind(op string, l, r Kind) (Kind, error) {
	switch op {
	case "and", "or":
		if (l == KindBool || l == KindNull) && (r == KindBool || r == KindNull) {
			return KindBool, nil
		}
	case "eq", "ne":
		if l == KindDuration || r == KindDuration {
			return 0, unsupported("duration values are supported only added to or subtracted from a date-time (no property is an Edm.Duration)")
		}
		if comparable(l, r) {
			return KindBool, nil
		}
	case "lt", "le", "gt", "ge":
		if l == KindDuration || r == KindDuration {
			return 0, unsupported("duration values are supported only added to or subtracted from a date-time (no property is an Edm.Duration)")
		}
		if comparable(l, r) && l != KindBool && r != KindBool {
			return KindBool, nil
		}
	case "add", "sub", "mul", "div", "mod":
		if k, ok := durationArith(op, l, r); ok {
			return k, nil
		}
		switch {
		case numeric(l) && numeric(r):
			if l == KindFloat || r == KindFloat {
				return KindFloat, nil
			}
			return KindInt, nil
		case (numeric(l) || l == KindNull) && (numeric(r) || r == KindNull):
			return max(l, r), nil
		case l == KindDateTime || l == KindDate || r == KindDateTime || r == KindDate:
			return 0, unsupported("date and time arithmetic is not supported")
		}
	default:
		return 0, unsupported("operator %q is not supported", op)
	}
	return 0, invalid("%s cannot be applied to %s and %s", op, l, r)
}

func (s *Set) checkCall(c Call, depth int) (Kind, error) {
	arity, ok := Functions[c.Func]
	if !ok {
		return 0, unsupported("function %s is not supported", clip(c.Func))
	}
	if len(c.Args) < arity[0] || len(c.Args) > arity[1] {
		return 0, invalid("%s takes %d argument(s), not %d", c.Func, arity[0], len(c.Args))
	}
	args := make([]Kind, len(c.Args))
	for i, a := range c.Args {
		k, err := s.check(a, depth+1)
		if err != nil {
			return 0, err
		}
		args[i] = k
	}
	want := func(ks ...Kind) error {
		for i, k := range args {
			if k != ks[i] && k != KindNull && !(ks[i] == KindFloat && k == KindInt) {
				return invalid("argument %d of %s must be %s, not %s", i+1, c.Func, ks[i], k)
			}
		}
		return nil
	}
	switch c.Func {
	case "contains", "startswith", "endswith":
		return KindBool, want(KindString, KindString)
	case "length":
		return KindInt, want(KindString)
	case "indexof":
		return KindInt, want(KindString, KindString)
	case "substring":
		return KindString, want(KindString, KindInt, KindInt)
	case "tolower", "toupper", "trim":
		return KindString, want(KindString)
	case "concat":
		return KindString, want(KindString, KindString)
	case "year", "month", "day":
		if args[0] == KindDate || args[0] == KindDateTime || args[0] == KindNull {
			return KindInt, nil
		}
		return 0, invalid("%s takes a date or a date-time, not %s", c.Func, args[0])
	case "hour", "minute", "second":
		if args[0] == KindDateTime || args[0] == KindNull {
			return KindInt, nil
		}
		return 0, invalid("%s takes a date-time, not %s", c.Func, args[0])
	case "now":
		return KindDateTime, nil
	case "date":
		if args[0] == KindDateTime || args[0] == KindDate || args[0] == KindNull {
			return KindDate, nil
		}
		return 0, invalid("date takes a date-time, not %s", args[0])
	case "round", "floor", "ceiling":
		if numeric(args[0]) || args[0] == KindNull {
			return args[0], nil
		}
		return 0, invalid("%s takes a number, not %s", c.Func, args[0])
	}
	return 0, unsupported("function %s is not supported", clip(c.Func))
}

// Props lists the property names an expression reads.
func Props(x Expr) []string {
	var out []string
	var walk func(Expr)
	walk = func(x Expr) {
		switch e := x.(type) {
		case Prop:
			out = append(out, e.Name)
		case Unary:
			walk(e.X)
		case Binary:
			walk(e.L)
			walk(e.R)
		case In:
			walk(e.X)
			for _, v := range e.List {
				walk(v)
			}
		case Call:
			for _, a := range e.Args {
				walk(a)
			}
		}
	}
	walk(x)
	return out
}

// civilDate is the Date value of a local date label.
func civilDate(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
