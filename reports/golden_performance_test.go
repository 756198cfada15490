package reports_test

// Hand-derived expectations for the performance family, queue 1 (T = 60 s,
// target 80 %, short abandon 10 s) over the New York days Oct 26 … Nov 4
// unless said otherwise. Per day (local day of queued_at):
//
//	Oct 26: S1 answered (wait 20, handle 900, 12 msgs, first reply 35 s after
//	        queueing, rated 5); S2 short abandon (wait 5).
//	Oct 27: S3 answered (wait 90, handle 2310, 20 msgs, first reply 100 s);
//	        S16 answered (wait 10, handle 600, 9 msgs, first reply 20.001 s).
//	Oct 28: S15 long abandon (wait 12).
//	Nov 3:  S4 long abandon (40); S5 answered (30, handle 600, 8 msgs, reply
//	        60 s, rated 3); S6 timed out (300); S9 answered (50, handle 600,
//	        10 msgs, reply 60 s); S10 transferred away unanswered (120);
//	        S7 answered (45, handle 5400, 30 msgs, reply 60 s, one agent
//	        transfer, rated 4).
//	Nov 4:  S13 answered and still connected (wait 30, reply 40 s, no
//	        handle); S12 still waiting (no wait yet).
func init() {
	empty := func(row string) []string {
		var out []string
		for d := 29; d <= 31; d++ {
			out = append(out, "2024-10-"+twoDigits(d)+row)
		}
		for d := 1; d <= 2; d++ {
			out = append(out, "2024-11-"+twoDigits(d)+row)
		}
		return out
	}
	days := func(head []string, emptyRow string, tail ...string) []string {
		return append(append(head, empty(emptyRow)...), tail...)
	}
	ny := func(name, report string, want []string) goldenCase {
		return goldenCase{name: name, report: report, queue: 1, visible: []uint32{1, 2},
			start: "2024-10-26", stop: "2024-11-04", zone: "America/New_York", want: want}
	}
	goldenCases = append(goldenCases,
		// SL = within 60 s / (answered + long abandons + time-outs):
		// Oct 26 1/1; Oct 27 1/2 (S3's 90 s fails); Oct 28 0/1;
		// Nov 3 3/(3+1+1) = 60 %; Nov 4 1/1. Short abandons (S2) and the
		// flow-out (S10) are counted but out of the ratio; S12 is waiting.
		ny("service level", "ServiceLevelByDay", days([]string{
			"2024-10-26|60|2|1|1|0|1|0|0|100|80",
			"2024-10-27|60|2|1|2|0|0|0|0|50|80",
			"2024-10-28|60|1|0|0|1|0|0|0|0|80",
		}, "|60|0|0|0|0|0|0|0|null|80",
			"2024-11-03|60|6|3|3|1|0|1|1|60|80",
			"2024-11-04|60|2|1|1|0|0|0|0|100|80")),
		// Rate = long / (resolved − short): Oct 26 0/(2−1); Oct 28 1/1 (12 s);
		// Nov 3 1/6 = 16.7 % (S4, 40 s); Nov 4 0/1 (S12 still waiting is
		// not resolved).
		ny("abandonment", "AbandonedChatsByDay", days([]string{
			"2024-10-26|2|0|1|0|null|null",
			"2024-10-27|2|0|0|0|null|null",
			"2024-10-28|1|1|0|100|12|12",
		}, "|0|0|0|null|null|null",
			"2024-11-03|6|1|0|16.7|40|40",
			"2024-11-04|2|0|0|0|null|null")),
		// Oct 27 waits [10, 90]: mean 50, median = v[ceil(1)] = 10,
		// P90 = v[ceil(1.8)] = 90; first replies (100 + 20.001)/2 = 60.0005.
		// Oct 28: nothing answered, but S15's 12 s is the longest wait.
		// Nov 3 waits [30, 45, 50]: mean 41.7, median v[2] = 45, P90 v[3] = 50;
		// the longest wait of any resolved session is S6's 300 s.
		ny("wait time", "WaitTimeByDay", days([]string{
			"2024-10-26|1|20|20|20|20|35",
			"2024-10-27|2|50|10|90|90|60",
			"2024-10-28|0|null|null|null|12|null",
		}, "|0|null|null|null|null|null",
			"2024-11-03|3|41.7|45|50|300|60",
			"2024-11-04|1|30|30|30|30|40")),
		// Answered waits 10 | 20 | 30 30 45 50 | 90 (7 in all); abandoned
		// (short and long) 5 12 | — | 40. Cumulative: 1/7, 2/7, 6/7, 7/7.
		ny("wait bands", "WaitTimeDistribution", []string{
			"0-15s|0|15|1|2|14.3", "15-30s|15|30|1|0|28.6", "30-60s|30|60|4|1|85.7",
			"60-120s|60|120|1|0|100", "120-300s|120|300|0|0|100", "300s+|300|null|0|0|100",
		}),
		// Oct 27 handles [600, 2310]: median v[1] = 600, P90 v[2] = 2310,
		// messages (20 + 9)/2. Nov 3 [600, 600, 5400]: mean 2200, median 600,
		// P90 5400, messages (8 + 10 + 30)/3 = 16. S13 is not closed.
		ny("chat duration", "ChatDurationByDay", days([]string{
			"2024-10-26|1|900|900|900|900|12|0",
			"2024-10-27|2|1455|600|2310|2310|14.5|0",
			"2024-10-28|0|null|null|null|null|null|0",
		}, "|0|null|null|null|null|null|0",
			"2024-11-03|3|2200|600|5400|5400|16|0",
			"2024-11-04|0|null|null|null|null|null|0")),
		// Nov 3: S10 transferred out; S7's agent transfer makes 1 of 3
		// answered sessions transferred = 33.3 %.
		ny("transfers", "TransfersByDay", days([]string{
			"2024-10-26|1|0|0|0|0",
			"2024-10-27|2|0|0|0|0",
			"2024-10-28|0|0|0|0|null",
		}, "|0|0|0|0|null",
			"2024-11-03|3|1|0|1|33.3",
			"2024-11-04|1|0|0|0|0")),
		// HR on Nov 3 (UTC day): S11 arrived by transfer from S10.
		goldenCase{name: "transfers in, HR", report: "TransfersByDay", queue: 2, visible: []uint32{1, 2},
			start: "2024-11-03", stop: "2024-11-03", zone: "UTC", want: []string{"2024-11-03|2|0|1|0|0"}},
		// Ratings by the session's arrival day: Oct 26 S1 (5); Nov 3 S5 (3)
		// and S7 (4) of 3 ended chats = 66.7 %, mean 3.5, CSAT 1/2.
		ny("satisfaction", "CustomerSatisfactionByDay", days([]string{
			"2024-10-26|1|1|100|5|100|0|0|0|0|1",
			"2024-10-27|2|0|0|null|null|0|0|0|0|0",
			"2024-10-28|0|0|null|null|null|0|0|0|0|0",
		}, "|0|0|null|null|null|0|0|0|0|0",
			"2024-11-03|3|2|66.7|3.5|50|0|0|1|1|0",
			"2024-11-04|0|0|null|null|null|0|0|0|0|0")),
		// Queue 1 around New York's repeated hour (window 00:00 EDT to
		// 02:59:59.999 EST): four hours, 01:00 twice. S4 waits 40 s in the
		// first 01:00 (40/3600 = 0.01), S5 waits 30 s in the second and is
		// then connected.
		goldenCase{name: "queue depth, fall-back hours", report: "QueueDepthByHour", queue: 1, visible: []uint32{1},
			start: "2024-11-03T00:00:00-04:00", stop: "2024-11-03T02:59:59.999-05:00", zone: "America/New_York",
			want: []string{
				"2024-11-03T00:00:00-04:00|0|0|0|0",
				"2024-11-03T01:00:00-04:00|1|1|0.01|0",
				"2024-11-03T01:00:00-05:00|1|1|0.01|1",
				"2024-11-03T02:00:00-05:00|0|0|0|0",
			}},
		// HR, 12:00–13:59:59.999 EST on Nov 3. 12:00: S11 waits 10 s then is
		// connected; S20 (from 12:50) and S21 (from 12:55) wait together:
		// peak 2, (10 + 600 + 300)/3600 = 0.25. 13:00: both still waiting
		// when the hour starts (peak 2): S20 until 13:20, S21 until 13:05,
		// (1200 + 300)/3600 = 0.42; S20 connected 13:20–13:30.
		goldenCase{name: "queue depth, overlap across hours", report: "QueueDepthByHour", queue: 2, visible: []uint32{2},
			start: "2024-11-03T12:00:00", stop: "2024-11-03T13:59:59.999", zone: "America/New_York",
			want: []string{
				"2024-11-03T12:00:00-05:00|3|2|0.25|1",
				"2024-11-03T13:00:00-05:00|0|2|0.42|1",
			}},
	)
}
