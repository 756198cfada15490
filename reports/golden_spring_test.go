package reports_test

import "fmt"

// Spring-forward days and a half-hour zone (sessions S30–S36 of
// fixtures/golden).
func init() {
	// New York, Mar 10 (23 hours: 05:00Z → 04:00Z) and Mar 11: S30 (ans),
	// S31, S35 (ans), S36 (timed out) and S32 (23:59 EDT, ans) are all on
	// Mar 10.
	goldenCases = append(goldenCases,
		goldenCase{name: "spring forward, New York days", report: "InboundVsAnsweredChats", queue: 1, visible: []uint32{1},
			start: "2024-03-10", stop: "2024-03-11", zone: "America/New_York",
			want: []string{"2024-03-10|5|3|2|60", "2024-03-11|0|0|0|null"}},
		springHours(),
		// 00:00 to 04:59:59.999 local on Mar 10: four UTC hours, labelled
		// 00:00 and 01:00 EST, then 03:00 and 04:00 EDT (02:00 never
		// happens). S30 waits 20 s (0.01) then is connected; S31 waits 30 s.
		goldenCase{name: "spring forward, New York hours", report: "QueueDepthByHour", queue: 1, visible: []uint32{1},
			start: "2024-03-10T00:00", stop: "2024-03-10T04:59:59.999", zone: "America/New_York",
			want: []string{
				"2024-03-10T00:00:00-05:00|0|0|0|0", "2024-03-10T01:00:00-05:00|1|1|0.01|1",
				"2024-03-10T03:00:00-04:00|1|1|0.01|0", "2024-03-10T04:00:00-04:00|0|0|0|0",
			}},
		// London, Mar 31 (23 hours): S33 at 00:30 GMT and S34 at 02:30 BST.
		goldenCase{name: "spring forward, London day", report: "InboundVsAnsweredChats", queue: 1, visible: []uint32{1},
			start: "2024-03-31", stop: "2024-03-31", zone: "Europe/London",
			want: []string{"2024-03-31|2|2|0|100"}},
		// 00:00–02:59:59.999 local is two UTC hours: 00:00 GMT and 02:00 BST.
		// Each has one arrival waiting 10 s (0.0028 → 0) then connected.
		goldenCase{name: "spring forward, London hours", report: "QueueDepthByHour", queue: 1, visible: []uint32{1},
			start: "2024-03-31T00:00", stop: "2024-03-31T02:59:59.999", zone: "Europe/London",
			want: []string{"2024-03-31T00:00:00Z|1|1|0|1", "2024-03-31T02:00:00+01:00|1|1|0|1"}},
		// Kolkata (+05:30): Mar 10 runs 18:30Z Mar 9 → 18:30Z Mar 10. S30,
		// S31 and S35 (its last millisecond) are on Mar 10; S36 (00:00) and
		// S32 (09:29) on Mar 11.
		goldenCase{name: "half-hour zone, Kolkata days", report: "InboundVsAnsweredChats", queue: 1, visible: []uint32{1},
			start: "2024-03-10", stop: "2024-03-11", zone: "Asia/Kolkata",
			want: []string{"2024-03-10|3|2|1|66.7", "2024-03-11|2|1|1|50"}},
		// Kolkata hours start at :30 UTC. At 00:00 on Mar 11 S35 (arrived
		// 1 ms earlier) is still waiting and S36 arrives: peak 2; waiting
		// time 14.999 + 300 s = 0.09 of the hour; S35 is then connected.
		goldenCase{name: "half-hour zone, Kolkata hours", report: "QueueDepthByHour", queue: 1, visible: []uint32{1},
			start: "2024-03-11T00:00", stop: "2024-03-11T01:59:59.999", zone: "Asia/Kolkata",
			want: []string{"2024-03-11T00:00:00+05:30|1|2|0.09|1", "2024-03-11T01:00:00+05:30|0|0|0|0"}},
	)
}

// springHours: New York hour of day over Mar 10–11 (2 local days). Hour 2
// does not exist on Mar 10 and is simply empty. 1: S30 (wait 20); 3: S31
// (long abandon); 14: S35 (wait 15) and S36 (timed out); 23: S32 (wait 60).
func springHours() goldenCase {
	set := map[int]string{1: "1|1|0|20|0.5", 3: "1|0|1|null|0.5", 14: "2|1|0|15|1", 23: "1|1|0|60|0.5"}
	var want []string
	for h := 0; h < 24; h++ {
		cells, ok := set[h]
		if !ok {
			cells = "0|0|0|null|0"
		}
		want = append(want, fmt.Sprintf("%d|%s", h, cells))
	}
	return goldenCase{name: "spring forward, New York hour of day", report: "ChatsByHourOfDay", queue: 1, visible: []uint32{1},
		start: "2024-03-10", stop: "2024-03-11", zone: "America/New_York", want: want}
}
