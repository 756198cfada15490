package filter

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

type tokenKind int

const (
	tEOF tokenKind = iota
	tIdent
	tString
	tNumber
	tDateTime
	tDate
	tTime
	tGUID
	tLParen
	tRParen
	tComma
	tSlash
	tMinus
	tColon
	tAlias // @name: a parameter alias
	tOther
)

type token struct {
	kind tokenKind
	text string // identifiers, numbers, literals (strings unescaped)
	pos  int
}

var (
	guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	// A date-time with its offset. A raw "+" in a query string decodes to a
	// space, so "…T00:00:00 01:00" is read as "+01:00".
	dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?([Zz]|[+-]\d{2}:\d{2}| \d{2}:\d{2}\b)?`)
	dateRE     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
	timeRE     = regexp.MustCompile(`^\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?`)
	numberRE   = regexp.MustCompile(`^\d+(\.\d+)?([eE][+-]?\d+)?`)
	identRE    = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_]*`)
)

// lexer splits an expression into tokens.
type lexer struct {
	src    string
	pos    int
	target string
}

func (l *lexer) errorf(pos int, format string, args ...any) error {
	return apierror.Invalid(l.target, fmt.Sprintf("%s: %s (at position %d)", l.target, fmt.Sprintf(format, args...), pos+1))
}

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && (l.src[l.pos] == ' ' || l.src[l.pos] == '\t') {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	rest := l.src[l.pos:]
	c := rest[0]
	single := map[byte]tokenKind{'(': tLParen, ')': tRParen, ',': tComma, '/': tSlash, ':': tColon}
	if k, ok := single[c]; ok {
		l.pos++
		return token{kind: k, text: string(c), pos: start}, nil
	}
	if m := guidRE.FindString(rest); m != "" && !continuesWord(rest, len(m)) {
		l.pos += len(m)
		return token{kind: tGUID, text: strings.ToLower(m), pos: start}, nil
	}
	if c == '@' {
		if m := identRE.FindString(rest[1:]); m != "" && m[0] != '$' {
			l.pos += 1 + len(m)
			return token{kind: tAlias, text: "@" + m, pos: start}, nil
		}
	}
	switch {
	case c == '\'':
		return l.str()
	case c == '-' && len(rest) > 1 && isDigit(rest[1]):
		if m := numberRE.FindString(rest[1:]); m != "" {
			l.pos += 1 + len(m)
			return token{kind: tNumber, text: "-" + m, pos: start}, nil
		}
	case c == '-':
		l.pos++
		return token{kind: tMinus, text: "-", pos: start}, nil
	case isDigit(c):
		if m := dateTimeRE.FindString(rest); m != "" {
			l.pos += len(m)
			return token{kind: tDateTime, text: m, pos: start}, nil
		}
		if m := dateRE.FindString(rest); m != "" {
			l.pos += len(m)
			return token{kind: tDate, text: m, pos: start}, nil
		}
		if m := timeRE.FindString(rest); m != "" && strings.Contains(m, ":") {
			l.pos += len(m)
			return token{kind: tTime, text: m, pos: start}, nil
		}
		m := numberRE.FindString(rest)
		l.pos += len(m)
		return token{kind: tNumber, text: m, pos: start}, nil
	}
	if m := identRE.FindString(rest); m != "" {
		l.pos += len(m)
		return token{kind: tIdent, text: m, pos: start}, nil
	}
	r, size := utf8.DecodeRuneInString(rest)
	l.pos += max(size, 1)
	return token{kind: tOther, text: string(r), pos: start}, nil
}

// str reads a quoted string; a doubled quote is one quote.
func (l *lexer) str() (token, error) {
	start := l.pos
	var b strings.Builder
	i := l.pos + 1
	for {
		j := strings.IndexByte(l.src[i:], '\'')
		if j < 0 {
			return token{}, l.errorf(start, "unterminated string")
		}
		b.WriteString(l.src[i : i+j])
		i += j + 1
		if i < len(l.src) && l.src[i] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		break
	}
	l.pos = i
	if !utf8.ValidString(b.String()) {
		return token{}, l.errorf(start, "the string is not valid UTF-8")
	}
	return token{kind: tString, text: b.String(), pos: start}, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// continuesWord reports whether the character after a match keeps a word
// going (so "abcdef12-…x" is not a GUID followed by "x").
func continuesWord(s string, n int) bool {
	if n >= len(s) {
		return false
	}
	c := s[n]
	return c == '_' || c == '-' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}
