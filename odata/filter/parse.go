package filter

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/query"
)

// Limits on one expression.
const (
	MaxLength = 16 << 10 // bytes of decoded text
	MaxDepth  = 48       // nesting of parentheses, calls and operators
	MaxNodes  = 2000     // literals, properties, operators and calls
)

// Parse parses a $filter expression.
func Parse(text string) (query.Expr, error) { return ParseWith(text, nil) }

// ParseWith parses a $filter expression whose parameter aliases ("@p")
// take their values from aliases (the request's "@p=…" options).
func ParseWith(text string, aliases map[string]string) (query.Expr, error) {
	p, err := newParser(text, "$filter")
	if err != nil {
		return nil, err
	}
	p.aliases = aliases
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected()
	}
	return x, nil
}

type parser struct {
	lex   lexer
	tok   token
	depth int
	nodes int
	// aliases are the parameter aliases of the request (@p=value), and
	// shared counts the nodes of every parser of one expression, aliases
	// included, so that an alias used many times stays within MaxNodes.
	aliases map[string]string
	shared  *int
	using   map[string]bool // aliases being expanded (a cycle is a 400)
	// lambdaVar is the variable of the any/all being parsed ("" outside).
	lambdaVar string
}

func newParser(text, target string) (*parser, error) {
	if len(text) > MaxLength {
		return nil, apierror.Invalid(target, fmt.Sprintf("%s is longer than %d bytes", target, MaxLength))
	}
	if strings.TrimSpace(text) == "" {
		return nil, apierror.Invalid(target, target+" is empty")
	}
	p := &parser{lex: lexer{src: text, target: target}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(format string, args ...any) error {
	return p.lex.errorf(p.tok.pos, format, args...)
}

func (p *parser) unsupported(format string, args ...any) error {
	return &apierror.Error{Code: apierror.NotImplemented, Target: p.lex.target,
		Message: fmt.Sprintf("%s: %s is not supported", p.lex.target, fmt.Sprintf(format, args...))}
}

func (p *parser) unexpected() error {
	if p.tok.kind == tEOF {
		return p.errorf("unexpected end of expression")
	}
	return p.errorf("unexpected %q", clip(p.tok.text))
}

func (p *parser) node() error {
	p.nodes++
	if p.shared != nil {
		*p.shared++
		if *p.shared > MaxNodes {
			return p.errorf("the expression has more than %d terms", MaxNodes)
		}
	}
	if p.nodes > MaxNodes {
		return p.errorf("the expression has more than %d terms", MaxNodes)
	}
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf("the expression is nested more than %d levels deep", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) isWord(w string) bool { return p.tok.kind == tIdent && p.tok.text == w }

// expr := and ("or" and)*
func (p *parser) expr() (query.Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.binaryLevel(p.and, "or")
}

func (p *parser) and() (query.Expr, error) { return p.binaryLevel(p.not, "and") }

// binaryLevel parses operand (op operand)* for left-associative operators.
func (p *parser) binaryLevel(operand func() (query.Expr, error), ops ...string) (query.Expr, error) {
	x, err := operand()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tIdent && contains(ops, p.tok.text) {
		op := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.node(); err != nil {
			return nil, err
		}
		y, err := operand()
		if err != nil {
			return nil, err
		}
		x = query.Binary{Op: op, L: x, R: y}
	}
	return x, nil
}

// not := "not" not | equality
func (p *parser) not() (query.Expr, error) {
	if p.isWord("not") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return query.Unary{Op: "not", X: x}, nil
	}
	return p.equality()
}

func (p *parser) equality() (query.Expr, error) {
	x, err := p.binaryLevel(p.relational, "eq", "ne")
	if err != nil {
		return nil, err
	}
	if p.isWord("has") {
		return nil, p.unsupported("the has operator")
	}
	return x, nil
}

// relational := additive (("lt"|"le"|"gt"|"ge") additive | "in" list)*
func (p *parser) relational() (query.Expr, error) {
	x, err := p.binaryLevel(p.additive, "lt", "le", "gt", "ge")
	if err != nil {
		return nil, err
	}
	for p.isWord("in") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tLParen {
			return nil, p.errorf("in needs a parenthesised list")
		}
		list, err := p.args()
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return nil, p.errorf("in needs at least one value")
		}
		x = query.In{X: x, List: list}
	}
	if p.isWord("isof") {
		return nil, p.unsupported("isof")
	}
	return x, nil
}

func (p *parser) additive() (query.Expr, error) {
	return p.binaryLevel(p.multiplicative, "add", "sub")
}

func (p *parser) multiplicative() (query.Expr, error) {
	x, err := p.binaryLevel(p.unary, "mul", "div", "mod")
	if err != nil {
		return nil, err
	}
	if p.isWord("divby") {
		return nil, p.unsupported("divby")
	}
	return x, nil
}

// unary := "-" unary | primary
func (p *parser) unary() (query.Expr, error) {
	if p.tok.kind == tMinus {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return query.Unary{Op: "-", X: x}, nil
	}
	return p.primary()
}

var keywords = []string{"and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "div", "mod", "in", "has", "divby", "isof"}

func (p *parser) primary() (query.Expr, error) {
	if err := p.node(); err != nil {
		return nil, err
	}
	t := p.tok
	switch t.kind {
	case tLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.errorf("missing )")
		}
		return x, p.advance()
	case tString:
		return query.Lit{Kind: query.KindString, V: t.text}, p.advance()
	case tNumber:
		lit, err := p.number(t.text)
		if err != nil {
			return nil, err
		}
		return lit, p.advance()
	case tDateTime:
		v, err := p.dateTime(t.text)
		if err != nil {
			return nil, err
		}
		return query.Lit{Kind: query.KindDateTime, V: v}, p.advance()
	case tDate:
		v, err := time.Parse(time.DateOnly, t.text)
		if err != nil {
			return nil, p.errorf("not a date: %q", t.text)
		}
		return query.Lit{Kind: query.KindDate, V: v}, p.advance()
	case tTime:
		return nil, p.unsupported("a time-of-day literal (%s)", t.text)
	case tGUID:
		return query.Lit{Kind: query.KindGUID, V: t.text}, p.advance()
	case tIdent:
		return p.ident()
	case tAlias:
		x, err := p.alias(t.text)
		if err != nil {
			return nil, err
		}
		return x, p.advance()
	case tEOF:
		return nil, p.errorf("unexpected end of expression")
	}
	return nil, p.unexpected()
}

// alias expands a parameter alias: its value is parsed as an expression
// of its own (OData: "@p" with "&@p=value"); an alias without a value is
// null. Aliases may use other aliases, but not themselves.
func (p *parser) alias(name string) (query.Expr, error) {
	text, ok := p.aliases[name]
	if !ok {
		return query.Lit{Kind: query.KindNull}, nil
	}
	if p.using[name] {
		return nil, p.errorf("the parameter alias %s refers to itself", clip(name))
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	sub, err := newParser(text, p.lex.target+" ("+clip(name)+")")
	if err != nil {
		return nil, err
	}
	if p.shared == nil {
		n := p.nodes
		p.shared = &n
	}
	sub.aliases, sub.shared, sub.depth = p.aliases, p.shared, p.depth
	sub.using = map[string]bool{name: true}
	for k := range p.using {
		sub.using[k] = true
	}
	x, err := sub.expr()
	if err != nil {
		return nil, err
	}
	if sub.tok.kind != tEOF {
		return nil, sub.unexpected()
	}
	return x, nil
}

func (p *parser) ident() (query.Expr, error) {
	t := p.tok
	switch t.text {
	case "null":
		return query.Lit{Kind: query.KindNull}, p.advance()
	case "true", "false":
		return query.Lit{Kind: query.KindBool, V: t.text == "true"}, p.advance()
	case "INF", "NaN":
		return nil, p.unsupported("the %s literal", t.text)
	case "$it", "$root", "$this":
		return nil, p.unsupported("%s", t.text)
	case "isof", "cast":
		return nil, p.unsupported("%s", t.text)
	}
	if contains(keywords, t.text) {
		return nil, p.errorf("a value was expected before %q", t.text)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tString && p.tok.pos == t.pos+len(t.text) {
		return p.typed(t.text, p.tok.text)
	}
	if p.lambdaVar != "" && t.text == p.lambdaVar && p.tok.kind != tSlash {
		return nil, p.unsupported("the lambda variable %s alone (write %s/Property)", clip(t.text), clip(t.text))
	}
	if p.lambdaVar != "" && t.text != p.lambdaVar && p.tok.kind != tLParen {
		return nil, p.unsupported("a property of the outer entity inside any/all (%s); write %s/Property", clip(t.text), p.lambdaVar)
	}
	switch p.tok.kind {
	case tLParen:
		return p.call(t.text)
	case tSlash:
		if p.isLambda() {
			return p.lambda(t.text)
		}
		return p.path(t.text)
	case tOther:
		if p.tok.text == "." {
			return nil, p.unsupported("qualified names (%s.…)", clip(t.text))
		}
	}
	return query.Prop{Name: t.text}, nil
}

// path reads Nav/Prop (or v/Prop inside a lambda, for the variable v);
// deeper paths are 501s.
func (p *parser) path(first string) (query.Expr, error) {
	if err := p.advance(); err != nil { // /
		return nil, err
	}
	if p.tok.kind != tIdent {
		return nil, p.errorf("a property name was expected after %s/", clip(first))
	}
	name := p.tok.text
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tSlash || p.tok.kind == tLParen {
		return nil, p.unsupported("paths deeper than Navigation/Property (%s/%s/…)", clip(first), clip(name))
	}
	if p.lambdaVar != "" && first == p.lambdaVar {
		return query.Prop{Name: name}, nil
	}
	if p.lambdaVar != "" {
		return nil, p.unsupported("a property of the outer entity inside any/all (%s); write %s/Property", clip(first), p.lambdaVar)
	}
	return query.Prop{Name: first + "/" + name}, nil
}

// lambda reads Nav/any(v: expr), Nav/all(v: expr) or Nav/any().
func (p *parser) lambda(nav string) (query.Expr, error) {
	if p.lambdaVar != "" {
		return nil, p.unsupported("any/all inside any/all")
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil { // /
		return nil, err
	}
	op := p.tok.text
	if err := p.advance(); err != nil { // any | all
		return nil, err
	}
	if err := p.advance(); err != nil { // (
		return nil, err
	}
	l := query.Lambda{Nav: nav, Op: op}
	if p.tok.kind == tRParen {
		return l, p.advance()
	}
	if p.tok.kind != tIdent {
		return nil, p.errorf("%s needs a variable: %s/%s(x: …)", op, clip(nav), op)
	}
	v := p.tok.text
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tColon {
		return nil, p.errorf("expected : after the variable of %s", op)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	p.lambdaVar = v
	x, err := p.expr()
	p.lambdaVar = ""
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tRParen {
		return nil, p.errorf("missing ) after the condition of %s", op)
	}
	l.Pred = x
	return l, p.advance()
}

func (p *parser) isLambda() bool {
	rest := p.lex.src[p.lex.pos:]
	return strings.HasPrefix(rest, "any(") || strings.HasPrefix(rest, "all(")
}

// typed reads a prefixed literal such as duration'P1D'.
func (p *parser) typed(prefix, body string) (query.Expr, error) {
	switch strings.ToLower(prefix) {
	case "duration":
		d, err := parseDuration(body)
		if err != nil {
			return nil, p.errorf("not a duration: %q", clip(body))
		}
		return query.Lit{Kind: query.KindDuration, V: d}, p.advance()
	case "datetime", "datetimeoffset", "guid", "time", "binary", "x":
		return nil, p.unsupported("the OData v2/v3 literal form %s'…'", prefix)
	}
	return nil, p.unsupported("typed literals (%s'…')", clip(prefix))
}

func (p *parser) call(name string) (query.Expr, error) {
	if _, ok := query.Functions[name]; !ok {
		if strings.ContainsAny(name, ".") || name == "any" || name == "all" {
			return nil, p.unsupported("%s", clip(name))
		}
		return nil, p.unsupported("the function %s", clip(name))
	}
	args, err := p.args()
	if err != nil {
		return nil, err
	}
	return query.Call{Func: name, Args: args}, nil
}

// args := "(" [expr ("," expr)*] ")"
func (p *parser) args() ([]query.Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil { // (
		return nil, err
	}
	var out []query.Expr
	if p.tok.kind == tRParen {
		return out, p.advance()
	}
	for {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		out = append(out, x)
		switch p.tok.kind {
		case tComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		case tRParen:
			return out, p.advance()
		}
		return nil, p.errorf("expected , or ) in a list")
	}
}

func (p *parser) number(text string) (query.Expr, error) {
	if !strings.ContainsAny(text, ".eE") {
		n, err := strconv.ParseInt(text, 10, 64)
		if err == nil {
			return query.Lit{Kind: query.KindInt, V: n}, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, p.errorf("number out of range: %s", clip(text))
	}
	return query.Lit{Kind: query.KindFloat, V: f}, nil
}

func (p *parser) dateTime(text string) (time.Time, error) {
	s := text
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		s = s[:i] + "+" + s[i+1:]
	}
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	if !strings.HasSuffix(s, "Z") && !offsetRE.MatchString(s) {
		return time.Time{}, p.errorf("the date-time %s needs Z or an offset such as +01:00", clip(text))
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			// Both the written and the UTC year: MySQL refuses a
			// parameter outside 0001–9999 (a 503 instead of a 400).
			if y, u := t.Year(), t.UTC().Year(); y < 1 || y > 9999 || u < 1 || u > 9999 {
				break
			}
			return t, nil
		}
	}
	return time.Time{}, p.errorf("not a date-time: %s", clip(text))
}

var (
	offsetRE   = regexp.MustCompile(`[+-]([01]\d|2[0-3]):[0-5]\d$`) // Go's time.Parse also takes +24:00
	durationRE = regexp.MustCompile(`^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
)

// parseDuration reads the day-time durations of OData (P1DT2H3M4.5S).
func parseDuration(s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "-P" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("bad duration")
	}
	var total float64
	for i, unit := range []float64{86400, 3600, 60, 1} {
		if m[i+2] == "" {
			continue
		}
		v, err := strconv.ParseFloat(m[i+2], 64)
		if err != nil {
			return 0, err
		}
		total += v * unit
	}
	if total > float64(math.MaxInt64/int64(time.Second)) {
		return 0, fmt.Errorf("duration out of range")
	}
	d := time.Duration(total * float64(time.Second))
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// clip shortens user text quoted back in an error message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
