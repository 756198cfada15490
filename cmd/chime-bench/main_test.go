package main

import (
	"context"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

// TestFloorQueries runs every floor query through the database's client
// on a small generated data set, and checks that the InboundVsAnsweredChats
// floor computes the report's numbers.
func TestFloorQueries(t *testing.T) {
	names, err := fs.Glob(floorFiles, "floor/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no floor queries: %v", err)
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	stop := start.AddDate(0, 1, 0)
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		client := map[models.Dialect]string{models.SQLite: "sqlite3", models.MySQL: "mariadb"}[b.DSN.Dialect]
		if _, err := exec.LookPath(client); err != nil {
			t.Skipf("%s is not installed", client)
		}
		ctx := context.Background()
		if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: start, End: stop, Sessions: 1500, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		runner := floorRunner{dsn: b.DSN}
		for _, name := range names {
			report := strings.TrimSuffix(filepath.Base(name), ".sql")
			if _, ok := reports.Lookup(report); !ok {
				t.Errorf("%s: no report %s", name, report)
				continue
			}
			q, ok, err := floorSQL(report, b.DSN.Dialect, []uint32{1, 2, 3, 4, 5}, start, stop)
			if err != nil || !ok {
				t.Fatalf("%s: %v %v", report, ok, err)
			}
			if _, lines, err := runner.run(ctx, q); err != nil {
				t.Errorf("%s: %v", report, err)
			} else if lines == 0 {
				t.Errorf("%s: the floor returned no rows", report)
			}
		}

		// The floor's per-day counts for queue 1 equal the report's.
		checkFloorColumns(t, ctx, runner, b, start, stop, "InboundVsAnsweredChats", map[int]string{2: "Inbound", 3: "Answered"})
		// The WaitTimeByDay and ChatDurationByDay floors rank as the
		// reports do: the same counts, medians and 90th percentiles.
		checkFloorColumns(t, ctx, runner, b, start, stop, "WaitTimeByDay", map[int]string{2: "Answered", 6: "MedianWaitSeconds", 7: "P90WaitSeconds"})
		checkFloorColumns(t, ctx, runner, b, start, stop, "ChatDurationByDay", map[int]string{2: "CompletedChats", 7: "MedianHandleSeconds", 8: "P90HandleSeconds"})
	})
}

func TestReplaceSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.md")
	os.WriteFile(path, []byte("# Benchmarks\n\nprose\n"), 0o644)
	if err := replaceSection(path, "one\n"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, append(must(os.ReadFile(path)), "\nafter\n"...), 0o644)
	if err := replaceSection(path, "two\n"); err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\nprose\n\n" + beginMarker + "\ntwo\n" + endMarker + "\n\nafter\n"
	if got := string(must(os.ReadFile(path))); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	// Markers quoted in prose are not the section.
	quoted := "see `" + beginMarker + "` and `" + endMarker + "`\n" + beginMarker + "\nold\n" + endMarker + "\n"
	os.WriteFile(path, []byte(quoted), 0o644)
	if err := replaceSection(path, "new\n"); err != nil {
		t.Fatal(err)
	}
	if got, want := string(must(os.ReadFile(path))), "see `"+beginMarker+"` and `"+endMarker+"`\n"+beginMarker+"\nnew\n"+endMarker+"\n"; got != want {
		t.Errorf("quoted markers: got\n%q\nwant\n%q", got, want)
	}
	os.WriteFile(path, []byte(endMarker+"\n"+beginMarker), 0o644)
	if err := replaceSection(path, "x"); err == nil {
		t.Error("markers out of order: no error")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// checkFloorColumns runs the floor of report for queue 1 and compares the
// floor's output columns (by index) with the report's columns (by name),
// day by day, to the millisecond: every floor day must be a report day,
// and a report day the floor has no line for must show 0 or nothing.
func checkFloorColumns(t *testing.T, ctx context.Context, runner floorRunner, b dbtest.Backend, start, stop time.Time, report string, cols map[int]string) {
	t.Helper()
	q, _, _ := floorSQL(report, b.DSN.Dialect, []uint32{1}, start, stop)
	out, err := runner.command(ctx, q).Output()
	if err != nil {
		t.Fatal(err)
	}
	floor := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(strings.ReplaceAll(line, "|", "\t"), "\t")
		floor[f[1]] = f
	}
	rep, _ := reports.Lookup(report)
	res, err := reports.NewEngine(b.DB, func() time.Time { return stop }).Run(ctx, reports.Query{
		Report: rep, Window: reports.Window{Start: start, Stop: stop, Zone: time.UTC}, QueueID: 1, Visible: []uint32{1}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Rows.Close()
	matched := 0
	for res.Rows.Next() {
		row := res.Rows.Row()
		day := row[0].(time.Time).Format(time.DateOnly)
		f, inFloor := floor[day]
		if inFloor {
			matched++
		}
		for i, name := range cols {
			c := slices.IndexFunc(rep.Columns, func(c reports.Column) bool { return c.Name == name })
			var want float64
			if inFloor {
				want, _ = strconv.ParseFloat(f[i], 64)
			}
			var got float64
			switch v := row[c].(type) {
			case int64:
				got = float64(v)
			case float64:
				got = v
			}
			if math.Abs(got-want) > 0.0005 {
				t.Errorf("%s %s %s: the floor says %v, the report %v", report, day, name, want, row[c])
			}
		}
	}
	if matched != len(floor) || matched < 3 {
		t.Errorf("%s: %d of the floor's %d days are report days", report, matched, len(floor))
	}
}

// TestDisplayArgsNameNoMachinePath: the generated section shows the
// command line without the directories of the machine that ran it.
func TestDisplayArgsNameNoMachinePath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	in := []string{"--mysql", "root@tcp(127.0.0.1:3306)/chime_bench1m", "--sqlite", filepath.Join(wd, "data", "bench1m.db"),
		"--out=" + filepath.Join(wd, "docs", "benchmarks.md"), "--sqlite", "/srv/elsewhere/bench.db", "--runs", "3"}
	want := []string{"--mysql", "root@tcp(127.0.0.1:3306)/chime_bench1m", "--sqlite", filepath.Join("data", "bench1m.db"),
		"--out=" + filepath.Join("docs", "benchmarks.md"), "--sqlite", "bench.db", "--runs", "3"}
	if got := displayArgs(in); !slices.Equal(got, want) {
		t.Errorf("displayArgs(%q)\n = %q\nwant %q", in, got, want)
	}
}

// TestRebuildStore checks the --rollup step: it builds the interval store
// from every session, keeps the build's statistics, and the generated
// section states them.
func TestRebuildStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: start, End: start.AddDate(0, 0, 10), Sessions: 300, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := b.DB.Model(&models.ChatSession{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		be := &backend{Name: "Back end", DB: b.DB, DSN: b.DSN}
		res := &results{Backends: []*backend{be}}
		if got := res.rollupText(); !strings.Contains(got, "not rebuilt by this run") {
			t.Errorf("before the rebuild: %q", got)
		}
		if built, err := store.Built(ctx, b.DB); err != nil || built {
			t.Fatalf("store built before the rebuild: %v %v", built, err)
		}
		if err := rebuildStore(ctx, be); err != nil {
			t.Fatal(err)
		}
		if built, err := store.Built(ctx, b.DB); err != nil || !built {
			t.Fatalf("store not built after the rebuild: %v %v", built, err)
		}
		if be.Rollup == nil || be.Rollup.Sessions != n || be.Rollup.Intervals == 0 {
			t.Fatalf("rollup stats %+v, want %d sessions and some intervals", be.Rollup, n)
		}
		want := "Interval store (Back end): rebuilt from " + strconv.FormatInt(n, 10) + " sessions into "
		if got := res.rollupText(); !strings.Contains(got, want) {
			t.Errorf("got %q, want it to contain %q", got, want)
		}
	})
}
