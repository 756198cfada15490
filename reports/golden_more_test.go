package reports_test

import "fmt"

// Hand-derived expectations for the basic, global, agent, text and bot
// families. Unless said otherwise: queue 1, New York days Oct 26 … Nov 4
// (Sat … Mon; Mondays, Saturdays and Sundays occur twice, other weekdays
// once). Session facts are in the comments of fixtures/golden.
func init() {
	ny := func(name, report string, want []string) goldenCase {
		return goldenCase{name: name, report: report, queue: 1, visible: []uint32{1, 2},
			start: "2024-10-26", stop: "2024-11-04", zone: "America/New_York", want: want}
	}
	// emptyDays fills Oct 29 … Nov 2 with one row text.
	emptyDays := func(row string) []string {
		var out []string
		for _, d := range []string{"2024-10-29", "2024-10-30", "2024-10-31", "2024-11-01", "2024-11-02"} {
			out = append(out, d+row)
		}
		return out
	}
	days := func(head []string, empty string, tail ...string) []string {
		return append(append(head, emptyDays(empty)...), tail...)
	}
	goldenCases = append(goldenCases,
		// Sat: S1 ans, S2. Sun: S3, S16 (Oct 27) and S4, S5, S6, S9, S10, S7
		// (Nov 3) = 8, answered S3, S16, S5, S9, S7 = 5. Mon: S15 (Oct 28),
		// S13 ans, S12 (Nov 4) = 3.
		ny("day of week", "ChatsByDayOfWeek", []string{
			"1|Monday|3|1|33.3|1.5", "2|Tuesday|0|0|null|0", "3|Wednesday|0|0|null|0", "4|Thursday|0|0|null|0",
			"5|Friday|0|0|null|0", "6|Saturday|2|1|50|1", "7|Sunday|8|5|62.5|4",
		}),
		// By started_at: Nov 3 has S4 (long abandon), S5, S9, S7 (completed),
		// S6 (timed out), S8 (deflected), S10 (transferred), S23 (left the
		// bot); Nov 4 has S13, S12 and S22, all still open.
		ny("outcomes", "ChatOutcomesByDay", days([]string{
			"2024-10-26|2|0|0|1|0|1|0|0|0",
			"2024-10-27|2|0|0|2|0|0|0|0|0",
			"2024-10-28|1|0|0|0|1|0|0|0|0",
		}, "|0|0|0|0|0|0|0|0|0",
			"2024-11-03|8|1|1|3|1|0|1|1|0",
			"2024-11-04|3|0|0|0|0|0|0|0|3")),
		// Started: webclient S2, S12; directline S5; every other of the 16 is
		// teams. Queued teams sessions: 10, answered S1 20, S3 90, S16 10,
		// S9 50, S7 45, S13 30 → 245/6 = 40.8.
		ny("entry points", "ChatsByEntryPoint", []string{
			"teams|13|10|6|60|40.8", "webclient|2|2|0|0|null", "directline|1|1|1|100|30",
			"sharepoint|0|0|0|null|null", "api|0|0|0|null|null", "other|0|0|0|null|null",
		}),
		// Alice (queues 1, 2), UTC days. Nov 3 started: S4 S5 S6 S8 S9 S10
		// S23 S11 S20 S21 = 10 (S8 deflected); queued: S4 S5 S6 S9 S10 S11
		// S20 S21 = 8, answered S5 S9 S11 S20, long abandons S4 and S21,
		// S6 timed out; seekers {1, 2, 3}; conversations: S10 and its HR leg
		// S11 share one, so 7. Nov 4: S7 S13 S12 S22 started, S7 S13 S12
		// queued, S7 and S13 answered.
		goldenCase{name: "global per day", report: "GlobalChatsPerDay", visible: []uint32{1, 2},
			start: "2024-11-03", stop: "2024-11-04", zone: "UTC",
			want: []string{"2024-11-03|10|1|8|4|2|1|3|7", "2024-11-04|4|0|3|2|0|0|3|3"}},
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
		ny("agents answered", "AgentChatsAnswered", []string{
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
		ny("response times", "AgentResponseTimes", []string{
			"4|Ann Agent|5|25|60|60|2|0.4",
			"5|Ben Agent|3|11.7|15|null|0|0",
		}),
		// Ann: S1 accepted (19 s), S4 withdrawn, S5 accepted (10 s), S12
		// pending → 2/(4 − 1). Ben: S1 taken by Ann, S5 declined, S6 timed
		// out → 0/(3 − 1).
		ny("offers", "AgentOfferOutcomes", []string{
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
		ny("agent ratings", "AgentRatings", []string{
			"4|Ann Agent|4|3|75|4|66.7|0|0|1|1|1",
			"5|Ben Agent|2|0|0|null|null|0|0|0|0|0",
		}),
		// Guest keywords of S1 (0.5), S3 (−0.4), S5 (0.1), S7 (0.3); 4
		// sessions have any. password: S1 (2), S5 (1), S7 (2) → 3 sessions,
		// 5 occurrences, sentiment 0.3; outlook: S1 (2), S7 (1); then the
		// one-session keywords by name. S1's agent keyword "help" is absent.
		ny("top keywords", "TopKeywords", []string{
			"1|password|3|75|5|0.3", "2|outlook|2|50|3|0.4", "3|drops|1|25|1|-0.4", "4|error|1|25|1|0.5",
			"5|forgot|1|25|1|0.5", "6|reset|1|25|1|0.5", "7|vpn|1|25|3|-0.4",
		}),
		// Oct 26–28 only: every keyword is in one session (S1 on Oct 26 or
		// S3 on Oct 27), so the top list is alphabetical.
		goldenCase{name: "keyword trend", report: "KeywordTrendByDay", queue: 1, visible: []uint32{1},
			start: "2024-10-26", stop: "2024-10-28", zone: "America/New_York",
			want: []string{
				"2024-10-26|drops|0", "2024-10-26|error|1", "2024-10-26|forgot|1", "2024-10-26|outlook|1",
				"2024-10-26|password|1", "2024-10-26|reset|1", "2024-10-26|vpn|0",
				"2024-10-27|drops|1", "2024-10-27|error|0", "2024-10-27|forgot|0", "2024-10-27|outlook|0",
				"2024-10-27|password|0", "2024-10-27|reset|0", "2024-10-27|vpn|1",
				"2024-10-28|drops|0", "2024-10-28|error|0", "2024-10-28|forgot|0", "2024-10-28|outlook|0",
				"2024-10-28|password|0", "2024-10-28|reset|0", "2024-10-28|vpn|0",
			}},
		// Nov 3: 8 sessions, S5 (0.1, neutral) and S7 (0.3, positive) scored.
		ny("sentiment", "SentimentByDay", days([]string{
			"2024-10-26|2|1|0.5|100|0|0",
			"2024-10-27|2|1|-0.4|0|0|100",
			"2024-10-28|1|0|null|null|null|null",
		}, "|0|0|null|null|null|null",
			"2024-11-03|8|2|0.2|50|50|0",
			"2024-11-04|3|0|null|null|null|null")),
		// outlookPW: S1 (20, 900), S9 (50, 600); vpn: S3 (90, 2310); the
		// other 10 have none: answered S16 10/600, S5 30/600, S7 45/5400,
		// S13 30 (open) → waits 28.8, handles 2200.
		ny("skill tags", "SkillTagDistribution", []string{
			"(none)|10|4|40|28.8|2200", "outlookPW|2|2|100|35|750", "vpn|1|1|100|90|2310",
		}),
		// Comments of S1 and S7, in submission order, local to New York; the
		// formula-looking comment comes back verbatim (writers neutralise it).
		ny("rating comments", "RatingComments", []string{
			"1|2024-10-26T20:46:00-04:00|5|Quick fix, thanks|Ann Agent|Outlook password reset",
			"7|2024-11-04T00:21:00-05:00|4|=cmd|' /C calc'!A0|Ann Agent|null",
		}),
		// Bot conversations: Nov 3 S8 (deflected, 120 s, 2 turns), S9 (hand-
		// off, 60 s, 1 turn), S23 (left, 60 s, 3 turns); Nov 4 S22 still in
		// the bot (0 turns, not ended, out of the percentages).
		ny("bot containment", "BotContainmentByDay", days([]string{
			"2024-10-26|0|0|0|0|0|null|null|null|null",
			"2024-10-27|0|0|0|0|0|null|null|null|null",
			"2024-10-28|0|0|0|0|0|null|null|null|null",
		}, "|0|0|0|0|0|null|null|null|null",
			"2024-11-03|3|1|1|1|0|33.3|33.3|80|2",
			"2024-11-04|1|0|0|0|1|null|null|null|0")),
		// One hand-off (S9, seeker requested), answered after 50 s.
		ny("bot hand-off reasons", "BotHandoffReasons", []string{"seeker_requested|1|100|1|50"}),
		// password_reset: S8 deflected (helpful), S9 handed off (not
		// helpful); vpn_help: S23 left; S22 has no intent yet and is still in
		// the bot, so its containment is empty.
		ny("bot intents", "BotTopIntents", []string{
			"password_reset|2|1|1|50|50", "(unrecognised)|1|0|0|null|null", "vpn_help|1|0|0|0|null",
		}),
		ny("bot hand-off outcomes", "BotHandoffOutcomes", days([]string{
			"2024-10-26|0|0|0|0|null|null",
			"2024-10-27|0|0|0|0|null|null",
			"2024-10-28|0|0|0|0|null|null",
		}, "|0|0|0|0|null|null",
			"2024-11-03|1|1|0|0|100|50",
			"2024-11-04|0|0|0|0|null|null")),
		heatmapCase(),
	)
}

// heatmapCase: alice, NY Sunday Nov 3 only (the window holds one Sunday and
// no other weekday, whose per-day averages are therefore empty). Queued:
// 01:00 S4 and S5 (twice 01:30, answered S5 after 30 s); 09:00 S6; 11:00 S9
// (50 s); 12:00 S10 and HR's S11 (10 s), S20 (1800 s), S21; 22:00 S7 (45 s).
func heatmapCase() goldenCase {
	names := []string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	sunday := map[int]string{1: "2|1|30|2", 9: "1|0|null|1", 11: "1|1|50|1", 12: "4|2|905|4", 22: "1|1|45|1"}
	var want []string
	for d := 1; d <= 7; d++ {
		for h := 0; h < 24; h++ {
			cells := "0|0|null|null"
			if d == 7 {
				cells = "0|0|null|0"
				if c, ok := sunday[h]; ok {
					cells = c
				}
			}
			want = append(want, fmt.Sprintf("%d|%s|%d|%s", d, names[d], h, cells))
		}
	}
	return goldenCase{name: "heatmap", report: "GlobalHourlyHeatmap", visible: []uint32{1, 2},
		start: "2024-11-03", stop: "2024-11-03", zone: "America/New_York", want: want}
}
