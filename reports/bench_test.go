package reports_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

// Benchmark data: what `chime-bench --load` (and `chime-reports fixtures
// load --start 2025-11-01 --end 2026-10-31 --sessions 1000000 --seed 7`)
// creates. The window is the whole year in UTC.
var (
	benchStart = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	benchStop  = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

// BenchmarkReports runs every report (the session logs aside: they are
// exports, see cmd/chime-bench) through the engine over 12 months, for
// queue 1 and for every queue (a per-queue report once per queue, as its
// OData set does; a global report over all queues), on each back end that
// is configured. Benchmarks, not tests: skipped unless
//
//	CHIME_BENCH_MYSQL_DSN='root@tcp(127.0.0.1:3306)/chime_bench1m' \
//	CHIME_BENCH_SQLITE=bench1m.db \
//	  go test ./reports -run '^$' -bench 'Reports/mysql/InboundVsAnsweredChats' -benchtime 3x
//
// name databases loaded with the benchmark data (cmd/chime-bench --load
// creates them). The databases are only read.
func BenchmarkReports(b *testing.B) {
	dbtest.EachBench(b, "CHIME_BENCH_MYSQL_DSN", "CHIME_BENCH_SQLITE", "the benchmark data", benchBackend)
}

func benchBackend(b *testing.B, db *gorm.DB) {
	var all []uint32
	if err := db.Model(&models.Queue{}).Order("id").Pluck("id", &all).Error; err != nil {
		b.Fatal(err)
	}
	engine := reports.NewEngine(db, func() time.Time { return benchStop })
	window := reports.Window{Start: benchStart, Stop: benchStop, Zone: time.UTC}
	for _, r := range reports.All() {
		if r.SessionLog {
			continue
		}
		for _, scope := range []string{"queue1", "all"} {
			var runs []reports.Query
			switch {
			case !r.RequiresQueue() && scope == "queue1":
				runs = []reports.Query{{Report: r, Window: window, Visible: []uint32{1}}}
			case !r.RequiresQueue():
				runs = []reports.Query{{Report: r, Window: window, Visible: all}}
			case scope == "queue1":
				runs = []reports.Query{{Report: r, Window: window, QueueID: 1, Visible: all}}
			default:
				for _, id := range all {
					runs = append(runs, reports.Query{Report: r, Window: window, QueueID: id, Visible: all})
				}
			}
			b.Run(r.Name+"/"+scope, func(b *testing.B) {
				var rows int
				for b.Loop() {
					rows = 0
					for _, q := range runs {
						rows += countRows(b, engine, q)
					}
				}
				b.ReportMetric(float64(rows), "rows")
			})
		}
	}
}

// BenchmarkSeriesIntervals runs the hand-written time series (and one
// measured series beside them) for queue 1 over the benchmark year at
// their own grain, at PT15M and at total, with allocations: a year of
// quarter-hours is about 35,000 buckets. Skipped unless the benchmark
// data is configured, as BenchmarkReports:
//
//	CHIME_BENCH_SQLITE=bench1m.db go test ./reports -run '^$' -bench SeriesIntervals -benchtime 3x
func BenchmarkSeriesIntervals(b *testing.B) {
	dbtest.EachBench(b, "CHIME_BENCH_MYSQL_DSN", "CHIME_BENCH_SQLITE", "the benchmark data", func(b *testing.B, db *gorm.DB) {
		engine := reports.NewEngine(db, func() time.Time { return benchStop })
		window := reports.Window{Start: benchStart, Stop: benchStop, Zone: time.UTC}
		for _, name := range []string{"QueueDepthByHour", "AgentChatsPerDay", "AgentConcurrency", "AgentUtilization", "InboundVsAnsweredChats"} {
			r, _ := reports.Lookup(name)
			for _, iv := range []store.Interval{"", store.PT15M, store.Total} {
				label := string(iv)
				if iv == "" {
					label = "own"
				}
				b.Run(name+"/"+label, func(b *testing.B) {
					b.ReportAllocs()
					var rows int
					for b.Loop() {
						rows = countRows(b, engine, reports.Query{Report: r, Window: window, QueueID: 1, Visible: []uint32{1}, Interval: iv})
					}
					b.ReportMetric(float64(rows), "rows")
				})
			}
		}
	})
}

// BenchmarkKeywordReports runs TopKeywords and KeywordTrendByDay for queue
// 1 over the benchmark year in local days of several zones — UTC (whole
// stored days), New York (local days made of stored hours), Kathmandu
// (+05:45: stored hours plus raw quarter-hours at each day's edges) — and
// the trend at P1W and PT1H, on the interval store and raw (RawOnly).
// Skipped unless CHIME_BENCH_MYSQL_DSN or CHIME_BENCH_SQLITE names the
// benchmark data (see BenchmarkReports):
//
//	go test ./reports -run '^$' -bench KeywordReports -benchtime 3x
func BenchmarkKeywordReports(b *testing.B) {
	dbtest.EachBench(b, "CHIME_BENCH_MYSQL_DSN", "CHIME_BENCH_SQLITE", "the benchmark data", func(b *testing.B, db *gorm.DB) {
		engine := reports.NewEngine(db, func() time.Time { return benchStop })
		top, _ := reports.Lookup("TopKeywords")
		trend, _ := reports.Lookup("KeywordTrendByDay")
		for _, zone := range []string{"UTC", "America/New_York", "Asia/Kathmandu"} {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				b.Fatal(err)
			}
			w := reports.Window{Start: reports.LocalMidnight(2025, 11, 1, loc), Stop: reports.LocalMidnight(2026, 11, 1, loc), Zone: loc}
			for _, c := range []struct {
				r  *reports.Report
				iv store.Interval
			}{{top, ""}, {trend, ""}, {trend, store.P1W}, {trend, store.PT1H}} {
				if c.iv == store.PT1H && zone != "UTC" {
					continue
				}
				for _, e := range []struct {
					name string
					e    *reports.Engine
				}{{"store", engine}, {"raw", engine.RawOnly()}} {
					label := zone[strings.LastIndex(zone, "/")+1:] // a sub-benchmark name holds no slash
					name := c.r.Name + "/" + label + "/" + e.name
					if c.iv != "" {
						name = c.r.Name + "@" + string(c.iv) + "/" + label + "/" + e.name
					}
					b.Run(name, func(b *testing.B) {
						var rows int
						for b.Loop() {
							rows = countRows(b, e.e, reports.Query{Report: c.r, Window: w, QueueID: 1, Visible: []uint32{1}, Interval: c.iv})
						}
						b.ReportMetric(float64(rows), "rows")
					})
				}
			}
		}
	})
}

// countRows runs q on engine and reads every row, returning their number
// (runRows, which keeps them, would add their copies to the allocations).
func countRows(b *testing.B, engine *reports.Engine, q reports.Query) int {
	res, err := engine.Run(context.Background(), q)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Rows.Close()
	rows := 0
	for res.Rows.Next() {
		rows++
	}
	if err := res.Rows.Err(); err != nil {
		b.Fatal(err)
	}
	return rows
}
