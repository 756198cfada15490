package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
)

// config is the whole configuration, parsed here and only here.
type config struct {
	DB string
	// DBReplicas are read replicas of DB for the report queries (serve).
	DBReplicas []string
	Addr       string
	LogFormat  string
	LogLevel   string
	MaxDays    int
	// AdminSecret signs admin cookies; SecureCookies marks them Secure.
	AdminSecret   string
	SecureCookies bool
	// Serving: TLS files and the request guards (see serve's flags).
	TLSCert, TLSKey string
	RequestTimeout  time.Duration
	StallTimeout    time.Duration
	ShutdownGrace   time.Duration
	MaxPerKey       int
	MaxConcurrent   int
	TrustedProxies  []string
	PublicURL       string
	BodyTimeout     time.Duration
	RateLimit       float64
	RateBurst       int
	MaxURLBytes     int
	MaxBodyBytes    int64
	// StoreEvery is the time between interval store maintenance passes.
	StoreEvery time.Duration
	// AnswerCacheMB is the answer cache's size in MiB (0: none).
	AnswerCacheMB int
	// PprofAddr, when set, is the loopback address of the Go profiles.
	PprofAddr string
}

// envFlags maps flags to the environment variables that set them when the
// flag is not given (flags win).
// A repeatable flag takes a comma-separated list from its variable.
var envFlags = map[string]string{"db": "CHIME_DB", "addr": "CHIME_ADDR", "admin-secret": "CHIME_ADMIN_SECRET",
	"db-replica": "CHIME_DB_REPLICAS"}

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
					setFromEnv(f, os.Getenv(env))
				}
			})
			return setupLogging(cfg)
		},
	}
	root.PersistentFlags().StringVar(&cfg.DB, "db", "sqlite:chime.db", "database: sqlite:PATH or a MySQL DSN such as 'mysql://root@tcp(127.0.0.1:3306)/chime' (env CHIME_DB)")
	root.PersistentFlags().StringVar(&cfg.LogFormat, "log-format", "text", "log format on stderr: text or json")
	root.PersistentFlags().StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(newServeCmd(cfg), newMigrateCmd(cfg), newKeysCmd(cfg), newUsersCmd(cfg), newFixturesCmd(cfg), newKeywordsCmd(cfg), newRollupCmd(cfg))
	return root
}

// setFromEnv sets an unset flag from its variable; a repeatable flag takes
// a comma-separated list.
func setFromEnv(f *pflag.Flag, v string) {
	switch {
	case v == "":
	case f.Value.Type() == "stringArray":
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				f.Value.Set(item)
			}
		}
	default:
		f.Value.Set(v)
	}
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

// openDB opens and migrates the configured database. The handle it returns
// reads and writes the primary; the report engine reads the replicas
// (models.Replicas), if any.
func openDB(ctx context.Context, cfg *config) (*gorm.DB, models.DSN, error) {
	dsn, err := models.ParseDSN(cfg.DB)
	if err != nil {
		return nil, dsn, fmt.Errorf("--db: %w", err)
	}
	opt := models.Options{Logger: slog.Default()}
	for i, raw := range cfg.DBReplicas {
		r, err := models.ParseDSN(raw)
		if err != nil {
			return nil, dsn, fmt.Errorf("--db-replica #%d: %w", i+1, err)
		}
		opt.Replicas = append(opt.Replicas, r)
	}
	db, err := models.Open(ctx, dsn, opt)
	if err != nil {
		return nil, dsn, err
	}
	if err := models.Migrate(ctx, db); err != nil {
		models.Close(db)
		return nil, dsn, err
	}
	for _, r := range models.ReplicaStates(db) {
		slog.Info("read replica", "replica", r.Name, "up", r.Up)
	}
	return db, dsn, nil
}

func closeDB(db *gorm.DB) { models.Close(db) }

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
