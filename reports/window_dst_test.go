package reports

import (
	"archive/zip"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestWallTimesAcrossTransitions checks the documented reading of wall
// times that a transition skips (moved forward by the gap) or repeats (the
// first occurrence) in start and stop, date-only or not, against the
// published examples.
func TestWallTimesAcrossTransitions(t *testing.T) {
	for _, c := range []struct {
		zone, start, stop   string
		wantStart, wantStop string
	}{
		// New York springs forward 02:00 → 03:00: 02:30 does not exist.
		{"America/New_York", "2021-03-14T02:30", "2021-03-14T02:30", "2021-03-14T03:30:00-04:00", "2021-03-14T03:30:00.001-04:00"},
		// London falls back 02:00 → 01:00: 01:30 happens twice.
		{"Europe/London", "2020-10-25T01:30", "2020-10-25T01:30:00", "2020-10-25T01:30:00+01:00", "2020-10-25T01:30:00.001+01:00"},
		// Lord Howe falls back half an hour, 02:00 → 01:30.
		{"Australia/Lord_Howe", "2021-04-04T01:45", "2021-04-04T01:45", "2021-04-04T01:45:00+11:00", "2021-04-04T01:45:00.001+11:00"},
		// Lord Howe springs forward half an hour, 02:00 → 02:30.
		{"Australia/Lord_Howe", "2021-10-03T02:15", "2021-10-03T02:15", "2021-10-03T02:45:00+11:00", "2021-10-03T02:45:00.001+11:00"},
		// Santiago skips midnight (00:00 → 01:00): the day starts at 01:00,
		// and the day before ends there.
		{"America/Santiago", "2022-09-11", "2022-09-11", "2022-09-11T01:00:00-03:00", "2022-09-12T00:00:00-03:00"},
		{"America/Santiago", "2022-09-10", "2022-09-10", "2022-09-10T00:00:00-04:00", "2022-09-11T01:00:00-03:00"},
	} {
		loc := mustZone(t, c.zone)
		w, err := ParseWindow(WindowSpec{Start: c.start, Stop: c.stop, Zone: loc, Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Errorf("%s %s..%s: %v", c.zone, c.start, c.stop, err)
			continue
		}
		if got := w.Start.In(loc).Format(time.RFC3339Nano); got != c.wantStart {
			t.Errorf("%s start=%s: %s, want %s", c.zone, c.start, got, c.wantStart)
		}
		if got := w.Stop.In(loc).Format(time.RFC3339Nano); got != c.wantStop {
			t.Errorf("%s stop=%s: exclusive end %s, want %s", c.zone, c.stop, got, c.wantStop)
		}
	}
}

// TestWallTimesEveryZone resolves wall times around every offset change
// of every zone of the embedded tz database from 2000 to 2037 and compares
// ParseWindow with a brute-force reference that knows nothing of WallTime:
// it walks UTC instants minute by minute across the change and reads each
// one's wall clock. A wall time shown by some instant resolves to the
// earliest such instant; a wall time shown by none resolves to itself read
// with the offset in effect just before the gap.
func TestWallTimesEveryZone(t *testing.T) {
	zones := tzdbZones(t)
	if len(zones) < 300 {
		t.Fatalf("only %d zones in the tz database", len(zones))
	}
	const wall = "2006-01-02T15:04"
	now := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	var transitions, checked, skipped, repeated int
	for _, name := range zones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, tr := range offsetChanges(loc, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2038, 1, 1, 0, 0, 0, 0, time.UTC)) {
			transitions++
			ref := scanWallClock(loc, tr.at.Add(-6*time.Hour), tr.at.Add(6*time.Hour))
			b1 := tr.at.Add(tr.before).UTC() // the wall clock at the change, old and new offset, read as UTC
			b2 := tr.at.Add(tr.after).UTC()
			var points []time.Time
			for _, b := range []time.Time{b1, b2} {
				points = append(points, b.Add(-time.Minute), b, b.Add(time.Minute))
			}
			points = append(points, b1.Add(b2.Sub(b1)/2).Truncate(time.Minute))
			for _, p := range points {
				want, how := ref.resolve(p)
				switch how {
				case "skipped":
					skipped++
				case "repeated":
					repeated++
				}
				v := p.Format(wall)
				w, err := ParseWindow(WindowSpec{Start: v, Stop: v + ":00.000", Zone: loc, Now: now})
				if err != nil {
					t.Fatalf("%s %s: %v", name, v, err)
				}
				if !w.Start.Equal(want) || !w.Stop.Equal(want.Add(time.Millisecond)) {
					t.Errorf("%s %s (%s): window [%s, %s), want start %s", name, v, how,
						w.Start.In(loc).Format(time.RFC3339Nano), w.Stop.In(loc).Format(time.RFC3339Nano), want.In(loc).Format(time.RFC3339))
				}
				checked++
			}
			// Date-only values whose midnight lies near the change.
			for _, b := range []time.Time{b1, b2} {
				for _, d := range []time.Time{b.Truncate(24 * time.Hour), b.Truncate(24*time.Hour).AddDate(0, 0, 1)} {
					if d.Before(b1.Add(-4*time.Hour)) && d.Before(b2.Add(-4*time.Hour)) || d.After(b1.Add(4*time.Hour)) && d.After(b2.Add(4*time.Hour)) {
						continue
					}
					want, how := ref.resolve(d)
					far := want.Add(-72 * time.Hour).Format(time.RFC3339)
					w, err := ParseWindow(WindowSpec{Start: d.Format(time.DateOnly), Stop: want.Add(72 * time.Hour).Format(time.RFC3339), Zone: loc, Now: now})
					if err != nil || !w.Start.Equal(want) {
						t.Errorf("%s start=%s (%s): %v %v, want %s", name, d.Format(time.DateOnly), how, w.Start.In(loc), err, want.In(loc))
					}
					prev := d.AddDate(0, 0, -1).Format(time.DateOnly)
					w, err = ParseWindow(WindowSpec{Start: far, Stop: prev, Zone: loc, Now: now})
					if err != nil || !w.Stop.Equal(want) {
						t.Errorf("%s stop=%s (%s): exclusive end %v %v, want %s", name, prev, how, w.Stop.In(loc), err, want.In(loc))
					}
					checked += 2
				}
			}
		}
	}
	t.Logf("%d zones, %d offset changes, %d wall times checked (%d skipped, %d repeated)", len(zones), transitions, checked, skipped, repeated)
	if skipped == 0 || repeated == 0 {
		t.Fatalf("no skipped (%d) or repeated (%d) wall time was checked", skipped, repeated)
	}
}

// tzdbZones lists the zones of the tz database Go embeds (time/tzdata is
// generated from $GOROOT/lib/time/zoneinfo.zip).
func tzdbZones(t *testing.T) []string {
	t.Helper()
	root, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	z, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(root)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Fatalf("the tz database: %v", err)
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		if !f.FileInfo().IsDir() {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	return names
}

type offsetChange struct {
	at            time.Time
	before, after time.Duration
}

// offsetChanges lists the instants in [from, to) at which loc's UTC
// offset changes.
func offsetChanges(loc *time.Location, from, to time.Time) []offsetChange {
	var out []offsetChange
	for at := from; at.Before(to); {
		_, end := at.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			break
		}
		_, b := end.Add(-time.Second).In(loc).Zone()
		_, a := end.In(loc).Zone()
		if a != b {
			out = append(out, offsetChange{at: end, before: time.Duration(b) * time.Second, after: time.Duration(a) * time.Second})
		}
		at = end
	}
	return out
}

// wallScan is the wall clock of every minute of a span of UTC instants.
type wallScan struct {
	instants []time.Time
	walls    []time.Time // the wall clock shown at instants[i], read as UTC
}

func scanWallClock(loc *time.Location, from, to time.Time) wallScan {
	var s wallScan
	for x := from.Truncate(time.Minute); x.Before(to); x = x.Add(time.Minute) {
		l := x.In(loc)
		s.instants = append(s.instants, x)
		s.walls = append(s.walls, time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC))
	}
	return s
}

// resolve is the reference reading of wall time w: the first instant of
// the scan showing it, or, when no instant shows it, w read with the
// offset shown by the last instant before the clock passed it.
func (s wallScan) resolve(w time.Time) (time.Time, string) {
	n := 0
	var first time.Time
	for i, v := range s.walls {
		if v.Equal(w) {
			if n == 0 {
				first = s.instants[i]
			}
			n++
		}
	}
	switch {
	case n == 1:
		return first, "plain"
	case n > 1:
		return first, "repeated"
	}
	for i := 1; i < len(s.walls); i++ {
		if s.walls[i-1].Before(w) && s.walls[i].After(w) {
			offset := s.walls[i-1].Sub(s.instants[i-1])
			return w.Add(-offset), "skipped"
		}
	}
	panic("wall time " + w.String() + " outside the scan")
}
