package query

import (
	"testing"

	"github.com/chime-reports/chime-reports/reports"
)

// TestRoundSetRows: set rows (OData, $apply) round with the rule of every
// surface, half away from zero on the exact value.
func TestRoundSetRows(t *testing.T) {
	if got := normalise(reports.Column{Type: reports.Pct, Decimals: 1}, float64(23)/float64(80)*100); got != 28.8 {
		t.Errorf("set row ContainmentPct: %v, want 28.8", got)
	}
	if got := normalise(reports.Column{Type: reports.Decimal, Decimals: 2}, float64(161)/float64(40)); got != 4.03 {
		t.Errorf("set row AvgRating: %v, want 4.03", got)
	}
	if got := normalise(reports.Column{Type: reports.Int}, 2.4999999999999996); got != int64(3) {
		t.Errorf("set row Int: %v, want 3", got)
	}
}
