package odata

import (
	"bufio"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/query"
)

// write streams one page of a collection:
//
//	{"@odata.context":"…","@odata.count":n,"value":[{…},…],"@odata.nextLink":"…"}
//
// Rows are written as they come from the engine, through a 32 KB buffer.
// If the row stream fails after the status was sent, the document is left
// unterminated and the connection is cut (http.ErrAbortHandler), so the
// client errors instead of loading a truncated table (docs/powerbi.md, rule 11).
func (s *Service) write(w http.ResponseWriter, r *http.Request, req *request, res *query.SetResult, total int64) error {
	props := res.Props
	cols := req.selected
	if cols == nil {
		cols = make([]int, len(props))
		for i := range props {
			cols[i] = i
		}
	}
	f := req.format
	body, finish := start(w, r, f.contentType())
	if r.Method == http.MethodHead {
		return finish()
	}
	bw := bufio.NewWriterSize(body, 32<<10)
	bw.WriteByte('{')
	if f.metadata != "none" {
		bw.WriteString(`"@odata.context":`)
		writeString(bw, s.contextURL(r, req, props))
		bw.WriteByte(',')
	}
	if req.count {
		bw.WriteString(`"@odata.count":`)
		writeInt(bw, total, f.ieee754)
		bw.WriteByte(',')
	}
	bw.WriteString(`"value":[`)
	ew := s.entityWriter(r, req, props, cols)
	limit := req.pageSize
	if req.query.Apply != nil {
		limit = math.MaxInt
	}
	var (
		n    int
		last []any
		more bool
	)
	for res.Rows.Next() {
		row := res.Rows.Row()
		if n == limit {
			more = true
			break
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		ew.write(bw, row, "")
		n++
		if last == nil {
			last = make([]any, len(row))
		}
		copy(last, row)
	}
	if err := res.Rows.Err(); err != nil {
		bw.Flush()
		s.abort(r, req.set.Name, n, err)
	}
	bw.WriteByte(']')
	if more {
		bw.WriteString(`,"@odata.nextLink":`)
		writeString(bw, s.nextLink(r, req, last))
	}
	bw.WriteString("}\n")
	keys.AddRows(r.Context(), int64(n))
	if err := bw.Flush(); err != nil {
		s.abort(r, req.set.Name, n, err)
	}
	if err := finish(); err != nil {
		s.abort(r, req.set.Name, n, err)
	}
	return nil
}

// abort cuts the connection of an answer that failed after its status.
func (s *Service) abort(r *http.Request, set string, rows int, err error) {
	if r.Context().Err() != nil {
		s.log.Info("odata client went away", "set", set, "rows", rows)
	} else {
		s.log.Error("odata stream failed", "set", set, "rows", rows, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// contextURL is the absolute 4.0 context URL (docs/powerbi.md, rule 5): …/$metadata#Set, or
// #Set(A,B) for a projection or an $apply result.
func (s *Service) contextURL(r *http.Request, req *request, props []reports.Column) string {
	u := s.base(r) + "/$metadata#" + req.set.Name
	switch {
	case len(req.expand) > 0:
		u += selectList(req, props)
	case req.query.Apply != nil:
		names := make([]string, len(props))
		for i, p := range props {
			names[i] = p.Name
		}
		u += "(" + strings.Join(names, ",") + ")"
	case req.selected != nil:
		names := make([]string, len(req.selected))
		for i, j := range req.selected {
			names[i] = props[j].Name
		}
		u += "(" + strings.Join(names, ",") + ")"
	}
	return u
}

// nextLink is the absolute URL of the next page: the caller's options as
// sent (api_key, $skip and the old $skiptoken dropped; $top reduced by the
// rows sent) and a $skiptoken after the last row.
func (s *Service) nextLink(r *http.Request, req *request, last []any) string {
	var parts []string
	for _, p := range req.opts.pairs {
		switch p.name {
		case "$skiptoken", "$skip", "$top":
			continue
		}
		parts = append(parts, p.raw)
	}
	if req.top >= 0 {
		parts = append(parts, "$top="+strconv.Itoa(req.top-req.pageSize))
	}
	parts = append(parts, "$skiptoken="+s.mintToken(req.set, req.sort, last))
	return s.base(r) + "/" + req.path + "?" + strings.Join(parts, "&")
}

// writeString writes a JSON string without HTML escaping (links keep "&").
func writeString(w *bufio.Writer, s string) {
	if plainJSON(s) { // most values: nothing to escape, no encoder
		w.WriteByte('"')
		w.WriteString(s)
		w.WriteByte('"')
		return
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	w.WriteString(strings.TrimSuffix(b.String(), "\n"))
}

// plainJSON reports whether s is printable ASCII without a quote or a backslash,
// which JSON writes as it is.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// writeValue writes one value in OData JSON (IEEE754Compatible=false):
// numbers as numbers, Edm.Date as YYYY-MM-DD, Edm.DateTimeOffset as RFC
// 3339 with Z or its offset.
func writeValue(w *bufio.Writer, t reports.ColumnType, v any) {
	switch x := v.(type) {
	case nil:
		w.WriteString("null")
	case int64:
		w.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			w.WriteString("null")
			return
		}
		if t == reports.Int && x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			w.WriteString(strconv.FormatInt(int64(x), 10))
			return
		}
		w.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case string:
		writeString(w, x)
	case bool:
		w.WriteString(strconv.FormatBool(x))
	case time.Time:
		if t == reports.Date {
			writeString(w, x.Format(time.DateOnly))
			return
		}
		b := append(w.AvailableBuffer(), '"') // RFC 3339 needs no escaping
		b = append(reports.AppendTime(b, x), '"')
		w.Write(b)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			w.WriteString("null")
			return
		}
		w.Write(b)
	}
}

// writeInt writes an Edm.Int64: a number, or a string when the client
// asked for IEEE754Compatible=true (JavaScript numbers lose integers
// above 2^53).
func writeInt(w *bufio.Writer, n int64, ieee754 bool) {
	if ieee754 {
		w.WriteByte('"')
	}
	w.WriteString(strconv.FormatInt(n, 10))
	if ieee754 {
		w.WriteByte('"')
	}
}

// entityWriter writes entities of one answer in its format: the chosen
// columns and, with odata.metadata=full, @odata.type, @odata.id,
// @odata.editLink and the type of every property whose JSON value does
// not tell it (Int64, Date, DateTimeOffset).
type entityWriter struct {
	set    *query.Set
	props  []reports.Column
	cols   []int
	names  [][]byte // "Name":
	types  [][]byte // "Name@odata.type":"#Int64", (full metadata only)
	f      format
	base   string
	typ    string // "@odata.type":"#Chime.Set",
	withID bool   // full metadata on an entity of the set (not an $apply row)
	exp    *expansion
}

func (s *Service) entityWriter(r *http.Request, req *request, props []reports.Column, cols []int) *entityWriter {
	ew := &entityWriter{set: req.set, props: props, cols: cols, f: req.format, base: s.base(r),
		names: make([][]byte, len(props)), types: make([][]byte, len(props)), exp: req.expanded}
	full := req.format.metadata == "full"
	ew.withID = full && req.query.Apply == nil
	if ew.withID {
		ew.typ = `"@odata.type":"#` + Namespace + "." + req.set.Name + `",`
	}
	for _, i := range cols {
		k, _ := json.Marshal(props[i].Name)
		ew.names[i] = append(k, ':')
		if t := EdmType(props[i].Type); full && t != "Edm.String" && t != "Edm.Double" && t != "Edm.Boolean" {
			a, _ := json.Marshal(props[i].Name + "@odata.type")
			ew.types[i] = append(a, []byte(`:"#`+strings.TrimPrefix(t, "Edm.")+`",`)...)
		}
	}
	return ew
}

// write writes one entity; lead is written after the opening brace (the
// @odata.context of a single entity, with its comma).
func (ew *entityWriter) write(bw *bufio.Writer, row []any, lead string) {
	bw.WriteByte('{')
	bw.WriteString(lead)
	if ew.withID {
		key := ew.set.Name + keySegment(ew.set, row)
		bw.WriteString(ew.typ)
		bw.WriteString(`"@odata.id":`)
		writeString(bw, ew.base+"/"+key)
		bw.WriteString(`,"@odata.editLink":`)
		writeString(bw, key)
		if len(ew.cols) > 0 {
			bw.WriteByte(',')
		}
	}
	for j, i := range ew.cols {
		if j > 0 {
			bw.WriteByte(',')
		}
		bw.Write(ew.types[i])
		bw.Write(ew.names[i])
		writeFormatted(bw, ew.props[i].Type, row[i], ew.f.ieee754)
	}
	if ew.exp != nil {
		ew.exp.write(bw, row)
	}
	bw.WriteByte('}')
}

// writeFormatted is writeValue with Int64 values as strings under
// IEEE754Compatible=true.
func writeFormatted(w *bufio.Writer, t reports.ColumnType, v any, ieee754 bool) {
	if ieee754 && t == reports.Int {
		switch x := v.(type) {
		case int64:
			writeInt(w, x, true)
			return
		case float64:
			if x == math.Trunc(x) && !math.IsInf(x, 0) && math.Abs(x) < 1<<63 {
				writeInt(w, int64(x), true)
				return
			}
		}
	}
	writeValue(w, t, v)
}
