package cell

import "strings"

// NeutraliseCSV defuses a CSV text cell for every reader, whichever of
// comma, semicolon or tab it splits lines on (most of Europe opens CSV with
// ";"), and wherever a quoted line break lands: the cell is neutralised as
// a whole (Neutralise), and then every piece that a reader splitting on
// another separator, or starting a new line at an embedded line break,
// would see as a cell of its own gets the same leading apostrophe when it
// would start a formula. A piece is what follows a ',', ';', tab, CR or LF,
// after any spaces and double quotes; it is defused when it starts with
// = or @, or with + or - unless it is a plain decimal number.
func NeutraliseCSV(s string) string {
	s = Neutralise(s)
	if !strings.ContainsAny(s, ",;\t\r\n") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if !isPieceBreak(s[i]) {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '"') {
			j++
		}
		if j < len(s) && startsFormula(s[j:]) {
			b.WriteString(s[last:j])
			b.WriteByte('\'')
			last = j
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isPieceBreak(c byte) bool {
	return c == ',' || c == ';' || c == '\t' || c == '\r' || c == '\n'
}

// startsFormula reports whether a piece would be read as a formula.
func startsFormula(p string) bool {
	switch p[0] {
	case '=', '@':
		return true
	case '+', '-':
		end := strings.IndexAny(p, ",;\t\r\n\" ")
		if end < 0 {
			end = len(p)
		}
		return !plainNumber(p[:end])
	}
	return false
}
