package reports

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatTime renders an instant as RFC 3339 with its offset, with
// milliseconds only when the instant has any. Every surface uses it.
func FormatTime(t time.Time) string {
	var b [32]byte
	return string(AppendTime(b[:0], t))
}

// AppendTime appends FormatTime's text of t to b. Writers of many instants
// (a page of sessions holds four a row) use it without time.Format's
// layout interpretation, which was most of an instant's cost.
func AppendTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	_, off := t.Zone()
	if y < 0 || y > 9999 || off%60 != 0 {
		if t.Nanosecond()/int(time.Millisecond) == 0 {
			return t.AppendFormat(b, "2006-01-02T15:04:05Z07:00")
		}
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	h, mi, s := t.Clock()
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	b = two(two(b, y/100), y%100)
	b = two(append(b, '-'), int(mo))
	b = two(append(b, '-'), d)
	b = two(append(b, 'T'), h)
	b = two(append(b, ':'), mi)
	b = two(append(b, ':'), s)
	if ms := t.Nanosecond() / int(time.Millisecond); ms != 0 {
		b = two(append(b, '.', byte('0'+ms/100)), ms%100)
	}
	if off == 0 {
		return append(b, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = two(append(b, sign), off/3600)
	return two(append(b, ':'), off/60%60)
}

// Round rounds v half away from zero to d decimal places, as Excel's ROUND
// and a person do: 28.75 → 28.8, -28.75 → -28.8, 28.7499 → 28.7. It is the
// one rounding rule of every output (JSON, CSV, XLSX, OData, SessionDetails).
//
// The half is decided on the decimal value, not on its binary float: the
// engine computes 23/80·100 as 28.749999999999996, which math.Round(v·10)/10
// turns into 28.7. Round first reads v at 15 significant digits (what a
// float64 always holds exactly, and the precision Excel computes with), so
// the few units of binary error in the 16th-17th digit are dropped and
// 28.749999999999996 reads 28.7500000000000; that decimal is then rounded
// half away from zero digit by digit, and the result parsed back to the
// nearest float64 (28.8 prints as 28.8). For a ratio of two counts below
// 10^12 the 15-digit reading is the exact value, so the half is decided
// exactly; a value that differs from a half only beyond the 15th
// significant digit is taken as the half.
func Round(v float64, d int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	if r, ok := roundClear(v, d); ok {
		return r
	}
	return roundDecimal(v, d)
}

// roundClear is Round without text for the common case: a value below
// 10^8 units of the last kept decimal whose dropped part is not within
// 10^-6 units of a half. There the 15-digit reading cannot move the
// decision (it changes v by at most 5·10^-15 of itself, under 10^-6
// units), the kept digits are the integer n below or above v·10^d, and
// n / 10^d, one correctly rounded division, is the float64 nearest the
// decimal as roundDecimal's parse gives it. ok is false otherwise.
func roundClear(v float64, d int) (float64, bool) {
	if d < 0 || d > 6 {
		return 0, false
	}
	p := pow10[d]
	x := math.Abs(v) * p
	if x >= 1e8 {
		return 0, false
	}
	n := math.Floor(x)
	switch f := x - n; {
	case f > 0.5+1e-6:
		n++
	case f >= 0.5-1e-6:
		return 0, false // near a half: decide on the decimal digits
	}
	if n == 0 {
		return 0, true
	}
	return math.Copysign(n/p, v), true
}

var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6}

// roundDecimal is Round read on v's 15 significant decimal digits.
func roundDecimal(v float64, d int) float64 {
	// "-2.87500000000000e+01": sign, 15 digits, decimal exponent.
	s := strconv.FormatFloat(v, 'e', 14, 64)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, exp, _ := strings.Cut(s, "e")
	digits := mant[:1] + mant[2:] // 15 digits, the point after the first
	e, _ := strconv.Atoi(exp)
	keep := e + 1 + d // digits that stay: those left of the point, plus d
	if keep >= len(digits) {
		r, _ := strconv.ParseFloat(s, 64) // no digit to drop: the 15-digit value
		if neg {
			r = -r
		}
		return r
	}
	var n uint64
	if keep > 0 {
		n, _ = strconv.ParseUint(digits[:keep], 10, 64)
	}
	if keep >= 0 && digits[keep] >= '5' {
		n++ // half or more of the last kept unit: away from zero
	}
	r, _ := strconv.ParseFloat(strconv.FormatUint(n, 10)+"e"+strconv.Itoa(-d), 64)
	if neg && r != 0 {
		r = -r
	}
	return r
}
