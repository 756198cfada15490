package query

import (
	"context"
	"slices"
	"strings"
)

// SetFingerprint is Fingerprint for an entity-set query: report sets of
// covered reports over the range their options and filter select, with
// the data's first day of each queue (the table starts there). Session
// sets (Sessions, the session logs), Queues and Agents, queries with
// transformations (Apply), filters that call now(), and ranges open on a
// side or not yet closed get none.
func (e *Engine) SetFingerprint(ctx context.Context, q SetQuery) (digest string, ok bool, err error) {
	s := q.Set
	if s == nil || s.kind != reportSet || len(q.Apply) > 0 || callsNow(q.Filter) || !s.Report.Validated() {
		return "", false, nil
	}
	p, err := e.plan(ctx, &q)
	if err != nil || len(p.runs) == 0 || p.lo == nil || p.hi == nil || p.hi.After(e.Now()) {
		return "", false, err
	}
	d, ok, err := e.WindowFingerprint(ctx, s.Report, narrowQueues(q.Visible, q.Filter), *p.lo, *p.hi)
	if err != nil || !ok {
		return "", false, err
	}
	return d + "|" + p.extent + "|" + string(q.Interval), true, nil
}

// callsNow reports whether an expression calls now(), whose value moves.
func callsNow(x Expr) bool {
	switch v := x.(type) {
	case Call:
		if strings.EqualFold(v.Func, "now") {
			return true
		}
		return slices.ContainsFunc(v.Args, callsNow)
	case Unary:
		return callsNow(v.X)
	case Binary:
		return callsNow(v.L) || callsNow(v.R)
	case In:
		return callsNow(v.X) || slices.ContainsFunc(v.List, callsNow)
	}
	return false
}
