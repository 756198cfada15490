package native

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/export/cell"
)

type catalogReport struct {
	Name            string              `json:"name"`
	Title           string              `json:"title"`
	Description     string              `json:"description"`
	Category        reports.Category    `json:"category"`
	Grain           reports.Grain       `json:"grain"`
	RequiresQueueID bool                `json:"requiresQueueId"`
	URL             string              `json:"url"`
	Parameters      []string            `json:"parameters"`
	Columns         []export.ColumnInfo `json:"columns"`
}

type catalogBody struct {
	Category reports.Category   `json:"category"`
	QueueID  *uint32            `json:"queueId,omitempty"`
	Queues   []reports.QueueRef `json:"queues,omitempty"`
	Reports  []catalogReport    `json:"reports"`
}

// catalog lists the implemented reports of one category. It takes the
// parameters of every route: a queueId (it must be visible) narrows the
// answer to that queue and is carried into the report URLs, as are a
// given start, stop and zone (checked by the rules of every route); the
// global catalog also lists the caller's queues (only the one asked for,
// with a queueId). csv=true (or format=csv) lists one report per row.
func (a *API) catalog(c *gin.Context, cat reports.Category) {
	p, err := parseParams(c.Request.URL.RawQuery, catalogParams(cat)...)
	if err != nil {
		a.fail(c, err)
		return
	}
	principal := mustPrincipal(c)
	if _, err := a.window(p, principal); err != nil {
		a.fail(c, err)
		return
	}
	f, bom, err := representation(p, c.GetHeader("Accept"))
	if err != nil {
		a.fail(c, err)
		return
	}
	body := catalogBody{Category: cat, Reports: []catalogReport{}}
	qid, given, err := p.queueID()
	if err != nil {
		a.fail(c, err)
		return
	}
	queues := principal.Visible
	if given {
		if !principal.CanSee(qid) {
			a.fail(c, &apierror.Error{Code: apierror.NotFound, Target: "queueId", Message: fmt.Sprintf("queue %d not found", qid)})
			return
		}
		qs, err := a.engine.VisibleQueues(c.Request.Context(), []uint32{qid})
		if err != nil {
			a.fail(c, err)
			return
		}
		if len(qs) == 0 {
			a.fail(c, &apierror.Error{Code: apierror.NotFound, Target: "queueId", Message: fmt.Sprintf("queue %d not found", qid)})
			return
		}
		body.QueueID = &qid
		queues = []uint32{qid}
	}
	if cat == reports.Global {
		qs, err := a.engine.VisibleQueues(c.Request.Context(), queues)
		if err != nil {
			a.fail(c, err)
			return
		}
		body.Queues = append([]reports.QueueRef{}, qs...)
	}
	// The report URLs carry the queue and window asked for.
	carried := url.Values{}
	if given {
		carried.Set("queueId", fmt.Sprint(qid))
	}
	for _, k := range []string{"start", "stop", "zone"} {
		if v, ok := p[k]; ok {
			carried.Set(k, v)
		}
	}
	query := ""
	if len(carried) > 0 {
		query = "?" + carried.Encode()
	}
	for _, r := range reports.InCategory(cat) {
		body.Reports = append(body.Reports, catalogReport{Name: r.Name, Title: r.Title, Description: r.Description,
			Category: r.Category, Grain: r.Grain, RequiresQueueID: r.RequiresQueue(), URL: "/Chime/Report/" + r.Name + query,
			Parameters: slices.Clone(reportParamsOf(r)), Columns: export.Columns(r.Columns)})
	}
	if f == formatCSV {
		writeCatalogCSV(c, body, bom)
		return
	}
	writeJSON(c, body)
}

// writeCatalogCSV sends a catalog as CSV: one row per report with its
// name, title, category and URL.
func writeCatalogCSV(c *gin.Context, body catalogBody, bom bool) {
	name := c.Param("name")
	if body.QueueID != nil {
		name += fmt.Sprintf("_queue%d", *body.QueueID)
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", attachment(name+".csv"))
	h.Set("Cache-Control", "private, no-cache")
	c.Status(http.StatusOK)
	if c.Request.Method == http.MethodHead {
		return
	}
	if bom {
		c.Writer.WriteString("\uFEFF")
	}
	w := csv.NewWriter(c.Writer)
	w.UseCRLF = true
	w.Write([]string{"Name", "Title", "Category", "URL"})
	for _, r := range body.Reports {
		w.Write([]string{r.Name, cell.Neutralise(r.Title), string(r.Category), r.URL})
	}
	w.Flush()
}

// writeJSON sends a small, fully built JSON document.
func writeJSON(c *gin.Context, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		apierror.Write(c.Writer, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "private, no-cache")
	c.Status(http.StatusOK)
	if c.Request.Method != http.MethodHead {
		c.Writer.Write(append(b, '\n'))
	}
}
