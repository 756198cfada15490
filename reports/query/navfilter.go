package query

import (
	"context"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
)

// Navigation in a filter, compiled to SQL with the caller's rows only:
//
//   - a path through a single-valued navigation, Queue/QueueName,
//     RatingDetails/Comment, BotInteraction/Outcome, FirstAgent/AgentName
//     on Sessions or Session/StartedAt on the sets beside it, reads the
//     related row's column: from a join the session query already has
//     (Queue, RatingDetails), else from a scalar subquery correlated to
//     the outer row (null when there is no related row, as OData says);
//   - Nav/any(x: cond) over a collection navigation is EXISTS over the
//     related rows, Nav/all(x: cond) is NOT EXISTS of a related row that
//     fails the condition (true without related rows, as OData says), and
//     Nav/any() asks whether there is any related row.
//
// Related rows outside the caller's queues are never read: a navigation
// whose rows are the outer row's own (a session's lines, participants,
// offers, keywords, bot part; a queue's sessions) is correlated to a row
// the queue restriction already admitted; the others (transfers to other
// sessions, agents, a line's session) carry the caller's queues in their
// subquery. The Queues set is computed in Go: its any/all become a list
// of queue ids read by one SQL query first (resolveLambdas).

// Lambda is Nav/any(v: Pred) or Nav/all(v: Pred) over a collection
// navigation; Pred names the target's properties without the variable
// and is nil for any().
type Lambda struct {
	Nav  string
	Op   string // any or all
	Pred Expr
}

func (Lambda) isExpr() {}

// pathSQL are the columns of to-one navigation paths of Sessions, from the
// joins the session query already has (q: the queue, r: the rating).
var pathSQL = map[string]sqlColumn{
	"Queue/QueueId": {expr: "s.queue_id"}, "Queue/QueueName": {expr: "q.name"}, "Queue/Mode": {expr: "q.mode"},
	"Queue/ServiceLevelThresholdSeconds": {expr: "q.sla_threshold_seconds"}, "Queue/ServiceLevelTargetPct": {expr: "q.sla_target_pct"},
	"Queue/ShortAbandonSeconds": {expr: "q.short_abandon_seconds"},
	"RatingDetails/SessionId":   {expr: "r.session_id"}, "RatingDetails/QueueId": {expr: "r.queue_id"}, "RatingDetails/Rating": {expr: "r.rating"},
	"RatingDetails/ScaleMax": {expr: "r.scale_max"}, "RatingDetails/Comment": {expr: "r.comment"},
	"RatingDetails/RatedAgentId": {expr: "r.rated_agent_id"}, "RatingDetails/SubmittedAt": {expr: "r.submitted_at"},
}

// agentSQL are the columns of the Agents set over users AS a, for filters
// that reach agents through a navigation (the set itself is computed).
var agentSQL = map[string]sqlColumn{
	"AgentId": {expr: "a.id"}, "AgentName": {expr: "a.display_name"}, "Email": {expr: "a.email"},
	"MaxConcurrentChats": {expr: "a.max_concurrent_chats"},
}

// navSQL is how one navigation of a set compiles in that set's filter.
// The target rows are FROM from, tied to the outer row by join (whose
// aliases differ from the outer query's), and limited to the caller's
// queues by acl (one placeholder for them) where join does not imply it.
// When the target's aliases are the outer row's own (Transfers: sessions
// of a session), the lambda is "outer IN (SELECT key FROM from WHERE …)"
// instead of a correlated EXISTS.
type navSQL struct {
	from, join, acl string
	outer, key      string
	cols            map[string]sqlColumn // the target's columns over from (nil: the target set's own)
}

const agentACL = "a.id IN (SELECT qm.user_id FROM queue_members AS qm WHERE qm.role IN ('agent', 'manager') AND qm.queue_id IN ?)"

// sessionOf is the navigation from a set beside Sessions to its session.
func sessionOf(alias string) navSQL {
	return navSQL{from: reports.SessionLogFromSQL(), join: "s.id = " + alias + ".session_id", acl: "s.queue_id IN ?"}
}

// navSQLs are the navigations that compile in a filter, by set and name.
// Queue and RatingDetails of Sessions read the joins (pathSQL). Queues'
// rows are qq in the query resolveLambdas sends.
var navSQLs = map[string]map[string]navSQL{
	"Sessions": {
		"Transcript":     {from: "session_messages AS m", join: "m.session_id = s.id"},
		"Participants":   {from: "session_participants AS p", join: "p.session_id = s.id"},
		"Offers":         {from: "session_offers AS o", join: "o.session_id = s.id"},
		"Keywords":       {from: "session_keywords AS k", join: "k.session_id = s.id"},
		"BotInteraction": {from: "bot_interactions AS b", join: "b.session_id = s.id"},
		"Transfers":      {from: reports.SessionLogFromSQL(), join: "s.parent_session_id IS NOT NULL", acl: "s.queue_id IN ?", outer: "s.id", key: "s.parent_session_id"},
		"FirstAgent":     {from: "users AS a", join: "a.id = s.first_agent_id", acl: agentACL, cols: agentSQL},
		"LastAgent":      {from: "users AS a", join: "a.id = s.last_agent_id", acl: agentACL, cols: agentSQL},
	},
	"Queues": {
		"Sessions": {from: reports.SessionLogFromSQL(), join: "s.queue_id = qq.id"},
		"Agents": {from: "queue_members AS qm JOIN users AS a ON a.id = qm.user_id",
			join: "qm.queue_id = qq.id AND qm.role IN ('agent', 'manager')", cols: agentSQL},
	},
	"Messages":        {"Session": sessionOf("m")},
	"Ratings":         {"Session": sessionOf("rt")},
	"Participants":    {"Session": sessionOf("p")},
	"Offers":          {"Session": sessionOf("o")},
	"BotInteractions": {"Session": sessionOf("b")},
	"Keywords":        {"Session": sessionOf("k")},
}

// filterNav finds a navigation of the set and how it compiles; ok is
// false when the set's filters do not compile it.
func (s *Set) filterNav(name string) (NavProp, navSQL, *Set, bool) {
	n, found := s.Nav(name)
	if !found {
		return NavProp{}, navSQL{}, nil, false
	}
	target, _ := LookupSet(n.Target)
	def, ok := navSQLs[s.Name][name]
	if s.Name == "Sessions" && (name == "Queue" || name == "RatingDetails") {
		ok = true
	}
	if s.kind != sessionSet && s.kind != tableSet && s.kind != queueSet {
		ok = false // the session logs share Sessions' columns, not its navigations
	}
	return n, def, target, ok
}

// checkPath types a navigation path Nav/Prop of the set.
func (s *Set) checkPath(name string) (Kind, error) {
	nav, prop, _ := strings.Cut(name, "/")
	n, ok := s.Nav(nav)
	if !ok {
		return 0, invalid("%s has no navigation property %q", s.Name, clip(nav))
	}
	if n.Many {
		return 0, invalid("%s is a collection: use %s/any(x: …) or %s/all(x: …)", nav, nav, nav)
	}
	target, _ := LookupSet(n.Target)
	c, ok := target.Property(prop)
	if !ok {
		return 0, invalid("%s has no property %q", n.Target, clip(prop))
	}
	if _, _, _, ok := s.filterNav(nav); !ok || s.kind == queueSet {
		return 0, unsupported("the path %s is not supported in a filter of %s", clip(name), s.Name)
	}
	if _, err := s.pathColumn(name); err != nil {
		return 0, err
	}
	return KindOf(c.Type), nil
}

// checkLambda types any/all over a collection navigation.
func (s *Set) checkLambda(l Lambda, depth int) (Kind, error) {
	n, ok := s.Nav(l.Nav)
	if !ok {
		return 0, invalid("%s has no navigation property %q", s.Name, clip(l.Nav))
	}
	if !n.Many {
		return 0, invalid("%s/%s needs a collection; %s is a single entity (write %s/Property)", l.Nav, l.Op, l.Nav, l.Nav)
	}
	if _, _, _, ok := s.filterNav(l.Nav); !ok {
		return 0, unsupported("%s/%s is not supported in a filter of %s", l.Nav, l.Op, s.Name)
	}
	if l.Pred == nil {
		if l.Op == "all" {
			return 0, invalid("all needs a condition")
		}
		return KindBool, nil
	}
	target, _ := LookupSet(n.Target)
	k, err := target.check(l.Pred, depth+1)
	if err != nil {
		return 0, err
	}
	if k != KindBool && k != KindNull {
		return 0, invalid("the condition of %s/%s is %s, not a boolean", l.Nav, l.Op, k)
	}
	return KindBool, nil
}

// targetColumns are the SQL columns of a navigation's target rows.
func targetColumns(def navSQL, target *Set) map[string]sqlColumn {
	if def.cols != nil {
		return def.cols
	}
	return target.columns
}

// pathColumn is the SQL of a navigation path Nav/Prop of the set: a
// joined column or a scalar subquery. Its placeholders are the caller's
// queues (pathArgs).
func (s *Set) pathColumn(name string) (sqlColumn, error) {
	if c, ok := pathSQL[name]; ok && s.Name == "Sessions" {
		return c, nil
	}
	nav, prop, _ := strings.Cut(name, "/")
	_, def, target, ok := s.filterNav(nav)
	if !ok {
		return sqlColumn{}, unsupported("the path %s is not supported in a filter of %s", clip(name), s.Name)
	}
	col, ok := targetColumns(def, target)[prop]
	if !ok || col.expr == "" {
		return sqlColumn{}, unsupported("%s is computed after the query and cannot be used to filter here", clip(name))
	}
	where := def.join
	if def.acl != "" {
		where += " AND " + def.acl
	}
	sub := func(expr string) string {
		if expr == "" {
			return ""
		}
		return "(SELECT " + expr + " FROM " + def.from + " WHERE " + where + ")"
	}
	return sqlColumn{expr: sub(col.expr), mysql: sub(col.mysql)}, nil
}

// pathKind is the kind of a navigation path of the set.
func (s *Set) pathKind(name string) Kind {
	nav, prop, _ := strings.Cut(name, "/")
	if n, ok := s.Nav(nav); ok {
		t, _ := LookupSet(n.Target)
		if c, ok := t.Property(prop); ok {
			return KindOf(c.Type)
		}
	}
	return KindNull
}

// path compiles a navigation path of the compiler's set.
func (c *sqlCompiler) path(name string) (string, error) {
	if c.set == nil {
		return "", unsupported("the path %s is not supported here", clip(name))
	}
	col, err := c.set.pathColumn(name)
	if err != nil {
		return "", err
	}
	expr := col.expr
	if c.mysql && col.mysql != "" {
		expr = col.mysql
	}
	if n := strings.Count(expr, "?"); n > 0 {
		for range n {
			c.args = append(c.args, reports.NonEmpty(c.visible))
		}
	}
	return expr, nil
}

// lambda compiles any/all to a correlated EXISTS (or an IN over the
// related rows' keys).
func (c *sqlCompiler) lambda(l Lambda) (string, error) {
	n, def, target, ok := c.set.filterNav(l.Nav)
	if !ok || !n.Many {
		return "", unsupported("%s/%s is not supported in a filter", l.Nav, l.Op)
	}
	where := def.join
	if def.acl != "" {
		where += " AND " + def.acl
		c.args = append(c.args, reports.NonEmpty(c.visible))
	}
	cond := ""
	if l.Pred != nil {
		kinds := make(map[string]Kind, len(target.Props))
		for _, p := range target.Props {
			kinds[p.Name] = KindOf(p.Type)
		}
		sub := &sqlCompiler{mysql: c.mysql, cols: targetColumns(def, target), kinds: kinds, now: c.now, args: c.args, visible: c.visible}
		pred, err := sub.pred(l.Pred)
		c.args = sub.args
		if err != nil {
			return "", err
		}
		cond = "(" + pred + ")"
		if l.Op == "all" {
			cond = "NOT COALESCE(" + cond + ", 0)"
		}
	}
	if cond != "" {
		where += " AND " + cond
	}
	if def.outer != "" {
		in := def.outer + " IN (SELECT " + def.key + " FROM " + def.from + " WHERE " + where + ")"
		if l.Op == "all" {
			return "NOT " + in, nil
		}
		return in, nil
	}
	head := "SELECT 1 FROM " + def.from + " WHERE " + where
	if l.Op == "all" {
		return "NOT EXISTS (" + head + ")", nil
	}
	return "EXISTS (" + head + ")", nil
}

// resolveLambdas replaces every any/all in the filter of a Queues query by
// the list of the caller's queues that satisfy it, read with one SQL query
// (the Queues set is computed in Go, which cannot read related rows).
func (e *Engine) resolveLambdas(ctx context.Context, q *SetQuery) error {
	if q.Set.kind != queueSet || q.Filter == nil {
		return nil
	}
	x, err := e.rewriteLambdas(ctx, q, q.Filter)
	if err != nil {
		return err
	}
	q.Filter = x
	return nil
}

func (e *Engine) rewriteLambdas(ctx context.Context, q *SetQuery, x Expr) (Expr, error) {
	switch v := x.(type) {
	case Lambda:
		c := q.Set.compiler(e.mysql(), e.Now().UTC(), time.UTC, q.Visible)
		cond, err := c.lambda(v)
		if err != nil {
			return nil, err
		}
		var ids []int64
		args := append([]any{reports.NonEmpty(q.Visible)}, c.args...)
		if err := e.DB().WithContext(ctx).Raw("SELECT qq.id FROM queues AS qq WHERE qq.id IN ? AND "+cond+" ORDER BY qq.id", args...).
			Scan(&ids).Error; err != nil {
			return nil, models.Classify(err)
		}
		if len(ids) == 0 {
			return Lit{Kind: KindBool, V: false}, nil
		}
		list := make([]Expr, len(ids))
		for i, id := range ids {
			list[i] = Lit{Kind: KindInt, V: id}
		}
		return In{X: Prop{Name: "QueueId"}, List: list}, nil
	case Unary:
		inner, err := e.rewriteLambdas(ctx, q, v.X)
		v.X = inner
		return v, err
	case Binary:
		l, err := e.rewriteLambdas(ctx, q, v.L)
		if err != nil {
			return nil, err
		}
		r, err := e.rewriteLambdas(ctx, q, v.R)
		v.L, v.R = l, r
		return v, err
	}
	return x, nil
}
