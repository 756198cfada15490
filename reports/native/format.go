package native

import (
	"mime"
	"sort"
	"strconv"
	"strings"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

type format int

const (
	formatJSON format = iota
	formatCSV
)

// negotiate picks the representation: csv=true, format=json|csv, then the
// Accept header (JSON unless the client prefers CSV); 406 when the client
// accepts neither.
func negotiate(p params, accept string) (format, error) {
	csvFlag, err := p.boolean("csv")
	if err != nil {
		return 0, err
	}
	if f, ok := p["format"]; ok {
		var want format
		switch strings.ToLower(f) {
		case "json":
			want = formatJSON
		case "csv":
			want = formatCSV
		case "xlsx":
			return 0, &apierror.Error{Code: apierror.NotAcceptable, Target: "format",
				Message: "format: xlsx workbooks are not available yet; use format=csv or format=json"}
		default:
			return 0, apierror.Invalid("format", "format: expected json or csv, not '"+clip(f)+"'")
		}
		if csvFlag && want != formatCSV {
			return 0, apierror.Invalid("format", "csv=true contradicts format="+f)
		}
		return want, nil
	}
	if csvFlag {
		return formatCSV, nil
	}
	return fromAccept(accept)
}

func fromAccept(accept string) (format, error) {
	if strings.TrimSpace(accept) == "" {
		return formatJSON, nil
	}
	type choice struct {
		f     format
		q     float64
		order int
	}
	var cs []choice
	for i, part := range strings.Split(accept, ",") {
		mt, ps, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := ps["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q <= 0 {
			continue
		}
		switch mt {
		case "application/json", "application/*", "*/*":
			cs = append(cs, choice{formatJSON, q, i})
		case "text/csv", "text/*":
			cs = append(cs, choice{formatCSV, q, i})
		}
	}
	if len(cs) == 0 {
		return 0, &apierror.Error{Code: apierror.NotAcceptable,
			Message: "no acceptable representation: this route serves application/json and text/csv"}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	return cs[0].f, nil
}
