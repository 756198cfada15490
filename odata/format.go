package odata

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

// format is how a JSON answer is written: the metadata level
// (odata.metadata=minimal|none|full), whether 64-bit integers travel as
// strings (IEEE754Compatible=true), and the protocol version of the
// answer.
type format struct {
	metadata string // "minimal", "none" or "full"
	ieee754  bool
	v401     bool // the client accepts OData 4.01 (OData-MaxVersion: 4.01)
}

// contentType is the Content-Type of a JSON answer in format f; for the
// default format it is JSONType.
func (f format) contentType() string {
	return "application/json;odata.metadata=" + f.metadata + ";odata.streaming=true;IEEE754Compatible=" +
		strconv.FormatBool(f.ieee754) + ";charset=utf-8"
}

// version is the OData-Version of the answer: 4.0, or 4.01 when the
// client's OData-MaxVersion allows it.
func (f format) version() string {
	if f.v401 {
		return "4.01"
	}
	return "4.0"
}

// maxVersion reads OData-MaxVersion: v401 when it is 4.01 or later; a
// version below 4.0 cannot be answered (400). Absent, the answer is 4.0,
// which is what Power Query expects.
func maxVersion(r *http.Request) (v401 bool, err error) {
	v := strings.TrimSpace(r.Header.Get("OData-MaxVersion"))
	if v == "" {
		return false, nil
	}
	major, minor, _ := strings.Cut(v, ".")
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || (minor != "" && err2 != nil) || ma < 0 || mi < 0 {
		return false, apierror.Invalid("OData-MaxVersion", fmt.Sprintf("OData-MaxVersion %q is not a version such as 4.0 or 4.01", clip(v)))
	}
	switch {
	case ma < 4:
		return false, apierror.Invalid("OData-MaxVersion", fmt.Sprintf("this feed speaks OData 4.0 and 4.01, not %s", clip(v)))
	case ma > 4 || mi >= 1:
		return true, nil
	}
	return false, nil
}

// notAcceptable is the 406 for an Accept or $format the feed cannot serve.
func notAcceptable(target, message string) *apierror.Error {
	return &apierror.Error{Code: apierror.NotAcceptable, Target: target, Message: message}
}

// mediaRange is one item of an Accept header.
type mediaRange struct {
	typ    string // lower-cased type/subtype
	params map[string]string
	q      float64
}

func parseMediaRanges(h string) []mediaRange {
	var out []mediaRange
	for _, item := range strings.Split(h, ",") {
		fields := strings.Split(item, ";")
		m := mediaRange{typ: strings.ToLower(strings.TrimSpace(fields[0])), params: map[string]string{}, q: 1}
		if m.typ == "" {
			continue
		}
		for _, p := range fields[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.Trim(strings.TrimSpace(v), `"`)
			if k == "q" {
				if q, err := strconv.ParseFloat(v, 64); err == nil {
					m.q = q
				}
				continue
			}
			m.params[k] = v
		}
		out = append(out, m)
	}
	return out
}

// jsonFormat negotiates the format of a JSON answer: $format, which wins,
// else the Accept header; without either, minimal metadata. An Accept
// without any JSON media range (only Atom, XML or text/plain) is a 406,
// as is an unknown odata.metadata level.
func jsonFormat(r *http.Request, o *options) (format, error) {
	f := format{metadata: "minimal"}
	var err error
	if f.v401, err = maxVersion(r); err != nil {
		return f, err
	}
	if v, ok := o.system["$format"]; ok {
		ranges := parseMediaRanges(v)
		if len(ranges) != 1 || (ranges[0].typ != "json" && ranges[0].typ != "application/json") {
			return f, notAcceptable("$format", fmt.Sprintf("$format=%s is not served; this feed answers JSON (and csv or xlsx downloads of entity sets)", clip(v)))
		}
		return f, f.apply(ranges[0].params, "$format")
	}
	accept := strings.TrimSpace(r.Header.Get("Accept"))
	if accept == "" {
		return f, nil
	}
	best := -1.0
	var chosen *mediaRange
	ranges := parseMediaRanges(accept)
	for i, m := range ranges {
		if m.q <= 0 || m.q <= best {
			continue
		}
		switch m.typ {
		case "application/json", "application/*", "*/*":
			best, chosen = m.q, &ranges[i]
		}
	}
	if chosen == nil {
		return f, notAcceptable("Accept", fmt.Sprintf("cannot answer Accept: %s; this feed answers application/json", clip(accept)))
	}
	if chosen.typ != "application/json" {
		return f, nil
	}
	return f, f.apply(chosen.params, "Accept")
}

// apply reads the format parameters of a JSON media type. OData 3.0's
// odata=minimalmetadata|nometadata|fullmetadata are read as their 4.0
// spellings.
func (f *format) apply(params map[string]string, target string) error {
	level, ok := params["odata.metadata"]
	if !ok {
		level, ok = params["metadata"] // 4.01 allows the parameter without its odata. prefix
	}
	if !ok {
		if v3, has := params["odata"]; has {
			level, ok = strings.TrimSuffix(strings.ToLower(v3), "metadata"), true
		}
	}
	if ok {
		switch l := strings.ToLower(level); l {
		case "minimal", "none", "full":
			f.metadata = l
		default:
			return notAcceptable(target, fmt.Sprintf("odata.metadata=%s is not a metadata level (minimal, none or full)", clip(level)))
		}
	}
	for k, v := range params {
		if strings.EqualFold(k, "IEEE754Compatible") {
			switch strings.ToLower(v) {
			case "true":
				f.ieee754 = true
			case "false":
				f.ieee754 = false
			default:
				return notAcceptable(target, fmt.Sprintf("IEEE754Compatible=%s: true or false", clip(v)))
			}
		}
	}
	return nil
}
