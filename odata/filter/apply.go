package filter

import (
	"github.com/chime-reports/chime-reports/reports/query"
)

// MaxTransforms bounds the steps of one $apply.
const MaxTransforms = 16

// ParseApply parses an $apply pipeline of filter(…), groupby((…)[,
// aggregate(…)]) and aggregate(…) steps separated by "/". Other
// transformations (compute, topcount, expand, concat, …) are 501s.
func ParseApply(text string) ([]query.Transform, error) { return ParseApplyWith(text, nil) }

// ParseApplyWith parses an $apply pipeline whose filter expressions may
// use the request's parameter aliases.
func ParseApplyWith(text string, aliases map[string]string) ([]query.Transform, error) {
	p, err := newParser(text, "$apply")
	if err != nil {
		return nil, err
	}
	p.aliases = aliases
	var out []query.Transform
	for {
		if len(out) >= MaxTransforms {
			return nil, p.errorf("more than %d transformations", MaxTransforms)
		}
		t, err := p.transform(false)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if p.tok.kind == tEOF {
			return out, nil
		}
		if p.tok.kind != tSlash {
			return nil, p.unexpected()
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
}

// transform := filter(expr) | groupby((props)[, aggregate(…)]) | aggregate(…)
func (p *parser) transform(nested bool) (query.Transform, error) {
	if p.tok.kind != tIdent {
		return query.Transform{}, p.errorf("a transformation was expected")
	}
	name := p.tok.text
	if err := p.advance(); err != nil {
		return query.Transform{}, err
	}
	if p.tok.kind != tLParen {
		return query.Transform{}, p.errorf("%s needs (", clip(name))
	}
	if err := p.advance(); err != nil {
		return query.Transform{}, err
	}
	var t query.Transform
	switch {
	case name == "filter" && !nested:
		x, err := p.expr()
		if err != nil {
			return t, err
		}
		t.Filter = x
	case name == "groupby" && !nested:
		props, err := p.propList()
		if err != nil {
			return t, err
		}
		t.Grouped, t.GroupBy = true, props
		if p.tok.kind == tComma {
			if err := p.advance(); err != nil {
				return t, err
			}
			inner, err := p.transform(true)
			if err != nil {
				return t, err
			}
			t.Aggregates = inner.Aggregates
		}
	case name == "aggregate":
		for {
			a, err := p.aggregate()
			if err != nil {
				return t, err
			}
			t.Aggregates = append(t.Aggregates, a)
			if p.tok.kind != tComma {
				break
			}
			if err := p.advance(); err != nil {
				return t, err
			}
		}
	case contains([]string{"filter", "groupby", "compute", "topcount", "topsum", "toppercent", "bottomcount", "bottomsum",
		"bottompercent", "concat", "expand", "search", "identity", "nest", "join", "outerjoin", "orderby", "skip", "top", "ancestors", "descendants", "traverse"}, name):
		return t, p.unsupported("the %s transformation here", name)
	default:
		return t, p.errorf("unknown transformation %q", clip(name))
	}
	if p.tok.kind != tRParen {
		return t, p.errorf("missing ) after %s", name)
	}
	return t, p.advance()
}

// propList := "(" prop ("," prop)* ")"
func (p *parser) propList() ([]string, error) {
	if p.tok.kind != tLParen {
		return nil, p.errorf("groupby needs a parenthesised list of properties")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var out []string
	for {
		if p.tok.kind != tIdent || contains(keywords, p.tok.text) {
			return nil, p.errorf("a property name was expected")
		}
		name := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tSlash || p.tok.kind == tLParen {
			return nil, p.unsupported("grouping by paths or expressions")
		}
		if err := p.node(); err != nil {
			return nil, err
		}
		out = append(out, name)
		switch p.tok.kind {
		case tComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		case tRParen:
			return out, p.advance()
		}
		return nil, p.errorf("expected , or ) in the groupby list")
	}
}

// aggregate := prop "with" method "as" alias | "$count" "as" alias
func (p *parser) aggregate() (query.Aggregate, error) {
	var a query.Aggregate
	if p.tok.kind != tIdent {
		return a, p.errorf("an aggregate expression was expected")
	}
	first := p.tok.text
	if err := p.advance(); err != nil {
		return a, err
	}
	if p.tok.kind == tLParen || p.tok.kind == tSlash {
		return a, p.unsupported("aggregating expressions or paths")
	}
	if first == "$count" {
		a.Method = "count"
	} else {
		a.Prop = first
		if !p.isWord("with") {
			if p.isWord("as") {
				return a, p.unsupported("custom aggregates (%s as …)", clip(first))
			}
			return a, p.errorf("expected with after %s", clip(first))
		}
		if err := p.advance(); err != nil {
			return a, err
		}
		if p.tok.kind != tIdent {
			return a, p.errorf("an aggregation method was expected")
		}
		a.Method = p.tok.text
		if !contains([]string{"sum", "min", "max", "average", "countdistinct"}, a.Method) {
			return a, p.unsupported("the aggregation method %s", clip(a.Method))
		}
		if err := p.advance(); err != nil {
			return a, err
		}
	}
	if !p.isWord("as") {
		return a, p.errorf("expected as and an alias")
	}
	if err := p.advance(); err != nil {
		return a, err
	}
	if p.tok.kind != tIdent || p.tok.text[0] == '$' || contains(keywords, p.tok.text) {
		return a, p.errorf("an alias was expected")
	}
	a.As = p.tok.text
	if err := p.node(); err != nil {
		return a, err
	}
	return a, p.advance()
}
