// Package openapi builds the OpenAPI 3.1 description of the native API
// from the routes the native package serves (native.Routes), which come
// from the report registry: every catalog route, every report with its
// typed columns as the schema of its JSON envelope, SessionDetails with
// the shape of its Go type, the one error shape and the three ways to
// present a key. Nothing is listed twice: a new report, column or
// parameter changes the document with no edit here.
//
// The document model is github.com/getkin/kin-openapi (openapi3); the
// schemas of the catalog and SessionDetails bodies are reflected from
// their Go types with its openapi3gen.
package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/native"
)

// Version is the OpenAPI version of the document.
const Version = "3.1.0"

// keyErrors are the codes the key middleware and the request guards give
// on every keyed route, before its handler runs: no or a bad key, a body
// or URL over the limits, the per-key rate limit.
var keyErrors = []apierror.Code{apierror.Unauthorized, apierror.PayloadTooLarge, apierror.URITooLong, apierror.TooManyRequests}

// retryAfter are the codes whose answers carry Retry-After.
var retryAfter = []apierror.Code{apierror.TooManyRequests, apierror.Unavailable}

// Security scheme names.
const (
	SchemeBearer = "bearer"
	SchemeQuery  = "apiKey"
	SchemeBasic  = "basic"
)

// Document builds the description of routes (native.Routes()).
func Document(routes []native.Route) (*openapi3.T, error) {
	doc := &openapi3.T{
		OpenAPI: Version,
		Info: &openapi3.Info{
			Title:   "chime-reports",
			Version: "1",
			Description: "Reports of a chat help desk (queues, agents, bots, chat sessions) as JSON, CSV or Excel workbooks. " +
				"Every route needs an API key, presented one of three ways. Times are ISO-8601; days and hours are local to `zone`. " +
				"Every error has one shape: `{\"error\":{\"code\":…,\"message\":…,\"target\":…}}`. " +
				"The same reports are also served as an OData v4 feed under `/odata/` (not described here).",
		},
		Servers: openapi3.Servers{{URL: "/", Description: "this server"}},
		Paths:   openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas:         openapi3.Schemas{},
			Responses:       openapi3.ResponseBodies{},
			SecuritySchemes: securitySchemes(),
		},
		Security: openapi3.SecurityRequirements{
			{SchemeBearer: []string{}}, {SchemeQuery: []string{}}, {SchemeBasic: []string{}},
		},
	}
	b := &builder{doc: doc, media: native.MediaTypes()}
	if err := b.shared(); err != nil {
		return nil, err
	}
	for _, r := range routes {
		if err := b.route(r); err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", r.Name, err)
		}
	}
	b.errors()
	b.tags(routes)
	return doc, nil
}

// JSON is the indented JSON of the description of native.Routes().
func JSON() ([]byte, error) {
	doc, err := Document(native.Routes())
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func securitySchemes() openapi3.SecuritySchemes {
	return openapi3.SecuritySchemes{
		SchemeBearer: {Value: &openapi3.SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "GUID",
			Description: "`Authorization: Bearer <key>`. The key is a GUID bound to one user; case and braces do not matter."}},
		SchemeQuery: {Value: &openapi3.SecurityScheme{Type: "apiKey", In: "query", Name: "api_key",
			Description: "`?api_key=<key>`, for clients that can only add a query parameter (Power BI's \"Web API\" credential). Never echoed into links, logs or the audit trail."}},
		SchemeBasic: {Value: &openapi3.SecurityScheme{Type: "http", Scheme: "basic",
			Description: "HTTP Basic with any user name and the key as the password (Excel and Power BI \"Basic\")."}},
	}
}

type builder struct {
	doc   *openapi3.T
	media map[string]string
	// codes are the error codes any operation answers with.
	codes []apierror.Code
}

func ref(kind, name string) string { return "#/components/" + kind + "/" + name }

func types(t ...string) *openapi3.Types { v := openapi3.Types(t); return &v }

func noMore() openapi3.AdditionalProperties {
	f := false
	return openapi3.AdditionalProperties{Has: &f}
}

// shared adds the schemas every route refers to.
func (b *builder) shared() error {
	s := b.doc.Components.Schemas
	s["Error"] = &openapi3.SchemaRef{Value: &openapi3.Schema{
		Type: types("object"), Required: []string{"error"}, AdditionalProperties: noMore(),
		Description: "The one error shape of every 4xx and 5xx answer.",
		Properties: openapi3.Schemas{"error": {Value: &openapi3.Schema{
			Type: types("object"), Required: []string{"code", "message"}, AdditionalProperties: noMore(),
			Properties: openapi3.Schemas{
				"code":    {Value: &openapi3.Schema{Type: types("string"), Description: "Stable, machine-readable: see the responses of each route."}},
				"message": {Value: &openapi3.Schema{Type: types("string"), Description: "For people; may change."}},
				"target":  {Value: &openapi3.Schema{Type: types("string"), Description: "The parameter at fault, when there is one."}},
				"details": {Value: &openapi3.Schema{Type: types("array"), Items: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types("string")}},
					Description: "For an unknown report: every valid name."}},
			},
		}}},
	}}
	for name, v := range map[string]any{"Column": export.ColumnInfo{}, "Queue": reports.QueueRef{}} {
		sr, err := reflectSchema(v)
		if err != nil {
			return err
		}
		s[name] = sr
	}
	return nil
}

// route adds the operation of one route.
func (b *builder) route(r native.Route) error {
	op := &openapi3.Operation{
		OperationID: r.Name,
		Summary:     r.Summary,
		Description: r.Description,
		Tags:        []string{tagOf(r)},
		Responses:   openapi3.NewResponses(),
	}
	if strings.Contains(r.Path, "{SessionID}") {
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: &openapi3.Parameter{
			Name: "SessionID", In: openapi3.ParameterInPath, Required: true, Description: "The session's id.",
			Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types("integer"), Format: "int64", Min: ptr(1.0)}},
		}})
	}
	for _, p := range r.Params {
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: parameter(p)})
	}
	ok, err := b.success(r)
	if err != nil {
		return err
	}
	op.Responses.Set("200", &openapi3.ResponseRef{Value: ok})
	for _, c := range slices.Concat(keyErrors, r.Errors) {
		status := strconv.Itoa((&apierror.Error{Code: c}).Status())
		if op.Responses.Value(status) != nil {
			return fmt.Errorf("two codes for status %s", status)
		}
		op.Responses.Set(status, &openapi3.ResponseRef{Ref: ref("responses", string(c))})
		if !slices.Contains(b.codes, c) {
			b.codes = append(b.codes, c)
		}
	}
	b.doc.Paths.Set(r.Path, &openapi3.PathItem{Get: op})
	return nil
}

func tagOf(r native.Route) string {
	if r.Category == "" {
		return "Sessions"
	}
	return string(r.Category)
}

func ptr[T any](v T) *T { return &v }

func parameter(p native.Param) *openapi3.Parameter {
	s := &openapi3.Schema{Type: types(p.Type)}
	switch p.Type {
	case "integer":
		s.Format, s.Min, s.Max = "int32", ptr(1.0), ptr(2147483647.0)
	}
	for _, e := range p.Enum {
		s.Enum = append(s.Enum, e)
	}
	out := &openapi3.Parameter{Name: p.Name, In: openapi3.ParameterInQuery, Description: p.Description, Required: p.Required, Schema: &openapi3.SchemaRef{Value: s}}
	if p.Example != "" {
		if p.Type == "integer" {
			n, _ := strconv.Atoi(p.Example)
			out.Example = n
		} else {
			out.Example = p.Example
		}
	}
	return out
}

// success is the 200 answer of a route in each of its representations.
func (b *builder) success(r native.Route) (*openapi3.Response, error) {
	var body *openapi3.SchemaRef
	switch {
	case r.Report != nil:
		body = b.reportSchemas(r.Report)
	case r.Body != nil:
		name := reflect.TypeOf(r.Body).Name()
		if name == "catalogBody" {
			name = "Catalog"
		}
		if _, done := b.doc.Components.Schemas[name]; !done {
			sr, err := reflectSchema(r.Body)
			if err != nil {
				return nil, err
			}
			b.doc.Components.Schemas[name] = sr
		}
		body = &openapi3.SchemaRef{Ref: ref("schemas", name)}
	default:
		return nil, fmt.Errorf("no body type")
	}
	content := openapi3.Content{}
	var said []string
	for _, f := range r.Formats {
		mt, ok := b.media[f]
		if !ok {
			return nil, fmt.Errorf("unknown format %q", f)
		}
		switch f {
		case "json":
			content[mt] = &openapi3.MediaType{Schema: body}
			said = append(said, "JSON (the default)")
		case "csv":
			content[mt] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types("string"),
				Description: "RFC 4180 CSV, UTF-8, CRLF, a header row of column names."}}}
			said = append(said, "CSV (`csv=true`, `format=csv` or `Accept: text/csv`)")
		case "xlsx":
			content[mt] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types("string"), ContentMediaType: mt,
				Description: "An Excel workbook: typed cells, frozen header, autofilter and an About sheet."}}}
			said = append(said, "an Excel workbook (`format=xlsx` or its `Accept` type)")
		}
	}
	resp := &openapi3.Response{Description: ptr(strings.Join(said, ", ")), Content: content}
	if slices.Contains(r.Formats, "csv") {
		resp.Headers = openapi3.Headers{"Content-Disposition": {Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: "Downloads (CSV, XLSX) are attachments named after what they hold.",
			Schema:      &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types("string")}}}}}}
	}
	return resp, nil
}

// columnSchema is the schema of one column's values. The engine's
// contract is that any value may be null (an empty bucket's ratio, a
// missing name), so every column is nullable.
func columnSchema(c reports.Column) (*openapi3.Schema, error) {
	s := &openapi3.Schema{Description: c.Description}
	if c.Unit != "" {
		s.Description = strings.TrimSuffix(s.Description, ".") + ". Unit: " + c.Unit + "."
	}
	switch c.Type {
	case reports.Int:
		s.Type, s.Format = types("integer", "null"), "int64"
	case reports.Seconds, reports.Pct, reports.Decimal:
		s.Type, s.Format = types("number", "null"), "double"
	case reports.String:
		s.Type = types("string", "null")
	case reports.Date:
		s.Type, s.Format = types("string", "null"), "date"
	case reports.DateTime:
		s.Type, s.Format = types("string", "null"), "date-time"
	default:
		return nil, fmt.Errorf("column %s: no schema for type %q", c.Name, c.Type)
	}
	return s, nil
}

// reportSchemas adds <Report>Row and <Report>Report (the JSON envelope)
// and returns a reference to the envelope.
func (b *builder) reportSchemas(r *reports.Report) *openapi3.SchemaRef {
	row := &openapi3.Schema{Type: types("object"), AdditionalProperties: noMore(), Properties: openapi3.Schemas{},
		Description: "One row of " + r.Name + " (grain: " + string(r.Grain) + ")."}
	for _, c := range r.Columns {
		s, err := columnSchema(c)
		if err != nil {
			panic(err) // a registry bug, caught by every test that builds the document
		}
		row.Properties[c.Name] = &openapi3.SchemaRef{Value: s}
		row.Required = append(row.Required, c.Name)
	}
	b.doc.Components.Schemas[r.Name+"Row"] = &openapi3.SchemaRef{Value: row}
	dt := func(d string) *openapi3.SchemaRef {
		return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types("string"), Format: "date-time", Description: d}}
	}
	env := &openapi3.Schema{
		Type: types("object"), AdditionalProperties: noMore(), Title: r.Title, Description: r.Description,
		Required: []string{"report", "start", "stop", "zone", "grain", "generatedAt", "columns", "rows", "truncated"},
		Properties: openapi3.Schemas{
			"report":      {Value: &openapi3.Schema{Type: types("string"), Const: r.Name}},
			"start":       dt("The window's start, local time with offset."),
			"stop":        dt("The window's end, local time with offset."),
			"zone":        {Value: &openapi3.Schema{Type: types("string"), Description: "The IANA zone of the window's days and hours."}},
			"grain":       {Value: &openapi3.Schema{Type: types("string"), Const: string(r.Grain), Description: "What one row stands for."}},
			"generatedAt": dt("When the answer was computed (UTC)."),
			"columns": {Value: &openapi3.Schema{Type: types("array"), Items: &openapi3.SchemaRef{Ref: ref("schemas", "Column")},
				Description: "The columns of the rows, in order, with their types, units and descriptions."}},
			"rows":      {Value: &openapi3.Schema{Type: types("array"), Items: &openapi3.SchemaRef{Ref: ref("schemas", r.Name+"Row")}}},
			"truncated": {Value: &openapi3.Schema{Type: types("boolean"), Const: false, Description: "Always false: nothing is ever cut."}},
		},
	}
	// The queue reported on: always there on a per-queue report; on a
	// global report only when queueId narrowed it to one queue.
	env.Properties["queue"] = &openapi3.SchemaRef{Ref: ref("schemas", "Queue")}
	if r.RequiresQueue() {
		env.Required = append(env.Required, "queue")
	}
	b.doc.Components.Schemas[r.Name+"Report"] = &openapi3.SchemaRef{Value: env}
	return &openapi3.SchemaRef{Ref: ref("schemas", r.Name+"Report")}
}

// errors adds one response component per error code in use.
func (b *builder) errors() {
	for _, c := range b.codes {
		e := &apierror.Error{Code: c}
		desc := fmt.Sprintf("%s: `%s`", http.StatusText(e.Status()), c)
		if text, ok := errorText[c]; ok {
			desc += " — " + text
		}
		resp := &openapi3.Response{Description: &desc, Headers: openapi3.Headers{}, Content: openapi3.Content{
			"application/json": {Schema: &openapi3.SchemaRef{Ref: ref("schemas", "Error")},
				Example: map[string]any{"error": map[string]any{"code": string(c), "message": text(c)}}},
		}}
		if slices.Contains(retryAfter, c) {
			resp.Headers["Retry-After"] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: "Seconds to wait before trying again.", Required: c == apierror.TooManyRequests,
				Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types("integer"), Min: ptr(0.0)}}}}}
		}
		if c == apierror.Unauthorized {
			resp.Headers["WWW-Authenticate"] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: "`Bearer realm=\"chime-reports\"`", Required: true,
				Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types("string")}}}}}
		}
		if len(resp.Headers) == 0 {
			resp.Headers = nil
		}
		b.doc.Components.Responses[string(c)] = &openapi3.ResponseRef{Value: resp}
	}
}

func text(c apierror.Code) string {
	if t, ok := errorText[c]; ok {
		return t
	}
	return string(c)
}

// errorText says when each code is given.
var errorText = map[apierror.Code]string{
	apierror.InvalidParameter: "malformed or contradictory input, an unknown or repeated parameter; `target` names the parameter",
	apierror.Unauthorized:     "no key, or a key that does not work (unknown, revoked, replaced, malformed, or of a deactivated user)",
	apierror.NotFound:         "the queue or session does not exist or is not yours (the two answer alike)",
	apierror.NotAcceptable:    "no representation the client accepts",
	apierror.PayloadTooLarge:  "the request body is over the limit",
	apierror.URITooLong:       "the URL is over the limit",
	apierror.TooManyRequests:  "this key sent more requests than its rate limit allows, or already has as many requests running as it may",
	apierror.Unavailable:      "the database is unreachable, the server already runs as many requests as it can, or too many workbook exports run at once",
	apierror.Timeout:          "the query ran out of time",
}

// tags names the operations' groups, in catalog order.
func (b *builder) tags(routes []native.Route) {
	seen := map[string]bool{}
	for _, r := range routes {
		t := tagOf(r)
		if seen[t] {
			continue
		}
		seen[t] = true
		desc := "One chat session."
		if r.Category != "" {
			desc = fmt.Sprintf("The %s reports and their catalog.", r.Category)
		}
		b.doc.Tags = append(b.doc.Tags, &openapi3.Tag{Name: t, Description: desc})
	}
}

// reflectSchema is the schema of v's JSON form: every field without
// omitempty is required, no other property is allowed, pointers are
// nullable (a JSON Schema type array with "null"), a json.RawMessage is
// any JSON value, and a string field named …At is a date-time.
func reflectSchema(v any) (*openapi3.SchemaRef, error) {
	sr, err := openapi3gen.NewSchemaRefForValue(v, nil, openapi3gen.SchemaCustomizer(customize))
	if err != nil {
		return nil, err
	}
	nullable(sr)
	return sr, nil
}

func customize(name string, t reflect.Type, tag reflect.StructTag, s *openapi3.Schema) error {
	if t.Kind() == reflect.String && (name == "at" || strings.HasSuffix(name, "At")) {
		s.Format = "date-time"
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	s.AdditionalProperties = noMore()
	s.Required = nil
	for i := range t.NumField() {
		f := t.Field(i)
		jt, ok := f.Tag.Lookup("json")
		if !ok || !f.IsExported() {
			continue
		}
		n, opts, _ := strings.Cut(jt, ",")
		if n == "-" || strings.Contains(opts, "omitempty") {
			continue
		}
		s.Required = append(s.Required, n)
	}
	if s.Type == nil {
		s.Type = types("object")
	}
	return nil
}

// nullable turns openapi3gen's 3.0 "nullable" into a 3.1 type array.
func nullable(sr *openapi3.SchemaRef) {
	if sr == nil || sr.Value == nil {
		return
	}
	s := sr.Value
	if s.Nullable {
		s.Nullable = false
		if s.Type != nil && !s.Type.Includes("null") {
			s.Type = types(append(append([]string{}, *s.Type...), "null")...)
		}
	}
	for _, p := range s.Properties {
		nullable(p)
	}
	nullable(s.Items)
}
