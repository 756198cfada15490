package reports_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
)

// BenchmarkFingerprint compares the cost of a report's data fingerprint
// (the one aggregate statement behind its ETag, what a 304 costs) with the
// report itself, over 12 closed months of a large MariaDB database. It
// only reads (no key is made, nothing is migrated), so it may run against
// a shared benchmark database (docs/benchmarks.md):
//
//	CHIME_BENCH_MYSQL_DSN='root@tcp(127.0.0.1:3306)/chime_bench1m' \
//	  go test ./reports -run '^$' -bench Fingerprint -benchtime 5x
//
// CHIME_BENCH_START and CHIME_BENCH_STOP choose the window (default the
// 12 months from 2025-11-01).
func BenchmarkFingerprint(b *testing.B) {
	raw := os.Getenv("CHIME_BENCH_MYSQL_DSN")
	if raw == "" {
		b.Skip("CHIME_BENCH_MYSQL_DSN not set")
	}
	ctx := context.Background()
	db := dbtest.Bench(b, raw)
	start, stop := envOr("CHIME_BENCH_START", "2025-11-01"), envOr("CHIME_BENCH_STOP", "2026-10-31")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // every window is closed
	engine := reports.NewEngine(db, func() time.Time { return now })
	w, err := reports.ParseWindow(reports.WindowSpec{Start: start, Stop: stop, Zone: time.UTC, Now: now, MaxDays: 400})
	if err != nil {
		b.Fatal(err)
	}
	all := []uint32{1, 2, 3, 4, 5}
	for _, c := range []struct {
		report string
		queue  uint32
	}{{"InboundVsAnsweredChats", 1}, {"GlobalQueueSummary", 0}, {"WaitTimeByDay", 1}} {
		rep, _ := reports.Lookup(c.report)
		q := reports.Query{Report: rep, Window: w, QueueID: c.queue, Visible: all}
		b.Run(c.report+"/fingerprint", func(b *testing.B) {
			for range b.N {
				if _, ok, err := engine.Fingerprint(ctx, q); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run(c.report+"/report", func(b *testing.B) {
			for range b.N {
				res, err := engine.Run(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for res.Rows.Next() {
					n++
				}
				if err := res.Rows.Err(); err != nil {
					b.Fatal(err)
				}
				res.Rows.Close()
				b.ReportMetric(float64(n), "rows")
			}
		})
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
