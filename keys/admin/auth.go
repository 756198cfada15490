package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// actor is the admin behind a request, with the session it came with (nil
// for calls made with an API key).
type actor struct {
	UserID  uint
	Login   string
	Name    string
	KeyID   uint
	KeyHint string
	Session *session
}

func actorOf(c *gin.Context) *actor {
	v, _ := c.Get(actorKey)
	act, _ := v.(*actor)
	return act
}

var errNoSession = &apierror.Error{Code: apierror.Unauthorized,
	Message: "sign in at " + signinPath + ", or send an admin's API key (Authorization: Bearer <key>)"}

// sessionActor checks the session cookie: its MAC and expiry, that it was
// not signed out, and that the key it was made with is still the active
// key of an active admin. Any failure is errNoSession, except a database
// failure.
func (a *Admin) sessionActor(c *gin.Context) (*actor, error) {
	ck, err := c.Request.Cookie(cookieName)
	if err != nil {
		return nil, errNoSession
	}
	ss, ok := a.sign.decodeSession(ck.Value, a.clock())
	if !ok || a.burnt.burned("s:"+ss.ID) {
		return nil, errNoSession
	}
	act, err := a.adminByKey(c.Request.Context(), ss.UserID, ss.KeyID)
	if err != nil {
		return nil, err
	}
	if act == nil {
		return nil, errNoSession
	}
	act.Session = &ss
	return act, nil
}

// pageAuth guards the pages: no valid session sends the browser to the
// sign-in page; every POST must carry the session's CSRF token; every call
// is audited.
func (a *Admin) pageAuth(c *gin.Context) {
	started := a.clock()
	act, err := a.sessionActor(c)
	if errors.Is(err, errNoSession) {
		a.clearCookie(c, cookieName)
		c.Redirect(http.StatusSeeOther, signinPath)
		c.Abort()
		return
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Set(actorKey, act)
	defer a.auditOnExit(c, act, started)
	if c.Request.Method == http.MethodPost && !a.sign.valid(c.PostForm("csrf"), "csrf", act.Session.ID) {
		a.fail(c, &apierror.Error{Code: apierror.Forbidden, Target: "csrf",
			Message: "the form's security token is missing or wrong: reload the page and try again"})
	} else {
		c.Next()
	}
}

// apiAuth authenticates the JSON API with an API key (the keys middleware,
// which also audits the call) or, when the request presents none, with the
// session cookie; a state change made with the cookie needs the session's
// CSRF token in the X-CSRF-Token header.
func (a *Admin) apiAuth(c *gin.Context) {
	r := c.Request
	if _, ok := keys.PresentedKey(r.Header.Get("Authorization"), r.URL.RawQuery); ok || r.Header.Get("Authorization") != "" {
		a.keyAuth(c)
		return
	}
	started := a.clock()
	act, err := a.sessionActor(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Set(actorKey, act)
	defer a.auditOnExit(c, act, started)
	if unsafeMethod(r.Method) && !a.sign.valid(r.Header.Get(csrfHeader), "csrf", act.Session.ID) {
		a.fail(c, &apierror.Error{Code: apierror.Forbidden, Target: csrfHeader,
			Message: "a request made with the session cookie needs the session's CSRF token in " + csrfHeader})
	} else {
		c.Next()
	}
}

// requireAdmin lets only admins through. Session actors are admins by
// construction; key callers are checked here.
func (a *Admin) requireAdmin(c *gin.Context) {
	if actorOf(c) != nil {
		return
	}
	p, ok := keys.PrincipalFrom(c.Request.Context())
	if !ok || !p.IsAdmin {
		a.fail(c, &apierror.Error{Code: apierror.Forbidden, Message: "this API is for administrators only"})
		return
	}
	c.Set(actorKey, &actor{UserID: p.UserID, Login: p.Login, Name: p.DisplayName, KeyID: p.KeyID, KeyHint: p.KeyHint})
}

// signinPage shows the sign-in form, or People to a signed-in admin.
func (a *Admin) signinPage(c *gin.Context) {
	if act, err := a.sessionActor(c); err == nil && act != nil {
		c.Redirect(http.StatusSeeOther, peoplePath)
		return
	}
	notice := ""
	if c.Query("signedout") != "" {
		notice = "You are signed out."
	}
	a.renderSignin(c, http.StatusOK, notice, "")
}

func (a *Admin) renderSignin(c *gin.Context, status int, notice, problem string) {
	v := randomID(18)
	a.setCookie(c, signinName, v, signinValid)
	a.render(c, status, "signin", view{Title: "Sign in", CSRF: a.sign.signinCSRF(v), Notice: notice, Problem: problem})
}

// signin turns an admin's API key into a session. The key is checked, never
// stored: the cookie names the key's id only.
func (a *Admin) signin(c *gin.Context) {
	ck, err := c.Request.Cookie(signinName)
	if err != nil || !a.sign.valid(c.PostForm("csrf"), "signin", ck.Value) {
		a.fail(c, &apierror.Error{Code: apierror.Forbidden, Target: "csrf",
			Message: "the sign-in form expired or did not come from this site: reload it and try again"})
		return
	}
	started := a.clock()
	r := c.Request
	p, err := a.keys.Check(r.Context(), c.PostForm("key"), r.UserAgent())
	switch {
	case errors.Is(err, keys.ErrInvalidKey):
		a.log.Warn("admin sign-in refused: invalid key", "client", c.ClientIP())
		a.renderSignin(c, http.StatusUnauthorized, "", "That key is not valid: it is unknown, revoked or was replaced by a newer key.")
		return
	case err != nil:
		a.fail(c, models.Classify(err))
		return
	case !p.IsAdmin:
		a.log.Warn("admin sign-in refused: not an admin", "user", p.Login, "client", c.ClientIP())
		a.renderSignin(c, http.StatusForbidden, "", "This key is valid, but it belongs to "+p.Login+", who is not an administrator.")
		a.audit(r.Context(), c, &actor{UserID: p.UserID, KeyHint: p.KeyHint}, started, "action=signin.refused")
		return
	}
	ss := session{ID: randomID(18), UserID: p.UserID, KeyID: p.KeyID, Expires: a.clock().Add(a.ttl)}
	a.setCookie(c, cookieName, a.sign.encodeSession(ss), a.ttl)
	a.clearCookie(c, signinName)
	c.Redirect(http.StatusSeeOther, peoplePath)
	a.log.Info("admin signed in", "user", p.Login, "client", c.ClientIP())
	a.audit(r.Context(), c, &actor{UserID: p.UserID, KeyHint: p.KeyHint}, started, "action=signin")
}

// signout ends the session on this process and clears the cookie.
func (a *Admin) signout(c *gin.Context) {
	act := actorOf(c)
	a.burnt.burn("s:"+act.Session.ID, act.Session.Expires, a.clock())
	a.clearCookie(c, cookieName)
	setDetail(c, "action=signout")
	c.Redirect(http.StatusSeeOther, signinPath+"?signedout=1")
}

func (a *Admin) setCookie(c *gin.Context, name, value string, ttl time.Duration) {
	// MaxAge only (no Expires): browsers count it from receipt, so a server
	// with a skewed or injected clock still gets the lifetime it meant.
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: cookiePath, MaxAge: int(ttl / time.Second),
		HttpOnly: true, Secure: a.secure || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
}

func (a *Admin) clearCookie(c *gin.Context, name string) {
	if _, err := c.Request.Cookie(name); err != nil {
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: "", Path: cookiePath, MaxAge: -1,
		HttpOnly: true, Secure: a.secure || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// auditOnExit, deferred, writes the record of a call made with a session
// however the call ends (an export cut half-way panics with
// http.ErrAbortHandler, re-raised once the record is out), as the keys
// middleware does for calls made with a key.
func (a *Admin) auditOnExit(c *gin.Context, act *actor, started time.Time) {
	v := recover()
	ctx := c.Request.Context()
	keys.EndingFrom(ctx).Outcome(ctx, v)
	a.auditCall(c, act, started)
	if v != nil {
		panic(v)
	}
}

// auditCall writes the record of a call made with a session.
func (a *Admin) auditCall(c *gin.Context, act *actor, started time.Time) {
	detail, _ := c.Get(detailKey)
	s, _ := detail.(string)
	a.audit(c.Request.Context(), c, act, started, s)
}

// audit records one call through the key service, as the keys middleware
// does (queued when serving, so an admin call never waits on the audit
// INSERT). detail (what an action did) is appended to the query string;
// the api_key parameter never is.
func (a *Admin) audit(ctx context.Context, c *gin.Context, act *actor, started time.Time, detail string) {
	r := c.Request
	q := keys.StripKey(r.URL.RawQuery)
	if detail != "" {
		if q != "" {
			q += "&"
		}
		q += detail
	}
	rec := models.AuditRecord{
		At: models.UTC(started), UserID: act.UserID, KeyHint: act.KeyHint, Method: r.Method,
		Route: keys.RedactPath(r.URL.Path), Query: q, Status: c.Writer.Status(), Rows: c.GetInt64(rowsKey),
		Bytes: int64(max(c.Writer.Size(), 0)), DurationMS: a.clock().Sub(started).Milliseconds(),
		ClientIP: c.ClientIP(), UserAgent: r.UserAgent(), Outcome: keys.EndingFrom(ctx).Outcome(ctx, nil),
	}
	// Audit fits every field to its column (valid UTF-8, cut on a
	// character boundary).
	a.keys.Audit(ctx, rec)
}
