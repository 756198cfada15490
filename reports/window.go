package reports

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // every IANA zone, even on hosts without a tz database

	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/civil"
)

// Window is a report window: the half-open UTC interval [Start, Stop) and
// the zone its local buckets are computed in. A user's inclusive stop
// (…04:59:59.999Z) is stored as Stop = stop + 1 ms.
type Window struct {
	Start, Stop time.Time
	Zone        *time.Location
}

// DefaultMaxDays is the largest window accepted unless configured otherwise.
const DefaultMaxDays = 400

// DefaultDays is the length of the window when a request names none: the
// last 30 local days, today included.
const DefaultDays = 30

// ParseZone loads an IANA zone name; "" means UTC.
func ParseZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	// time.LoadLocation also accepts "Local" and file-system paths; neither
	// is a zone a client may name.
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") || len(name) > 64 {
		return nil, apierror.Invalid("zone", fmt.Sprintf("zone: unknown time zone %q (use an IANA name such as America/New_York)", clip(name)))
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, apierror.Invalid("zone", fmt.Sprintf("zone: unknown time zone %q (use an IANA name such as America/New_York)", clip(name)))
	}
	return loc, nil
}

// WindowSpec is the raw window of a request.
type WindowSpec struct {
	Start, Stop string // ISO-8601; "" = default
	Zone        *time.Location
	Now         time.Time
	MaxDays     int // 0 = DefaultMaxDays
}

// ParseWindow applies the window rules of docs/api.md: start inclusive; stop
// inclusive to the millisecond; a date-only value is local midnight in the
// zone, and a date-only stop means the whole of that local day; a value
// without offset is wall time in the zone; no window means the last 30
// local days, today included; start after stop and windows longer than
// MaxDays are 400s.
func ParseWindow(s WindowSpec) (Window, error) {
	loc := s.Zone
	if loc == nil {
		loc = time.UTC
	}
	maxDays := s.MaxDays
	if maxDays <= 0 {
		maxDays = DefaultMaxDays
	}
	endOfToday := EndOfDay(s.Now, loc)

	var (
		w                 = Window{Zone: loc}
		start, stop       time.Time
		stopDateOnly      bool
		hasStart, hasStop = s.Start != "", s.Stop != ""
		err               error
	)
	if hasStart {
		if start, _, err = parseInstant(s.Start, loc); err != nil {
			return Window{}, apierror.Invalid("start", "start: "+err.Error())
		}
	}
	if hasStop {
		if stop, stopDateOnly, err = parseInstant(s.Stop, loc); err != nil {
			return Window{}, apierror.Invalid("stop", "stop: "+err.Error())
		}
	}
	switch {
	case !hasStop:
		w.Stop = endOfToday
	case stopDateOnly:
		d, _ := time.Parse(time.DateOnly, s.Stop) // parseInstant accepted it
		w.Stop = LocalMidnight(d.Year(), d.Month(), d.Day()+1, loc)
	default:
		w.Stop = stop.Add(time.Millisecond)
	}
	if hasStart {
		w.Start = start
	} else {
		w.Start = DefaultStart(w.Stop, loc)
	}
	if !w.Start.Before(w.Stop) {
		return Window{}, apierror.Invalid("start", fmt.Sprintf("start (%s) is after stop (%s)",
			w.Start.In(loc).Format(time.RFC3339Nano), w.Stop.Add(-time.Millisecond).In(loc).Format(time.RFC3339Nano)))
	}
	if TooLong(w.Start, w.Stop, loc, maxDays) {
		return Window{}, apierror.Invalid("stop", fmt.Sprintf("the window is longer than %d days; split the request", maxDays))
	}
	w.Start, w.Stop = w.Start.UTC(), w.Stop.UTC()
	return w, nil
}

var (
	dateOnlyRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	// A raw "+" in a query string decodes to a space; put it back.
	spaceOffsetRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T[0-9:.]+) (\d{2}:\d{2})$`)
	instantRE     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?$`) // time.Parse also takes +24:00
)

// parseInstant reads one ISO-8601 value. Without an offset the value is
// wall time in loc, resolved by WallTime: a wall time skipped by a
// transition moves forward by the gap, a repeated one takes the first
// occurrence.
func parseInstant(v string, loc *time.Location) (t time.Time, dateOnly bool, err error) {
	if m := spaceOffsetRE.FindStringSubmatch(v); m != nil {
		v = m[1] + "+" + m[2]
	}
	bad := fmt.Errorf("not an ISO-8601 time: '%s' (use 2020-11-01, 2020-11-01T04:00:00, …Z or …+02:00)", clip(v))
	if dateOnlyRE.MatchString(v) {
		d, err := time.Parse("2006-01-02", v) // validates the calendar date
		if err != nil {
			return time.Time{}, false, bad
		}
		return checkYear(LocalMidnight(d.Year(), d.Month(), d.Day(), loc), true)
	}
	if !instantRE.MatchString(v) {
		return time.Time{}, false, bad
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return checkYear(t, false)
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04"} {
		// Parsed as UTC only to read the wall clock's fields.
		if w, err := time.Parse(layout, v); err == nil {
			return checkYear(WallTime(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc), false)
		}
	}
	return time.Time{}, false, bad
}

// WallTime is the instant at which the wall clock of loc shows the given
// date and time: a skipped wall time moves forward by the gap, a repeated
// one is its first occurrence (civil.WallTime). Every local time a window
// or bucket is built from goes through here.
func WallTime(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	return civil.WallTime(year, month, day, hour, min, sec, nsec, loc)
}

// LocalMidnight is the start of a local calendar day (civil.LocalMidnight).
func LocalMidnight(year int, month time.Month, day int, loc *time.Location) time.Time {
	return civil.LocalMidnight(year, month, day, loc)
}

func checkYear(t time.Time, dateOnly bool) (time.Time, bool, error) {
	if y := t.Year(); y < 1970 || y > 9998 {
		return time.Time{}, false, fmt.Errorf("year %d is out of range (1970–9998)", y)
	}
	return t, dateOnly, nil
}

// clip shortens user text quoted back in an error message.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// Bucket is one time bucket of a window: the UTC interval [Start, End),
// clipped to the window, and Label, the unclipped local start (local
// midnight for days, the local hour with its offset for hours).
type Bucket struct {
	Start, End time.Time
	Label      time.Time
}

// Days splits the window into local days: each runs from local midnight to
// the next local midnight (23, 24 or 25 hours), the first and last clipped
// to the window.
func (w Window) Days() []Bucket {
	var out []Bucket
	l := w.Start.In(w.Zone)
	for d := LocalMidnight(l.Year(), l.Month(), l.Day(), w.Zone); d.Before(w.Stop); {
		next := LocalMidnight(d.Year(), d.Month(), d.Day()+1, w.Zone)
		if b, e := maxTime(d, w.Start), minTime(next, w.Stop); b.Before(e) { // a fall-back at midnight can leave a day empty
			out = append(out, Bucket{Start: b.UTC(), End: e.UTC(), Label: d})
		}
		d = next
	}
	return out
}

// Hours splits the window into hours stepping by one UTC hour, so a
// fall-back day has two distinct 01:00 buckets (-04:00 and -05:00) and a
// spring-forward day has none for the skipped hour. Labels carry the local
// time and its offset. Zones with half-hour offsets keep local hours
// aligned: each bucket starts at a local full hour.
func (w Window) Hours() []Bucket {
	var out []Bucket
	l := w.Start.In(w.Zone)
	h := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), 0, 0, 0, w.Zone)
	if h.After(w.Start) { // a repeated hour resolved to its first occurrence
		h = h.Add(-time.Hour)
	}
	for h.Before(w.Stop) {
		next := h.Add(time.Hour)
		out = append(out, Bucket{Start: maxTime(h, w.Start).UTC(), End: minTime(next, w.Stop).UTC(), Label: h.In(w.Zone)})
		h = next
	}
	return out
}

// Locate returns the index of the bucket holding t, or -1.
func Locate(b []Bucket, t time.Time) int {
	i := sort.Search(len(b), func(i int) bool { return b[i].End.After(t) })
	if i < len(b) && !t.Before(b[i].Start) {
		return i
	}
	return -1
}

// LastInstant is the window's inclusive end as a request states it: the
// last millisecond before Stop (…T23:59:59.999-05:00 for a window that
// ends with a local day). Every echo of a window (the JSON envelope, the
// workbook's About sheet, file names) shows this, never the exclusive Stop.
func (w Window) LastInstant() time.Time { return w.Stop.Add(-time.Millisecond) }

// Contains reports whether t is inside the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.Stop) }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
