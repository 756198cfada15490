package export_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/export/xlsxtest"
)

// BenchmarkExportSessionLogMariaDB exports GlobalChatSessionLog from
// MariaDB over windows holding 100k, 500k and 1M sessions, as CSV and as
// XLSX, through the engine (the SQL stream included) to a byte counter. The
// first run loads a million sessions with fixtures.Load (seed 7, calendar
// 2024) into the database <name>_bench1m next to CHIME_TEST_MYSQL_DSN's and
// keeps it, so later runs skip the load (DROP DATABASE it to start over):
//
//	CHIME_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/chime_dev' \
//	  go test ./reports/export -run '^$' -bench ExportSessionLogMariaDB -benchtime 1x -timeout 60m
func BenchmarkExportSessionLogMariaDB(b *testing.B) {
	if os.Getenv(dbtest.EnvMySQL) == "" {
		b.Skipf("%s is not set: this benchmark needs MariaDB", dbtest.EnvMySQL)
	}
	ctx := context.Background()
	start, end := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	db := benchDB(b, func(db *gorm.DB) error {
		t0 := time.Now()
		stats, err := fixtures.Load(ctx, db, fixtures.Options{Start: start, End: end, Sessions: 1_000_000, Seed: 7})
		b.Logf("fixtures.Load: %d sessions (%d rows in all) in %v", stats.Sessions, stats.Rows(), time.Since(t0).Round(time.Second))
		return err
	})
	var queues []uint32
	if err := db.Model(&models.Queue{}).Pluck("id", &queues).Error; err != nil {
		b.Fatal(err)
	}
	rep, _ := reports.Lookup("GlobalChatSessionLog")
	engine := reports.NewEngine(db, func() time.Time { return end })
	writers := []struct {
		name  string
		write func(io.Writer, *reports.Result) (int64, error)
	}{
		{"CSV", func(w io.Writer, res *reports.Result) (int64, error) {
			return export.WriteCSV(w, res, export.CSVOptions{})
		}},
		{"XLSX", func(w io.Writer, res *reports.Result) (int64, error) {
			sum, err := export.WriteXLSX(w, res, export.XLSXOptions{GeneratedBy: "bench"})
			return sum.Rows, err
		}},
	}
	for _, w := range writers {
		for _, n := range []int{100_000, 500_000, 1_000_000} {
			// The window ends just before the n+1st session, so it holds n.
			stop := end
			row := db.Model(&models.ChatSession{}).Select("started_at").Order("started_at, id").Offset(n).Limit(1).Row()
			if err := row.Scan(&stop); err != nil && !errors.Is(err, sql.ErrNoRows) {
				b.Fatal(err)
			}
			window := reports.Window{Start: start, Stop: stop, Zone: time.UTC}
			b.Run(fmt.Sprintf("%s/rows=%d", w.name, n), func(b *testing.B) {
				probe := xlsxtest.StartProbe()
				var out countingWriter
				var rows int64
				for b.Loop() {
					out.n = 0
					res, err := engine.Run(ctx, reports.Query{Report: rep, Window: window, Visible: queues})
					if err != nil {
						b.Fatal(err)
					}
					rows, err = w.write(&out, res)
					res.Rows.Close()
					if err != nil {
						b.Fatal(err)
					}
				}
				xlsxtest.ReportUsage(b, rows*int64(b.N), out.n, probe.Stop())
			})
		}
	}
}

// benchDB opens (creating and migrating it if needed) the kept benchmark
// database and fills it with load when it holds no sessions.
func benchDB(b *testing.B, load func(*gorm.DB) error) *gorm.DB {
	ctx := context.Background()
	base, err := models.ParseDSN(os.Getenv(dbtest.EnvMySQL))
	if err != nil {
		b.Fatal(err)
	}
	admin, err := models.Open(ctx, base, models.Options{})
	if err != nil {
		b.Fatal(err)
	}
	name := base.MySQL.DBName + "_bench1m"
	if err := admin.Exec("CREATE DATABASE IF NOT EXISTS `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci").Error; err != nil {
		b.Fatal(err)
	}
	if s, err := admin.DB(); err == nil {
		s.Close()
	}
	cfg := base.MySQL.Clone()
	cfg.DBName = name
	db, err := models.Open(ctx, models.DSN{Dialect: models.MySQL, MySQL: cfg}, models.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	if err := models.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	var n int64
	if err := db.Model(&models.ChatSession{}).Count(&n).Error; err != nil {
		b.Fatal(err)
	}
	switch {
	case n > 0 && n < 1_000_000:
		b.Fatalf("%s holds only %d sessions (an interrupted load?): DROP DATABASE %s and run again", name, n, name)
	case n == 0:
		if err := load(db); err != nil {
			b.Fatalf("loading %s: %v (DROP DATABASE %s before trying again)", name, err, name)
		}
	default:
		b.Logf("reusing %s (%d sessions)", name, n)
	}
	return db
}
