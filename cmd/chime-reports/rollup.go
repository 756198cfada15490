package main

import (
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/chime-reports/chime-reports/reports/store"
)

func newRollupCmd(cfg *config) *cobra.Command {
	var rebuild bool
	var wait time.Duration
	c := &cobra.Command{
		Use:   "rollup [--rebuild]",
		Short: "Build the interval store from existing data, or bring it up to date",
		Long: `rollup builds the interval store (per-queue aggregates in 15-minute intervals,
and the keyword reports' counts per queue, hour and day; docs/architecture.md)
from the sessions in the database, in batches with a
progress bar, when it is not built yet or with --rebuild; otherwise it runs one
maintenance pass (changed, new and deleted sessions, late ratings), as serve
does every few seconds. It is idempotent. It takes the store's maintenance
lock, waiting up to --wait for a serve process's pass to finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, _, err := openDB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeDB(db)
			built, err := store.Built(cmd.Context(), db)
			if err != nil {
				return err
			}
			if rebuild || !built {
				_, err := store.Rebuild(cmd.Context(), db, wait, store.BuildOptions{Progress: progressFunc()})
				return err
			}
			ps, err := store.Pass(cmd.Context(), db, wait, store.PassOptions{Sweep: true})
			if err != nil {
				return err
			}
			slog.Info("interval store up to date", "captured", ps.Captured, "recomputed_ranges", ps.Recomputed, "deleted", ps.Deleted,
				"queues_rebuilt", ps.QueuesRebuilt, "seconds", ps.Took.Seconds())
			return nil
		},
	}
	c.Flags().BoolVar(&rebuild, "rebuild", false, "forget the store and build it again from all sessions")
	c.Flags().DurationVar(&wait, "wait", time.Minute, "how long to wait for the maintenance lock another process holds")
	return c
}
