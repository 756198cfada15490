package export_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/export/xlsxtest"
)

// sessionLogRows streams n synthetic rows shaped like the session logs
// (the real columns, realistic text lengths, about one null in five), made
// on the fly so the benchmark measures the writer, not a stored result.
type sessionLogRows struct {
	n, i  int
	row   []any
	start time.Time
}

var (
	guestNames = []string{"Peyton Wilson", "Jo Doe", "Sam Okafor", "Maria García", "Li Wei", "Aisha Khan", "Tom Müller"}
	questions  = []string{"Outlook password reset", "VPN drops every few minutes when I am on the train",
		"Badge access to building 7", "How do I share a calendar with my team?", "Printer on floor 3 prints blank pages",
		"My laptop will not connect to the docking station after the update"}
	states = []string{"Completed", "Completed", "Completed", "Abandoned", "TimedOut", "Deflected", "Transferred"}
)

func newSessionLogRows(n int) *sessionLogRows {
	return &sessionLogRows{n: n, row: make([]any, 22), start: time.Date(2024, 1, 1, 0, 0, 0, 0, newYork)}
}

func (r *sessionLogRows) Next() bool {
	if r.i >= r.n {
		return false
	}
	i := r.i
	r.i++
	started := r.start.Add(time.Duration(i) * 31 * time.Second)
	row := r.row
	row[0], row[1], row[2], row[3] = int64(i+1), started, int64(i%5+1), "IT Help Desk"
	row[4], row[5], row[6] = states[i%len(states)], "seeker_left", "teams"
	row[7], row[8] = guestNames[i%len(guestNames)], fmt.Sprintf("guest%d@example.com", i%9973)
	row[9], row[10] = questions[i%len(questions)], "outlookPW"
	row[11] = "Ann Agent"
	row[12], row[13], row[14] = started, started.Add(20*time.Second), started.Add(920*time.Second)
	row[15], row[16], row[17] = 20.0+float64(i%90), 900.25, 920.25
	row[18], row[19], row[20], row[21] = int64(i%40), int64(i%3), int64(i%5+1), nil
	if i%5 == 0 { // an unanswered session: no agent, no accept, no handle time, no rating
		row[11], row[13], row[16], row[20] = nil, nil, nil, nil
	}
	return true
}
func (r *sessionLogRows) Row() []any   { return r.row }
func (r *sessionLogRows) Err() error   { return nil }
func (r *sessionLogRows) Close() error { return nil }

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkWriteSessionLog writes a session log of 100k, 500k and 1M rows
// as CSV and as XLSX to a byte counter and reports rows/s, the peak resident
// set and Go heap during the write, and the size of the file. Run with
//
//	go test ./reports/export -run '^$' -bench WriteSessionLog -benchtime 1x
func BenchmarkWriteSessionLog(b *testing.B) {
	rep, ok := reports.Lookup("GlobalChatSessionLog")
	if !ok {
		b.Fatal("no session log report")
	}
	writers := []struct {
		name  string
		write func(io.Writer, *reports.Result) error
	}{
		{"CSV", func(w io.Writer, res *reports.Result) error {
			_, err := export.WriteCSV(w, res, export.CSVOptions{})
			return err
		}},
		{"XLSX", func(w io.Writer, res *reports.Result) error {
			_, err := export.WriteXLSX(w, res, export.XLSXOptions{GeneratedBy: "bench"})
			return err
		}},
	}
	for _, w := range writers {
		for _, n := range []int{100_000, 500_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/rows=%d", w.name, n), func(b *testing.B) {
				probe := xlsxtest.StartProbe()
				var out countingWriter
				for b.Loop() {
					out.n = 0
					res := result(rep, nil, nil)
					res.Rows = newSessionLogRows(n)
					if err := w.write(&out, res); err != nil {
						b.Fatal(err)
					}
				}
				u := probe.Stop()
				xlsxtest.ReportUsage(b, int64(n)*int64(b.N), out.n, u)
			})
		}
	}
}
