package query

import (
	"math"
	"slices"
	"time"

	"github.com/chime-reports/chime-reports/reports"
)

// flip mirrors a comparison so the property is on the left: 5 lt X is X gt 5.
var flip = map[string]string{"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}

// propLit matches "Prop op Lit" or "Lit op Prop" and returns them with the
// operator as seen from the property.
func propLit(x Expr) (name, op string, lit Lit, ok bool) {
	b, isBin := x.(Binary)
	if !isBin {
		return "", "", Lit{}, false
	}
	if _, cmp := flip[b.Op]; !cmp {
		return "", "", Lit{}, false
	}
	if p, ok := b.L.(Prop); ok {
		if l, ok := b.R.(Lit); ok {
			return p.Name, b.Op, l, true
		}
	}
	if p, ok := b.R.(Prop); ok {
		if l, ok := b.L.(Lit); ok {
			return p.Name, flip[b.Op], l, true
		}
	}
	return "", "", Lit{}, false
}

// narrowQueues intersects the caller's visible queues with the QueueId
// conditions AND-ed at the top of the filter (QueueId eq N, QueueId in
// (…)). Anything else about QueueId is left to the filter itself, which
// can only narrow further: rows of invisible queues are never read.
func narrowQueues(visible []uint32, filter Expr) []uint32 {
	out := slices.Clone(visible)
	for _, c := range Conjuncts(filter) {
		if ids, ok := queueCondition(c); ok {
			out = slices.DeleteFunc(out, func(q uint32) bool { return !slices.Contains(ids, int64(q)) })
		}
	}
	return out
}

// queueCondition matches QueueId eq N and QueueId in (literals), and
// returns the queue ids the condition admits.
func queueCondition(c Expr) ([]int64, bool) {
	if name, op, lit, ok := propLit(c); ok && name == "QueueId" && op == "eq" {
		return []int64{queueIDOf(lit.V)}, true
	}
	in, ok := c.(In)
	if !ok || in.X != (Prop{Name: "QueueId"}) {
		return nil, false
	}
	var ids []int64
	for _, v := range in.List {
		l, isLit := v.(Lit)
		if !isLit {
			return nil, false
		}
		ids = append(ids, queueIDOf(l.V))
	}
	return ids, ids != nil
}

// queueIDOf is the queue a QueueId literal names: an integer, or a
// number with an integral value (QueueId eq 3.0 is queue 3). Anything
// else names no queue (-1: no id matches it, as no row would).
func queueIDOf(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		if n == math.Trunc(n) && n >= 0 && n <= math.MaxUint32 {
			return int64(n)
		}
	}
	return -1
}

// span is a covering range of bucket starts (PeriodStart instants): every
// row a filter may keep has its PeriodStart in [lo, hi). A nil side is
// open; none means no row can match. It only ever widens what the filter
// allows: the filter itself is applied to the computed rows afterwards,
// so a span that is too wide costs work, never a row.
type span struct {
	lo, hi *time.Time
	none   bool
}

var everything = span{}

func (a span) and(b span) span {
	if a.none || b.none {
		return span{none: true}
	}
	out := a
	if b.lo != nil && (out.lo == nil || b.lo.After(*out.lo)) {
		out.lo = b.lo
	}
	if b.hi != nil && (out.hi == nil || b.hi.Before(*out.hi)) {
		out.hi = b.hi
	}
	if out.lo != nil && out.hi != nil && !out.lo.Before(*out.hi) {
		return span{none: true}
	}
	return out
}

// or is the hull of two spans: the smallest span holding both.
func (a span) or(b span) span {
	switch {
	case a.none:
		return b
	case b.none:
		return a
	}
	out := span{}
	if a.lo != nil && b.lo != nil {
		out.lo = a.lo
		if b.lo.Before(*a.lo) {
			out.lo = b.lo
		}
	}
	if a.hi != nil && b.hi != nil {
		out.hi = a.hi
		if b.hi.After(*a.hi) {
			out.hi = b.hi
		}
	}
	return out
}

func between(lo, hi time.Time) span { return span{lo: &lo, hi: &hi} }
func from(lo time.Time) span        { return span{lo: &lo} }
func until(hi time.Time) span       { return span{hi: &hi} }

// isBucketProp reports whether name holds the bucket's start (PeriodStart,
// HourStart) or its local date (Date) on a time-series set.
func (s *Set) isBucketProp(name string) bool {
	if s.Bucket == "" {
		return false
	}
	switch name {
	case "PeriodStart", "HourStart":
		return true
	case "Date":
		return s.Bucket == reports.GrainDay
	}
	return false
}

// cover derives the covering span of a filter over a time-series set:
// comparisons of PeriodStart, HourStart or Date with a literal, "in"
// lists of literals, year() and month() of them compared with a number,
// combined with and/or. Anything else (not, comparisons on measures,
// functions of other properties) allows every bucket.
func (s *Set) cover(x Expr, zone *time.Location) span {
	switch v := x.(type) {
	case nil:
		return everything
	case Lit:
		if b, ok := v.V.(bool); ok && !b {
			return span{none: true}
		}
	case Binary:
		switch v.Op {
		case "and":
			return s.coverAll(Conjuncts(v), zone)
		case "or":
			return s.cover(v.L, zone).or(s.cover(v.R, zone))
		}
		if name, op, lit, ok := propLit(v); ok && s.isBucketProp(name) {
			return s.compareSpan(name, op, lit, zone)
		}
		if fn, op, n, ok := s.calendarLit(v); ok {
			return calendarSpan(fn, op, n)
		}
	case In:
		p, isProp := v.X.(Prop)
		if !isProp || !s.isBucketProp(p.Name) {
			return everything
		}
		out := span{none: true}
		for _, item := range v.List {
			l, isLit := item.(Lit)
			if !isLit {
				return everything
			}
			out = out.or(s.compareSpan(p.Name, "eq", l, zone))
		}
		return out
	}
	return everything
}

// coverAll intersects the spans of conjuncts; year(P) eq y together with
// month(P) eq m narrows to that month.
func (s *Set) coverAll(cs []Expr, zone *time.Location) span {
	out := everything
	years := map[string]int64{}
	for _, c := range cs {
		if fn, op, n, ok := s.calendarLit(c); ok && fn.Func == "year" && op == "eq" {
			years[fn.Args[0].(Prop).Name] = n
		}
	}
	for _, c := range cs {
		out = out.and(s.cover(c, zone))
		if fn, op, n, ok := s.calendarLit(c); ok && fn.Func == "month" && op == "eq" && n >= 1 && n <= 12 {
			if y, known := years[fn.Args[0].(Prop).Name]; known && y > 0 && y < 10000 {
				lo := time.Date(int(y), time.Month(n), 1, 0, 0, 0, 0, time.UTC)
				out = out.and(between(lo.Add(-slack), lo.AddDate(0, 1, 0).Add(slack)))
			}
		}
	}
	return out
}

// slack widens calendar bounds read in UTC to every offset a value may
// carry (Date is local, HourStart has the zone's offset).
const slack = 24 * time.Hour

// calendarLit matches "year(P) op n" or "month(P) op n" (either side) on a
// bucket property.
func (s *Set) calendarLit(x Expr) (fn Call, op string, n int64, ok bool) {
	b, isBin := x.(Binary)
	if !isBin {
		return Call{}, "", 0, false
	}
	if _, cmp := flip[b.Op]; !cmp {
		return Call{}, "", 0, false
	}
	c, l, op := b.L, b.R, b.Op
	if _, isCall := c.(Call); !isCall {
		c, l, op = b.R, b.L, flip[b.Op]
	}
	call, isCall := c.(Call)
	lit, isLit := l.(Lit)
	if !isCall || !isLit || (call.Func != "year" && call.Func != "month") || len(call.Args) != 1 {
		return Call{}, "", 0, false
	}
	p, isProp := call.Args[0].(Prop)
	n, isInt := lit.V.(int64)
	if !isProp || !isInt || !s.isBucketProp(p.Name) {
		return Call{}, "", 0, false
	}
	return call, op, n, true
}

// calendarSpan is the span of "year(P) op y" (month alone allows every
// year, so every bucket).
func calendarSpan(fn Call, op string, y int64) span {
	if fn.Func != "year" || y < 1 || y > 9998 {
		return everything
	}
	jan := func(y int64) time.Time { return time.Date(int(y), 1, 1, 0, 0, 0, 0, time.UTC) }
	switch op {
	case "eq":
		return between(jan(y).Add(-slack), jan(y+1).Add(slack))
	case "ge":
		return from(jan(y).Add(-slack))
	case "gt":
		return from(jan(y + 1).Add(-slack))
	case "le":
		return until(jan(y + 1).Add(slack))
	case "lt":
		return until(jan(y).Add(slack))
	}
	return everything
}

// compareSpan is the span of "name op lit" for a bucket property: instants
// for PeriodStart and HourStart, local days for Date.
func (s *Set) compareSpan(name, op string, lit Lit, zone *time.Location) span {
	t, isTime := lit.V.(time.Time)
	if !isTime {
		return everything
	}
	var lo, hi time.Time // the PeriodStart values equal to the literal: [lo, hi)
	switch {
	case name != "Date" && lit.Kind == KindDateTime:
		lo, hi = t, t.Add(time.Nanosecond)
	case name == "Date" && lit.Kind == KindDate:
		lo = reports.LocalMidnight(t.Year(), t.Month(), t.Day(), zone)
		hi = reports.LocalMidnight(t.Year(), t.Month(), t.Day()+1, zone)
	default:
		return everything
	}
	switch op {
	case "eq":
		return between(lo, hi)
	case "ge":
		return from(lo)
	case "gt":
		return from(hi)
	case "le":
		return until(hi)
	case "lt":
		return until(lo)
	}
	return everything
}
