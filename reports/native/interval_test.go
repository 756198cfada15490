package native_test

import (
	"encoding/json"
	"net/http"
	"slices"
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

// TestIntervalOnHandWrittenSeries: the agent series and queue depth take
// interval on the native routes. Without it and with their own interval
// the JSON and CSV answers are byte for byte the same; at another one the
// CSV and the workbook carry PeriodStart first, its rows are those of the
// buckets (a PT15M queue depth over the fall-back day has 100 rows, with
// the repeated quarter-hours at both offsets); the catalogs list interval
// among their parameters.
func TestIntervalOnHandWrittenSeries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		s := newServer(t, b)
		for _, c := range []struct{ report, own, query string }{
			{"AgentChatsPerDay", "P1D", "queueId=1&start=2024-11-03&stop=2024-11-04"},
			{"AgentConcurrency", "P1D", "queueId=1&start=2024-11-03&stop=2024-11-04"},
			{"AgentUtilization", "P1D", "queueId=3&start=2024-11-03&stop=2024-11-03"},
			{"QueueDepthByHour", "PT1H", "queueId=1&start=2024-11-03&stop=2024-11-03"},
		} {
			base := "/Chime/Report/" + c.report + "?" + c.query + "&zone=America/New_York"
			for _, f := range []string{"", "&csv=true"} {
				own, explicit := s.get(golden.Admin, base+f), s.get(golden.Admin, base+f+"&interval="+c.own)
				if own.status != http.StatusOK || string(own.body) != string(explicit.body) || len(own.body) < 100 {
					t.Errorf("%s%s: without interval %d %.300s\nwith interval=%s %d %.300s", c.report, f, own.status, own.body, c.own, explicit.status, explicit.body)
				}
			}
			csv := s.get(golden.Admin, base+"&interval=PT15M&csv=true")
			lines := strings.Split(strings.TrimSpace(string(csv.body)), "\r\n")
			if csv.status != http.StatusOK || !strings.HasPrefix(lines[0], "PeriodStart,") || len(lines) < 2 {
				t.Errorf("%s at PT15M: %d %.300q", c.report, csv.status, csv.body)
			}
			if c.report == "QueueDepthByHour" {
				// 25 hours of quarter-hours; the repeated 01:00–01:45 at -04:00 then -05:00.
				if len(lines) != 1+100 || !strings.HasPrefix(lines[1+4], "2024-11-03T01:00:00-04:00,") || !strings.HasPrefix(lines[1+8], "2024-11-03T01:00:00-05:00,") {
					t.Errorf("QueueDepthByHour at PT15M: %d lines, %q %q", len(lines), lines[min(5, len(lines)-1)], lines[min(9, len(lines)-1)])
				}
			}
			if x := s.get(golden.Admin, base+"&interval=total&format=xlsx"); x.status != http.StatusOK {
				t.Errorf("%s XLSX: %d %.200s", c.report, x.status, x.body)
			} else if book := openBook(t, x.body); book != nil {
				if v, err := book.GetCellValue(book.GetSheetName(0), "A1"); err != nil || v != "PeriodStart" {
					t.Errorf("%s XLSX header A1 = %q, %v", c.report, v, err)
				}
			}
			for _, bad := range []string{"PT5M", "P1Y", "1h"} {
				a := s.get(golden.Admin, base+"&interval="+bad)
				code, msg := errorOf(t, a)
				if a.status != http.StatusBadRequest || code != "InvalidParameter" || !strings.Contains(msg, "PT15M") {
					t.Errorf("%s interval=%s: %d %s", c.report, bad, a.status, a.body)
				}
			}
		}
		for route, names := range map[string][]string{
			"GetQueueAgentReports":       {"AgentChatsPerDay", "AgentConcurrency", "AgentUtilization"},
			"GetQueuePerformanceReports": {"QueueDepthByHour"},
		} {
			a := s.get(golden.Admin, "/Chime/Report/"+route+"?queueId=1")
			var body struct {
				Reports []struct {
					Name       string
					Parameters []string
				}
			}
			if a.status != http.StatusOK || json.Unmarshal(a.body, &body) != nil {
				t.Fatalf("%s: %d %.200s", route, a.status, a.body)
			}
			takes := map[string]bool{}
			for _, r := range body.Reports {
				takes[r.Name] = slices.Contains(r.Parameters, "interval")
			}
			for _, n := range names {
				if !takes[n] {
					t.Errorf("%s does not list interval for %s", route, n)
				}
			}
			if takes["AgentChatsAnswered"] {
				t.Errorf("%s lists interval for AgentChatsAnswered, which is not a time series", route)
			}
		}
	})
}
