package admin

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// DefaultSessionTTL is how long a session lasts when Options.SessionTTL is
// zero. Sessions are not extended by use.
const DefaultSessionTTL = 2 * time.Hour

// confirmTTL is how long a confirmation form (generate, regenerate, revoke)
// may wait before it is submitted.
const confirmTTL = 15 * time.Minute

// maxFormBytes caps the body of every admin request.
const maxFormBytes = 64 << 10

// Paths, cookies and request-context keys of the admin surface.
const (
	base        = "/Chime/Admin"
	signinPath  = base + "/signin"
	peoplePath  = base + "/people"
	auditPath   = base + "/audit"
	cookieName  = "chime_admin"
	signinName  = "chime_admin_signin"
	cookiePath  = base + "/"
	csrfHeader  = "X-CSRF-Token"
	actorKey    = "admin.actor"
	detailKey   = "admin.detail"
	rowsKey     = "admin.rows"
	signinValid = 30 * time.Minute
)

// Options configure the admin surface. Zero values are usable.
type Options struct {
	// Clock is "now" (nil: time.Now).
	Clock func() time.Time
	// Log receives errors and refused sign-ins, never keys (nil: slog.Default).
	Log *slog.Logger
	// SessionTTL is the lifetime of a session (0: DefaultSessionTTL).
	SessionTTL time.Duration
	// Secure marks cookies Secure on every request; set it when TLS ends
	// at a proxy. Requests that arrive over TLS get Secure cookies anyway.
	Secure bool
	// Secret signs session cookies and form tokens. Empty: 32 random bytes
	// made at start, so sessions end when the process restarts and work on
	// one replica only; replicas behind one address need the same secret.
	Secret []byte
	// BaseURL is the public scheme://host[:port] used in the snippets shown
	// with a new key (empty: taken from the request).
	BaseURL string
}

// Admin serves the admin pages and JSON API.
type Admin struct {
	keys    *keys.Service
	db      *gorm.DB
	clock   func() time.Time
	log     *slog.Logger
	ttl     time.Duration
	secure  bool
	baseURL string
	sign    signer
	burnt   *burnList
	keyAuth gin.HandlerFunc
	pages   templates
}

// New returns the admin surface over the key service ks and the database db
// (users, queue memberships and the audit log are read from it).
func New(ks *keys.Service, db *gorm.DB, opt Options) *Admin {
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = DefaultSessionTTL
	}
	secret := opt.Secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret)
		opt.Log.Info("admin sessions are signed with a random secret: they end when the process restarts and are valid on this replica only")
	}
	return &Admin{
		keys: ks, db: db, clock: opt.Clock, log: opt.Log, ttl: opt.SessionTTL, secure: opt.Secure,
		baseURL: opt.BaseURL, sign: signer{key: secret}, burnt: newBurnList(),
		keyAuth: ks.Authenticate(), pages: parseTemplates(),
	}
}

// Register mounts the pages under /Chime/Admin/ and the JSON API under
// /Chime/Admin/api/. They bring their own authentication: do not mount them
// behind the key middleware.
func (a *Admin) Register(r *gin.Engine) {
	g := r.Group(base, a.guard)
	g.GET("/", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, peoplePath) })
	g.GET("/signin", a.signinPage)
	g.POST("/signin", a.signin)

	p := g.Group("", a.pageAuth)
	p.GET("/people", a.peoplePage)
	p.GET("/people/:id/confirm", a.confirmPage)
	p.POST("/people/:id/key", a.generateForm)
	p.POST("/people/:id/revoke", a.revokeForm)
	p.GET("/settings/keys", a.keysPage)
	p.GET("/audit", a.auditPage)
	p.GET("/audit.csv", a.auditCSV)
	p.POST("/signout", a.signout)

	api := g.Group("/api", a.apiAuth, a.requireAdmin)
	api.GET("/users", a.apiUsers)
	api.GET("/keys", a.apiKeys)
	api.POST("/users/:id/key", a.apiGenerate)
	api.DELETE("/users/:id/key", a.apiRevoke)
	api.GET("/audit", a.apiAudit)
}

// guard sets the headers of every admin answer (nothing here may be cached
// or framed), caps request bodies and refuses state changes that a browser
// says come from another site (a second line behind CSRF tokens and
// SameSite=Strict).
func (a *Admin) guard(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	}
	if unsafeMethod(c.Request.Method) && c.GetHeader("Sec-Fetch-Site") == "cross-site" {
		a.fail(c, &apierror.Error{Code: apierror.Forbidden, Message: "cross-site requests cannot change anything here"})
		return
	}
	c.Next()
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// fail writes err in the one error shape (JSON API) or as an error page
// (pages), logs server-side causes and stops the chain.
func (a *Admin) fail(c *gin.Context, err error) {
	var e *apierror.Error
	if isAPI(c) {
		e = apierror.Write(c.Writer, err)
	} else {
		e = a.errorPage(c, err)
	}
	if e.Status() >= 500 {
		a.log.Error("admin request failed", "path", keys.RedactPath(c.Request.URL.Path), "code", e.Code, "err", e.Cause)
	}
	c.Abort()
}

func isAPI(c *gin.Context) bool {
	return strings.HasPrefix(c.Request.URL.Path, base+"/api/")
}

// setDetail records what an action did, for its audit record (never a key).
func setDetail(c *gin.Context, detail string) { c.Set(detailKey, detail) }

// addRows counts rows sent, for the audit record of either kind of call.
func addRows(c *gin.Context, n int64) {
	keys.AddRows(c.Request.Context(), n)
	c.Set(rowsKey, c.GetInt64(rowsKey)+n)
}

// userParam parses the :id of a route.
func userParam(c *gin.Context) (uint, error) {
	id, ok := atou(c.Param("id"))
	if !ok || id == 0 {
		return 0, apierror.Invalid("id", "not a user id: '"+clip(c.Param("id"), 40)+"'")
	}
	return id, nil
}

// clip shortens text shown back to a client.
func clip(s string, n int) string {
	if len(s) > n {
		return cut(s, n) + "…"
	}
	return s
}

// cut truncates s to at most n bytes without splitting a UTF-8 sequence
// (MySQL refuses invalid UTF-8 in strict mode).
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
