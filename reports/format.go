package reports

import "time"

// FormatTime renders an instant as RFC 3339 with its offset, with
// milliseconds only when the instant has any. Every surface uses it.
func FormatTime(t time.Time) string {
	if t.Nanosecond()/int(time.Millisecond) == 0 {
		return t.Format("2006-01-02T15:04:05Z07:00")
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}
