package reports_test

// Hand-derived expectations for the agent family (nyCase unless said otherwise).
func init() {
	goldenCases = append(goldenCases,
		// Alice, UTC Oct 26 … Nov 4, participations by joined_at.
		// Ann: S1, S5, S9, S13 accepted (answered 4) and S7 by transfer
		// (handled 5); closed handles 900 + 600 + 600 + 3045 (04:30:00 →
		// 05:20:45) = 5145, mean 1286.3; first replies 15, 30, 10, 10, 60 →
		// 25; rated on S1 (5), S5 (3), S7 (4) → 4.
		// Ben: S3, S16, S7 (queue 1) and S11, S20 (queue 2): 2 queues,
		// answered 5; handles 2310 + 600 + 2355 + 600 + 600 = 6465, mean
		// 1293; first replies 10, 10.001, 15, 10, 60 → 21; never rated.
		goldenCase{name: "global agent activity", report: "GlobalAgentActivity", visible: []uint32{1, 2},
			start: "2024-10-26", stop: "2024-11-04", zone: "UTC",
			want: []string{
				"4|Ann Agent|ann@example.com|1|4|5|5145|1286.3|25|3|4",
				"5|Ben Agent|ben@example.com|2|5|5|6465|1293|21|0|null",
			}},
		// Ann: answered 4 of 7 (57.1 %), speed of answer (20+30+50+30)/4;
		// Ben: 3 of 7, (90+10+45)/3 = 48.3, handles 2310 + 600 + 2355, and
		// one transfer out (S7).
		nyCase("agents answered", "AgentChatsAnswered", []string{
			"4|Ann Agent|4|57.1|32.5|5|1286.3|5145|0",
			"5|Ben Agent|3|42.9|48.3|3|1755|5265|1",
		}),
		// NY Nov 3: Ann joined S5 and S9 (accepted) and S7 (transfer at
		// 23:30 EST): handles 600 + 600 + 3045. Ben joined S7 at 22:50:45 EST
		// (2355 s). Nov 4: Ann joined S13 (open: 0 s); Ben is a member who
		// receives chats, so he gets a zero row.
		goldenCase{name: "agents per day", report: "AgentChatsPerDay", queue: 1, visible: []uint32{1},
			start: "2024-11-03", stop: "2024-11-04", zone: "America/New_York",
			want: []string{
				"2024-11-03|4|Ann Agent|2|3|4245", "2024-11-03|5|Ben Agent|1|1|2355",
				"2024-11-04|4|Ann Agent|1|1|0", "2024-11-04|5|Ben Agent|0|0|0",
			}},
		// First replies: Ann [10 10 15 30 60] → mean 25, P90 v[5] = 60; Ben
		// [10 10.001 15] → 11.7, P90 v[3] = 15. Gaps: in S1, while Ann is a
		// participant (from 00:30:20), the guest's run 00:32:00 + 00:32:30
		// is answered at 00:33:00 → 60 s; the guest's 00:30:00 message came
		// before she joined. Ann sent 2 messages (the internal note does not
		// count) over 5 chats.
		nyCase("response times", "AgentResponseTimes", []string{
			"4|Ann Agent|5|25|60|60|2|0.4",
			"5|Ben Agent|3|11.7|15|null|0|0",
		}),
		// Ann: S1 accepted (19 s), S4 withdrawn, S5 accepted (10 s), S12
		// pending → 2/(4 − 1). Ben: S1 taken by Ann, S5 declined, S6 timed
		// out → 0/(3 − 1).
		nyCase("offers", "AgentOfferOutcomes", []string{
			"4|Ann Agent|4|2|0|0|0|1|66.7|14.5",
			"5|Ben Agent|3|0|1|1|1|0|0|null",
		}),
		// NY Nov 3–4, now = Nov 4 12:00Z. Ann on Nov 3: S5 600 + S9 600 + S7
		// from 04:30Z to NY midnight (05:00Z) 1800 = 3000 s, never two at
		// once. Ben: S7 03:50:45–04:30Z = 2355 s. Ann on Nov 4: the rest of
		// S7 (1245 s) + S13 from 11:00:30Z to now (3570 s).
		goldenCase{name: "concurrency, queue 1", report: "AgentConcurrency", queue: 1, visible: []uint32{1},
			start: "2024-11-03", stop: "2024-11-04", zone: "America/New_York",
			want: []string{
				"2024-11-03|4|Ann Agent|3|3000|3000|1|1|2",
				"2024-11-03|5|Ben Agent|1|2355|2355|1|1|3",
				"2024-11-04|4|Ann Agent|2|4815|4815|1|1|2",
			}},
		// Carl: S14 12:01:40–12:06:40 and S24 12:03:20–12:10:00: 700 s of
		// chat in 500 s busy, two at once → 1.4; his limit is 1.
		goldenCase{name: "concurrency, overlapping chats", report: "AgentConcurrency", queue: 3, visible: []uint32{3},
			start: "2024-11-03", stop: "2024-11-03", zone: "America/New_York",
			want: []string{"2024-11-03|7|Carl Agent|2|700|500|1.4|2|1"}},
		// Carl online 5880 s, available 5700 s. Chats clipped to online
		// time: S14 300 s, S24 12:03:20–12:08:00 = 280 s; busy (union)
		// 12:01:40–12:08:00 = 380 s → occupancy 6.5 %; capacity 580/(1 ·
		// 5880) = 9.9 %. Bob manages queue 3 but has no presence: no row.
		goldenCase{name: "utilization", report: "AgentUtilization", queue: 3, visible: []uint32{3},
			start: "2024-11-03", stop: "2024-11-03", zone: "America/New_York",
			want: []string{"2024-11-03|7|Carl Agent|5880|5700|380|6.5|9.9"}},
		// Last agents of answered, closed sessions: Ann S1, S5, S9, S7 (after
		// the transfer); Ben S3, S16. Ann rated 5, 3, 4.
		nyCase("agent ratings", "AgentRatings", []string{
			"4|Ann Agent|4|3|75|4|66.7|0|0|1|1|1",
			"5|Ben Agent|2|0|0|null|null|0|0|0|0|0",
		}),
	)
}
