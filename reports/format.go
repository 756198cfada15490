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
	if t.Nanosecond()/int(time.Millisecond) == 0 {
		return t.Format("2006-01-02T15:04:05Z07:00")
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
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
