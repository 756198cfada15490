package native

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/httpcache"
)

// API serves the native routes.
type API struct {
	engine  *reports.Engine
	log     *slog.Logger
	maxDays int
	xlsx    *export.Limiter
}

// Options configure the native API.
type Options struct {
	// MaxWindowDays caps a report window (0 = reports.DefaultMaxDays).
	MaxWindowDays int
	// XLSX caps concurrent workbook exports; share one limiter between
	// every surface that writes workbooks (nil: a limiter of
	// export.DefaultMaxXLSX for this API alone).
	XLSX *export.Limiter
}

// New returns the native API over engine.
func New(engine *reports.Engine, log *slog.Logger, opt Options) *API {
	if log == nil {
		log = slog.Default()
	}
	if opt.XLSX == nil {
		opt.XLSX = export.NewLimiter(export.DefaultMaxXLSX)
	}
	return &API{engine: engine, log: log, maxDays: opt.MaxWindowDays, xlsx: opt.XLSX}
}

// Register mounts the routes on an authenticated group.
func (a *API) Register(r gin.IRoutes) {
	r.GET("/Chime/Report/:name", a.report)
	r.HEAD("/Chime/Report/:name", a.report)
	r.GET("/Chime/Session/SessionDetails/:id", a.sessionDetails)
	r.HEAD("/Chime/Session/SessionDetails/:id", a.sessionDetails)
}

// reportParams are the parameters of every route: the shared start, stop,
// csv, queueId and zone of the published API, and format and bom.
var reportParams = []string{"start", "stop", "zone", "queueId", "csv", "format", "bom"}

func (a *API) report(c *gin.Context) {
	name := c.Param("name")
	for _, cat := range reports.Categories {
		if name == cat.Route {
			a.catalog(c, cat.Category)
			return
		}
	}
	rep, ok := reports.Lookup(name)
	if !ok {
		a.fail(c, &apierror.Error{Code: apierror.NotFound, Target: "ReportName",
			Message: fmt.Sprintf("unknown report %q; details lists the valid names", clip(name)), Details: validNames()})
		return
	}
	p, err := parseParams(c.Request.URL.RawQuery, reportParamsOf(rep)...)
	if err != nil {
		a.fail(c, err)
		return
	}
	principal := mustPrincipal(c)
	q, err := a.query(p, rep, principal)
	if err != nil {
		a.fail(c, err)
		return
	}
	f, bom, err := representation(p, c.GetHeader("Accept"), formatJSON, formatCSV, formatXLSX)
	if err != nil {
		a.fail(c, err)
		return
	}
	// The tag is computed before the report, so a change in between leaves
	// the tag older than the answer (revalidated next time), never newer.
	tag, err := a.etag(c, q, f, bom, principal)
	if err != nil {
		a.fail(c, err)
		return
	}
	if httpcache.NotModified(c.Writer, c.Request, tag) {
		return
	}
	release, err := a.admit(f, c.Request.Method)
	if err != nil {
		a.fail(c, err)
		return
	}
	defer release()
	res, err := a.engine.Run(c.Request.Context(), q)
	if err != nil {
		a.fail(c, err)
		return
	}
	defer res.Rows.Close()
	h := c.Writer.Header()
	httpcache.SetHeaders(h, tag)
	switch f {
	case formatCSV:
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", attachment(fileName(res)+".csv"))
	case formatXLSX:
		h.Set("Content-Type", export.XLSXMediaType)
		h.Set("Content-Disposition", attachment(fileName(res)+".xlsx"))
	default:
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	c.Status(http.StatusOK)
	if c.Request.Method == http.MethodHead {
		return
	}
	var n int64
	switch f {
	case formatCSV:
		n, err = export.WriteCSV(c.Writer, res, export.CSVOptions{BOM: bom})
	case formatXLSX:
		// Every row is read before the workbook's first byte is sent.
		n, err = writeXLSX(c.Writer, res, principal)
	default:
		n, err = export.WriteJSON(c.Writer, res)
	}
	keys.AddRows(c.Request.Context(), n)
	if err != nil {
		if !c.Writer.Written() {
			a.fail(c, err) // nothing sent yet: a clean error answer
			return
		}
		a.abort(c, rep.Name, n, err)
	}
}

// query turns parameters into an engine query for rep. On a global report
// a queueId narrows the answer to that queue (the engine answers 404 for
// a queue the caller cannot see, as on a per-queue report).
func (a *API) query(p params, rep *reports.Report, principal *keys.Principal) (reports.Query, error) {
	w, err := a.window(p, principal)
	if err != nil {
		return reports.Query{}, err
	}
	qid, given, err := p.queueID()
	if err != nil {
		return reports.Query{}, err
	}
	if rep.RequiresQueue() && !given {
		return reports.Query{}, apierror.Invalid("queueId", fmt.Sprintf("queueId is required for %s", rep.Name))
	}
	q := reports.Query{Report: rep, Window: w, QueueID: qid, Visible: principal.Visible}
	if v, given := p["interval"]; given {
		if q.Interval, err = reports.ParseInterval(v); err != nil {
			return reports.Query{}, err
		}
	}
	return q, nil
}

// window reads zone (default: the caller's zone), start and stop by the
// rules of every route.
func (a *API) window(p params, principal *keys.Principal) (reports.Window, error) {
	zoneName, given := p["zone"]
	if !given {
		zoneName = principal.DefaultZone
	}
	zone, err := reports.ParseZone(zoneName)
	if err != nil {
		return reports.Window{}, err
	}
	return reports.ParseWindow(reports.WindowSpec{Start: p["start"], Stop: p["stop"], Zone: zone, Now: a.engine.Now(), MaxDays: a.maxDays})
}

// etag is the entity tag of a report answer, or "" when it has none (an
// open window, or a report the data fingerprint does not cover): every
// normalised part that shapes the body — report, queue, window instants,
// zone, representation, BOM, the caller and their queues — plus the
// engine's fingerprint of the data (docs/api.md, "Caching").
func (a *API) etag(c *gin.Context, q reports.Query, f format, bom bool, principal *keys.Principal) (string, error) {
	data, ok, err := a.engine.Fingerprint(c.Request.Context(), q)
	if err != nil || !ok {
		return "", err
	}
	name := q.Report.Name
	if q.Interval != "" {
		name += "@" + string(q.Interval)
	}
	return httpcache.Tag("native report", name, fmt.Sprint(q.QueueID),
		q.Window.Start.UTC().Format(time.RFC3339Nano), q.Window.Stop.UTC().Format(time.RFC3339Nano), q.Window.Zone.String(),
		formatNames[f], fmt.Sprint(bom), httpcache.Caller(principal.UserID, principal.Name(), principal.Visible), data), nil
}

// fileName says what a download holds: report, queue and local window,
// e.g. InboundVsAnsweredChats_queue1_2020-11-01_2020-11-30.
func fileName(res *reports.Result) string {
	loc := res.Window.Zone
	first := res.Window.Start.In(loc).Format(time.DateOnly)
	last := res.Window.LastInstant().In(loc).Format(time.DateOnly)
	parts := []string{res.Report.Name}
	if res.Queue != nil {
		parts = append(parts, fmt.Sprintf("queue%d", res.Queue.ID))
	}
	return strings.Join(append(parts, first, last), "_")
}

func validNames() []string {
	names := reports.Names()
	for _, c := range reports.Categories {
		names = append(names, c.Route)
	}
	return names
}

func mustPrincipal(c *gin.Context) *keys.Principal {
	p, ok := keys.PrincipalFrom(c.Request.Context())
	if !ok {
		// Routes are only mounted behind keys.Service.Authenticate.
		panic("native: route served without authentication")
	}
	return p
}

// fail writes err in the error shape (before any byte of the answer).
func (a *API) fail(c *gin.Context, err error) {
	c.Writer.Header().Del("ETag") // an error is never a representation to revalidate
	e := apierror.Write(c.Writer, err)
	if e.Status() >= 500 {
		a.log.Error("request failed", "path", keys.RedactPath(c.Request.URL.Path), "code", e.Code, "err", e.Cause)
	}
	c.Abort()
}

// abort ends an answer that failed after its first byte: the connection is
// cut so the client sees a broken transfer, never a short file that looks
// complete (http.ErrAbortHandler, re-raised past gin's recovery).
func (a *API) abort(c *gin.Context, report string, rows int64, err error) {
	if c.Request.Context().Err() != nil {
		a.log.Info("client went away during a report", "report", report, "rows", rows)
	} else {
		a.log.Error("report failed while streaming", "report", report, "rows", rows, "err", err)
	}
	panic(http.ErrAbortHandler)
}
