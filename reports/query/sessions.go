package query

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
)

// The columns of the session sets (Sessions and the two session logs) in
// SQL. Durations are derived in Go (the shared rules of docs/data-model.md) and are
// not filterable; everything else is a column of the session-log query.
var sessionSQL = map[string]sqlColumn{
	"SessionId":      {expr: "s.id"},
	"SessionStarted": {expr: "s.started_at"},
	"StartedAt":      {expr: "s.started_at"},
	"QueueId":        {expr: "s.queue_id"},
	"QueueName":      {expr: "q.name"},
	"State":          {expr: "s.state"},
	"EndReason":      {expr: "s.end_reason"},
	"EntryPoint":     {expr: "s.entry_point"},
	"GuestName": {
		expr:  "NULLIF(COALESCE(NULLIF(sk.display_name, ''), TRIM(COALESCE(sk.first_name, '') || ' ' || COALESCE(sk.last_name, ''))), '')",
		mysql: "NULLIF(COALESCE(NULLIF(sk.display_name, ''), TRIM(CONCAT(COALESCE(sk.first_name, ''), ' ', COALESCE(sk.last_name, '')))), '')",
	},
	"GuestEmail":      {expr: "sk.email"},
	"Question":        {expr: "s.question"},
	"SkillTag":        {expr: "s.skill_tag"},
	"AgentName":       {expr: "u.display_name"},
	"QueuedAt":        {expr: "s.queued_at"},
	"AcceptedAt":      {expr: "s.accepted_at"},
	"EndedAt":         {expr: "s.ended_at"},
	"WaitSeconds":     {},
	"HandleSeconds":   {},
	"DurationSeconds": {},
	"Messages":        {expr: "s.message_count"},
	"Files":           {expr: "s.file_count"},
	"Rating":          {expr: "r.rating"},
	"ParentSessionId": {expr: "s.parent_session_id"},
}

// sessionLogSet is a set over chat_sessions: Sessions (instants in UTC,
// StartedAt) or a session log report (instants in the query's zone,
// SessionStarted, as on the native route).
func sessionLogSet(name, title, description string, r *reports.Report, zoned bool) *Set {
	props := reports.SessionLogColumns()
	if !zoned {
		props[1] = reports.Column{Name: "StartedAt", Type: reports.DateTime, Description: "When the guest started the session (UTC)"}
		for i := range props {
			if props[i].Type == reports.DateTime {
				props[i].Description = strings.TrimSuffix(props[i].Description, ", local with offset") + " (UTC)"
			}
		}
	}
	return &Set{Name: name, Title: title, Description: description, Report: r, kind: sessionSet,
		Props: props, Key: []string{"SessionId"}, columns: sessionSQL, zoned: zoned}
}

// querySessions runs a session set query in SQL: the caller's queues, the
// whole predicate (filter and keyset position), the order and the limit
// all go to the database; rows stream.
func (e *Engine) querySessions(ctx context.Context, q *SetQuery, pred Expr, sort []SortKey) (reports.Rows, error) {
	x, err := e.sessionExecution(ctx, q)
	if err != nil {
		return nil, err
	}
	if pred, err = e.withSessionRange(q, pred); err != nil {
		return nil, err
	}
	c := q.Set.compiler(e.mysql(), x.Now(), q.Zone, q.Visible)
	// The joins the filter, the order and the selected properties read;
	// the queue name is read from the queues, not joined, unless filtered
	// or ordered on.
	read := append(Props(pred), sortProps(sort)...)
	joins := joinsOf(read)
	selected := q.Select
	if selected == nil {
		selected = q.Set.propNames()
	}
	for _, j := range joinsOf(selected) {
		if j != "q" && !slices.Contains(joins, j) {
			joins = append(joins, j)
		}
	}
	var db *gorm.DB
	if q.Top >= 0 && (q.Filter != nil || q.Start != "" || q.Stop != "") {
		// A filtered page: its ids first, from the fewest joins (FromPage).
		page, err := c.page(x.FromJoins(joinsOf(read)...).Select("s.id"), pred, sort, q)
		if err != nil {
			return nil, err
		}
		order, err := c.orderBy(sort)
		if err != nil {
			return nil, err
		}
		db = x.FromPage(page, joins...).Select(x.Select(joins...)).Order(order)
	} else if db, err = c.page(x.FromJoins(joins...).Select(x.Select(joins...)), pred, sort, q); err != nil {
		return nil, err
	}
	rows, err := db.Rows()
	if err != nil {
		return nil, models.Classify(err)
	}
	return &setRows{src: x.Rows(rows), props: q.Set.Props}, nil
}

// countSessions counts the rows of a session set that match pred.
func (e *Engine) countSessions(ctx context.Context, q *SetQuery, pred Expr) (int64, error) {
	x, err := e.sessionExecution(ctx, q)
	if err != nil {
		return 0, err
	}
	if pred, err = e.withSessionRange(q, pred); err != nil {
		return 0, err
	}
	if pred == nil {
		// Every session of the queues: the counts the database keeps.
		n, err := x.CountAll()
		return n, models.Classify(err)
	}
	if !q.Set.zoned {
		if lo, hi, ok := startedRange(pred); ok {
			if n, ok, err := x.CountStarted(narrowQueues(q.Visible, pred), lo, hi); ok || err != nil {
				return n, err
			}
		}
	}
	c := q.Set.compiler(e.mysql(), x.Now(), q.Zone, q.Visible)
	db := x.FromJoins(joinsOf(Props(pred))...) // only the joins the filter reads
	if pred != nil {
		where, err := c.pred(pred)
		if err != nil {
			return 0, err
		}
		db = db.Where(where, c.args...)
	}
	var n int64
	if err := db.Count(&n).Error; err != nil {
		return 0, models.Classify(err)
	}
	return n, nil
}

// startedRange matches a filter that is nothing but a range of
// StartedAt (ge lo, lt hi, both instants) and conditions on QueueId (eq,
// in, which narrowQueues applies): what Power BI's incremental refresh
// sends for each partition. It returns the range.
func startedRange(pred Expr) (lo, hi time.Time, ok bool) {
	for _, c := range Conjuncts(pred) {
		if _, isQueue := queueCondition(c); isQueue {
			continue
		}
		name, op, lit, isCmp := propLit(c)
		t, isTime := lit.V.(time.Time)
		switch {
		case !isCmp || name != "StartedAt" || !isTime || lit.Kind != KindDateTime:
			return lo, hi, false
		case op == "ge" && (lo.IsZero() || t.After(lo)):
			lo = t
		case op == "lt" && (hi.IsZero() || t.Before(hi)):
			hi = t
		case op != "ge" && op != "lt":
			return lo, hi, false
		}
	}
	return lo, hi, !lo.IsZero() && !hi.IsZero()
}

// withSessionRange adds the custom start and stop options of a session
// set to pred: sessions whose started_at lies in [start, stop), with the
// native rules (a date-only value is local midnight in the query's zone,
// a date-only stop the whole of that day, an instant stop inclusive to the
// millisecond). A missing option leaves that side open: the session sets
// hold the whole history.
func (e *Engine) withSessionRange(q *SetQuery, pred Expr) (Expr, error) {
	if q.Start == "" && q.Stop == "" {
		return pred, nil
	}
	zone := q.Zone
	if zone == nil {
		zone = time.UTC
	}
	lo, hi, err := optionBound(q, zone, e.Now())
	if err != nil {
		return nil, err
	}
	prop := Prop{Name: "StartedAt"}
	if q.Set.zoned {
		prop = Prop{Name: "SessionStarted"}
	}
	if lo != nil {
		pred = And(pred, Binary{Op: "ge", L: prop, R: Lit{Kind: KindDateTime, V: lo.UTC()}})
	}
	if hi != nil {
		pred = And(pred, Binary{Op: "lt", L: prop, R: Lit{Kind: KindDateTime, V: hi.UTC()}})
	}
	return pred, nil
}

// sessionExecution prepares the state the session-log row converter needs:
// the caller's queues (with their thresholds) and the output zone.
func (e *Engine) sessionExecution(ctx context.Context, q *SetQuery) (*reports.SessionLogRead, error) {
	zone := time.UTC
	if q.Set.zoned && q.Zone != nil {
		zone = q.Zone
	}
	return e.ReadSessionLog(ctx, q.Set.Report, zone, narrowQueues(q.Visible, q.Filter), q.Visible)
}

// compiler returns a SQL compiler over the set's columns.
func (s *Set) compiler(mysql bool, now time.Time, zone *time.Location, visible []uint32) *sqlCompiler {
	kinds := make(map[string]Kind, len(s.Props))
	for _, p := range s.Props {
		kinds[p.Name] = KindOf(p.Type)
	}
	zoned := s.zoned && zone != nil && zone != time.UTC && zone.String() != "UTC"
	return &sqlCompiler{mysql: mysql, cols: s.columns, kinds: kinds, now: now, zoned: zoned, set: s, visible: visible}
}

// joinsOf lists the joins of the session-log FROM clause that the named
// properties read.
func joinsOf(props []string) []string {
	var out []string
	for _, p := range props {
		j := sessionJoin[p]
		if c, ok := pathSQL[p]; ok && j == "" {
			// A navigation path reads the joined row's column (q.name, r.comment).
			if alias, _, ok := strings.Cut(c.expr, "."); ok && alias != "s" {
				j = alias
			}
		}
		if j != "" && !slices.Contains(out, j) {
			out = append(out, j)
		}
	}
	return out
}

func sortProps(sort []SortKey) []string {
	out := make([]string, len(sort))
	for i, k := range sort {
		out[i] = k.Prop
	}
	return out
}

func (s *Set) propNames() []string {
	out := make([]string, len(s.Props))
	for i, p := range s.Props {
		out[i] = p.Name
	}
	return out
}
