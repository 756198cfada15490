package reports

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := ParseZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseWindow(t *testing.T) {
	now := time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)
	ny := mustZone(t, "America/New_York")
	cases := []struct {
		name        string
		start, stop string
		zone        *time.Location
		wantStart   string // UTC, RFC 3339 with ms
		wantStop    string // exclusive
	}{
		{"seed example, inclusive stop to the ms", "2020-11-01T04:00:00.000Z", "2020-12-01T04:59:59.999Z", ny,
			"2020-11-01T04:00:00.000Z", "2020-12-01T05:00:00.000Z"},
		{"date-only values are local days, stop inclusive of its whole day", "2024-03-01", "2024-03-03", ny,
			"2024-03-01T05:00:00.000Z", "2024-03-04T05:00:00.000Z"},
		{"date-only across spring forward: 10 March has 23 hours", "2024-03-10", "2024-03-10", ny,
			"2024-03-10T05:00:00.000Z", "2024-03-11T04:00:00.000Z"},
		{"no offset means wall time in zone", "2024-03-01T08:00", "2024-03-01T09:30:00", ny,
			"2024-03-01T13:00:00.000Z", "2024-03-01T14:30:00.001Z"},
		{"explicit offset wins over the zone", "2024-03-01T08:00:00+02:00", "2024-03-01T09:00:00+02:00", ny,
			"2024-03-01T06:00:00.000Z", "2024-03-01T07:00:00.001Z"},
		{"a raw + decoded to a space is an offset", "2024-03-01T08:00:00 02:00", "2024-03-01T09:00:00 02:00", ny,
			"2024-03-01T06:00:00.000Z", "2024-03-01T07:00:00.001Z"},
		{"half-hour zone", "2024-03-01", "2024-03-01", mustZone(t, "Asia/Kolkata"),
			"2024-02-29T18:30:00.000Z", "2024-03-01T18:30:00.000Z"},
		{"default: last 30 local days, today included", "", "", ny,
			"2024-02-15T05:00:00.000Z", "2024-03-16T04:00:00.000Z"},
		{"only stop: 30 days ending there", "", "2024-03-10", time.UTC,
			"2024-02-10T00:00:00.000Z", "2024-03-11T00:00:00.000Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := ParseWindow(WindowSpec{Start: c.start, Stop: c.stop, Zone: c.zone, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			const f = "2006-01-02T15:04:05.000Z07:00"
			if got := w.Start.Format(f); got != c.wantStart {
				t.Errorf("start = %s, want %s", got, c.wantStart)
			}
			if got := w.Stop.Format(f); got != c.wantStop {
				t.Errorf("stop = %s, want %s", got, c.wantStop)
			}
		})
	}
}

func TestParseWindowRejects(t *testing.T) {
	now := time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name, start, stop, target, fragment string
	}{
		{"month 13", "2020-13-01", "", "start", "not an ISO-8601 time: '2020-13-01'"},
		{"day 32", "2020-01-32", "2020-02-01", "start", "not an ISO-8601"},
		{"garbage", "yesterday", "", "start", "not an ISO-8601"},
		{"slashes", "2020/01/01", "", "start", "not an ISO-8601"},
		{"hour 25", "2020-01-01T25:00", "", "start", "not an ISO-8601"},
		{"bad offset", "2020-01-01T10:00+25:00", "", "start", "not an ISO-8601"},
		{"bad stop", "2020-01-01", "2020-02-30", "stop", "not an ISO-8601"},
		{"start after stop", "2024-03-02", "2024-03-01", "start", "after stop"},
		{"year out of range", "0001-01-01", "0001-01-02", "start", "out of range"},
		{"offset of 24 hours", "2024-11-01T00:00+24:00", "", "start", "not an ISO-8601"},
		{"window over the cap", "2020-01-01", "2021-12-31", "stop", "longer than 400 days"},
		{"huge input", strings.Repeat("9", 10000), "", "start", "not an ISO-8601"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseWindow(WindowSpec{Start: c.start, Stop: c.stop, Zone: time.UTC, Now: now})
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.InvalidParameter || ae.Target != c.target {
				t.Fatalf("err = %v, want InvalidParameter on %s", err, c.target)
			}
			if !strings.Contains(ae.Message, c.fragment) {
				t.Errorf("message %q lacks %q", ae.Message, c.fragment)
			}
		})
	}
}

func TestParseZone(t *testing.T) {
	for _, ok := range []string{"", "UTC", "America/New_York", "Europe/London", "Asia/Kolkata"} {
		if _, err := ParseZone(ok); err != nil {
			t.Errorf("ParseZone(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"Mars/Olympus", "Local", "/etc/passwd", "../../etc/passwd", "America/New_York\x00", strings.Repeat("A", 100)} {
		_, err := ParseZone(bad)
		var ae *apierror.Error
		if !errors.As(err, &ae) || ae.Target != "zone" {
			t.Errorf("ParseZone(%q) = %v, want a zone error", bad, err)
		}
	}
}

func TestDaysAcrossDST(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	// The seed's example: exactly the 30 local days of November 2020,
	// 1 November having 25 hours.
	w, err := ParseWindow(WindowSpec{Start: "2020-11-01T04:00:00.000Z", Stop: "2020-12-01T04:59:59.999Z", Zone: ny, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	days := w.Days()
	if len(days) != 30 {
		t.Fatalf("%d days, want 30", len(days))
	}
	if got := days[0].End.Sub(days[0].Start); got != 25*time.Hour {
		t.Errorf("1 November lasts %v, want 25h", got)
	}
	if days[0].Label.Format(time.DateOnly) != "2020-11-01" || days[29].Label.Format(time.DateOnly) != "2020-11-30" {
		t.Errorf("labels %s … %s", days[0].Label, days[29].Label)
	}
	for i := 1; i < len(days); i++ {
		if !days[i].Start.Equal(days[i-1].End) {
			t.Fatalf("gap between day %d and %d", i-1, i)
		}
	}
	if i := Locate(days, time.Date(2020, 11, 2, 4, 59, 59, 0, time.UTC)); i != 0 {
		t.Errorf("23:59:59 local on 1 November located in bucket %d", i)
	}
	if i := Locate(days, time.Date(2020, 12, 1, 5, 0, 0, 0, time.UTC)); i != -1 {
		t.Errorf("instant after the window located in bucket %d", i)
	}
}

func TestHoursOnFallBackDayAreUnique(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	w, err := ParseWindow(WindowSpec{Start: "2024-11-03", Stop: "2024-11-03", Zone: ny, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	hours := w.Hours()
	if len(hours) != 25 {
		t.Fatalf("%d hours on a fall-back day, want 25", len(hours))
	}
	seen := map[string]bool{}
	for _, h := range hours {
		l := FormatTime(h.Label)
		if seen[l] {
			t.Fatalf("duplicate hour label %s", l)
		}
		seen[l] = true
	}
	if !seen["2024-11-03T01:00:00-04:00"] || !seen["2024-11-03T01:00:00-05:00"] {
		t.Errorf("the repeated 01:00 hour is not labelled with both offsets: %v", seen)
	}
	w, _ = ParseWindow(WindowSpec{Start: "2024-03-10", Stop: "2024-03-10", Zone: ny, Now: time.Now()})
	if n := len(w.Hours()); n != 23 {
		t.Errorf("%d hours on a spring-forward day, want 23", n)
	}
	kol := mustZone(t, "Asia/Kolkata")
	w, _ = ParseWindow(WindowSpec{Start: "2024-03-01", Stop: "2024-03-01", Zone: kol, Now: time.Now()})
	hs := w.Hours()
	if len(hs) != 24 || hs[0].Label.Format("15:04") != "00:00" || hs[0].Start.Format("15:04") != "18:30" {
		t.Errorf("Kolkata hours: %d, first %s (UTC %s)", len(hs), hs[0].Label, hs[0].Start)
	}
}
