package reports

import (
	"math"
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

// Round rounds v half away from zero to d decimal places: the one rounding
// rule of every output (REPORTS.md "Output values").
func Round(v float64, d int) float64 {
	p := math.Pow10(d)
	return math.Round(v*p) / p
}
