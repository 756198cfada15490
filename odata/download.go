package odata

import (
	"net/http"
	"time"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/httpcache"
)

// download answers $format=csv or $format=xlsx on an entity set: every row
// the query selects ($filter, $select, $orderby, $skip, $top; no paging),
// written by the same writers as the native routes' downloads.
func (s *Service) download(w http.ResponseWriter, r *http.Request, p *keys.Principal, req *request) error {
	if req.query.Apply != nil {
		return notImplemented("$format", "$format=csv and $format=xlsx do not combine with $apply")
	}
	if req.download == "xlsx" && r.Method != http.MethodHead {
		release, err := s.opt.XLSX.Admit()
		if err != nil {
			return err
		}
		defer release()
	}
	q := req.query
	q.Top, q.After = req.top, nil
	res, err := s.engine.QuerySet(r.Context(), q)
	if err != nil {
		return err
	}
	defer res.Rows.Close()

	set := req.set
	cols := req.selected
	if cols == nil {
		cols = make([]int, len(res.Props))
		for i := range cols {
			cols[i] = i
		}
	}
	rep := &reports.Report{Name: set.Name, Title: set.Title, Description: set.Description, Grain: set.Bucket}
	if set.Report != nil {
		rep.Category, rep.Formula = set.Report.Category, set.Report.Formula
		if rep.Grain == "" {
			rep.Grain = set.Report.Grain
		}
	}
	for _, i := range cols {
		rep.Columns = append(rep.Columns, res.Props[i])
	}
	out := &reports.Result{Report: rep, Window: reports.Window{Zone: q.Zone}, GeneratedAt: s.engine.Now().UTC(),
		Rows: &projection{src: res.Rows, cols: cols, row: make([]any, len(cols))}}
	if res.Window != nil {
		out.Window = *res.Window
	}
	name := set.Name
	if !out.Window.Start.IsZero() {
		loc := out.Window.Zone
		name += "_" + out.Window.Start.In(loc).Format(time.DateOnly) + "_" + out.Window.Stop.Add(-time.Millisecond).In(loc).Format(time.DateOnly)
	}
	h := w.Header()
	h.Set("OData-Version", "4.0")
	httpcache.SetHeaders(h, h.Get("ETag")) // the tag entitySet set, if any
	if req.download == "xlsx" {
		h.Set("Content-Type", export.XLSXMediaType)
		h.Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
	} else {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	var n int64
	if req.download == "xlsx" {
		var sum export.XLSXSummary
		sum, err = export.WriteXLSX(w, out, export.XLSXOptions{GeneratedBy: p.Name()})
		n = sum.Rows
	} else {
		n, err = export.WriteCSV(w, out, export.CSVOptions{})
	}
	keys.AddRows(r.Context(), n)
	if err == nil {
		return nil
	}
	if !headersSent(w) {
		h.Del("Content-Disposition") // the error answer is not a file
		return err
	}
	s.log.Error("download failed while streaming", "set", set.Name, "rows", n, "err", err)
	panic(http.ErrAbortHandler)
}

// headersSent reports whether the answer has started (gin's writer tells;
// any other writer is assumed to have started).
func headersSent(w http.ResponseWriter) bool {
	if x, ok := w.(interface{ Written() bool }); ok {
		return x.Written()
	}
	return true
}

// projection keeps the $select columns of each row.
type projection struct {
	src  reports.Rows
	cols []int
	row  []any
}

func (p *projection) Next() bool {
	if !p.src.Next() {
		return false
	}
	r := p.src.Row()
	for i, c := range p.cols {
		p.row[i] = r[c]
	}
	return true
}

func (p *projection) Row() []any   { return p.row }
func (p *projection) Err() error   { return p.src.Err() }
func (p *projection) Close() error { return p.src.Close() }
