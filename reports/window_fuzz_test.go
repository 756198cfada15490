package reports

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

// invalidParameter fails t unless err is a 400 about target.
func invalidParameter(t *testing.T, err error, targets ...string) {
	t.Helper()
	var ae *apierror.Error
	if !errors.As(err, &ae) || ae.Code != apierror.InvalidParameter || ae.Status() != 400 {
		t.Fatalf("not a 400 InvalidParameter: %#v", err)
	}
	for _, target := range targets {
		if ae.Target == target {
			return
		}
	}
	t.Fatalf("target %q, want one of %q (%s)", ae.Target, targets, ae.Message)
}

// FuzzParseZone: for any name, ParseZone never panics; it either refuses
// the name with a 400 about zone or returns the zone of that name — never
// the server's local zone and never a file named by a path.
func FuzzParseZone(f *testing.F) {
	for _, s := range []string{
		"", "UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Local", "/etc/passwd",
		"America/../../etc/passwd", "America/New_York\x00", "../zoneinfo", "Etc/GMT+5", "america/new_york",
		"EST5EDT", "posixrules", "America/", ".", "%2e%2e", strings.Repeat("A/", 40),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		loc, err := ParseZone(name)
		if err != nil {
			invalidParameter(t, err, "zone")
			return
		}
		if loc == nil {
			t.Fatal("nil zone without error")
		}
		switch {
		case name == "":
			if loc != time.UTC {
				t.Fatalf("empty name gave %s, want UTC", loc)
			}
		case name == "Local" || loc == time.Local:
			t.Fatalf("%q gave the server's local zone", name)
		case strings.HasPrefix(name, "/") || strings.Contains(name, ".."):
			t.Fatalf("path %q accepted as a zone", name)
		case loc.String() != name:
			t.Fatalf("%q gave zone %q", name, loc)
		}
	})
}

// FuzzParseWindow: for any start, stop, zone, limit and clock, ParseWindow
// never panics; an error is a 400 about start or stop; a window is a
// non-empty UTC interval no longer than the limit, and its local days and
// hours tile it exactly.
func FuzzParseWindow(f *testing.F) {
	now := time.Date(2024, 11, 4, 12, 0, 0, 0, time.UTC).Unix()
	for _, c := range []struct{ start, stop, zone string }{
		{"2020-11-01T04:00:00.000Z", "2020-12-01T04:59:59.999Z", "America/New_York"},
		{"2024-03-01", "2024-03-03", "America/New_York"},
		{"2024-03-10T02:30", "2024-03-10T03:00:00", "America/New_York"},
		{"2024-11-03T01:30", "2024-11-03T01:30:00.5", "America/New_York"},
		{"2024-03-01T08:00:00 02:00", "2024-03-01T09:00:00+02:00", "Asia/Kolkata"},
		{"", "", "Europe/London"},
		{"", "2024-03-10", "UTC"},
		{"2024-03-10", "", "UTC"},
		{"2023-02-29", "2023-03-01", "UTC"},
		{"0000-01-01", "9999-12-31T24:00", "UTC"},
		{"1970-01-01", "1970-01-01T00:00:00.000000001Z", "Pacific/Kiritimati"},
		{"9998-12-31", "9998-12-31", "Pacific/Kiritimati"},
		{"1970-01-01T00:00+14:00", "1970-01-02", "Pacific/Pago_Pago"},
		{"2024-13-01", "2024-01-32", "UTC"},
		{"2020-11-01T04:00:00.000Z' OR 1=1--", "2020-12-01", "UTC"},
	} {
		f.Add(c.start, c.stop, c.zone, 0, now)
		f.Add(c.start, c.stop, c.zone, 1, int64(0))
	}
	f.Fuzz(func(t *testing.T, start, stop, zoneName string, maxDays int, nowUnix int64) {
		loc, err := ParseZone(zoneName)
		if err != nil {
			return // FuzzParseZone's business
		}
		// A clock anywhere in the years the service accepts.
		const lo, hi = 0, 253370764800 // 1970-01-01 .. 9998-12-31
		if nowUnix < lo || nowUnix > hi {
			nowUnix = lo + (nowUnix%hi+hi)%hi
		}
		maxDays %= 1000
		spec := WindowSpec{Start: start, Stop: stop, Zone: loc, Now: time.Unix(nowUnix, 0), MaxDays: maxDays}
		w, err := ParseWindow(spec)
		if err != nil {
			invalidParameter(t, err, "start", "stop")
			return
		}
		if maxDays <= 0 {
			maxDays = DefaultMaxDays
		}
		if !w.Start.Before(w.Stop) {
			t.Fatalf("empty window %s .. %s", w.Start, w.Stop)
		}
		if w.Start.Location() != time.UTC || w.Stop.Location() != time.UTC || w.Zone != loc {
			t.Fatalf("window not in UTC or wrong zone: %v %v %v", w.Start.Location(), w.Stop.Location(), w.Zone)
		}
		// maxDays local days last at most maxDays×24 h plus one DST hour
		// (a zone may also jump by a day, as Samoa did: allow one more).
		if l := w.Stop.Sub(w.Start); l > time.Duration(maxDays+1)*24*time.Hour {
			t.Fatalf("window of %s is longer than %d days", l, maxDays)
		}
		if y := w.Start.Year(); y < 1969 || y > 9999 {
			t.Fatalf("start year %d", y)
		}
		for _, b := range [][]Bucket{w.Days(), w.Hours()} {
			if len(b) == 0 || !b[0].Start.Equal(w.Start) || !b[len(b)-1].End.Equal(w.Stop) {
				t.Fatalf("buckets do not cover %s .. %s", w.Start, w.Stop)
			}
			for i := range b {
				if !b[i].Start.Before(b[i].End) || (i > 0 && !b[i].Start.Equal(b[i-1].End)) {
					t.Fatalf("bucket %d: %s .. %s", i, b[i].Start, b[i].End)
				}
			}
		}
	})
}
