package query

import "strings"

// Navigation in a filter on Sessions, compiled to SQL with the caller's
// rows only (the subqueries are correlated to the session row, which the
// queue restriction already admitted):
//
//   - a path through a to-one navigation, Queue/QueueName or
//     RatingDetails/Comment, reads the joined queue or rating columns;
//   - Transcript/any(m: m/SenderType eq 'bot') is EXISTS over the session's
//     messages, Transcript/all(m: …) is NOT EXISTS of a line that fails the
//     condition (true for a session without messages, as OData says), and
//     Transcript/any() asks whether there is any line.

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

// lambdaSQL are the collection navigations any/all compile for.
var lambdaSQL = map[string]struct{ from, join string }{
	"Transcript": {from: "session_messages AS m", join: "m.session_id = s.id"},
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
	if _, ok := pathSQL[name]; !ok || s.kind != sessionSet {
		return 0, unsupported("the path %s is not supported in a filter", clip(name))
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
	if _, ok := lambdaSQL[l.Nav]; !ok || s.kind != sessionSet {
		return 0, unsupported("%s/%s is not supported in a filter", l.Nav, l.Op)
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

// pathKind is the kind of a navigation path of Sessions.
func pathKind(name string) Kind {
	nav, prop, _ := strings.Cut(name, "/")
	for _, n := range navs["Sessions"] {
		if n.Name == nav {
			t, _ := LookupSet(n.Target)
			if c, ok := t.Property(prop); ok {
				return KindOf(c.Type)
			}
		}
	}
	return KindNull
}

// lambda compiles any/all to a correlated EXISTS.
func (c *sqlCompiler) lambda(l Lambda) (string, error) {
	def := lambdaSQL[l.Nav]
	n, _ := func() (NavProp, bool) {
		for _, n := range navs["Sessions"] {
			if n.Name == l.Nav {
				return n, true
			}
		}
		return NavProp{}, false
	}()
	head := "SELECT 1 FROM " + def.from + " WHERE " + def.join
	if l.Pred == nil {
		return "EXISTS (" + head + ")", nil
	}
	target, _ := LookupSet(n.Target)
	kinds := make(map[string]Kind, len(target.Props))
	for _, p := range target.Props {
		kinds[p.Name] = KindOf(p.Type)
	}
	sub := &sqlCompiler{mysql: c.mysql, cols: target.columns, kinds: kinds, now: c.now, args: c.args}
	pred, err := sub.pred(l.Pred)
	c.args = sub.args
	if err != nil {
		return "", err
	}
	if l.Op == "all" {
		return "NOT EXISTS (" + head + " AND NOT COALESCE((" + pred + "), 0))", nil
	}
	return "EXISTS (" + head + " AND (" + pred + "))", nil
}
