package admin

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/export/cell"
)

// Paging of the audit trail.
const (
	defaultAuditLimit = 50
	maxAuditLimit     = 500
	exportBatch       = 1000
)

// auditFilter selects audit records: the query string of the Audit page,
// its CSV export and GET /Chime/Admin/api/audit.
type auditFilter struct {
	User     string // as given: a login or a user id
	UserID   uint
	Route    string // a prefix of the route
	Status   string // as given: 200, 4xx, …
	StatusLo int    // StatusLo <= status < StatusHi; 0: any
	StatusHi int
	FromText string
	ToText   string
	From     time.Time // inclusive; zero: open
	To       time.Time // exclusive; zero: open
	Outcome  string    // complete, client_gone, …; "": any
	Before   uint      // the cursor: records older than this id
	Limit    int
	BOM      bool
}

var auditParams = map[string]bool{"user": true, "route": true, "status": true, "from": true, "to": true,
	"cursor": true, "limit": true, "bom": true, "api_key": true, "outcome": true}

// auditQuery reads the audit filter of a request (users named by login).
func (a *Admin) auditQuery(c *gin.Context) (auditFilter, map[uint]string, error) {
	logins, err := a.logins(c.Request.Context())
	if err != nil {
		return auditFilter{}, nil, err
	}
	f, err := parseAuditFilter(c.Request.URL.Query(), logins)
	return f, logins, err
}

// parseAuditFilter reads the filter from a query string. Unknown
// parameters are a 400, as on the native routes: a misspelt filter must not
// silently widen the answer.
func parseAuditFilter(q url.Values, logins map[uint]string) (auditFilter, error) {
	f := auditFilter{Limit: defaultAuditLimit}
	for k, v := range q {
		if !auditParams[k] {
			return f, apierror.Invalid(k, "unknown parameter '"+clip(k, 40)+"'; use user, route, status, outcome, from, to, cursor, limit")
		}
		if len(v) > 1 && k != "api_key" {
			return f, apierror.Invalid(k, "'"+k+"' is given more than once")
		}
	}
	if f.User = strings.TrimSpace(q.Get("user")); f.User != "" {
		id, ok := atou(f.User)
		if _, known := logins[id]; !ok || !known {
			id, known = 0, false
			for uid, l := range logins {
				if l == f.User {
					id, known = uid, true
				}
			}
			if !known {
				return f, apierror.Invalid("user", "no user has the login or id '"+clip(f.User, 60)+"'")
			}
		}
		f.UserID = id
	}
	f.Route = strings.TrimSpace(q.Get("route"))
	if len(f.Route) > 200 {
		return f, apierror.Invalid("route", "route: at most 200 characters")
	}
	if f.Status = strings.TrimSpace(q.Get("status")); f.Status != "" {
		lo, hi, ok := statusRange(f.Status)
		if !ok {
			return f, apierror.Invalid("status", "status: a code such as 200 or a class such as 4xx, not '"+clip(f.Status, 20)+"'")
		}
		f.StatusLo, f.StatusHi = lo, hi
	}
	var err error
	f.FromText, f.ToText = strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	if f.From, err = parseInstant("from", f.FromText, false); err != nil {
		return f, err
	}
	if f.To, err = parseInstant("to", f.ToText, true); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, apierror.Invalid("from", "from must come before to")
	}
	if c := q.Get("cursor"); c != "" {
		id, ok := atou(c)
		if !ok || id == 0 {
			return f, apierror.Invalid("cursor", "not a cursor given by this API: '"+clip(c, 40)+"'")
		}
		f.Before = id
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxAuditLimit {
			return f, apierror.Invalid("limit", "limit: a number from 1 to "+strconv.Itoa(maxAuditLimit))
		}
		f.Limit = n
	}
	if f.Outcome = strings.TrimSpace(q.Get("outcome")); f.Outcome != "" && !slices.Contains(keys.Outcomes, f.Outcome) {
		return f, apierror.Invalid("outcome", "outcome: one of "+strings.Join(keys.Outcomes, ", ")+", not '"+clip(f.Outcome, 20)+"'")
	}
	if b := q.Get("bom"); b != "" {
		v, err := strconv.ParseBool(b)
		if err != nil {
			return f, apierror.Invalid("bom", "bom: true or false")
		}
		f.BOM = v
	}
	return f, nil
}

// statusRange reads "404" or "4xx".
func statusRange(s string) (lo, hi int, ok bool) {
	if len(s) == 3 && s[0] >= '1' && s[0] <= '5' && strings.EqualFold(s[1:], "xx") {
		lo = int(s[0]-'0') * 100
		return lo, lo + 100, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || len(s) != 3 || n < 100 || n > 599 {
		return 0, 0, false
	}
	return n, n + 1, true
}

// instantLayouts are the accepted forms of from and to (UTC unless an
// offset is given), with the span an inclusive "to" covers.
var instantLayouts = []struct {
	layout string
	span   time.Duration
}{
	{time.RFC3339Nano, time.Millisecond},
	{"2006-01-02T15:04:05", time.Second},
	{"2006-01-02T15:04", time.Minute}, // <input type="datetime-local">
	{time.DateOnly, 24 * time.Hour},
}

// parseInstant reads from (the first instant) or to (the last, inclusive at
// the precision given: a date means the whole day). It returns the
// inclusive start or the exclusive end.
func parseInstant(target, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range instantLayouts {
		t, err := time.ParseInLocation(l.layout, s, time.UTC)
		if err != nil {
			continue
		}
		if t.Year() < 1970 || t.Year() > 9998 {
			break
		}
		if end {
			t = t.Add(l.span)
		}
		return t.UTC(), nil
	}
	return time.Time{}, apierror.Invalid(target, target+": a date (2024-11-04) or time (2024-11-04T12:00, 2024-11-04T12:00:00Z), not '"+clip(s, 40)+"'")
}

// query is the filter as a query string, without the cursor, for links.
func (f auditFilter) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"user": f.User, "route": f.Route, "status": f.Status, "from": f.FromText, "to": f.ToText} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// AuditEntry is one audit record as the API and the pages show it.
type AuditEntry struct {
	ID         uint      `json:"id"`
	At         time.Time `json:"at"`
	UserID     uint      `json:"userId"`
	Login      string    `json:"login"`
	KeyHint    string    `json:"keyHint"`
	Method     string    `json:"method"`
	Route      string    `json:"route"`
	Query      string    `json:"query"`
	Status     int       `json:"status"`
	Rows       int64     `json:"rows"`
	Bytes      int64     `json:"bytes"`
	DurationMS int64     `json:"durationMs"`
	ClientIP   string    `json:"clientIp"`
	UserAgent  string    `json:"userAgent"`
	Outcome    string    `json:"outcome"`
}

func auditEntry(r models.AuditRecord, logins map[uint]string) AuditEntry {
	return AuditEntry{ID: r.ID, At: r.At.UTC(), UserID: r.UserID, Login: logins[r.UserID], KeyHint: r.KeyHint, Method: r.Method,
		Route: r.Route, Query: r.Query, Status: r.Status, Rows: r.Rows, Bytes: r.Bytes, DurationMS: r.DurationMS,
		ClientIP: r.ClientIP, UserAgent: r.UserAgent, Outcome: r.Outcome}
}

// auditSlice reads a page of entries and the cursor of the next one ("":
// none left).
func (a *Admin) auditSlice(ctx context.Context, f auditFilter, logins map[uint]string) ([]AuditEntry, string, error) {
	recs, more, err := a.auditRecords(ctx, f)
	if err != nil {
		return nil, "", err
	}
	out := make([]AuditEntry, len(recs))
	for i, r := range recs {
		out[i] = auditEntry(r, logins)
	}
	next := ""
	if more && len(recs) > 0 {
		next = utoa(recs[len(recs)-1].ID)
	}
	return out, next, nil
}

var auditColumns = []string{"Id", "At", "UserId", "Login", "KeyHint", "Method", "Route", "Query", "Status", "Rows", "Bytes", "DurationMs", "ClientIp", "UserAgent", "Outcome"}

// auditCSV streams every record the filter selects (the cursor and limit
// are ignored), newest first, in keyset batches. Text cells are neutralised
// so that a route, query or user agent never runs as a spreadsheet formula.
// A failure after the first byte cuts the connection, as report exports do.
func (a *Admin) auditCSV(c *gin.Context) {
	ctx := c.Request.Context()
	f, logins, err := a.auditQuery(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	f.Before, f.Limit = 0, exportBatch
	recs, more, err := a.auditRecords(ctx, f)
	if err != nil {
		a.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="audit_log_`+a.clock().UTC().Format("2006-01-02")+`.csv"`)
	c.Status(http.StatusOK)
	if f.BOM {
		c.Writer.WriteString("\uFEFF")
	}
	w := csv.NewWriter(c.Writer)
	w.UseCRLF = true
	w.Write(auditColumns)
	var n int64
	for {
		for _, r := range recs {
			e := auditEntry(r, logins)
			w.Write([]string{utoa(e.ID), e.At.Format(time.RFC3339Nano), utoa(e.UserID), cell.NeutraliseCSV(e.Login),
				cell.NeutraliseCSV(e.KeyHint), e.Method, cell.NeutraliseCSV(e.Route), cell.NeutraliseCSV(e.Query),
				strconv.Itoa(e.Status), strconv.FormatInt(e.Rows, 10), strconv.FormatInt(e.Bytes, 10),
				strconv.FormatInt(e.DurationMS, 10), cell.NeutraliseCSV(e.ClientIP), cell.NeutraliseCSV(e.UserAgent), e.Outcome})
			n++
		}
		if !more || len(recs) == 0 {
			break
		}
		f.Before = recs[len(recs)-1].ID
		if recs, more, err = a.auditRecords(ctx, f); err != nil {
			break
		}
	}
	w.Flush()
	addRows(c, n)
	if err == nil {
		err = w.Error()
	}
	if err != nil {
		a.log.Error("audit export failed while streaming", "rows", n, "err", err)
		panic(http.ErrAbortHandler)
	}
}
