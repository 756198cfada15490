package store

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models/dbtest"
)

// BenchmarkStore measures, on a database loaded with a year of fixtures
// (CHIME_BENCH_STORE_SQLITE=PATH and/or CHIME_BENCH_STORE_MYSQL_DSN, e.g.
// `chime-reports fixtures load --start 2021-01-01 --end 2021-12-31
// --sessions 100000 --seed 7`): the full rebuild of the store (it WRITES
// the store's tables), and a queue-year per-day read in New York time of
// every queued-at measure from the store and from raw rows, on the store's
// test declaration of measures (BenchmarkStoreReports in package reports
// runs the reports themselves). docs/benchmarks.md.
func BenchmarkStore(b *testing.B) {
	dbtest.EachBench(b, "CHIME_BENCH_STORE_MYSQL_DSN", "CHIME_BENCH_STORE_SQLITE", "a year of fixtures", benchStore)
}

func benchStore(b *testing.B, db *gorm.DB) {
	ctx := context.Background()
	b.Run("rebuild", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := Rebuild(ctx, db, time.Minute, BuildOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	if ok, err := Built(ctx, db); err != nil || !ok {
		if _, err := Rebuild(ctx, db, time.Minute, BuildOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	ny, _ := time.LoadLocation("America/New_York")
	start, stop := time.Date(2021, 1, 1, 0, 0, 0, 0, ny).UTC(), time.Date(2022, 1, 1, 0, 0, 0, 0, ny).UTC()
	// The columns of ServiceLevelByDay.
	sl := []string{"inbound", "sl_met", "answered", "long_abandoned", "short_abandoned", "timed_out", "flowed_out", "sl_offered"}
	for _, c := range []struct {
		name     string
		raw      bool
		measures []string
	}{{"queue-year-day/store/all", false, nil}, {"queue-year-day/raw/all", true, nil},
		{"queue-year-day/store/service-level", false, sl}, {"queue-year-day/raw/service-level", true, sl}} {
		b.Run(c.name, func(b *testing.B) {
			q := Query{Attr: Queued, Queues: []uint32{1}, Start: start, Stop: stop, Zone: ny, Interval: P1D, Raw: c.raw, Measures: c.measures}
			for i := 0; i < b.N; i++ {
				res, err := Read(ctx, db, q)
				if err != nil {
					b.Fatal(err)
				}
				if c.raw == (res.StoreQueues > 0) {
					b.Fatalf("store queues %d, raw queues %d", res.StoreQueues, res.RawQueues)
				}
			}
		})
	}
}
