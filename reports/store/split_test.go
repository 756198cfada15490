package store

import (
	"testing"
	"time"
)

// TestDecomposeSplitsHours: Kathmandu's local days (+05:45) start a
// quarter past a UTC hour. Each boundary between two days splits an hour:
// its row goes to the later day (shift 1) and its first quarter-hour is
// read raw and taken from that day; only the window's own ends are read
// raw otherwise. An hour holding a raw interval is not split. Kolkata's
// (+05:30) boundaries split hours in halves, and New York's split none.
func TestDecomposeSplitsHours(t *testing.T) {
	for _, c := range []struct {
		zone   string
		shift  int64
		minor  int64 // quarter-hours in the smaller side
		splits int   // of the 7 boundaries between the 8 days (one hour holds a raw interval)
	}{{"Asia/Kathmandu", 1, 1, 6}, {"Asia/Kolkata", 2, 2, 6}, {"America/New_York", 0, 0, 0}} {
		zone, _ := time.LoadLocation(c.zone)
		start := time.Date(2025, 3, 3, 0, 0, 0, 0, zone)
		stop := start.AddDate(0, 0, 8)
		buckets, err := Buckets(P1D, start, stop, zone)
		if err != nil {
			t.Fatal(err)
		}
		// A raw interval in the hour of the third boundary.
		third := buckets[2].End.UnixMilli() / IntervalMs
		rawIv := floorTo(third, hourIvs) + hourIvs - 1
		p := decompose(buckets, []int64{rawIv})
		if len(p.split) != c.splits {
			t.Fatalf("%s: %d split hours, want %d: %+v", c.zone, len(p.split), c.splits, p.split)
		}
		covered := map[int64]int{}
		for _, s := range p.split {
			if s.shift != c.shift || !s.next || s.minor.hi-s.minor.lo != c.minor || s.minor.lo != s.hour {
				t.Errorf("%s: split %+v, want shift %d, the first %d quarter-hours, the later day", c.zone, s, c.shift, c.minor)
			}
			if floorTo(rawIv, hourIvs) == s.hour {
				t.Errorf("%s: the hour holding a raw interval was split", c.zone)
			}
			for x := s.hour; x < s.hour+hourIvs; x++ {
				covered[x]++
			}
		}
		// Every quarter-hour of the window is read exactly once: by a day,
		// an hour, a raw piece or a split hour.
		for _, ss := range [][]ivSpan{p.day, p.hour, p.raw} {
			for _, s := range ss {
				for x := s.lo; x < s.hi; x++ {
					covered[x]++
				}
			}
		}
		for x := start.UnixMilli() / IntervalMs; x < stop.UnixMilli()/IntervalMs; x++ {
			if covered[x] != 1 {
				t.Fatalf("%s: interval %d read %d times", c.zone, x, covered[x])
			}
		}
		if len(covered) != int((stop.UnixMilli()-start.UnixMilli())/IntervalMs) {
			t.Errorf("%s: %d intervals read, the window has %d", c.zone, len(covered), (stop.UnixMilli()-start.UnixMilli())/IntervalMs)
		}
	}
}
