package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

// backend is one database under test.
type backend struct {
	Name     string // MariaDB, SQLite
	Raw      string // the DSN as given, for the server of the load run
	DSN      models.DSN
	DB       *gorm.DB
	Sessions int64 // chat_sessions rows in the window
	Queues   []uint32
	Version  string
	Rollup   *store.BuildStats // the interval store's rebuild (nil: not rebuilt by this run)
}

// latency is one report measured in one scope on one back end.
type latency struct {
	Report  string
	Scope   string // "queue 1" or "all queues"
	Engine  time.Duration
	Rows    int
	Floor   time.Duration // 0: no floor query
	FloorLn int
	Err     string
}

// results is everything one run measured.
type results struct {
	Config   config
	Started  time.Time
	Took     time.Duration
	Runs     int
	Machine  machine
	Backends []*backend
	Latency  map[string][]latency // by back end name
	Exports  map[string][]exportResult
	PeakRSS  uint64 // VmHWM of this process over the whole run
	Load     map[string][]*loadResult
	Profile  map[string]*profileResult
	Pending  string // set in a checkpoint: what is not measured yet
}

// measure runs everything cfg asks for. checkpoint (if not nil) gets the
// results so far after each back end, so that an interrupted run on a busy
// machine still leaves what it measured.
func measure(ctx context.Context, cfg config, checkpoint func(*results) error) (*results, error) {
	res := &results{Config: cfg, Started: time.Now(), Runs: cfg.Runs, Latency: map[string][]latency{}, Exports: map[string][]exportResult{}, Load: map[string][]*loadResult{}, Profile: map[string]*profileResult{}}
	for _, b := range []struct{ name, raw string }{{"MariaDB", cfg.MySQL}, {"SQLite", sqlitePrefix(cfg.SQLite)}} {
		if b.raw == "" {
			continue
		}
		be, err := openBackend(ctx, b.name, b.raw, cfg.Load)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.name, err)
		}
		res.Backends = append(res.Backends, be)
	}
	res.Machine = describeMachine(ctx, res.Backends)
	dir, err := os.MkdirTemp("", "chime-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var bin string // the server binary of the load runs, built once
	for _, be := range res.Backends {
		if cfg.Rollup {
			if err := rebuildStore(ctx, be); err != nil {
				return nil, fmt.Errorf("%s rollup: %w", be.Name, err)
			}
		}
		lat, err := measureReports(ctx, be, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", be.Name, err)
		}
		res.Latency[be.Name] = lat
		if cfg.Profile {
			pr, err := profileSlowest(ctx, be, lat, dir)
			if err != nil {
				return nil, fmt.Errorf("%s profile: %w", be.Name, err)
			}
			res.Profile[be.Name] = pr
		}
		if cfg.Exports {
			ex, err := measureExports(ctx, be)
			if err != nil {
				return nil, fmt.Errorf("%s exports: %w", be.Name, err)
			}
			res.Exports[be.Name] = ex
		}
		if cfg.Clients > 0 {
			if bin == "" {
				var err error
				if bin, err = buildServer(ctx, dir); err != nil {
					return nil, err
				}
			}
			lr, err := measureLoad(ctx, be, cfg, bin)
			if err != nil {
				return nil, fmt.Errorf("%s load: %w", be.Name, err)
			}
			res.Load[be.Name] = lr
		}
		if checkpoint != nil && be != res.Backends[len(res.Backends)-1] {
			res.Pending = "still running: the back ends after " + be.Name
			res.PeakRSS, res.Took = procStatus("VmHWM"), time.Since(res.Started)
			if err := checkpoint(res); err != nil {
				return nil, err
			}
			res.Pending = ""
		}
	}
	res.PeakRSS = procStatus("VmHWM")
	res.Took = time.Since(res.Started)
	return res, nil
}

// rebuildStore builds the interval store from all sessions, as
// `chime-reports rollup --rebuild` does, and keeps its statistics: the
// reports measured next read the store for the intervals it covers.
func rebuildStore(ctx context.Context, be *backend) error {
	slog.Info("rebuilding the interval store", "backend", be.Name)
	st, err := store.Rebuild(ctx, be.DB, time.Minute, store.BuildOptions{
		Progress: func(done, total int) {
			if done%100_000 < 20_000 {
				slog.Info("rollup", "backend", be.Name, "done", done, "total", total)
			}
		}})
	if err != nil {
		return err
	}
	slog.Info("interval store built", "backend", be.Name, "sessions", st.Sessions, "intervals", st.Intervals, "took", st.Took.Round(time.Millisecond))
	be.Rollup = &st
	return nil
}

func sqlitePrefix(path string) string {
	if path == "" {
		return ""
	}
	return "sqlite:" + path
}

// openBackend opens a benchmark database and, when it holds no sessions and
// load is set, fills it.
func openBackend(ctx context.Context, name, raw string, load bool) (*backend, error) {
	dsn, err := models.ParseDSN(raw)
	if err != nil {
		return nil, err
	}
	if load && dsn.Dialect == models.MySQL {
		if err := createDatabase(ctx, dsn); err != nil {
			return nil, err
		}
	}
	db, err := models.Open(ctx, dsn, models.Options{SlowThreshold: time.Hour})
	if err != nil {
		return nil, err
	}
	be := &backend{Name: name, Raw: raw, DSN: dsn, DB: db}
	if load {
		if err := models.Migrate(ctx, db); err != nil {
			return nil, err
		}
	}
	var n int64
	if err := db.Model(&models.ChatSession{}).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("%s: %w (run with --load to create the benchmark data)", dsn, err)
	}
	if n == 0 {
		if !load {
			return nil, fmt.Errorf("%s holds no sessions: run with --load to create the benchmark data", dsn)
		}
		slog.Info("loading the benchmark data", "db", dsn.String(), "sessions", dataSessions)
		t0 := time.Now()
		st, err := fixtures.Load(ctx, db, fixtures.Options{Start: dataStart, End: dataStop, Sessions: dataSessions, Seed: dataSeed,
			Progress: func(done, total int) {
				if done%100_000 < 2_000 {
					slog.Info("loading", "done", done, "total", total)
				}
			}})
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", dsn, err)
		}
		slog.Info("loaded", "sessions", st.Sessions, "rows", st.Rows(), "took", time.Since(t0).Round(time.Second))
	}
	if err := db.Model(&models.ChatSession{}).Where("started_at >= ? AND started_at < ?", dataStart, dataStop).Count(&be.Sessions).Error; err != nil {
		return nil, err
	}
	if err := db.Model(&models.Queue{}).Order("id").Pluck("id", &be.Queues).Error; err != nil {
		return nil, err
	}
	if dsn.Dialect == models.MySQL {
		db.Raw("SELECT VERSION()").Scan(&be.Version)
	} else {
		db.Raw("SELECT sqlite_version()").Scan(&be.Version)
	}
	slog.Info("database", "backend", name, "db", dsn.String(), "sessions", be.Sessions, "queues", be.Queues)
	return be, nil
}

// createDatabase creates the MySQL database named by dsn if it is missing.
func createDatabase(ctx context.Context, dsn models.DSN) error {
	cfg := dsn.MySQL.Clone()
	name := cfg.DBName
	cfg.DBName = "information_schema"
	admin, err := models.Open(ctx, models.DSN{Dialect: models.MySQL, MySQL: cfg}, models.Options{})
	if err != nil {
		return err
	}
	defer func() {
		if s, err := admin.DB(); err == nil {
			s.Close()
		}
	}()
	return admin.Exec("CREATE DATABASE IF NOT EXISTS `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci").Error
}

// scopes returns the queries of a report for queue 1 and for every queue:
// a per-queue report runs once per queue (as its OData set does), a global
// report once over the visible queues.
func scopes(r *reports.Report, all []uint32, w reports.Window) map[string][]reports.Query {
	if !r.RequiresQueue() {
		return map[string][]reports.Query{
			"queue 1":    {{Report: r, Window: w, Visible: []uint32{1}}},
			"all queues": {{Report: r, Window: w, Visible: all}},
		}
	}
	var each []reports.Query
	for _, id := range all {
		each = append(each, reports.Query{Report: r, Window: w, QueueID: id, Visible: all})
	}
	return map[string][]reports.Query{
		"queue 1":    {{Report: r, Window: w, QueueID: 1, Visible: all}},
		"all queues": each,
	}
}

func measureReports(ctx context.Context, be *backend, cfg config) ([]latency, error) {
	engine := reports.NewEngine(be.DB, func() time.Time { return dataStop })
	w := reports.Window{Start: dataStart, Stop: dataStop, Zone: time.UTC}
	floor := floorRunner{dsn: be.DSN}
	var out []latency
	for _, r := range reports.All() {
		if r.SessionLog {
			continue // the session logs are measured as exports
		}
		if cfg.Only != nil && !cfg.Only.MatchString(r.Name) {
			continue
		}
		sc := scopes(r, be.Queues, w)
		for _, scope := range []string{"queue 1", "all queues"} {
			if scope == "all queues" && r.RequiresQueue() && !cfg.AllQueues {
				continue
			}
			l := latency{Report: r.Name, Scope: scope}
			queues := []uint32{1}
			if scope == "all queues" {
				queues = be.Queues
			}
			for range cfg.Runs {
				d, rows, err := runReport(ctx, engine, sc[scope])
				if err != nil {
					l.Err = err.Error()
					break
				}
				if l.Engine == 0 || d < l.Engine {
					l.Engine = d
				}
				l.Rows = rows
			}
			query, ok, err := floorSQL(r.Name, be.DSN.Dialect, queues, w.Start, w.Stop)
			if err != nil {
				return nil, fmt.Errorf("floor of %s: %w", r.Name, err)
			}
			for i := 0; ok && i < cfg.Runs && l.Err == ""; i++ {
				d, lines, err := floor.run(ctx, query)
				if err != nil {
					l.Err = "floor: " + err.Error()
					break
				}
				if l.Floor == 0 || d < l.Floor {
					l.Floor = d
				}
				l.FloorLn = lines
			}
			slog.Info("report", "backend", be.Name, "report", r.Name, "scope", scope, "engine", l.Engine.Round(time.Millisecond),
				"rows", l.Rows, "floor", l.Floor.Round(time.Millisecond), "err", l.Err)
			out = append(out, l)
		}
	}
	return out, nil
}

// runReport runs qs one after the other, reading every row, and returns
// the wall time and the number of rows.
func runReport(ctx context.Context, engine *reports.Engine, qs []reports.Query) (time.Duration, int, error) {
	t0 := time.Now()
	rows := 0
	for _, q := range qs {
		res, err := engine.Run(ctx, q)
		if err != nil {
			return 0, 0, err
		}
		for res.Rows.Next() {
			rows++
		}
		err = res.Rows.Err()
		res.Rows.Close()
		if err != nil {
			return 0, 0, err
		}
	}
	return time.Since(t0), rows, nil
}
