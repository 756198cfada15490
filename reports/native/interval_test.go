package native_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestIntervalParameter: a time-series report takes interval. Without it
// (or with its own P1D) the answer is the same as before; PT1H gives one
// row per UTC hour from the local boundary, keyed by PeriodStart (the
// local start with its offset), whose Inbound adds up to the day's;
// total gives one row; CSV and XLSX carry the PeriodStart column; an unknown
// value, or interval on a report that is not a time series, is a 400 in
// the error shape naming the parameter.
func TestIntervalParameter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		s := newServer(t, b)
		const base = "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-11-02&stop=2024-11-03&zone=America/New_York"
		own, p1d := s.get(golden.Alice, base), s.get(golden.Alice, base+"&interval=P1D")
		if rowsOf(t, own) != rowsOf(t, p1d) {
			t.Fatalf("interval=P1D differs from the report's own grain:\n%s\n%s", rowsOf(t, own), rowsOf(t, p1d))
		}
		type row struct {
			Date, PeriodStart string
			Inbound           int64
		}
		decode := func(a answer) []row {
			t.Helper()
			var env struct{ Rows []row }
			if a.status != http.StatusOK || json.Unmarshal(a.body, &env) != nil {
				t.Fatalf("%d %.300s", a.status, a.body)
			}
			return env.Rows
		}
		days, hours, total := decode(own), decode(s.get(golden.Alice, base+"&interval=PT1H")), decode(s.get(golden.Alice, base+"&interval=total"))
		// 2 Nov (24 h) and 3 Nov (25 h: New York falls back).
		if len(days) != 2 || len(hours) != 49 || len(total) != 1 {
			t.Fatalf("%d days, %d hours, %d total rows", len(days), len(hours), len(total))
		}
		if hours[0].PeriodStart != "2024-11-02T00:00:00-04:00" || hours[25].PeriodStart != "2024-11-03T01:00:00-04:00" || hours[26].PeriodStart != "2024-11-03T01:00:00-05:00" {
			t.Errorf("hour labels %q %q %q", hours[0].PeriodStart, hours[25].PeriodStart, hours[26].PeriodStart)
		}
		var sum [2]int64
		for i, h := range hours {
			sum[min(i/24, 1)] += h.Inbound
		}
		if sum[0] != days[0].Inbound || sum[1] != days[1].Inbound || total[0].Inbound != days[0].Inbound+days[1].Inbound || total[0].Inbound == 0 {
			t.Errorf("hours add up to %v, days %d %d, total %d", sum, days[0].Inbound, days[1].Inbound, total[0].Inbound)
		}
		if c := s.get(golden.Alice, base+"&interval=PT1H&csv=true"); c.status != http.StatusOK || !strings.HasPrefix(string(c.body), "PeriodStart,") {
			t.Errorf("CSV: %d %.80q", c.status, c.body)
		}
		if x := s.get(golden.Alice, base+"&interval=PT1H&format=xlsx"); x.status != http.StatusOK {
			t.Errorf("XLSX: %d %.200s", x.status, x.body)
		} else if v, err := openBook(t, x.body).GetCellValue(openBook(t, x.body).GetSheetName(0), "A1"); err != nil || v != "PeriodStart" {
			t.Errorf("XLSX header A1 = %q, %v", v, err)
		}
		for _, q := range []string{base + "&interval=PT2H", base + "&interval=", "/Chime/Report/ChatsByHourOfDay?queueId=1&interval=PT1H"} {
			a := s.get(golden.Alice, q)
			code, msg := errorOf(t, a)
			if a.status != http.StatusBadRequest || code != "InvalidParameter" || !strings.Contains(msg, "interval") {
				t.Errorf("%s: %d %s", q, a.status, a.body)
			}
		}
	})
}
