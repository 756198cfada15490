package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	callKey
)

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the authenticated caller of a request context.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey).(*Principal)
	return p, ok && p != nil
}

// call collects what the audit record needs from the handler.
type call struct{ rows atomic.Int64 }

// AddRows records rows written for the audit record of the request.
func AddRows(ctx context.Context, n int64) {
	if c, ok := ctx.Value(callKey).(*call); ok {
		c.rows.Add(n)
	}
}

// RowsWritten reports the rows recorded by AddRows so far for the request
// of ctx (0 outside an authenticated request).
func RowsWritten(ctx context.Context) int64 {
	if c, ok := ctx.Value(callKey).(*call); ok {
		return c.rows.Load()
	}
	return 0
}

// PresentedKey finds the key a request presents, in order: the
// Authorization header (Bearer <key>, or Basic with the key as password),
// then the api_key query parameter (Power BI's Web API credential). The
// query string is read raw so that a repeated api_key is accepted.
func PresentedKey(authorization, rawQuery string) (string, bool) {
	if authorization != "" {
		scheme, rest, _ := strings.Cut(authorization, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToLower(scheme) {
		case "bearer":
			return rest, rest != ""
		case "basic":
			raw, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return "", false
			}
			_, pass, ok := strings.Cut(string(raw), ":")
			return pass, ok && pass != ""
		}
		return "", false
	}
	for _, pair := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if isKeyParam(k) {
			if v, err := url.QueryUnescape(v); err == nil && v != "" {
				return v, true
			}
		}
	}
	return "", false
}

// StripKey removes every api_key pair from a raw query string (the name
// compared once percent-decoded: api%5Fkey is api_key too) and redacts
// anything else shaped like a key (keys.Redacted), so a key is never
// logged, audited or echoed into links, even under a misspelt name.
func StripKey(rawQuery string) string { return stripKey(rawQuery) }

// Authenticate is the Gin middleware of every protected route: it checks
// the presented key (401 with WWW-Authenticate otherwise), puts the
// Principal in the request context and, after the handler, writes the
// audit record of the call.
func (s *Service) Authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		started := s.clock()
		r := c.Request
		presented, ok := PresentedKey(r.Header.Get("Authorization"), r.URL.RawQuery)
		if !ok {
			apierror.Write(c.Writer, &apierror.Error{Code: apierror.Unauthorized,
				Message: "an API key is required: send Authorization: Bearer <key>, ?api_key=<key> or Basic with the key as password"})
			c.Abort()
			return
		}
		p, err := s.Check(r.Context(), presented, r.UserAgent())
		if err != nil {
			if errors.Is(err, ErrInvalidKey) {
				apierror.Write(c.Writer, &apierror.Error{Code: apierror.Unauthorized, Message: "the API key is not valid (unknown, revoked or replaced by a newer key)"})
			} else {
				s.log.Error("authentication failed", "err", err)
				apierror.Write(c.Writer, models.Classify(err))
			}
			c.Abort()
			return
		}
		cl := &call{}
		ctx := context.WithValue(WithPrincipal(r.Context(), p), callKey, cl)
		c.Request = r.WithContext(ctx)
		EndingFrom(ctx).setPrincipal(p)
		// The record is written however the call ends: a stream cut
		// half-way panics with http.ErrAbortHandler, which is re-raised
		// once the record is out.
		defer func() {
			v := recover()
			s.audit(p, c, cl, started, EndingFrom(ctx).Outcome(ctx, v))
			if v != nil {
				panic(v)
			}
		}()
		c.Next()
	}
}

// audit records one call of the key middleware.
func (s *Service) audit(p *Principal, c *gin.Context, cl *call, started time.Time, outcome string) {
	r := c.Request
	status := c.Writer.Status()
	if outcome == OutcomeServerError && !c.Writer.Written() {
		status = 500 // what the recovery middleware answers
	}
	rec := models.AuditRecord{Outcome: outcome,
		At: models.UTC(started), UserID: p.UserID, KeyHint: p.KeyHint, Method: r.Method, Route: RedactPath(r.URL.Path),
		Query: StripKey(r.URL.RawQuery), Status: status, Rows: cl.rows.Load(), Bytes: int64(max(c.Writer.Size(), 0)),
		DurationMS: s.clock().Sub(started).Milliseconds(), ClientIP: c.ClientIP(), UserAgent: r.UserAgent(),
	}
	s.Audit(r.Context(), rec)
}

// SetAuditWriter makes the service queue audit records on w instead of
// writing each one while its request waits (serve does; tests and the CLI
// keep the direct write, so a record is in audit_log as soon as its
// request has ended). Call it before the service serves requests.
func (s *Service) SetAuditWriter(w *AuditWriter) { s.auditw = w }

// Audit records one call: on the AuditWriter if the service has one, else
// with an INSERT of its own (bounded to 5 s; a failure is logged, never
// shown to the caller, whose answer is already sent).
func (s *Service) Audit(ctx context.Context, rec models.AuditRecord) {
	fitRecord(&rec)
	if s.auditw != nil {
		s.auditw.add(&rec)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.db.WithContext(ctx).Create(&rec).Error; err != nil {
		s.log.Error("audit record not written", "user", rec.UserID, "route", rec.Route, "err", err)
	}
}

// fitRecord makes a record storable whatever the request carried: valid
// UTF-8 (Go accepts any byte above 0x7f in paths and header values; MySQL
// in strict mode refuses invalid UTF-8) cut on a character boundary to its
// column's size. A value MySQL refuses would fail its whole batch on every
// retry of the audit writer.
func fitRecord(r *models.AuditRecord) {
	if r.Outcome == "" {
		r.Outcome = OutcomeComplete
	}
	r.Outcome = fit(r.Outcome, 16)
	r.KeyHint = fit(r.KeyHint, 4)
	r.Method = fit(r.Method, 8)
	r.Route = fit(r.Route, 200)
	r.Query = fit(r.Query, 2000)
	r.ClientIP = fit(r.ClientIP, 45)
	r.UserAgent = fit(r.UserAgent, 300)
}

func fit(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
