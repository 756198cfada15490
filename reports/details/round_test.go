package details

import "testing"

// TestRoundSeconds: SessionDetails rounds durations with the rule of every
// surface, half away from zero on the exact value.
func TestRoundSeconds(t *testing.T) {
	if got := *secondsOut(float64(700) / 1000 / 2); got != 0.4 {
		t.Errorf("SessionDetails seconds: %v, want 0.4", got)
	}
}
