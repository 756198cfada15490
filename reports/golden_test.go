package reports_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/store"
)

// The expectations below are derived by hand from the comments on each
// session in fixtures/golden and the formulas of docs/data-model.md and docs/reports.md. Rows are
// compared as their output text ("null" for null), so rounding at output is
// part of what is checked.

type goldenCase struct {
	name    string
	report  string
	queue   uint32
	visible []uint32
	start   string
	stop    string
	zone    string
	// interval, when set, is the run's interval (a time series at another
	// grain than its own).
	interval store.Interval
	want     []string // one line per row: cells joined by "|"
}

var goldenCases = []goldenCase{
	{
		// The seed's example in New York: exactly the 30 local days of
		// November 2020. S101 (Nov 1 00:30 EDT) and S102 (Nov 30
		// 23:59:59.999 EST, the window's last millisecond) are in; S103 and
		// S104, one millisecond outside either end, are not.
		name: "seed example, New York", report: "InboundVsAnsweredChats", queue: 1, visible: []uint32{1, 2},
		start: "2020-11-01T04:00:00.000Z", stop: "2020-12-01T04:59:59.999Z", zone: "America/New_York",
		want: append(append([]string{"2020-11-01|1|1|0|100"}, zeroDays("2020-11-", 2, 29)...), "2020-11-30|1|0|1|0"),
	},
	{
		// The same instants read in UTC: 31 UTC days touch the window. S101
		// (04:30Z) falls on Nov 1, S102 (Dec 1 04:59:59.999Z) on Dec 1.
		name: "seed example, UTC", report: "InboundVsAnsweredChats", queue: 1, visible: []uint32{1},
		start: "2020-11-01T04:00:00.000Z", stop: "2020-12-01T04:59:59.999Z", zone: "UTC",
		want: append(append([]string{"2020-11-01|1|1|0|100"}, zeroDays("2020-11-", 2, 30)...), "2020-12-01|1|0|1|0"),
	},
	{
		// New York days Oct 26 … Nov 4 (Nov 3 has 25 hours).
		// Oct 26: S1 (20:30 EDT, answered), S2 (21:30, short abandon) → 2/1.
		// Oct 27: S3 (19:30, answered), S16 (23:59:59.999, answered) → 2/2.
		// Oct 28: S15 (00:00:00.000, abandoned) → 1/0.
		// Nov 3: S4 (01:30 EDT), S5 (01:30 EST, ans), S6 (timed out), S9 (ans),
		//        S10 (transferred out), S7 (22:50 EST, ans, ends after midnight) → 6/3.
		// Nov 4: S13 (connected, ans), S12 (waiting) → 2/1.
		name: "fall-back day, New York", report: "InboundVsAnsweredChats", queue: 1, visible: []uint32{1, 2},
		start: "2024-10-26", stop: "2024-11-04", zone: "America/New_York",
		want: []string{
			"2024-10-26|2|1|1|50", "2024-10-27|2|2|0|100", "2024-10-28|1|0|1|0",
			"2024-10-29|0|0|0|null", "2024-10-30|0|0|0|null", "2024-10-31|0|0|0|null", "2024-11-01|0|0|0|null", "2024-11-02|0|0|0|null",
			"2024-11-03|6|3|3|50", "2024-11-04|2|1|1|50",
		},
	},
	{
		// London days Oct 26 … Nov 4 (Oct 27 has 25 hours: S1 at 01:30 BST
		// and S2 at 01:30 GMT are both on it, as is S3 at 23:30 GMT).
		// Oct 27: S1 ans, S2, S3 ans → 3/2 = 66.7 %.
		// Oct 28: S16 (03:59:59.999 GMT, ans), S15 (04:00 GMT) → 2/1.
		// Nov 3: S4, S5 ans, S6, S9 ans, S10 → 5/2 = 40 %.
		// Nov 4: S7 (03:50 GMT, ans), S13 ans, S12 → 3/2 = 66.7 %.
		name: "fall-back day, London", report: "InboundVsAnsweredChats", queue: 1, visible: []uint32{1},
		start: "2024-10-26", stop: "2024-11-04", zone: "Europe/London",
		want: []string{
			"2024-10-26|0|0|0|null", "2024-10-27|3|2|1|66.7", "2024-10-28|2|1|1|50",
			"2024-10-29|0|0|0|null", "2024-10-30|0|0|0|null", "2024-10-31|0|0|0|null", "2024-11-01|0|0|0|null", "2024-11-02|0|0|0|null",
			"2024-11-03|5|2|3|40", "2024-11-04|3|2|1|66.7",
		},
	},
	{
		// New York local hour of queued_at, 10 local days in the window:
		// 0: S15 (long abandon, 12 s ≥ 10).  1: S4 (01:30 EDT, long abandon
		// 40 s) and S5 (01:30 EST, wait 30) — the repeated hour counts under
		// one label.  6: S13 (wait 30), S12 (waiting).  9: S6 (timed out).
		// 11: S9 (wait 50).  12: S10 (flow-out).  19: S3 (wait 90).
		// 20: S1 (wait 20).  21: S2 (short abandon: not in Abandoned).
		// 22: S7 (wait 45).  23: S16 (wait 10).
		name: "hour of day, New York", report: "ChatsByHourOfDay", queue: 1, visible: []uint32{1},
		start: "2024-10-26", stop: "2024-11-04", zone: "America/New_York",
		want: []string{
			"0|1|0|1|null|0.1", "1|2|1|1|30|0.2", "2|0|0|0|null|0", "3|0|0|0|null|0", "4|0|0|0|null|0", "5|0|0|0|null|0",
			"6|2|1|0|30|0.2", "7|0|0|0|null|0", "8|0|0|0|null|0", "9|1|0|0|null|0.1", "10|0|0|0|null|0", "11|1|1|0|50|0.1",
			"12|1|0|0|null|0.1", "13|0|0|0|null|0", "14|0|0|0|null|0", "15|0|0|0|null|0", "16|0|0|0|null|0", "17|0|0|0|null|0",
			"18|0|0|0|null|0", "19|1|1|0|90|0.1", "20|1|1|0|20|0.1", "21|1|0|0|null|0.1", "22|1|1|0|45|0.1", "23|1|1|0|10|0.1",
		},
	},
	{
		// Admin, UTC days Oct 26 … Nov 4.
		// Queue 1: Sessions = S1–S10, S12, S13, S15, S16, S22, S23 = 16 (S8,
		// S22 and S23 started but never queued); Deflected = S8 = 1; Inbound = 13; Answered = S1, S3,
		// S5, S7, S9, S13, S16 = 7 → 53.8 %; long abandons S4, S15 = 2 (S2 is
		// short); TimedOut S6 = 1. Waits 20+90+30+45+50+30+10 = 275 / 7 = 39.3.
		// SL: within 60 s: all answered but S3 = 6; denominator 7 + 2 + 1 = 10
		// → 60 %. Handle over answered ∧ closed: 900+2310+600+5400+600+600 =
		// 10410 / 6 = 1735. Ratings 5, 3, 4 → 4.
		// Queue 2 (Development mode): S11 (wait 10 ≤ 30, handle 600), S20
		// (wait 1800, handle 600), S21 (long abandon): Answered 2/3 = 66.7 %;
		// wait (10+1800)/2 = 905; SL 1/(2+1) = 33.3 %; handle 600.
		// Queue 3: S14 (wait 100, handle 300) and S24 (wait 20, handle 400),
		// both within 120 s: wait 60, handle 350.
		name: "queue summary, admin", report: "GlobalQueueSummary", visible: []uint32{1, 2, 3},
		start: "2024-10-26", stop: "2024-11-04", zone: "UTC",
		want: []string{
			"1|IT Help Desk|Production|16|1|13|7|2|1|53.8|39.3|60|1735|4",
			"2|HR Services|Development|3|0|3|2|1|0|66.7|905|33.3|600|null",
			"3|Security Desk|Production|2|0|2|2|0|0|100|60|100|350|null",
		},
	},
	{
		// Alice sees queues 1 and 2 only: queue 3 has no row at all.
		name: "queue summary, alice", report: "GlobalQueueSummary", visible: []uint32{1, 2},
		start: "2024-10-26", stop: "2024-11-04", zone: "UTC",
		want: []string{
			"1|IT Help Desk|Production|16|1|13|7|2|1|53.8|39.3|60|1735|4",
			"2|HR Services|Development|3|0|3|2|1|0|66.7|905|33.3|600|null",
		},
	},
	{
		// A visible queue without sessions still has its row, zero-filled.
		name: "queue summary, empty window", report: "GlobalQueueSummary", visible: []uint32{2},
		start: "2023-01-01", stop: "2023-01-31", zone: "UTC",
		want: []string{"2|HR Services|Development|0|0|0|0|0|0|null|null|null|null|null"},
	},
	{
		// Session log of queue 1 on NY Nov 3 (started_at in the local day):
		// S4, S5, S6, S8, S9, S10, S23, S7 in started_at order. Wait is to
		// accept or end; S8 and S23 (never queued) have none; S10's flow-out
		// wait is 120 s.
		name: "session log, New York Nov 3", report: "QueueChatSessionLog", queue: 1, visible: []uint32{1},
		start: "2024-11-03", stop: "2024-11-03", zone: "America/New_York",
		want: []string{
			"4|2024-11-03T01:30:00-04:00|1|IT Help Desk|Abandoned|seeker_left|teams|Peyton Wilson|pwilson@example.com|null|null|null|2024-11-03T01:30:00-04:00|null|2024-11-03T01:30:40-04:00|40|null|40|0|0|null|null",
			"5|2024-11-03T01:30:00-05:00|1|IT Help Desk|Completed|seeker_left|directline|=1+1|null|null|null|Ann Agent|2024-11-03T01:30:00-05:00|2024-11-03T01:30:30-05:00|2024-11-03T01:40:30-05:00|30|600|630|8|0|3|null",
			"6|2024-11-03T09:00:00-05:00|1|IT Help Desk|TimedOut|max_wait|teams|Jo Doe|jdoe@example.com|null|null|null|2024-11-03T09:00:00-05:00|null|2024-11-03T09:05:00-05:00|300|null|300|0|0|null|null",
			"8|2024-11-03T10:00:00-05:00|1|IT Help Desk|Deflected|bot_resolved|teams|=1+1|null|null|null|null|null|null|2024-11-03T10:02:00-05:00|null|null|120|4|0|null|null",
			"9|2024-11-03T11:00:00-05:00|1|IT Help Desk|Completed|seeker_left|teams|Jo Doe|jdoe@example.com|null|outlookPW|Ann Agent|2024-11-03T11:01:00-05:00|2024-11-03T11:01:50-05:00|2024-11-03T11:11:50-05:00|50|600|710|10|0|null|null",
			"10|2024-11-03T12:00:00-05:00|1|IT Help Desk|Transferred|transfer|teams|Peyton Wilson|pwilson@example.com|null|null|null|2024-11-03T12:00:00-05:00|null|2024-11-03T12:02:00-05:00|120|null|120|0|0|null|null",
			"23|2024-11-03T15:00:00-05:00|1|IT Help Desk|BotAbandoned|seeker_left|teams|Jo Doe|jdoe@example.com|null|null|null|null|null|2024-11-03T15:01:00-05:00|null|null|60|3|0|null|null",
			"7|2024-11-03T22:50:00-05:00|1|IT Help Desk|Completed|seeker_left|teams|Peyton Wilson|pwilson@example.com|null|null|Ben Agent|2024-11-03T22:50:00-05:00|2024-11-03T22:50:45-05:00|2024-11-04T00:20:45-05:00|45|5400|5445|30|0|4|null",
		},
	},
	{
		// Global log for alice from Nov 3 17:00Z: queue 3's S14 never shows;
		// the HR legs S11 (parent S10), S20 and S21 do; open S13 and S12
		// have no end.
		name: "global session log, alice", report: "GlobalChatSessionLog", visible: []uint32{1, 2},
		start: "2024-11-03T17:00:00Z", stop: "2024-11-04T23:59:59.999Z", zone: "UTC",
		want: []string{
			"10|2024-11-03T17:00:00Z|1|IT Help Desk|Transferred|transfer|teams|Peyton Wilson|pwilson@example.com|null|null|null|2024-11-03T17:00:00Z|null|2024-11-03T17:02:00Z|120|null|120|0|0|null|null",
			"11|2024-11-03T17:02:00Z|2|HR Services|Completed|seeker_left|teams|Peyton Wilson|pwilson@example.com|null|null|Ben Agent|2024-11-03T17:02:00Z|2024-11-03T17:02:10Z|2024-11-03T17:12:10Z|10|600|610|6|0|null|10",
			"20|2024-11-03T17:50:00Z|2|HR Services|Completed|seeker_left|teams|Jo Doe|jdoe@example.com|null|null|Ben Agent|2024-11-03T17:50:00Z|2024-11-03T18:20:00Z|2024-11-03T18:30:00Z|1800|600|2400|3|0|null|null",
			"21|2024-11-03T17:55:00Z|2|HR Services|Abandoned|seeker_left|webclient|=1+1|null|null|null|null|2024-11-03T17:55:00Z|null|2024-11-03T18:05:00Z|600|null|600|0|0|null|null",
			"23|2024-11-03T20:00:00Z|1|IT Help Desk|BotAbandoned|seeker_left|teams|Jo Doe|jdoe@example.com|null|null|null|null|null|2024-11-03T20:01:00Z|null|null|60|3|0|null|null",
			"7|2024-11-04T03:50:00Z|1|IT Help Desk|Completed|seeker_left|teams|Peyton Wilson|pwilson@example.com|null|null|Ben Agent|2024-11-04T03:50:00Z|2024-11-04T03:50:45Z|2024-11-04T05:20:45Z|45|5400|5445|30|0|4|null",
			"13|2024-11-04T11:00:00Z|1|IT Help Desk|Connected|null|teams|Jo Doe|jdoe@example.com|null|null|Ann Agent|2024-11-04T11:00:00Z|2024-11-04T11:00:30Z|null|30|null|null|5|0|null|null",
			"12|2024-11-04T11:58:00Z|1|IT Help Desk|Waiting|null|webclient|=1+1|null|null|null|null|2024-11-04T11:58:00Z|null|null|null|null|null|0|0|null|null",
			"22|2024-11-04T11:59:00Z|1|IT Help Desk|Bot|null|teams|Jo Doe|jdoe@example.com|null|null|null|null|null|null|null|null|null|1|0|null|null",
		},
	},
}

// zeroDays lists empty day rows prefix+from … prefix+to.
func zeroDays(prefix string, from, to int) []string {
	var out []string
	for d := from; d <= to; d++ {
		out = append(out, prefix+twoDigits(d)+"|0|0|0|null")
	}
	return out
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// render runs a case and returns its rows as text.
func render(t *testing.T, e *reports.Engine, c goldenCase) []string {
	t.Helper()
	rep, ok := reports.Lookup(c.report)
	if !ok {
		t.Fatalf("report %s not registered", c.report)
	}
	zone, err := reports.ParseZone(c.zone)
	if err != nil {
		t.Fatal(err)
	}
	w, err := reports.ParseWindow(reports.WindowSpec{Start: c.start, Stop: c.stop, Zone: zone, Now: golden.Now})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background(), reports.Query{Report: rep, Window: w, QueueID: c.queue, Visible: c.visible, Interval: c.interval})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := reports.Collect(res.Rows)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, v := range row {
			if v == nil {
				cells[i] = "null"
				continue
			}
			cells[i] = export.Text(res.Report.Columns[i], v)
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

func TestGoldenReports(t *testing.T) {
	outputs := map[string]map[string][]string{} // case → backend → rows
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		if err := golden.Load(context.Background(), b.DB); err != nil {
			t.Fatal(err)
		}
		e := reports.NewEngine(b.DB, func() time.Time { return golden.Now })
		for _, c := range goldenCases {
			t.Run(c.name, func(t *testing.T) {
				got := render(t, e, c)
				if outputs[c.name] == nil {
					outputs[c.name] = map[string][]string{}
				}
				outputs[c.name][b.Name] = got
				if len(got) != len(c.want) {
					t.Errorf("%d rows, want %d:\n%s", len(got), len(c.want), strings.Join(got, "\n"))
				}
				for i := 0; i < len(got) && i < len(c.want); i++ {
					if got[i] != c.want[i] {
						t.Errorf("row %d:\n got %s\nwant %s", i, got[i], c.want[i])
					}
				}
			})
		}
	})
	// Same data, same report: identical output on every back end.
	for name, byBackend := range outputs {
		var first []string
		for _, rows := range byBackend {
			if first == nil {
				first = rows
				continue
			}
			if strings.Join(rows, "\n") != strings.Join(first, "\n") {
				t.Errorf("%s: back ends disagree", name)
			}
		}
	}
}

func TestQueueOutsideACLIsNotFound(t *testing.T) {
	b := dbtest.SQLite(t)
	if err := golden.Load(context.Background(), b.DB); err != nil {
		t.Fatal(err)
	}
	e := reports.NewEngine(b.DB, func() time.Time { return golden.Now })
	rep, _ := reports.Lookup("InboundVsAnsweredChats")
	w, _ := reports.ParseWindow(reports.WindowSpec{Start: "2024-11-01", Stop: "2024-11-04", Zone: time.UTC})
	_, hidden := e.Run(context.Background(), reports.Query{Report: rep, Window: w, QueueID: 3, Visible: []uint32{1, 2}})
	_, missing := e.Run(context.Background(), reports.Query{Report: rep, Window: w, QueueID: 99, Visible: []uint32{1, 2}})
	if hidden == nil || missing == nil {
		t.Fatalf("hidden = %v, missing = %v; want errors", hidden, missing)
	}
	if strings.ReplaceAll(hidden.Error(), "3", "N") != strings.ReplaceAll(missing.Error(), "99", "N") {
		t.Errorf("a hidden queue answers differently from a missing one:\n%v\n%v", hidden, missing)
	}
}
