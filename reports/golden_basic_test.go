package reports_test

// nyCase is a golden case on queue 1 (queues 1 and 2 visible), New York
// days Oct 26 … Nov 4 (Sat … Mon; Mondays, Saturdays and Sundays occur
// twice, other weekdays once). Session facts are in the comments of
// fixtures/golden.
func nyCase(name, report string, want []string) goldenCase {
	return goldenCase{name: name, report: report, queue: 1, visible: []uint32{1, 2},
		start: "2024-10-26", stop: "2024-11-04", zone: "America/New_York", want: want}
}

// nyEmptyDays fills Oct 29 … Nov 2 with one row text.
func nyEmptyDays(row string) []string {
	var out []string
	for _, d := range []string{"2024-10-29", "2024-10-30", "2024-10-31", "2024-11-01", "2024-11-02"} {
		out = append(out, d+row)
	}
	return out
}

// nyDays is head, the empty days, then tail.
func nyDays(head []string, empty string, tail ...string) []string {
	return append(append(head, nyEmptyDays(empty)...), tail...)
}

// Hand-derived expectations for the basic family (nyCase unless said otherwise).
func init() {
	goldenCases = append(goldenCases,
		// Sat: S1 ans, S2. Sun: S3, S16 (Oct 27) and S4, S5, S6, S9, S10, S7
		// (Nov 3) = 8, answered S3, S16, S5, S9, S7 = 5. Mon: S15 (Oct 28),
		// S13 ans, S12 (Nov 4) = 3.
		nyCase("day of week", "ChatsByDayOfWeek", []string{
			"1|Monday|3|1|33.3|1.5", "2|Tuesday|0|0|null|0", "3|Wednesday|0|0|null|0", "4|Thursday|0|0|null|0",
			"5|Friday|0|0|null|0", "6|Saturday|2|1|50|1", "7|Sunday|8|5|62.5|4",
		}),
		// By started_at: Nov 3 has S4 (long abandon), S5, S9, S7 (completed),
		// S6 (timed out), S8 (deflected), S10 (transferred), S23 (left the
		// bot); Nov 4 has S13, S12 and S22, all still open.
		nyCase("outcomes", "ChatOutcomesByDay", nyDays([]string{
			"2024-10-26|2|0|0|1|0|1|0|0|0",
			"2024-10-27|2|0|0|2|0|0|0|0|0",
			"2024-10-28|1|0|0|0|1|0|0|0|0",
		}, "|0|0|0|0|0|0|0|0|0",
			"2024-11-03|8|1|1|3|1|0|1|1|0",
			"2024-11-04|3|0|0|0|0|0|0|0|3")),
		// Started: webclient S2, S12; directline S5; every other of the 16 is
		// teams. Queued teams sessions: 10, answered S1 20, S3 90, S16 10,
		// S9 50, S7 45, S13 30 → 245/6 = 40.8.
		nyCase("entry points", "ChatsByEntryPoint", []string{
			"teams|13|10|6|60|40.8", "webclient|2|2|0|0|null", "directline|1|1|1|100|30",
			"sharepoint|0|0|0|null|null", "api|0|0|0|null|null", "other|0|0|0|null|null",
		}),
	)
}
