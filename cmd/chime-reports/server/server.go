package server

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/keys/admin"
	"github.com/chime-reports/chime-reports/odata"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/native"
	"github.com/chime-reports/chime-reports/reports/native/openapi"
	"github.com/chime-reports/chime-reports/reports/store"
)

// Deps are what the HTTP surface is built from.
type Deps struct {
	DB      *gorm.DB
	Clock   func() time.Time
	Log     *slog.Logger
	MaxDays int
	// AdminSecret signs admin session cookies and form tokens, and keys the
	// OData $skiptoken signature (skiptokenKey); empty means a
	// random secret per process (sessions end at restart).
	AdminSecret []byte
	// SecureCookies sets the Secure flag on admin cookies (TLS in front).
	SecureCookies bool
	// TLS says the server itself terminates TLS (HSTS, Secure cookies).
	TLS bool
	// RequestTimeout bounds the time until an answer starts (504 after);
	// MaxURLBytes and MaxBodyBytes refuse bigger requests (414, 413).
	// Zero means the default, negative means no limit.
	RequestTimeout time.Duration
	// StallTimeout cuts a client that accepts no byte of a started answer
	// for that long (zero: the default, negative: never).
	StallTimeout time.Duration
	MaxURLBytes  int
	MaxBodyBytes int64
	// BodyTimeout bounds the time to receive a request body (zero: the
	// default, negative: none).
	BodyTimeout time.Duration
	// RateLimit is the per-key rate in requests per second with a burst of
	// RateBurst; zero turns the limit off (tests), serve's flags default
	// to DefaultRateLimit and DefaultRateBurst.
	RateLimit float64
	RateBurst int
	// MaxPerKey and MaxConcurrent bound the authenticated requests
	// running at once per key (429 above it) and in all (503); zero or
	// negative: no bound (tests). serve's flags default to
	// DefaultMaxPerKey and DefaultMaxConcurrent.
	MaxPerKey, MaxConcurrent int
	// TrustedProxies are the addresses (IPs or CIDRs) whose
	// X-Forwarded-For names the client; by default nobody's, so the audit
	// trail's client address cannot be forged by a header.
	TrustedProxies []string
	// PublicURL is scheme://host[:port] of the absolute links the service
	// writes (OData links, admin snippets); empty: see origins.
	PublicURL string
	// Life, when set, tracks requests in flight so that Serve (given the
	// same Lifecycle) can cut them at the end of its shutdown grace period
	// and wait for their audit records (nil: tests).
	Life *Lifecycle
	// Audit, when set, takes the audit records off the request path
	// (serve: it closes the writer after the server has stopped); nil
	// writes each record while its request ends (tests).
	Audit *keys.AuditWriter
	// Store, when set, reports the interval store's maintenance (serve's
	// Maintainer) on /metrics.
	Store func() store.Totals
	// ProfileLabels labels each request's CPU samples with its route and
	// report (serve --pprof-addr).
	ProfileLabels bool
	// Answers, when set, serves report answers computed at the current
	// data version again (serve --answer-cache-mb; nil: every answer is
	// computed).
	Answers *reports.AnswerCache
}

// orDefault gives the default for zero and nothing for a negative value.
func orDefault[T int | int64 | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// NewHandler assembles the HTTP surface: health routes, then every
// authenticated route behind the key middleware.
func NewHandler(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		// serve checks the flag before it builds the handler.
		panic(err)
	}
	links, err := newOrigins(d.PublicURL, d.TrustedProxies)
	if err != nil {
		// serve checks the flags before it builds the handler.
		panic(err)
	}
	var pool *sql.DB
	if d.DB != nil {
		pool, _ = d.DB.DB()
	}
	m := newMetrics(pool)
	if d.Life != nil {
		r.Use(d.Life.track())
	}
	if d.ProfileLabels {
		r.Use(profileLabels())
	}
	r.Use(keys.TrackEnding(d.Life.isCutting))
	r.Use(recovery(d.Log), m.middleware(), accessLog(d.Log), securityHeaders(d.TLS), odataVersion(), adminThrottle(), bodyTimeout(orDefault(d.BodyTimeout, DefaultBodyTimeout)),
		requestLimits(orDefault(d.MaxURLBytes, DefaultMaxURLBytes), orDefault(d.MaxBodyBytes, DefaultMaxBodyBytes)),
		firstByteTimeout(orDefault(d.RequestTimeout, DefaultRequestTimeout), orDefault(d.StallTimeout, DefaultStallTimeout)))

	r.GET("/metrics", gin.WrapH(m.handler()))
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	r.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		sqlDB, err := d.DB.DB()
		if err == nil {
			err = sqlDB.PingContext(ctx)
		}
		if err != nil {
			d.Log.Warn("not ready", "err", err)
			apierror.Write(c.Writer, &apierror.Error{Code: apierror.Unavailable, Message: "the database is not reachable", RetryAfter: 5})
			return
		}
		c.String(http.StatusOK, "ready\n"+replicaReadiness(ctx, d.DB))
	})

	ks := keys.New(d.DB, d.Clock, d.Log)
	if d.Audit != nil {
		ks.SetAuditWriter(d.Audit)
		m.auditStats(d.Audit.Stats)
	}
	if d.Store != nil {
		m.storeStats(d.Store)
	}
	if d.Answers != nil {
		m.answerStats(d.Answers.Stats)
	}
	engine := reports.NewEngine(d.DB, d.Clock).WithAnswers(d.Answers)
	// When the server already runs as many requests as it may, a request
	// is refused before its key is checked: the check would wait for a
	// pool connection behind the running reports.
	adm := newAdmission(d.MaxPerKey, d.MaxConcurrent)
	authed := r.Group("/", adm.refuseWhenFull(), ks.Authenticate())
	if d.RateLimit > 0 {
		authed.Use(newKeyLimiter(d.RateLimit, d.RateBurst).middleware())
	}
	if d.MaxPerKey > 0 || d.MaxConcurrent > 0 {
		authed.Use(adm.middleware())
	}
	// One data version per request: a report's tag and its answer are
	// checked against the same state.
	authed.Use(func(c *gin.Context) {
		c.Request = c.Request.WithContext(reports.RequestScope(c.Request.Context()))
	})
	// One cap on workbook exports for every surface that writes them.
	workbooks := export.NewLimiter(export.DefaultMaxXLSX)
	native.New(engine, d.Log, native.Options{MaxWindowDays: d.MaxDays, XLSX: workbooks}).Register(authed)
	feed := gin.WrapH(odata.New(engine, d.Log, odata.Options{MaxWindowDays: d.MaxDays, XLSX: workbooks, TokenKey: skiptokenKey(d.AdminSecret), Origin: links.origin}))
	for _, p := range []string{"/odata", "/odata/*path"} {
		authed.GET(p, feed)
		authed.HEAD(p, feed)
		// Writes reach the feed too: a 405 (a 501 for $batch) in the OData
		// error shape, not a bare 404.
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			authed.Handle(m, p, feed)
		}
	}
	// The API description and its reference page need no key.
	apiDocs, err := openapi.NewHandler()
	if err != nil {
		panic(err) // built from the compiled-in registry: every test sees it
	}
	apiDocs.Register(r)
	admin.New(ks, d.DB, admin.Options{Clock: d.Clock, Log: d.Log, Secret: d.AdminSecret, Secure: d.SecureCookies || d.TLS, BaseURL: links.public}).Register(r)

	r.NoRoute(func(c *gin.Context) {
		apierror.Write(c.Writer, apierror.NotFoundf("no such route: "+c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		apierror.Write(c.Writer, &apierror.Error{Code: apierror.MethodNotAllowed, Message: c.Request.Method + " is not allowed here"})
	})
	return r
}

// recovery turns a panic into a 500 in the error shape, except
// http.ErrAbortHandler, which is re-raised so net/http cuts the connection
// (a stream that failed half-way must look broken, not complete).
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			log.Error("panic while serving", "path", keys.RedactPath(c.Request.URL.Path), "panic", v)
			if !c.Writer.Written() {
				apierror.Write(c.Writer, &apierror.Error{Code: apierror.Internal, Message: "internal error"})
			}
			c.Abort()
		}()
		c.Next()
	}
}

// accessLog writes one structured line per request, however it ends (a
// stream cut half-way included: the panic is re-raised after the line),
// with the caller, the rows sent and the outcome. The query string is
// logged without api_key.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		defer func() {
			v := recover()
			logRequest(log, c, start, v)
			if v != nil {
				panic(v)
			}
		}()
		c.Next()
	}
}
