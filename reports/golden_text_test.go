package reports_test

// Hand-derived expectations for the text-analytics family (nyCase unless said otherwise).
func init() {
	goldenCases = append(goldenCases,
		// Guest keywords of S1 (0.5), S3 (−0.4), S5 (0.1), S7 (0.3); 4
		// sessions have any. password: S1 (2), S5 (1), S7 (2) → 3 sessions,
		// 5 occurrences, sentiment 0.3; outlook: S1 (2), S7 (1); then the
		// one-session keywords by name. S1's agent keyword "help" is absent.
		nyCase("top keywords", "TopKeywords", []string{
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
		nyCase("sentiment", "SentimentByDay", nyDays([]string{
			"2024-10-26|2|1|0.5|100|0|0",
			"2024-10-27|2|1|-0.4|0|0|100",
			"2024-10-28|1|0|null|null|null|null",
		}, "|0|0|null|null|null|null",
			"2024-11-03|8|2|0.2|50|50|0",
			"2024-11-04|3|0|null|null|null|null")),
		// outlookPW: S1 (20, 900), S9 (50, 600); vpn: S3 (90, 2310); the
		// other 10 have none: answered S16 10/600, S5 30/600, S7 45/5400,
		// S13 30 (open) → waits 28.8, handles 2200.
		nyCase("skill tags", "SkillTagDistribution", []string{
			"(none)|10|4|40|28.8|2200", "outlookPW|2|2|100|35|750", "vpn|1|1|100|90|2310",
		}),
		// Comments of S1 and S7, in submission order, local to New York; the
		// formula-looking comment comes back verbatim (writers neutralise it).
		nyCase("rating comments", "RatingComments", []string{
			"1|2024-10-26T20:46:00-04:00|5|Quick fix, thanks|Ann Agent|Outlook password reset",
			"7|2024-11-04T00:21:00-05:00|4|=cmd|' /C calc'!A0|Ann Agent|null",
		}),
	)
}
