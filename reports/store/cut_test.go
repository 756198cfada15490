package store

import (
	"testing"
	"time"
)

// TestCutSkippedMidnight: in zones whose clocks skip midnight, days,
// weeks and months still start at the local date's first instant and
// every bucket advances (Santiago jumps from 00:00 to 01:00 on 8 September
// 2024; Beirut on 28 March 2021; Asunción on 1 October 2023, a Sunday).
func TestCutSkippedMidnight(t *testing.T) {
	cases := []struct {
		zone    string
		from    [3]int // local date of the window's start
		days    int    // local days in the window
		skipped [3]int // the day whose midnight is skipped
	}{
		{"America/Santiago", [3]int{2024, 9, 1}, 30, [3]int{2024, 9, 8}},
		{"Asia/Beirut", [3]int{2021, 3, 1}, 42, [3]int{2021, 3, 28}},
		{"America/Asuncion", [3]int{2023, 9, 15}, 30, [3]int{2023, 10, 1}},
	}
	for _, c := range cases {
		zone, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(c.from[0], time.Month(c.from[1]), c.from[2], 0, 0, 0, 0, zone)
		stop := time.Date(c.from[0], time.Month(c.from[1]), c.from[2]+c.days, 0, 0, 0, 0, zone)
		for _, iv := range []Interval{P1D, P1W, P1M} {
			bs, err := Cut(iv, start, stop, zone)
			if err != nil {
				t.Fatalf("%s %s: %v", c.zone, iv, err)
			}
			for i, b := range bs {
				if !b.End.After(b.Start) || (i > 0 && !b.Start.Equal(bs[i-1].End)) {
					t.Fatalf("%s %s: bucket %d %s–%s does not follow %v", c.zone, iv, i, b.Start, b.End, bs[max(i-1, 0)])
				}
				if h, m := b.Label.Hour(), b.Label.Minute(); i > 0 && !(h == 0 && m == 0) {
					y, mo, d := b.Label.Date()
					if [3]int{y, int(mo), d} != c.skipped || h != 1 {
						t.Errorf("%s %s: bucket %d starts at %s, not at local midnight", c.zone, iv, i, b.Label)
					}
				}
			}
			if iv == P1D {
				if len(bs) != c.days {
					t.Errorf("%s: %d days, want %d", c.zone, len(bs), c.days)
				}
				seen := map[[3]int]bool{}
				for _, b := range bs {
					y, m, d := b.Label.Date()
					if seen[[3]int{y, int(m), d}] {
						t.Errorf("%s: local day %d-%02d-%02d cut twice", c.zone, y, m, d)
					}
					seen[[3]int{y, int(m), d}] = true
				}
				if !seen[c.skipped] {
					t.Errorf("%s: no bucket for %v, the day whose midnight is skipped", c.zone, c.skipped)
				}
			}
		}
	}
}
