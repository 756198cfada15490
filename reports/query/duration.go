package query

import "time"

// Duration literals (OData's duration'P1DT2H') have one use in a filter
// over these sets, none of whose properties is an Edm.Duration: moving an
// instant, as in "StartedAt ge now() sub duration'P7D'". The engine
// evaluates that exactly by folding a constant instant ± a constant
// duration into one instant before SQL sees it; a duration added to a
// property (StartedAt add duration'PT1H') would need date arithmetic that
// SQLite and MySQL round differently, and is a 501.

// durationArith types instant ± duration (and duration + instant).
func durationArith(op string, l, r Kind) (Kind, bool) {
	switch {
	case op != "add" && op != "sub":
	case (l == KindDateTime || l == KindNull) && r == KindDuration:
		return KindDateTime, true
	case op == "add" && l == KindDuration && (r == KindDateTime || r == KindNull):
		return KindDateTime, true
	}
	return 0, false
}

// addDuration evaluates instant ± duration in Go.
func addDuration(op string, l, r any) (time.Time, bool) {
	t, tok := l.(time.Time)
	d, dok := r.(time.Duration)
	if !tok || !dok {
		if op != "add" {
			return time.Time{}, false
		}
		t, tok = r.(time.Time)
		d, dok = l.(time.Duration)
		if !tok || !dok {
			return time.Time{}, false
		}
	}
	if op == "sub" {
		d = -d
	}
	return t.Add(d), true
}

// instantArith folds instant ± duration for SQL: ok when e is such an
// operation, with the resulting instant; a 501 when the instant is not a
// constant (a literal, now(), or such a fold itself).
func (c *sqlCompiler) instantArith(e Binary) (time.Time, bool, error) {
	if (e.Op != "add" && e.Op != "sub") || !(isDuration(e.L) || isDuration(e.R)) {
		return time.Time{}, false, nil
	}
	inst, dur := e.L, e.R
	if isDuration(e.L) {
		inst, dur = e.R, e.L
	}
	t, ok := c.constInstant(inst)
	if !ok {
		return time.Time{}, true, unsupported("a duration can be added to or subtracted from a literal instant or now() only; compare the property with now() sub duration'…' instead")
	}
	d := dur.(Lit).V.(time.Duration)
	if e.Op == "sub" {
		d = -d
	}
	return t.Add(d), true, nil
}

func isDuration(x Expr) bool {
	l, ok := x.(Lit)
	return ok && l.Kind == KindDuration
}

// constInstant is the value of a constant instant expression.
func (c *sqlCompiler) constInstant(x Expr) (time.Time, bool) {
	switch e := x.(type) {
	case Lit:
		t, ok := e.V.(time.Time)
		return t, ok && e.Kind == KindDateTime
	case Call:
		return c.now, e.Func == "now"
	case Binary:
		t, ok, err := c.instantArith(e)
		return t, ok && err == nil
	}
	return time.Time{}, false
}
