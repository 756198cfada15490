package native

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/export"
)

type format int

const (
	formatJSON format = iota
	formatCSV
	formatXLSX
)

var formatNames = map[format]string{formatJSON: "json", formatCSV: "csv", formatXLSX: "xlsx"}

var mediaTypes = map[format]string{
	formatJSON: "application/json",
	formatCSV:  "text/csv",
	formatXLSX: export.XLSXMediaType,
}

// representation is a request's negotiated format (negotiate) and its
// bom flag.
func representation(p params, accept string, offered ...format) (format, bool, error) {
	f, err := negotiate(p, accept, offered...)
	if err != nil {
		return f, false, err
	}
	bom, err := p.boolean("bom")
	return f, bom, err
}

// negotiate picks the representation among offered (JSON and CSV when
// none are named): csv=true, format=json|csv|xlsx, then the Accept header
// (JSON unless the client prefers another offered type); 406 when the
// client accepts none of them.
func negotiate(p params, accept string, offered ...format) (format, error) {
	if len(offered) == 0 {
		offered = []format{formatJSON, formatCSV}
	}
	csvFlag, err := p.boolean("csv")
	if err != nil {
		return 0, err
	}
	if f, ok := p["format"]; ok {
		want, known := formatJSON, false
		for k, name := range formatNames {
			if strings.EqualFold(f, name) {
				want, known = k, true
			}
		}
		if !known {
			return 0, apierror.Invalid("format", "format: expected "+names(offered)+", not '"+clip(f)+"'")
		}
		if !offers(offered, want) {
			return 0, &apierror.Error{Code: apierror.NotAcceptable, Target: "format",
				Message: "format: this route is served as " + names(offered) + ", not " + formatNames[want]}
		}
		if csvFlag && want != formatCSV {
			return 0, apierror.Invalid("format", "csv=true contradicts format="+f)
		}
		return want, nil
	}
	if csvFlag {
		return formatCSV, nil
	}
	return fromAccept(accept, offered)
}

func fromAccept(accept string, offered []format) (format, error) {
	if strings.TrimSpace(accept) == "" {
		return formatJSON, nil
	}
	type choice struct {
		f format
		q float64
	}
	var cs []choice
	for _, part := range strings.Split(accept, ",") {
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
		var f format
		switch mt {
		case "application/json", "application/*", "*/*":
			f = formatJSON
		case "text/csv", "text/*":
			f = formatCSV
		case export.XLSXMediaType:
			f = formatXLSX
		default:
			continue
		}
		if offers(offered, f) {
			cs = append(cs, choice{f, q})
		}
	}
	if len(cs) == 0 {
		types := make([]string, len(offered))
		for i, f := range offered {
			types[i] = mediaTypes[f]
		}
		return 0, &apierror.Error{Code: apierror.NotAcceptable,
			Message: "no acceptable representation: this route serves " + strings.Join(types, ", ")}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	return cs[0].f, nil
}

func offers(offered []format, f format) bool {
	for _, o := range offered {
		if o == f {
			return true
		}
	}
	return false
}

func names(fs []format) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = formatNames[f]
	}
	if len(out) < 2 {
		return strings.Join(out, "")
	}
	return strings.Join(out[:len(out)-1], ", ") + " or " + out[len(out)-1]
}

// admit takes an export slot for a workbook download (HEAD builds nothing
// and needs none). The caller must call release.
func (a *API) admit(f format, method string) (release func(), err error) {
	if f != formatXLSX || method == http.MethodHead {
		return func() {}, nil
	}
	return a.xlsx.Admit()
}

// writeXLSX writes res as a workbook whose About sheet names principal.
func writeXLSX(w io.Writer, res *reports.Result, principal *keys.Principal) (int64, error) {
	sum, err := export.WriteXLSX(w, res, export.XLSXOptions{GeneratedBy: principal.Name()})
	return sum.Rows, err
}

// attachment is the Content-Disposition of a download named name: the
// quoted ASCII filename every client reads, plus RFC 5987's filename* when
// the name is not plain printable ASCII (non-ASCII letters become "_" in
// the fallback).
func attachment(name string) string {
	ascii := make([]byte, 0, len(name))
	plain := true
	for _, r := range name {
		switch {
		case r == '"' || r == '\\' || r < 0x20 || r == 0x7f:
			ascii, plain = append(ascii, '_'), false
		case r > 0x7e:
			ascii, plain = append(ascii, '_'), false
		default:
			ascii = append(ascii, byte(r))
		}
	}
	v := `attachment; filename="` + string(ascii) + `"`
	if !plain {
		v += "; filename*=UTF-8''" + rfc5987(name)
	}
	return v
}

// rfc5987 percent-encodes s as an RFC 5987 ext-value: attr-chars stay,
// every other byte of its UTF-8 is %XX.
func rfc5987(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
