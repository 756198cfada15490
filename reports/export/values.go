package export

import (
	"fmt"
	"strconv"
	"time"

	"github.com/chime-reports/chime-reports/reports"
)

// Round rounds v half away from zero to d decimal places (reports.Round).
func Round(v float64, d int) float64 { return reports.Round(v, d) }

// Text renders a non-nil value as the text of a CSV cell (JSON uses the
// same text for numbers, quoted for strings and times).
func Text(c reports.Column, v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		d := c.Decimals
		if c.Type == reports.Int {
			d = 0
		}
		return strconv.FormatFloat(Round(x, d), 'f', -1, 64)
	case time.Time:
		if c.Type == reports.Date {
			return x.Format(time.DateOnly)
		}
		return reports.FormatTime(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// numeric reports whether the column's JSON value is a number.
func numeric(t reports.ColumnType) bool {
	switch t {
	case reports.Int, reports.Seconds, reports.Pct, reports.Decimal:
		return true
	}
	return false
}
