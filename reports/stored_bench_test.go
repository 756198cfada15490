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

// BenchmarkStoreReports runs the queue-year daily reports (queue 1, the
// benchmark year in America/New_York, 365 local days) through the engine
// reading the interval store and through the raw engine (Engine.RawOnly),
// back to back, on databases loaded with the benchmark data whose store
// is built (`chime-reports fixtures load … && chime-reports rollup`):
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
	for _, name := range []string{"ServiceLevelByDay", "InboundVsAnsweredChats", "ChatOutcomesByDay", "WaitTimeByDay", "GlobalChatsPerDay"} {
		rep, _ := reports.Lookup(name)
		for _, c := range []struct {
			name     string
			e        *reports.Engine
			interval store.Interval
		}{{"store", e, ""}, {"raw", e.RawOnly(), ""}, {"store-PT15M", e, store.PT15M}, {"raw-PT15M", e.RawOnly(), store.PT15M}} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				q := reports.Query{Report: rep, QueueID: 1, Window: w, Visible: []uint32{1}, Interval: c.interval}
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
