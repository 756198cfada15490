package reports_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

// BenchmarkStoreReports runs queue-year reports (queue 1, the benchmark
// year in America/New_York: 365 local days, 24 hours, 7 weekdays) and
// the global ones over every queue through the engine reading the
// interval store and through the raw engine (Engine.RawOnly), back to
// back, on databases loaded with the benchmark data whose store is built
// (`chime-reports fixtures load … && chime-reports rollup`):
//
//	CHIME_BENCH_STORE_SQLITE=sw.db \
//	CHIME_BENCH_STORE_MYSQL_DSN='root@tcp(127.0.0.1:3306)/chime_storewire_bench' \
//	  go test ./reports -run '^$' -bench StoreReports -benchtime 10x
//
// The databases are only read. docs/benchmarks.md, "The interval store".
func BenchmarkStoreReports(b *testing.B) {
	dbtest.EachBench(b, "CHIME_BENCH_STORE_MYSQL_DSN", "CHIME_BENCH_STORE_SQLITE", "the benchmark data with a built store", benchStoreReports)
}

func benchStoreReports(b *testing.B, db *gorm.DB) {
	ctx := context.Background()
	if ok, err := store.Built(ctx, db); err != nil || !ok {
		b.Fatalf("the interval store is not built (run chime-reports rollup): %v", err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	w := reports.Window{Start: time.Date(2025, 11, 1, 0, 0, 0, 0, ny).UTC(), Stop: time.Date(2026, 11, 1, 0, 0, 0, 0, ny).UTC(), Zone: ny}
	e := reports.NewEngine(db, func() time.Time { return w.Stop })
	for _, name := range []string{"ServiceLevelByDay", "InboundVsAnsweredChats", "ChatOutcomesByDay", "WaitTimeByDay", "GlobalChatsPerDay",
		"ChatsByHourOfDay", "ChatsByDayOfWeek", "GlobalHourlyHeatmap", "GlobalQueueSummary", "BotContainmentByDay", "BotHandoffOutcomes"} {
		rep, _ := reports.Lookup(name)
		type run struct {
			name     string
			e        *reports.Engine
			interval store.Interval
			queue    uint32
		}
		runs := []run{{"store", e, "", 1}, {"raw", e.RawOnly(), "", 1}}
		if rep.TakesInterval() {
			runs = append(runs, run{"store-PT15M", e, store.PT15M, 1}, run{"raw-PT15M", e.RawOnly(), store.PT15M, 1})
		}
		if !rep.RequiresQueue() {
			runs = append(runs, run{"store-all", e, "", 0}, run{"raw-all", e.RawOnly(), "", 0})
		}
		for _, c := range runs {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				q := reports.Query{Report: rep, QueueID: c.queue, Window: w, Visible: []uint32{1, 2, 3, 4, 5}, Interval: c.interval}
				for i := 0; i < b.N; i++ {
					res, err := c.e.Run(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					for res.Rows.Next() {
					}
					res.Rows.Close()
				}
			})
		}
	}
}
