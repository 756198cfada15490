package native

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/details"
	"github.com/chime-reports/chime-reports/reports/export/cell"
)

// sessionDetails serves one chat: metadata, participants, events and
// transcript as JSON, or the transcript alone as CSV (csv=true).
func (a *API) sessionDetails(c *gin.Context) {
	raw := c.Param("id")
	id, err := strconv.ParseUint(raw, 10, 63)
	if err != nil || id == 0 {
		a.fail(c, apierror.Invalid("SessionID", fmt.Sprintf("SessionID: not a session id: '%s' (a positive integer)", clip(raw))))
		return
	}
	// The parameters of every route: zone gives the session's times in that
	// zone; a queueId narrows the answer to that queue (a session of another
	// queue is not found); start and stop are checked by the rules of every
	// route and leave one chat whole.
	p, err := parseParams(c.Request.URL.RawQuery, sessionParams...)
	if err != nil {
		a.fail(c, err)
		return
	}
	principal := mustPrincipal(c)
	win, err := a.window(p, principal)
	if err != nil {
		a.fail(c, err)
		return
	}
	zone := win.Zone
	qid, narrowed, err := p.queueID()
	if err != nil {
		a.fail(c, err)
		return
	}
	f, bom, err := representation(p, c.GetHeader("Accept"))
	if err != nil {
		a.fail(c, err)
		return
	}
	// Internal notes are for admins and the queue's managers, not reviewers.
	d, err := details.Load(c.Request.Context(), a.engine, id, zone,
		details.DetailsAccess{Reviewable: principal.Reviewable, Internal: principal.Visible})
	if err == nil && narrowed && d.Queue.ID != qid {
		// The same answer as for a session that does not exist.
		nf := apierror.NotFoundf(fmt.Sprintf("session %d not found", id))
		nf.Target = "SessionID"
		err = nf
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	if f == formatJSON {
		b, err := json.Marshal(d)
		if err != nil {
			a.fail(c, err)
			return
		}
		h := c.Writer.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "private, no-cache")
		c.Status(http.StatusOK)
		if c.Request.Method != http.MethodHead {
			c.Writer.Write(append(b, '\n'))
		}
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="Session_%d_transcript.csv"`, d.SessionID))
	c.Status(http.StatusOK)
	if c.Request.Method == http.MethodHead {
		return
	}
	if bom {
		c.Writer.WriteString("\uFEFF")
	}
	w := csv.NewWriter(c.Writer)
	w.UseCRLF = true
	w.Write([]string{"Seq", "SentAt", "SenderType", "SenderName", "ContentType", "Text", "Attachments"})
	for _, m := range d.Transcript {
		w.Write([]string{strconv.FormatUint(uint64(m.Seq), 10), deref(m.SentAt), m.SenderType, cell.NeutraliseCSV(deref(m.SenderName)),
			m.ContentType, cell.NeutraliseCSV(deref(m.Text)), attachmentNames(m.Attachments)})
	}
	w.Flush()
}

// attachmentNames lists attachment file names, separated by "; ".
func attachmentNames(raw json.RawMessage) string {
	var as []struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &as) != nil {
		return ""
	}
	names := make([]string, 0, len(as))
	for _, a := range as {
		names = append(names, a.Name)
	}
	return cell.NeutraliseCSV(strings.Join(names, "; "))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
