package reports

import (
	"strings"
	"testing"
)

// TestRowBuilderBindsByName: a hand-written report's row is laid out in
// the declared column order whatever order its values are given in, and
// a name the report does not declare, a column set twice or one left
// unset panics instead of shifting values under the wrong header.
func TestRowBuilderBindsByName(t *testing.T) {
	r, ok := Lookup("QueueDepthByHour")
	if !ok {
		t.Fatal("QueueDepthByHour is not registered")
	}
	x := &execution{q: Query{Report: r}}
	b := x.rowsByName()
	b.add(byName{"PeakConnected": int64(5), "AvgWaiting": 1.5, "PeakWaiting": int64(3), "Arrivals": int64(2), "HourStart": "h"})
	rows, err := Collect(b.result())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[0], []any{"h", int64(2), int64(3), 1.5, int64(5)}; len(got) != len(want) || got[0] != want[0] ||
		got[1] != want[1] || got[2] != want[2] || got[3] != want[3] || got[4] != want[4] {
		t.Fatalf("row %v, want %v", got, want)
	}
	for _, c := range []struct {
		name string
		row  byName
		want string
	}{
		{"unknown", byName{"HourStart": "h", "Arrivals": int64(2), "PeakWaiting": int64(3), "AvgWaiting": 1.5, "PeakConnected": int64(5), "Peak": 1}, "has no column Peak"},
		{"missing", byName{"HourStart": "h", "Arrivals": int64(2), "PeakWaiting": int64(3), "PeakConnected": int64(5)}, "leaves column AvgWaiting unset"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, c.want) {
					t.Errorf("panic %q, want one saying %q", msg, c.want)
				}
			}()
			x.rowsByName().add(c.row)
		})
	}
	t.Run("twice", func(t *testing.T) {
		defer func() {
			if msg, _ := recover().(string); !strings.Contains(msg, "sets column Arrivals twice") {
				t.Errorf("panic %q", msg)
			}
		}()
		b := x.rowsByName()
		b.put("Arrivals", int64(1))
		b.put("Arrivals", int64(2))
	})
}
