package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/chime-reports/chime-reports/fixtures"
)

func newFixturesCmd(cfg *config) *cobra.Command {
	c := &cobra.Command{Use: "fixtures", Short: "Load generated demo or benchmark data"}
	var start, end, now string
	var sessions int
	var seed int64
	load := &cobra.Command{
		Use:   "load --start 2020-10-01 --end 2021-01-31 --sessions 20000 --seed 7",
		Short: "Generate sessions in a window (deterministic for a seed), with the standard queues and users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := time.Parse(time.DateOnly, start)
			if err != nil {
				return fmt.Errorf("--start: %w", err)
			}
			e, err := time.Parse(time.DateOnly, end)
			if err != nil {
				return fmt.Errorf("--end: %w", err)
			}
			e = e.AddDate(0, 0, 1) // --end is inclusive: the whole day
			if !s.Before(e) {
				return fmt.Errorf("--start must not be after --end")
			}
			if sessions <= 0 {
				return fmt.Errorf("--sessions must be positive")
			}
			opt := fixtures.Options{Start: s, End: e, Sessions: sessions, Seed: seed}
			if now != "" {
				t, err := time.Parse(time.RFC3339, now)
				if err != nil {
					return fmt.Errorf("--now: %w", err)
				}
				opt.Now = t
			}
			db, _, err := openDB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeDB(db)
			opt.Progress = progressFunc()
			began := time.Now()
			st, err := fixtures.Load(cmd.Context(), db, opt)
			if err != nil {
				return err
			}
			elapsed := time.Since(began)
			slog.Info("fixtures loaded", "sessions", st.Sessions, "messages", st.Messages, "participants", st.Participants,
				"offers", st.Offers, "events", st.Events, "seconds", elapsed.Seconds(),
				"sessions_per_second", int(float64(st.Sessions)/elapsed.Seconds()))
			return nil
		},
	}
	load.Flags().StringVar(&start, "start", "", "first day (YYYY-MM-DD, UTC)")
	load.Flags().StringVar(&end, "end", "", "last day, inclusive (YYYY-MM-DD, UTC)")
	load.Flags().IntVar(&sessions, "sessions", 20000, "number of conversations to generate")
	load.Flags().Int64Var(&seed, "seed", 1, "random seed: the same seed and window give the same data")
	load.Flags().StringVar(&now, "now", "", "query time (RFC 3339): sessions still running then stay open (default: the end)")
	load.MarkFlagRequired("start")
	load.MarkFlagRequired("end")
	c.AddCommand(load, newStreamCmd(cfg))
	return c
}

func newStreamCmd(cfg *config) *cobra.Command {
	var opt fixtures.StreamOptions
	c := &cobra.Command{
		Use:   "stream --rate 50 --duration 10m",
		Short: "Write conversations as a live help desk would, now, at a given arrival rate (sessions arrive, wait, are answered, end, are rated)",
		Long: `Write conversations as they happen: each one arrives at a Poisson rate (--rate
per second), and its rows are written step by step at the wall-clock instants of
its lifecycle (the same lifecycle as "fixtures load": bot, queue, offers, chat,
transfers, end, a late rating), every step stamping the session's updated_at
with the time of its write. Arrivals stop after --duration (or on Ctrl-C);
sessions still running are left open unless --drain waits for them to end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opt.Rate <= 0 {
				return fmt.Errorf("--rate must be positive")
			}
			if opt.Duration < 0 {
				return fmt.Errorf("--duration must not be negative")
			}
			if opt.Tick <= 0 {
				return fmt.Errorf("--tick must be positive")
			}
			db, _, err := openDB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeDB(db)
			_, err = fixtures.Stream(cmd.Context(), db, opt)
			return err
		},
	}
	c.Flags().Float64Var(&opt.Rate, "rate", 50, "conversations arriving per second")
	c.Flags().DurationVar(&opt.Duration, "duration", 10*time.Minute, "how long conversations arrive (0: until interrupted)")
	c.Flags().BoolVar(&opt.Drain, "drain", false, "after the arrivals stop, keep writing until every session has ended")
	c.Flags().Int64Var(&opt.Seed, "seed", 1, "random seed")
	c.Flags().DurationVar(&opt.Tick, "tick", time.Second, "time between writes: the steps due since the last write are written in one transaction")
	return c
}

// progressFunc shows a bar on a terminal and a log line every 10% elsewhere.
func progressFunc() func(done, total int) {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		var bar *progressbar.ProgressBar
		return func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription("sessions"),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }))
			}
			bar.Set(done)
		}
	}
	next := 0
	return func(done, total int) {
		if total > 0 && done*10/total >= next {
			slog.Info("progress", "done", done, "total", total)
			next = done*10/total + 1
		}
	}
}
