package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
)

// config is the whole configuration, parsed here and only here.
type config struct {
	DB        string
	Addr      string
	LogFormat string
	LogLevel  string
	MaxDays   int
	// AdminSecret signs admin cookies; SecureCookies marks them Secure.
	AdminSecret   string
	SecureCookies bool
}

// envFlags maps flags to the environment variables that set them when the
// flag is not given (flags win).
var envFlags = map[string]string{"db": "CHIME_DB", "addr": "CHIME_ADDR", "admin-secret": "CHIME_ADMIN_SECRET"}

func newRootCmd() *cobra.Command {
	cfg := &config{}
	root := &cobra.Command{
		Use:   "chime-reports",
		Short: "Chat help-desk reports for Power BI, Excel and HTTP clients",
		Long: `chime-reports serves the metrics of a chat help desk (queues, agents, bots,
chat sessions) as JSON and CSV under /Chime/Report/*, authenticated by per-user
API keys.

Configuration: flags win over the environment (CHIME_DB, CHIME_ADDR).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Flags().VisitAll(func(f *pflag.Flag) {
				if env, ok := envFlags[f.Name]; ok && !f.Changed {
					if v := os.Getenv(env); v != "" {
						f.Value.Set(v)
					}
				}
			})
			return setupLogging(cfg)
		},
	}
	root.PersistentFlags().StringVar(&cfg.DB, "db", "sqlite:chime.db", "database: sqlite:PATH or a MySQL DSN such as 'mysql://root@tcp(127.0.0.1:3306)/chime' (env CHIME_DB)")
	root.PersistentFlags().StringVar(&cfg.LogFormat, "log-format", "text", "log format on stderr: text or json")
	root.PersistentFlags().StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(newServeCmd(cfg), newMigrateCmd(cfg), newKeysCmd(cfg), newUsersCmd(cfg), newFixturesCmd(cfg), newKeywordsCmd(cfg))
	return root
}

func setupLogging(cfg *config) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(cfg.LogFormat) {
	case "text":
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, opts)))
	case "json":
		slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, opts)))
	default:
		return fmt.Errorf("--log-format: expected text or json, not %q", cfg.LogFormat)
	}
	return nil
}

// openDB opens and migrates the configured database.
func openDB(ctx context.Context, cfg *config) (*gorm.DB, models.DSN, error) {
	dsn, err := models.ParseDSN(cfg.DB)
	if err != nil {
		return nil, dsn, fmt.Errorf("--db: %w", err)
	}
	db, err := models.Open(ctx, dsn, models.Options{Logger: slog.Default()})
	if err != nil {
		return nil, dsn, err
	}
	if err := models.Migrate(ctx, db); err != nil {
		return nil, dsn, err
	}
	return db, dsn, nil
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		s.Close()
	}
}

func newMigrateCmd(cfg *config) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema (repeatable)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, dsn, err := openDB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeDB(db)
			v, err := models.SchemaVersion(cmd.Context(), db)
			if err != nil {
				return err
			}
			slog.Info("schema is up to date", "db", dsn.String(), "version", v)
			return nil
		},
	}
}
