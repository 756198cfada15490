package reports_test

import "fmt"

// Hand-derived expectations for the global family (nyCase unless said otherwise).
func init() {
	goldenCases = append(goldenCases,
		// Alice (queues 1, 2), UTC days. Nov 3 started: S4 S5 S6 S8 S9 S10
		// S23 S11 S20 S21 = 10 (S8 deflected); queued: S4 S5 S6 S9 S10 S11
		// S20 S21 = 8, answered S5 S9 S11 S20, long abandons S4 and S21,
		// S6 timed out; seekers {1, 2, 3}; conversations: S10 and its HR leg
		// S11 share one, so 7. Nov 4: S7 S13 S12 S22 started, S7 S13 S12
		// queued, S7 and S13 answered.
		goldenCase{name: "global per day", report: "GlobalChatsPerDay", visible: []uint32{1, 2},
			start: "2024-11-03", stop: "2024-11-04", zone: "UTC",
			want: []string{"2024-11-03|10|1|8|4|2|1|3|7", "2024-11-04|4|0|3|2|0|0|3|3"}},
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
