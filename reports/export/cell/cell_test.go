package cell_test

import (
	"testing"

	"github.com/chime-reports/chime-reports/reports/export/cell"
)

func TestNeutralise(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"=1+1", "'=1+1"},
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"+1+1", "'+1+1"},
		{"-2+3", "'-2+3"},
		{"\tx", "'\tx"},
		{"\r=1", "'\r=1"},
		{"=12", "'=12"}, // "=" always starts a formula, even before a number
		{"-12.5", "-12.5"},
		{"+3", "+3"},
		{"-.5", "-.5"},
		{"-1e5", "-1e5"},
		{"+2.5E-3", "+2.5E-3"},
		{"-Inf", "'-Inf"},     // strconv reads it, Excel does not
		{"-0x1p3", "'-0x1p3"}, // nor hexadecimal floats
		{"-1e", "'-1e"},
		{"-", "'-"},
		{"- list item", "'- list item"},
		{"a=1", "a=1"},
		{" =1", " =1"},
	}
	for _, c := range cases {
		if got := cell.Neutralise(c.in); got != c.want {
			t.Errorf("Neutralise(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
