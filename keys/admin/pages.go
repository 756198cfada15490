package admin

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

//go:embed templates/*.html
var templateFS embed.FS

// templates holds one parsed set per page: the layout plus the page.
type templates map[string]*template.Template

var pageNames = []string{"signin", "people", "confirm", "newkey", "keys", "audit", "error"}

var funcs = template.FuncMap{
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"whenp": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

func parseTemplates() templates {
	t := templates{}
	for _, name := range pageNames {
		t[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return t
}

// view is what every page template gets.
type view struct {
	Title    string
	Section  string // the current entry of the navigation
	Actor    *actor
	CSRF     string
	CSPNonce string
	Notice   string // a confirmation, announced politely
	Problem  string // an error, announced as an alert
	Data     any
}

// contentPolicy allows only this page's own inline style and script.
const contentPolicy = "default-src 'none'; style-src 'nonce-%s'; script-src 'nonce-%s'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// render executes a page into a buffer first, so that a template failure
// is a clean error page rather than half a page.
func (a *Admin) render(c *gin.Context, status int, name string, v view) {
	v.CSPNonce = randomID(16)
	if act := actorOf(c); act != nil && act.Session != nil {
		v.Actor = act
		v.CSRF = a.sign.csrf(act.Session.ID)
	}
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		a.log.Error("admin page failed to render", "page", name, "err", err)
		apierror.Write(c.Writer, &apierror.Error{Code: apierror.Internal, Message: "internal error"})
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", fmt.Sprintf(contentPolicy, v.CSPNonce, v.CSPNonce))
	c.Status(status)
	c.Writer.Write(buf.Bytes())
}

// errorPage shows err as a page with its class's status.
func (a *Admin) errorPage(c *gin.Context, err error) *apierror.Error {
	e := apierror.From(err)
	if e.RetryAfter > 0 {
		c.Writer.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	msg := e.Message
	if e.Status() == http.StatusInternalServerError {
		msg = "Something went wrong on our side. The details are in the server log."
	}
	a.render(c, e.Status(), "error", view{Title: http.StatusText(e.Status()), Problem: msg,
		Data: struct {
			Status int
			Code   string
		}{e.Status(), string(e.Code)}})
	return e
}

// personRow is one row of People: the person and, when they have no key,
// the token of the one-click Generate form.
type personRow struct {
	Person
	Generate string
}

// peoplePage lists users with their queues and key status.
func (a *Admin) peoplePage(c *gin.Context) {
	ppl, err := a.people(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	act := actorOf(c)
	rows := make([]personRow, len(ppl))
	notice := ""
	done, _ := atou(c.Query("user"))
	for i, p := range ppl {
		rows[i].Person = p
		if p.Key == nil {
			rows[i].Generate = a.confirmation(act, p.ID, "generate", 0)
		}
		if p.ID == done && c.Query("done") == "revoked" {
			notice = "The key of " + p.DisplayName + " (" + p.Login + ") was revoked. It stopped working at once."
		}
	}
	a.render(c, http.StatusOK, "people", view{Title: "People", Section: "people", Notice: notice, Data: rows})
}

// confirmation makes the one-time token of a key-action form.
func (a *Admin) confirmation(act *actor, userID uint, action string, expect uint) string {
	return a.sign.encodeConfirmation(act.Session.ID, confirmation{Nonce: randomID(12), UserID: userID, Action: action,
		Expect: expect, Expires: a.clock().Add(confirmTTL)})
}

// confirmPage asks before a key is replaced or revoked.
func (a *Admin) confirmPage(c *gin.Context) {
	p, err := a.target(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	action := c.Query("action")
	if action != "regenerate" && action != "revoke" {
		a.fail(c, apierror.Invalid("action", "action: regenerate or revoke"))
		return
	}
	var expect uint
	switch {
	case p.Key != nil:
		expect = p.Key.ID
	case action == "revoke":
		a.fail(c, apierror.NotFoundf(p.DisplayName+" has no active key to revoke"))
		return
	default:
		action = "generate"
	}
	title := map[string]string{"generate": "Generate a key for ", "regenerate": "Regenerate the key of ", "revoke": "Revoke the key of "}[action] + p.DisplayName + "?"
	a.render(c, http.StatusOK, "confirm", view{Title: title, Section: "people", Data: struct {
		Person *Person
		Action string
		Token  string
	}{p, action, a.confirmation(actorOf(c), p.ID, action, expect)}})
}

// consume checks a key-action form's token: made for this sign-in session, user
// and action, not expired, not used before (it is used now), and the
// user's key still the one the form was shown for. A replayed form fails
// here, so a confirmation posted twice cannot act twice.
func (a *Admin) consume(c *gin.Context, p *Person, action string) error {
	cf, ok := a.sign.decodeConfirmation(actorOf(c).Session.ID, c.PostForm("nonce"))
	if !ok || cf.UserID != p.ID || cf.Action != action {
		return &apierror.Error{Code: apierror.Forbidden, Target: "nonce", Message: "this form is not valid for this action: start again from People"}
	}
	now := a.clock()
	if !now.Before(cf.Expires) {
		return &apierror.Error{Code: apierror.Forbidden, Target: "nonce", Message: "this form has expired: start again from People"}
	}
	if !a.burnt.burn("n:"+cf.Nonce, cf.Expires, now) {
		return &apierror.Error{Code: apierror.Forbidden, Target: "nonce", Message: "this form was already submitted, so nothing was done again: start again from People"}
	}
	var current uint
	if p.Key != nil {
		current = p.Key.ID
	}
	if current != cf.Expect {
		return &apierror.Error{Code: apierror.Forbidden, Target: "nonce", Message: "the key of " + p.DisplayName + " changed since this form was shown, so nothing was done: start again from People"}
	}
	return nil
}

// generateForm generates or regenerates a key from a confirmed form and
// shows it, once.
func (a *Admin) generateForm(c *gin.Context) {
	p, err := a.target(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	action := c.PostForm("action")
	if action != "generate" && action != "regenerate" {
		a.fail(c, apierror.Invalid("action", "action: generate or regenerate"))
		return
	}
	if err := a.consume(c, p, action); err != nil {
		a.fail(c, err)
		return
	}
	nk, err := a.generate(c, p, action)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.render(c, http.StatusOK, "newkey", view{Title: "New key for " + p.DisplayName, Section: "people", Data: struct {
		Person *Person
		Key    *NewKey
		Snip   snippets
	}{p, nk, a.snippets(c, nk.Key, firstQueue(p))}})
}

// revokeForm revokes a key from a confirmed form, then shows People.
func (a *Admin) revokeForm(c *gin.Context) {
	p, err := a.target(c)
	if err == nil {
		err = a.consume(c, p, "revoke")
	}
	if err == nil {
		err = a.revoke(c, p)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, peoplePath+"?done=revoked&user="+utoa(p.ID))
}

// keysPage is Settings › API Keys: every key, active and revoked.
func (a *Admin) keysPage(c *gin.Context) {
	ks, err := a.keyEntries(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.render(c, http.StatusOK, "keys", view{Title: "API keys", Section: "keys", Data: ks})
}

// auditPage shows the audit trail with filters and paging. A bad filter
// shows the page again with the problem.
func (a *Admin) auditPage(c *gin.Context) {
	ctx := c.Request.Context()
	logins, err := a.logins(ctx)
	if err != nil {
		a.fail(c, err)
		return
	}
	type data struct {
		Filter          auditFilter
		Users           []option
		Items           []AuditEntry
		Older, Newest   string
		Export          string
		Paged, Filtered bool
	}
	d := data{Users: userOptions(logins)}
	f, err := parseAuditFilter(c.Request.URL.Query(), logins)
	d.Filter = f
	if err != nil {
		a.render(c, http.StatusBadRequest, "audit", view{Title: "Audit trail", Section: "audit", Problem: apierror.From(err).Message, Data: d})
		return
	}
	items, next, err := a.auditSlice(ctx, f, logins)
	if err != nil {
		a.fail(c, err)
		return
	}
	addRows(c, int64(len(items)))
	q := f.query()
	d.Items, d.Paged, d.Filtered = items, f.Before != 0, len(q) > 0
	d.Newest = auditPath + "?" + q.Encode()
	if next != "" {
		q.Set("cursor", next)
		d.Older = auditPath + "?" + q.Encode()
		q.Del("cursor")
	}
	q.Set("bom", "true")
	d.Export = base + "/audit.csv?" + q.Encode()
	a.render(c, http.StatusOK, "audit", view{Title: "Audit trail", Section: "audit", Data: d})
}
