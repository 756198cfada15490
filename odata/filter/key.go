package filter

import (
	"github.com/chime-reports/chime-reports/reports/query"
)

// KeyPart is one value of a key predicate: Name is empty for the short
// form Set(1) of a single-property key.
type KeyPart struct {
	Name  string
	Value query.Lit
}

// MaxKeyParts bounds the properties of one key predicate.
const MaxKeyParts = 8

// ParseKey parses the inside of a key predicate: a single literal
// ("1", "'vpn'") or name=literal pairs separated by commas
// ("QueueId=1,PeriodStart=2024-11-03T00:00:00Z"). A value that is not a
// literal ("abc") is a 400. A parameter alias ("@k") takes its value
// from aliases, as in $filter.
func ParseKey(text string, aliases map[string]string) ([]KeyPart, error) {
	p, err := newParser(text, "key")
	if err != nil {
		return nil, err
	}
	p.aliases = aliases
	var out []KeyPart
	for {
		if len(out) >= MaxKeyParts {
			return nil, p.errorf("more than %d key properties", MaxKeyParts)
		}
		var part KeyPart
		src := p.lex.src
		if p.tok.kind == tIdent && p.lex.pos < len(src) && src[p.lex.pos] == '=' {
			part.Name = p.tok.text
			if err := p.advance(); err != nil { // =
				return nil, err
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		lit, ok := x.(query.Lit)
		if !ok {
			return nil, p.lex.errorf(0, "a key value must be a literal such as 1 or 'text' (or name=literal for a composite key)")
		}
		if lit.V == nil {
			return nil, p.lex.errorf(0, "a key value cannot be null")
		}
		part.Value = lit
		out = append(out, part)
		switch p.tok.kind {
		case tEOF:
			if len(out) > 1 {
				for _, k := range out {
					if k.Name == "" {
						return nil, p.lex.errorf(0, "every value of a composite key needs its property name (Name=value)")
					}
				}
			}
			return out, nil
		case tComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
		default:
			return nil, p.unexpected()
		}
	}
}
