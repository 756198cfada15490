package reports_test

// Hand-derived expectations for the bot family (nyCase unless said otherwise).
func init() {
	goldenCases = append(goldenCases,
		// Bot conversations: Nov 3 S8 (deflected, 120 s, 2 turns), S9 (hand-
		// off, 60 s, 1 turn), S23 (left, 60 s, 3 turns); Nov 4 S22 still in
		// the bot (0 turns, not ended, out of the percentages).
		nyCase("bot containment", "BotContainmentByDay", nyDays([]string{
			"2024-10-26|0|0|0|0|0|null|null|null|null",
			"2024-10-27|0|0|0|0|0|null|null|null|null",
			"2024-10-28|0|0|0|0|0|null|null|null|null",
		}, "|0|0|0|0|0|null|null|null|null",
			"2024-11-03|3|1|1|1|0|33.3|33.3|80|2",
			"2024-11-04|1|0|0|0|1|null|null|null|0")),
		// One hand-off (S9, seeker requested), answered after 50 s.
		nyCase("bot hand-off reasons", "BotHandoffReasons", []string{"seeker_requested|1|100|1|50"}),
		// password_reset: S8 deflected (helpful), S9 handed off (not
		// helpful); vpn_help: S23 left; S22 has no intent yet and is still in
		// the bot, so its containment is empty.
		nyCase("bot intents", "BotTopIntents", []string{
			"password_reset|2|1|1|50|50", "(unrecognised)|1|0|0|null|null", "vpn_help|1|0|0|0|null",
		}),
		nyCase("bot hand-off outcomes", "BotHandoffOutcomes", nyDays([]string{
			"2024-10-26|0|0|0|0|null|null",
			"2024-10-27|0|0|0|0|null|null",
			"2024-10-28|0|0|0|0|null|null",
		}, "|0|0|0|0|null|null",
			"2024-11-03|1|1|0|0|100|50",
			"2024-11-04|0|0|0|0|null|null")),
	)
}
