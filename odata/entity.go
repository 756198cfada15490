package odata

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/odata/filter"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/query"
)

// collectionOptions apply to collections only; on a single entity they
// are a 400 rather than silently ignored.
var collectionOptions = []string{"$filter", "$orderby", "$top", "$skip", "$count", "$skiptoken", "$apply"}

// notFound is the answer for a key that does not exist and for one the
// caller may not see: the same status and body, so that a key probe tells
// nothing about other queues.
func notFound(set *query.Set) error {
	return &apierror.Error{Code: apierror.NotFound, Target: "key",
		Message: fmt.Sprintf("%s has no entity with this key that you may see", set.Name)}
}

// entity answers /Set(key), /Set(key)/Property and /Set(key)/Property/$value,
// and the navigation segments after the key (navigate).
// The key becomes a filter on the key properties and runs through the same
// query as the collection (the caller's queues inside it; on report sets a
// PeriodStart key is the report window).
func (s *Service) entity(w http.ResponseWriter, r *http.Request, p *keys.Principal, set *query.Set, keyText string, rest []string) error {
	o, err := requestOptions(r)
	if err != nil {
		return err
	}
	pred, err := keyFilter(set, keyText, o.aliases)
	if err != nil {
		return err
	}
	return s.single(w, r, p, set, pred, rest, false)
}

// keyFilter reads a key predicate "(…)" of set into a filter.
func keyFilter(set *query.Set, keyText string, aliases map[string]string) (query.Expr, error) {
	if !strings.HasSuffix(keyText, ")") {
		return nil, apierror.Invalid("key", "a key predicate is written Set(value) or Set(Name=value,…)")
	}
	parts, err := filter.ParseKey(keyText[1:len(keyText)-1], aliases)
	if err != nil {
		return nil, err
	}
	return keyPredicate(set, parts)
}

// single answers one entity of set, the row pred selects (a key, or a
// single-valued navigation from its parent), and what follows it in the
// path: a property, its /$value, or a navigation. nav is true when the
// entity was reached by a single-valued navigation: then no row is a
// null navigation, 204 No Content, rather than a 404.
func (s *Service) single(w http.ResponseWriter, r *http.Request, p *keys.Principal, set *query.Set, pred query.Expr, rest []string, nav bool) error {
	o, err := requestOptions(r)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		name, navKey := rest[0], ""
		if i := strings.IndexByte(name, '('); i >= 0 {
			name, navKey = name[:i], name[i:]
		}
		if n, ok := set.Nav(name); ok {
			return s.navigate(w, r, p, set, pred, n, navKey, rest[1:])
		}
	}
	for _, name := range collectionOptions {
		if _, ok := o.system[name]; ok {
			return apierror.Invalid(name, name+" applies to collections, not to a single entity")
		}
	}
	var prop string
	var raw bool
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && rest[0] == "$value":
		return apierror.Invalid("", fmt.Sprintf("%s is not a media entity; ask for a property's /$value", set.Name))
	case len(rest) <= 2:
		prop = rest[0]
		if set.Index(prop) < 0 {
			return &apierror.Error{Code: apierror.NotFound, Target: "path",
				Message: fmt.Sprintf("%s has no property or navigation %q", set.Name, clip(prop))}
		}
		if len(rest) == 2 {
			if rest[1] != "$value" {
				return notImplemented("path", fmt.Sprintf("/%s is not supported after a property", clip(rest[1])))
			}
			raw = true
		}
		if _, ok := o.system["$select"]; ok {
			return apierror.Invalid("$select", "$select does not apply to a single property")
		}
	default:
		return notImplemented("path", "only /Set(key), /Set(key)/Property, /Set(key)/Property/$value and navigation segments are supported")
	}
	req, err := s.parse(r, p, set)
	if err != nil {
		return err
	}
	req.query.Filter, req.query.Top, req.top, req.count = pred, 1, -1, false
	if done, err := s.revalidate(w, r, p, req); done || err != nil {
		return err
	}
	if req.download != "" {
		return apierror.Invalid("$format", "$format=csv and $format=xlsx apply to collections")
	}
	res, err := s.engine.QuerySet(r.Context(), req.query)
	if err != nil {
		return err
	}
	defer res.Rows.Close()
	if !res.Rows.Next() {
		if err := res.Rows.Err(); err != nil {
			return err
		}
		if nav && prop == "" {
			// A single-valued navigation without a target is null.
			w.Header().Del("ETag")
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return notFound(set)
	}
	row := slices.Clone(res.Rows.Row())
	if err := res.Rows.Err(); err != nil {
		return err
	}
	keys.AddRows(r.Context(), 1)
	if len(req.expand) > 0 && prop != "" {
		return apierror.Invalid("$expand", "$expand does not apply to a single property")
	}
	if len(req.expand) > 0 {
		if req.expanded, err = s.expand(r, p, req, [][]any{row}); err != nil {
			return err
		}
	}
	if prop == "" {
		return s.writeEntity(w, r, req, res.Props, row)
	}
	i := set.Index(prop)
	c := res.Props[i]
	if row[i] == nil {
		// A null property (and its raw value) is 204 No Content.
		w.Header().Del("ETag")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if raw {
		body, finish := start(w, r, CountType)
		body.Write([]byte(rawValue(c.Type, row[i])))
		return finish()
	}
	body, finish := start(w, r, req.format.contentType())
	bw := bufio.NewWriter(body)
	bw.WriteByte('{')
	if req.format.metadata != "none" {
		bw.WriteString(`"@odata.context":`)
		writeString(bw, s.base(r)+"/$metadata#"+set.Name+keySegment(set, row)+"/"+c.Name)
		bw.WriteByte(',')
	}
	if t := EdmType(c.Type); req.format.metadata == "full" && t != "Edm.String" && t != "Edm.Double" {
		bw.WriteString(`"@odata.type":"#` + strings.TrimPrefix(t, "Edm.") + `",`)
	}
	bw.WriteString(`"value":`)
	writeFormatted(bw, c.Type, row[i], req.format.ieee754)
	bw.WriteString("}\n")
	bw.Flush()
	return finish()
}

// writeEntity writes one entity: {"@odata.context":"…#Set/$entity",…}.
func (s *Service) writeEntity(w http.ResponseWriter, r *http.Request, req *request, props []reports.Column, row []any) error {
	cols := req.selected
	if cols == nil {
		cols = allColumns(len(props))
	}
	body, finish := start(w, r, req.format.contentType())
	if r.Method == http.MethodHead {
		return finish()
	}
	bw := bufio.NewWriter(body)
	lead := ""
	if req.format.metadata != "none" {
		ctx := s.base(r) + "/$metadata#" + req.set.Name + selectList(req, props)
		var b strings.Builder
		b.WriteString(`"@odata.context":`)
		lb := bufio.NewWriter(&b)
		writeString(lb, ctx+"/$entity")
		lb.Flush()
		lead = b.String() + ","
	}
	ew := s.entityWriter(r, req, props, cols)
	ew.write(bw, row, lead)
	bw.WriteString("\n")
	bw.Flush()
	return finish()
}

func allColumns(n int) []int {
	cols := make([]int, n)
	for i := range cols {
		cols[i] = i
	}
	return cols
}

func propNames(props []reports.Column, cols []int) []string {
	names := make([]string, len(cols))
	for i, j := range cols {
		names[i] = props[j].Name
	}
	return names
}

// keyPredicate turns a parsed key into "K1 eq v1 and K2 eq v2", checked
// against the set: every key property exactly once, values of their type.
func keyPredicate(set *query.Set, parts []filter.KeyPart) (query.Expr, error) {
	if len(parts) == 1 && parts[0].Name == "" {
		if len(set.Key) != 1 {
			return nil, apierror.Invalid("key", fmt.Sprintf("%s has a composite key: write %s(%s)", set.Name, set.Name, keyTemplate(set)))
		}
		parts = []filter.KeyPart{{Name: set.Key[0], Value: parts[0].Value}}
	}
	if len(parts) != len(set.Key) {
		return nil, apierror.Invalid("key", fmt.Sprintf("the key of %s is %s", set.Name, keyTemplate(set)))
	}
	var pred query.Expr
	seen := map[string]bool{}
	for _, k := range parts {
		if !slices.Contains(set.Key, k.Name) || seen[k.Name] {
			return nil, apierror.Invalid("key", fmt.Sprintf("the key of %s is %s", set.Name, keyTemplate(set)))
		}
		seen[k.Name] = true
		c, _ := set.Property(k.Name)
		if want, got := query.KindOf(c.Type), k.Value.Kind; got != want && !(want == query.KindFloat && got == query.KindInt) {
			return nil, apierror.Invalid("key", fmt.Sprintf("%s is %s, not %s: the key of %s is %s", k.Name, want, got, set.Name, keyTemplate(set)))
		}
		pred = query.And(pred, query.Binary{Op: "eq", L: query.Prop{Name: k.Name}, R: k.Value})
	}
	if err := set.CheckPredicate(pred); err != nil {
		return nil, apierror.Invalid("key", fmt.Sprintf("a key value of %s has the wrong type: the key is %s", set.Name, keyTemplate(set)))
	}
	return pred, nil
}

func keyTemplate(set *query.Set) string {
	parts := make([]string, len(set.Key))
	for i, k := range set.Key {
		c, _ := set.Property(k)
		parts[i] = k + "=<" + query.KindOf(c.Type).String() + ">"
	}
	return strings.Join(parts, ",")
}

// keySegment is the canonical key predicate of a row, "(1)" or
// "(QueueId=1,PeriodStart=2024-11-03T00:00:00Z)", percent-encoded for a
// URL path.
func keySegment(set *query.Set, row []any) string {
	var b strings.Builder
	b.WriteByte('(')
	for j, k := range set.Key {
		if j > 0 {
			b.WriteByte(',')
		}
		if len(set.Key) > 1 {
			b.WriteString(k + "=")
		}
		c, _ := set.Property(k)
		b.WriteString(keyLiteral(c.Type, row[set.Index(k)]))
	}
	b.WriteByte(')')
	return b.String()
}

// keyLiteral writes a key value as a URL literal.
func keyLiteral(t reports.ColumnType, v any) string {
	switch x := v.(type) {
	case string:
		return "'" + url.PathEscape(strings.ReplaceAll(x, "'", "''")) + "'"
	case time.Time:
		if t == reports.Date {
			return x.Format(time.DateOnly)
		}
		return x.UTC().Format(time.RFC3339Nano)
	case nil:
		return "null"
	}
	return rawValue(t, v)
}

// rawValue is a property's /$value: text without JSON quoting.
func rawValue(t reports.ColumnType, v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if t == reports.Int {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if t == reports.Date {
			return x.Format(time.DateOnly)
		}
		return reports.FormatTime(x)
	}
	return fmt.Sprint(v)
}
