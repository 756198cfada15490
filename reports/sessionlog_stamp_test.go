package reports

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestParseStamp: the hand-written reader of stored instants gives what
// time.Parse gives for every text form SQLite holds (the driver's, with
// trailing zeros of the fraction dropped; ISO 8601 with Z or an offset;
// no zone), and refuses what is not an instant.
func TestParseStamp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+45*60), time.FixedZone("", -7*3600)}
	for range 20000 {
		at := time.UnixMilli(r.Int64N(4_000_000_000_000)).In(zones[r.IntN(len(zones))])
		if r.IntN(4) == 0 {
			at = at.Truncate(time.Second)
		}
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999"} {
			text := at.Format(layout)
			want, err := time.Parse(layout, text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseStamp(text)
			if err != nil || !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("%q: %v (%v), want %v", text, got, err, want)
			}
			if _, fast := fastStamp(text); !fast {
				t.Fatalf("%q took the slow path", text)
			}
		}
	}
	for _, bad := range []string{"", "2025-02-31 10:00:00", "2025-13-01 10:00:00", "2025-01-01 10:00:00.", "2025-01-01 10:00:00+0500",
		"2025-01-01 24:00:00", "x025-01-01 10:00:00", "2025-01-01 10:00:00 UTC"} {
		if got, err := parseStamp(bad); err == nil {
			t.Errorf("%q read as %v", bad, got)
		}
	}
	if got, err := parseStamp("2025-01-02"); err != nil || !got.Equal(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a date: %v %v", got, err)
	}
}
