package reports_test

import "github.com/chime-reports/chime-reports/reports/store"

// Hand-derived expectations for the hand-written time series at another
// interval than their own: the bucket column is PeriodStart (the bucket's
// local start), and chats, presence and waiting time split at the
// interval's boundaries. Kathmandu is +05:45 all year, so its quarter- and
// half-hours start at :00/:15/:30/:45 and :15/:45 UTC; New York falls back
// on 2024-11-03 at 06:00Z.
func init() {
	const ktm = "Asia/Kathmandu"
	goldenCases = append(goldenCases,
		// Queue 1, New York 01:00 EDT to 01:59:59.999 EST on the fall-back
		// day (05:00Z–07:00Z): eight quarter-hours, 01:00–01:45 twice. S4
		// waits 05:30:00–05:30:40Z (40/900 = 0.04) in the first 01:30; S5
		// waits 06:30:00–06:30:30Z (30/900 = 0.03) in the second, then is
		// connected until 06:40:30Z.
		goldenCase{name: "queue depth, quarter-hours of the fall-back day", report: "QueueDepthByHour", queue: 1, visible: []uint32{1},
			start: "2024-11-03T01:00:00-04:00", stop: "2024-11-03T01:59:59.999-05:00", zone: "America/New_York", interval: store.PT15M,
			want: []string{
				"2024-11-03T01:00:00-04:00|0|0|0|0", "2024-11-03T01:15:00-04:00|0|0|0|0",
				"2024-11-03T01:30:00-04:00|1|1|0.04|0", "2024-11-03T01:45:00-04:00|0|0|0|0",
				"2024-11-03T01:00:00-05:00|0|0|0|0", "2024-11-03T01:15:00-05:00|0|0|0|0",
				"2024-11-03T01:30:00-05:00|1|1|0.03|1", "2024-11-03T01:45:00-05:00|0|0|0|0",
			}},
		// HR, Kathmandu 23:00 Nov 3 to 00:59:59.999 Nov 4 (17:15Z–19:15Z),
		// half-hours from 17:15Z. 23:30 (17:45–18:15Z): S20 arrives 17:50 and
		// waits 1500 s in it, S21 arrives 17:55 and waits 600 s beside it:
		// peak 2, 2100/1800 = 1.17. 00:00 (18:15–18:45Z): S20 still waiting
		// when it starts, until 18:20 (300/1800 = 0.17), then connected
		// until 18:30. S11 ended at 17:12:10Z, before the window.
		goldenCase{name: "queue depth, half-hours in Kathmandu", report: "QueueDepthByHour", queue: 2, visible: []uint32{2},
			start: "2024-11-03T23:00", stop: "2024-11-04T00:59:59.999", zone: ktm, interval: store.PT30M,
			want: []string{
				"2024-11-03T23:00:00+05:45|0|0|0|0", "2024-11-03T23:30:00+05:45|2|2|1.17|0",
				"2024-11-04T00:00:00+05:45|0|1|0.17|1", "2024-11-04T00:30:00+05:45|0|0|0|0",
			}},
		// HR, the New York fall-back day as one P1D bucket of 25 hours
		// (90000 s): S11, S20 and S21 arrive; they wait 10 + 1800 + 600 s
		// (0.03), S20 and S21 at once; S11 and S20 are connected at
		// different times.
		goldenCase{name: "queue depth, a 25-hour day", report: "QueueDepthByHour", queue: 2, visible: []uint32{2},
			start: "2024-11-03", stop: "2024-11-03", zone: "America/New_York", interval: store.P1D,
			want: []string{"2024-11-03T00:00:00-04:00|3|2|0.03|1"}},
		// Queue 1, Kathmandu 09:00–11:59:59.999 on Nov 4 (03:15Z–06:15Z),
		// half-hours from 03:15Z. Only S7 overlaps: Ben 03:50:45–04:30Z,
		// 1455 s in 09:30 and 900 s in 10:00 (2355 in all); Ann
		// 04:30–05:20:45Z, 900 s in 10:00, 1800 in 10:30 and 345 in 11:00
		// (3045). 09:00 and 11:30 have no chat time: no rows.
		goldenCase{name: "concurrency, half-hours in Kathmandu", report: "AgentConcurrency", queue: 1, visible: []uint32{1},
			start: "2024-11-04T09:00", stop: "2024-11-04T11:59:59.999", zone: ktm, interval: store.PT30M,
			want: []string{
				"2024-11-04T09:30:00+05:45|5|Ben Agent|1|1455|1455|1|1|3",
				"2024-11-04T10:00:00+05:45|4|Ann Agent|1|900|900|1|1|2",
				"2024-11-04T10:00:00+05:45|5|Ben Agent|1|900|900|1|1|3",
				"2024-11-04T10:30:00+05:45|4|Ann Agent|1|1800|1800|1|1|2",
				"2024-11-04T11:00:00+05:45|4|Ann Agent|1|345|345|1|1|2",
			}},
		// The two New York days of "concurrency, queue 1" as one total
		// bucket labelled with the window's start: Ann's sessions S5, S9,
		// S7 and S13, 3000 + 4815 s; Ben's S7, 2355 s.
		goldenCase{name: "concurrency, total", report: "AgentConcurrency", queue: 1, visible: []uint32{1},
			start: "2024-11-03", stop: "2024-11-04", zone: "America/New_York", interval: store.Total,
			want: []string{
				"2024-11-03T00:00:00-04:00|4|Ann Agent|4|7815|7815|1|1|2",
				"2024-11-03T00:00:00-04:00|5|Ben Agent|1|2355|2355|1|1|3",
			}},
		// Carl, New York 06:00–08:59:59.999 EST on the fall-back day
		// (11:00Z–14:00Z), quarter-hours. Online and available all of
		// 06:00–06:45 (900 s each). 07:00 (12:00–12:15Z): online until
		// 12:08 (480 s), available until 12:05 (300 s); chats clipped to
		// online time: S14 300 s and S24 12:03:20–12:08 280 s, busy
		// 12:01:40–12:08 380 s → occupancy 380/480 = 79.2 %, capacity
		// 580/(1 · 480) = 120.8 % (two chats at once, his limit is 1).
		// Offline 12:08–13:00: no rows; online again 13:00–13:30.
		goldenCase{name: "utilization, quarter-hours of the fall-back day", report: "AgentUtilization", queue: 3, visible: []uint32{3},
			start: "2024-11-03T06:00", stop: "2024-11-03T08:59:59.999", zone: "America/New_York", interval: store.PT15M,
			want: []string{
				"2024-11-03T06:00:00-05:00|7|Carl Agent|900|900|0|0|0",
				"2024-11-03T06:15:00-05:00|7|Carl Agent|900|900|0|0|0",
				"2024-11-03T06:30:00-05:00|7|Carl Agent|900|900|0|0|0",
				"2024-11-03T06:45:00-05:00|7|Carl Agent|900|900|0|0|0",
				"2024-11-03T07:00:00-05:00|7|Carl Agent|480|300|380|79.2|120.8",
				"2024-11-03T08:00:00-05:00|7|Carl Agent|900|900|0|0|0",
				"2024-11-03T08:15:00-05:00|7|Carl Agent|900|900|0|0|0",
			}},
		// The same presence in Kathmandu half-hours (from 10:15Z): 16:30
		// holds 11:00–11:15Z, 17:00 11:15–11:45Z, 17:30 (11:45–12:15Z)
		// online 1380 s, available 1200 s, busy 380 s of 580 s of chats →
		// 27.5 % and 580/1380 = 42 %; 18:30 and 19:00 hold 13:00–13:30Z.
		goldenCase{name: "utilization, half-hours in Kathmandu", report: "AgentUtilization", queue: 3, visible: []uint32{3},
			start: "2024-11-03T16:00", stop: "2024-11-03T19:59:59.999", zone: ktm, interval: store.PT30M,
			want: []string{
				"2024-11-03T16:30:00+05:45|7|Carl Agent|900|900|0|0|0",
				"2024-11-03T17:00:00+05:45|7|Carl Agent|1800|1800|0|0|0",
				"2024-11-03T17:30:00+05:45|7|Carl Agent|1380|1200|380|27.5|42",
				"2024-11-03T18:30:00+05:45|7|Carl Agent|900|900|0|0|0",
				"2024-11-03T19:00:00+05:45|7|Carl Agent|900|900|0|0|0",
			}},
		// Queue 1, New York 00:00 EDT to 02:59:59.999 EST on the fall-back
		// day: four UTC hours, 01:00 twice. Ann answers S5 at 06:30:30Z
		// (01:30 EST, the second 01:00) and leaves after 600 s; S4 was
		// never answered. Ann and Ben, the queue's agents, have a row in
		// every hour.
		goldenCase{name: "agents per hour, fall-back day", report: "AgentChatsPerDay", queue: 1, visible: []uint32{1},
			start: "2024-11-03T00:00", stop: "2024-11-03T02:59:59.999", zone: "America/New_York", interval: store.PT1H,
			want: []string{
				"2024-11-03T00:00:00-04:00|4|Ann Agent|0|0|0", "2024-11-03T00:00:00-04:00|5|Ben Agent|0|0|0",
				"2024-11-03T01:00:00-04:00|4|Ann Agent|0|0|0", "2024-11-03T01:00:00-04:00|5|Ben Agent|0|0|0",
				"2024-11-03T01:00:00-05:00|4|Ann Agent|1|1|600", "2024-11-03T01:00:00-05:00|5|Ben Agent|0|0|0",
				"2024-11-03T02:00:00-05:00|4|Ann Agent|0|0|0", "2024-11-03T02:00:00-05:00|5|Ben Agent|0|0|0",
			}},
		// "agents per day" as one total row per agent: Ann 2 + 1 answered,
		// 3 + 1 handled, 4245 + 0 s; Ben 1, 1, 2355 s.
		goldenCase{name: "agents, total", report: "AgentChatsPerDay", queue: 1, visible: []uint32{1},
			start: "2024-11-03", stop: "2024-11-04", zone: "America/New_York", interval: store.Total,
			want: []string{
				"2024-11-03T00:00:00-04:00|4|Ann Agent|3|4|4245",
				"2024-11-03T00:00:00-04:00|5|Ben Agent|1|1|2355",
			}},
	)
}
