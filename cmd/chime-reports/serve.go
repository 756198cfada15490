package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

func newServeCmd(cfg *config) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the reports over HTTP (seeds demo data into an empty database)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), cfg)
		},
	}
	c.Flags().StringVar(&cfg.Addr, "addr", ":8080", "listen address (env CHIME_ADDR)")
	c.Flags().IntVar(&cfg.MaxDays, "max-window-days", reports.DefaultMaxDays, "largest report window in days")
	c.Flags().StringVar(&cfg.AdminSecret, "admin-secret", "", "secret that signs admin session cookies and OData $skiptoken values; share it between replicas behind a load balancer (env CHIME_ADMIN_SECRET; default: random per process)")
	c.Flags().BoolVar(&cfg.SecureCookies, "secure-cookies", false, "mark admin cookies Secure (set when TLS ends at a proxy in front)")
	c.Flags().StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate file (PEM, with any intermediates); serve HTTPS with --tls-key")
	c.Flags().StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key file (PEM) for --tls-cert")
	c.Flags().DurationVar(&cfg.RequestTimeout, "request-timeout", server.DefaultRequestTimeout, "longest wait for an answer to start; a slower query is cancelled and answered 504 (streaming downloads that have started are not cut); negative: no limit")
	c.Flags().DurationVar(&cfg.StallTimeout, "stall-timeout", server.DefaultStallTimeout, "cut a client that accepts no byte of an answer for this long (it stopped reading); negative: never")
	c.Flags().StringSliceVar(&cfg.TrustedProxies, "trusted-proxies", nil, "IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client (audit trail, logs); default: none, the TCP peer is the client")
	c.Flags().Float64Var(&cfg.RateLimit, "rate-limit", server.DefaultRateLimit, "requests per second allowed per API key (429 with Retry-After above it); 0: no limit")
	c.Flags().IntVar(&cfg.RateBurst, "rate-burst", server.DefaultRateBurst, "requests a key may send at once before --rate-limit applies")
	c.Flags().IntVar(&cfg.MaxURLBytes, "max-url-bytes", server.DefaultMaxURLBytes, "longest request URL (414 above it)")
	c.Flags().Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", server.DefaultMaxBodyBytes, "largest request body (413 above it)")
	c.Flags().DurationVar(&cfg.BodyTimeout, "body-timeout", server.DefaultBodyTimeout, "longest time to receive a request body (the connection is cut after it); negative: no limit")
	c.Flags().StringVar(&cfg.PublicURL, "public-url", "", "scheme://host[:port] clients reach the service at, for absolute links (OData @odata.context and nextLink); default: a trusted proxy's X-Forwarded-Proto/Host, else the address the connection came to (never the Host header of an untrusted client)")
	c.Flags().IntVar(&cfg.MaxPerKey, "max-per-key", server.DefaultMaxPerKey, "requests one API key may have running at once (429 with Retry-After above it); negative: no bound")
	c.Flags().IntVar(&cfg.MaxConcurrent, "max-concurrent", 0, "authenticated requests running at once in all (503 with Retry-After above it); 0: the database pool's size less 2; negative: no bound")
	c.Flags().DurationVar(&cfg.ShutdownGrace, "shutdown-grace", server.DefaultShutdownGrace, "on SIGTERM, how long requests in flight may run on before they are cut (their audit records say shutdown)")
	c.Flags().StringArrayVar(&cfg.DBReplicas, "db-replica", nil, "MySQL read replica of --db for report queries; repeatable (env CHIME_DB_REPLICAS, comma-separated; docs/scaling.md)")
	c.Flags().StringVar(&cfg.PprofAddr, "pprof-addr", "", "serve Go's profiles (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060 (default: off)")
	c.Flags().IntVar(&cfg.AnswerCacheMB, "answer-cache-mb", 32, "memory for report answers kept under their data version and served again while the data is unchanged (docs/operations.md); 0: compute every answer")
	c.Flags().DurationVar(&cfg.StoreEvery, "store-every", 5*time.Second, "time between maintenance passes of the interval store (docs/operations.md)")
	return c
}

func serve(ctx context.Context, cfg *config) error {
	if err := server.CheckTrustedProxies(cfg.TrustedProxies); err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	if err := server.CheckPublicURL(cfg.PublicURL, cfg.TrustedProxies); err != nil {
		return err
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	return serveOn(ctx, cfg, ln)
}

// serveOn is serve on a listener the caller opened (tests listen on
// 127.0.0.1:0); cfg has passed serve's checks.
func serveOn(ctx context.Context, cfg *config, ln net.Listener) error {
	var tlsCfg *tls.Config
	if cfg.TLSCert != "" {
		// Load now, so a bad file stops the start instead of the first handshake.
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("loading --tls-cert/--tls-key: %w", err)
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	db, dsn, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)
	var n int64
	if err := db.WithContext(ctx).Model(&models.ChatSession{}).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		slog.Info("empty database: seeding the demo data set (October-December 2020 and the last 90 days)", "db", dsn.String())
		st, err := fixtures.Demo(ctx, db, time.Now(), nil)
		if err != nil {
			return fmt.Errorf("seeding demo data: %w", err)
		}
		slog.Info("demo data ready", "sessions", st.Sessions, "messages", st.Messages)
	}
	// The interval store is built (in the background on an existing
	// database) and kept current by one serve process at a time.
	mctx, stopMaintainer := context.WithCancel(ctx)
	maintained := make(chan struct{})
	maintainer := &store.Maintainer{DB: db, Every: cfg.StoreEvery, Log: slog.Default()}
	go func() {
		defer close(maintained)
		maintainer.Run(mctx)
	}()
	defer func() { stopMaintainer(); <-maintained }() // before the database closes
	// Audit records are queued and written in batches; the deferred Close
	// runs after server.Serve has shut down and before closeDB, so the
	// records of the last requests are written before exit.
	audit := keys.NewAuditWriter(db, slog.Default(), keys.AuditOptions{})
	defer func() {
		actx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := audit.Close(actx); err != nil {
			slog.Error("closing the audit trail", "err", err)
		}
	}()
	maxConcurrent := cfg.MaxConcurrent
	if maxConcurrent == 0 {
		pool, _ := db.DB()
		maxConcurrent = server.DefaultMaxConcurrent(pool)
	}
	life := &server.Lifecycle{}
	h := server.NewHandler(server.Deps{Life: life, DB: db, Log: slog.Default(), MaxDays: cfg.MaxDays,
		AdminSecret: []byte(cfg.AdminSecret), SecureCookies: cfg.SecureCookies, TLS: tlsCfg != nil,
		RequestTimeout: cfg.RequestTimeout, StallTimeout: cfg.StallTimeout, MaxURLBytes: cfg.MaxURLBytes, MaxBodyBytes: cfg.MaxBodyBytes, BodyTimeout: cfg.BodyTimeout,
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, MaxPerKey: cfg.MaxPerKey, MaxConcurrent: maxConcurrent, TrustedProxies: cfg.TrustedProxies, PublicURL: cfg.PublicURL, Audit: audit,
		Store: maintainer.Totals, ProfileLabels: cfg.PprofAddr != "", Answers: reports.NewAnswerCache(int64(cfg.AnswerCacheMB) << 20)})
	if cfg.PprofAddr != "" {
		if err := server.ServeProfiles(ctx, cfg.PprofAddr, slog.Default()); err != nil {
			return err
		}
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	base := scheme + "://" + displayAddr(ln.Addr())
	fmt.Printf(`chime-reports is listening on %[1]s (database %[2]s)

Get a key (admin sees every queue; alice manages queues 1-2, bob queue 3):
  go run ./cmd/chime-reports keys generate --user admin --db '%[2]s'
Then:
  curl -H "Authorization: Bearer $KEY" '%[1]s/Chime/Report/InboundVsAnsweredChats?queueId=1&zone=America/New_York&csv=true'
  curl -H "Authorization: Bearer $KEY" '%[1]s/Chime/Report/GetQueueBasicReports?queueId=1'
Admin pages (sign in with the admin's key): %[1]s/Chime/Admin/
`, base, dsn.String())
	return server.Serve(ctx, ln, h, tlsCfg, server.ServeOptions{Grace: cfg.ShutdownGrace, Life: life})
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if host == "::" || host == "0.0.0.0" || host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
