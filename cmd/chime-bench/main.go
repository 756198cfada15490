// Command chime-bench measures chime-reports on the benchmark data set (a
// million sessions over 12 months in 5 queues) and rewrites the generated
// section of docs/benchmarks.md: every report's latency through the engine
// for queue 1 and for every queue on MariaDB and SQLite beside the same
// aggregate run by the mariadb/sqlite3 client (the floor, floor/*.sql),
// session-log exports (JSON, CSV, XLSX, OData) in rows/s through the real
// HTTP handlers, peak RSS, and the machine.
//
//	go run ./cmd/chime-bench --mysql 'root@tcp(127.0.0.1:3306)/chime_bench1m' \
//	  --sqlite bench1m.db --load --out docs/benchmarks.md
//
// The sessions are only read, except with --load when a database holds no
// sessions: then it is migrated and filled with fixtures.Load (seed 7,
// 2025-11-01 to 2026-10-31, 1,000,000 conversations), as
// `chime-reports fixtures load` would. With --rollup (the default) the
// interval store, which reports read where it is built, is rebuilt from the
// sessions before the reports are measured, and the rebuild is timed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/cmd/chime-load/load"
)

// The benchmark data: what --load creates.
var (
	dataStart = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	dataStop  = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) // exclusive
)

const (
	dataSessions = 1_000_000
	dataSeed     = 7
)

// config is the parsed command line.
type config struct {
	MySQL, SQLite string
	Load          bool
	Out           string
	Runs          int
	Only          *regexp.Regexp
	Exports       bool
	AllQueues     bool
	Clients       int           // 64-client run per back end; 0 skips it
	LoadFor       time.Duration // how long clients start requests
	LoadMixes     []string      // chime-load presets, run one after the other
	// Stream, when set, is the MySQL DSN of a copy of the data that the
	// stream phase (alone) writes sessions into.
	Stream                string
	StreamRate            float64
	StreamFor, StreamIdle time.Duration
	Profile               bool // CPU-profile the slowest report
	Rollup                bool // rebuild the interval store before measuring, timed
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chime-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("chime-bench", flag.ContinueOnError)
	var cfg config
	var only string
	fs.StringVar(&cfg.MySQL, "mysql", "", "MySQL/MariaDB DSN of the benchmark database (empty: skip MariaDB)")
	fs.StringVar(&cfg.SQLite, "sqlite", "", "SQLite file of the benchmark database (empty: skip SQLite)")
	fs.BoolVar(&cfg.Load, "load", false, "migrate and load the benchmark data into a database that holds no sessions")
	fs.StringVar(&cfg.Out, "out", "", "markdown file whose section between <!-- bench:begin --> and <!-- bench:end --> is replaced (empty: print to stdout)")
	fs.IntVar(&cfg.Runs, "runs", 3, "runs per measurement; the best is kept")
	fs.StringVar(&only, "only", "", "regular expression: measure only the reports it matches (the output says it is partial)")
	fs.BoolVar(&cfg.Exports, "exports", true, "measure the session-log exports")
	fs.BoolVar(&cfg.AllQueues, "all-queues", true, "also run each per-queue report for every queue (5 runs); global reports always run for queue 1 and all queues")
	fs.IntVar(&cfg.Clients, "clients", 64, "clients of the load run against the real server on each back end (0: no load run)")
	fs.BoolVar(&cfg.Profile, "profile", true, "run the slowest report once more under the Go CPU profiler (go tool pprof -top in the output)")
	fs.BoolVar(&cfg.Rollup, "rollup", true, "rebuild the interval store before measuring (what chime-reports rollup --rebuild does), timed in the output; false: use the store as it is")
	fs.DurationVar(&cfg.LoadFor, "load-duration", 30*time.Second, "how long the load run's clients start requests")
	fs.StringVar(&cfg.Stream, "stream", "", "MySQL DSN of a copy of the benchmark data with its interval store built: measure only the store's maintenance and lag while sessions stream in (the sessions are added to it), printed as markdown")
	fs.Float64Var(&cfg.StreamRate, "stream-rate", 50, "conversations arriving per second in the stream phase")
	fs.DurationVar(&cfg.StreamFor, "stream-for", 3*time.Minute, "how long the stream phase streams")
	fs.DurationVar(&cfg.StreamIdle, "stream-idle", 30*time.Second, "how long the stream phase watches the idle server first (0: not)")
	mixes := fs.String("load-mixes", "default,reports", "chime-load presets the load run sends, one run each: default (reports, exports, OData), reports (the native JSON reports alone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, m := range strings.Split(*mixes, ",") {
		if m = strings.TrimSpace(m); m != "" {
			if _, ok := load.Presets[m]; !ok {
				return fmt.Errorf("--load-mixes: %q is not a preset (default, reports)", m)
			}
			cfg.LoadMixes = append(cfg.LoadMixes, m)
		}
	}
	if cfg.Stream != "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
		dir, err := os.MkdirTemp("", "chime-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin, err := buildServer(ctx, dir)
		if err != nil {
			return err
		}
		res, err := measureStream(ctx, cfg, bin)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, res.markdown())
		return err
	}
	if cfg.MySQL == "" && cfg.SQLite == "" {
		return errors.New("name at least one database: --mysql DSN and/or --sqlite PATH")
	}
	if cfg.Runs < 1 {
		return errors.New("--runs must be at least 1")
	}
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return fmt.Errorf("--only: %w", err)
		}
		cfg.Only = re
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))

	write := func(res *results) error {
		md := res.markdown()
		if cfg.Out == "" {
			_, err := io.WriteString(stdout, md)
			return err
		}
		return replaceSection(cfg.Out, md)
	}
	var checkpoint func(*results) error
	if cfg.Out != "" {
		checkpoint = write
	}
	res, err := measure(ctx, cfg, checkpoint)
	if err != nil {
		return err
	}
	return write(res)
}
