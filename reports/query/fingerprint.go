package query

import (
	"context"
	"slices"
	"strings"
)

// SetFingerprint is Fingerprint for an entity-set query: report sets of
// covered reports over the window their options and filter select.
// Session sets (Sessions, the session logs), Queues and Agents, queries
// with transformations (Apply), filters that call now(), and windows that
// have not closed get none.
func (e *Engine) SetFingerprint(ctx context.Context, q SetQuery) (digest string, ok bool, err error) {
	s := q.Set
	if s == nil || s.kind != reportSet || len(q.Apply) > 0 || callsNow(q.Filter) || !s.Report.Validated() {
		return "", false, nil
	}
	now := e.Now()
	w, empty, err := s.reportWindow(&q, now)
	if err != nil || empty || w.Stop.After(now) {
		return "", false, err
	}
	return e.WindowFingerprint(ctx, s.Report, narrowQueues(q.Visible, q.Filter), w.Start, w.Stop)
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
