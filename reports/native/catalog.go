package native

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/export"
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

// catalog lists the implemented reports of one category. Queue catalogs
// take an optional queueId (it must be visible) that is carried into the
// report URLs; the global catalog also lists the caller's queues.
func (a *API) catalog(c *gin.Context, cat reports.Category) {
	p, err := parseParams(c.Request.URL.RawQuery, catalogParams(cat)...)
	if err != nil {
		a.fail(c, err)
		return
	}
	principal := mustPrincipal(c)
	body := catalogBody{Category: cat, Reports: []catalogReport{}}
	qid, given, err := p.queueID()
	if err != nil {
		a.fail(c, err)
		return
	}
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
	}
	if cat == reports.Global {
		qs, err := a.engine.VisibleQueues(c.Request.Context(), principal.Visible)
		if err != nil {
			a.fail(c, err)
			return
		}
		body.Queues = append([]reports.QueueRef{}, qs...)
	}
	for _, r := range reports.InCategory(cat) {
		params := []string{"start", "stop", "zone", "csv", "format", "bom"}
		url := "/Chime/Report/" + r.Name
		if r.RequiresQueue() {
			params = append([]string{"queueId"}, params...)
			if given {
				url += fmt.Sprintf("?queueId=%d", qid)
			}
		}
		body.Reports = append(body.Reports, catalogReport{Name: r.Name, Title: r.Title, Description: r.Description,
			Category: r.Category, Grain: r.Grain, RequiresQueueID: r.RequiresQueue(), URL: url, Parameters: params,
			Columns: export.Columns(r.Columns)})
	}
	writeJSON(c, body)
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
