package reports_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
)

// Generated data: October–November 2024 (New York falls back on Nov 3),
// "now" in the middle of the last day so some sessions are still open.
var (
	genStart = time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)
	genEnd   = time.Date(2024, 11, 30, 0, 0, 0, 0, time.UTC)
	genNow   = time.Date(2024, 11, 29, 15, 0, 0, 0, time.UTC)
)

type runner struct {
	t *testing.T
	e *reports.Engine
}

// rows runs a report and returns its rows as output text, one slice of
// cells per row.
func (r runner) rows(report string, queue uint32, start, stop, zone string) [][]string {
	r.t.Helper()
	lines := render(r.t, r.e, goldenCase{report: report, queue: queue, visible: []uint32{1, 2, 3, 4, 5}, start: start, stop: stop, zone: zone})
	out := make([][]string, len(lines))
	for i, l := range lines {
		out[i] = strings.Split(l, "|")
	}
	return out
}

func col(t *testing.T, report, name string) int {
	t.Helper()
	rep, _ := reports.Lookup(report)
	for i, c := range rep.Columns {
		if c.Name == name {
			return i
		}
	}
	t.Fatalf("%s has no column %s", report, name)
	return -1
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	if s == "null" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return f
}

func sum(t *testing.T, rows [][]string, c int) float64 {
	var s float64
	for _, r := range rows {
		s += num(t, r[c])
	}
	return s
}

// TestInvariantsOnGeneratedData checks relations that must hold between
// reports whatever the data, on data from the generator, and that every
// report gives identical output on every back end.
func TestInvariantsOnGeneratedData(t *testing.T) {
	outputs := map[string]map[string]string{}
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: genStart, End: genEnd, Sessions: 3000, Seed: 11, Now: genNow}); err != nil {
			t.Fatal(err)
		}
		r := runner{t, reports.NewEngine(b.DB, func() time.Time { return genNow })}
		const start, stop, zone = "2024-10-15", "2024-11-29", "America/New_York"

		summary := r.rows("GlobalQueueSummary", 0, start, stop, zone)
		for _, q := range summary {
			id, _ := strconv.Atoi(q[0])
			queue := uint32(id)
			daily := r.rows("InboundVsAnsweredChats", queue, start, stop, zone)
			in, ans := col(t, "InboundVsAnsweredChats", "Inbound"), col(t, "InboundVsAnsweredChats", "Answered")
			if got, want := sum(t, daily, in), num(t, q[col(t, "GlobalQueueSummary", "Inbound")]); got != want {
				t.Errorf("queue %d: Σ daily Inbound %v ≠ summary Inbound %v", queue, got, want)
			}
			if got, want := sum(t, daily, ans), num(t, q[col(t, "GlobalQueueSummary", "Answered")]); got != want {
				t.Errorf("queue %d: Σ daily Answered %v ≠ summary Answered %v", queue, got, want)
			}
			for _, d := range daily {
				if num(t, d[ans]) > num(t, d[in]) {
					t.Errorf("queue %d %s: Answered > Inbound", queue, d[0])
				}
			}
			hours := r.rows("ChatsByHourOfDay", queue, start, stop, zone)
			if got := sum(t, hours, col(t, "ChatsByHourOfDay", "Inbound")); got != sum(t, daily, in) {
				t.Errorf("queue %d: hour-of-day Inbound %v ≠ daily %v", queue, got, sum(t, daily, in))
			}
			weekdays := r.rows("ChatsByDayOfWeek", queue, start, stop, zone)
			if got := sum(t, weekdays, col(t, "ChatsByDayOfWeek", "Inbound")); got != sum(t, daily, in) {
				t.Errorf("queue %d: weekday Inbound %v ≠ daily %v", queue, got, sum(t, daily, in))
			}
			sl := r.rows("ServiceLevelByDay", queue, start, stop, zone)
			for _, d := range sl {
				met := num(t, d[col(t, "ServiceLevelByDay", "AnsweredWithinThreshold")])
				den := num(t, d[col(t, "ServiceLevelByDay", "Answered")]) + num(t, d[col(t, "ServiceLevelByDay", "Abandoned")]) +
					num(t, d[col(t, "ServiceLevelByDay", "TimedOut")])
				if met > den || num(t, d[col(t, "ServiceLevelByDay", "ServiceLevelPct")]) > 100 {
					t.Errorf("queue %d %s: service level numerator %v > denominator %v", queue, d[0], met, den)
				}
			}
			outcomes := r.rows("ChatOutcomesByDay", queue, start, stop, zone)
			for _, d := range outcomes {
				var parts float64
				for _, c := range d[2:] {
					parts += num(t, c)
				}
				if parts != num(t, d[1]) {
					t.Errorf("queue %d %s: outcome columns sum to %v, Sessions %v", queue, d[0], parts, d[1])
				}
			}
			log := r.rows("QueueChatSessionLog", queue, start, stop, zone)
			if got := sum(t, outcomes, 1); int(got) != len(log) {
				t.Errorf("queue %d: Σ daily Sessions %v ≠ %d session-log rows", queue, got, len(log))
			}
			if got := num(t, q[col(t, "GlobalQueueSummary", "Sessions")]); int(got) != len(log) {
				t.Errorf("queue %d: summary Sessions %v ≠ %d session-log rows", queue, got, len(log))
			}
			bands := r.rows("WaitTimeDistribution", queue, start, stop, zone)
			waits := r.rows("WaitTimeByDay", queue, start, stop, zone)
			if a, b := sum(t, bands, col(t, "WaitTimeDistribution", "Answered")), sum(t, waits, col(t, "WaitTimeByDay", "Answered")); a != b {
				t.Errorf("queue %d: wait bands count %v answered, daily waits %v", queue, a, b)
			}
			// The trend's keywords are TopKeywords' first ten, and a session
			// starts on one day: Σ daily Sessions = its Sessions.
			top := r.rows("TopKeywords", queue, start, stop, zone)
			trend := r.rows("KeywordTrendByDay", queue, start, stop, zone)
			perKeyword := map[string]float64{}
			for _, d := range trend {
				perKeyword[d[1]] += num(t, d[2])
			}
			if len(top) < 10 || len(perKeyword) != 10 {
				t.Errorf("queue %d: %d top keywords, %d in the trend", queue, len(top), len(perKeyword))
			}
			for _, k := range top[:min(10, len(top))] {
				if got, want := perKeyword[k[1]], num(t, k[2]); got != want {
					t.Errorf("queue %d keyword %q: Σ daily trend %v ≠ TopKeywords Sessions %v", queue, k[1], got, want)
				}
			}
		}
		perDay := r.rows("GlobalChatsPerDay", 0, start, stop, zone)
		globalLog := r.rows("GlobalChatSessionLog", 0, start, stop, zone)
		if got := sum(t, perDay, col(t, "GlobalChatsPerDay", "Sessions")); int(got) != len(globalLog) {
			t.Errorf("Σ GlobalChatsPerDay Sessions %v ≠ %d global log rows", got, len(globalLog))
		}
		if len(globalLog) < 1000 {
			t.Errorf("only %d sessions in the window: the generator did not fill it", len(globalLog))
		}

		// Every report, for the record of this back end.
		for _, rep := range reports.All() {
			var queue uint32
			if rep.RequiresQueue() {
				queue = 1
			}
			rows := r.rows(rep.Name, queue, "2024-10-28", "2024-11-05", zone)
			var b strings.Builder
			for _, row := range rows {
				b.WriteString(strings.Join(row, "|") + "\n")
			}
			if outputs[rep.Name] == nil {
				outputs[rep.Name] = map[string]string{}
			}
			outputs[rep.Name][t.Name()] = b.String()
		}
	})
	for name, by := range outputs {
		var first string
		var firstBackend string
		for backend, out := range by {
			if firstBackend == "" {
				first, firstBackend = out, backend
				continue
			}
			if out != first {
				t.Errorf("%s differs between %s and %s", name, firstBackend, backend)
			}
		}
	}
}
