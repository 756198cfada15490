package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/native/openapi/chimeclient"
)

func init() {
	// Downloads are validated as strings of their media type.
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.FileBodyDecoder)
	openapi3filter.RegisterBodyDecoder(export.XLSXMediaType, openapi3filter.FileBodyDecoder)
}

// validator checks every answer a client receives against the served
// description: its status must be documented for the route and its body
// and headers must match the schema.
type validator struct {
	doc    *openapi3.T
	routes []docRoute
	mu     sync.Mutex
	errs   []string
	seen   int
}

type docRoute struct {
	re   *regexp.Regexp
	path string
	item *openapi3.PathItem
}

func newValidator(t *testing.T, url string) *validator {
	t.Helper()
	resp, err := http.Get(url + "/Chime/openapi.json") // no key: the description is public
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /Chime/openapi.json: %d %s", resp.StatusCode, b)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("kin-openapi finds the served description invalid: %v", err)
	}
	v := &validator{doc: doc}
	for path, item := range doc.Paths.Map() {
		re := regexp.MustCompile(`^` + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + `$`)
		v.routes = append(v.routes, docRoute{re, path, item})
	}
	return v
}

func (v *validator) fail(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

// RoundTrip validates the answer, then hands it on unread.
func (v *validator) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var route *docRoute
	for i := range v.routes {
		if v.routes[i].re.MatchString(req.URL.Path) {
			route = &v.routes[i]
		}
	}
	if route == nil {
		v.fail("%s: no route of the description", req.URL.Path)
		return resp, nil
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req,
		Route:   &routers.Route{Spec: v.doc, Path: route.path, PathItem: route.item, Method: http.MethodGet, Operation: route.item.Get},
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: in.Options,
	}); err != nil {
		v.fail("%s %s → %d: the answer does not match the description: %v\n%.400s", req.Method, req.URL, resp.StatusCode, err, body)
	}
	v.mu.Lock()
	v.seen++
	v.mu.Unlock()
	return resp, nil
}

// callOp invokes the generated client's <operationId>WithResponse with the
// named parameters set on its Params struct, and returns the response
// struct (Body, HTTPResponse, JSON200, JSON400, …).
func callOp(t *testing.T, c *chimeclient.ClientWithResponses, opID string, sessionID int64, set map[string]any, editors ...chimeclient.RequestEditorFn) reflect.Value {
	t.Helper()
	m := reflect.ValueOf(c).MethodByName(opID + "WithResponse")
	if !m.IsValid() {
		t.Fatalf("the generated client has no %sWithResponse", opID)
	}
	mt := m.Type()
	args := []reflect.Value{reflect.ValueOf(context.Background())}
	if opID == "SessionDetails" {
		args = append(args, reflect.ValueOf(sessionID))
	}
	if len(args) < mt.NumIn()-1 { // a Params struct before the request editors
		p := reflect.New(mt.In(len(args)).Elem())
		for name, val := range set {
			f := p.Elem().FieldByName(name)
			if !f.IsValid() {
				continue // not a parameter of this route
			}
			ft := f.Type()
			target := f
			if ft.Kind() == reflect.Pointer {
				ptr := reflect.New(ft.Elem())
				f.Set(ptr)
				target = ptr.Elem()
			}
			switch x := val.(type) {
			case string:
				target.SetString(x)
			case int:
				target.SetInt(int64(x))
			case bool:
				target.SetBool(x)
			}
		}
		args = append(args, p)
	}
	for _, e := range editors {
		args = append(args, reflect.ValueOf(e))
	}
	out := m.Call(args)
	if err, _ := out[1].Interface().(error); err != nil {
		t.Fatalf("%s: %v", opID, err)
	}
	return out[0].Elem()
}

func status(r reflect.Value) int {
	return r.FieldByName("HTTPResponse").Interface().(*http.Response).StatusCode
}

// decoded says whether the client decoded the JSON answer of status.
func decoded(r reflect.Value, status int) bool {
	f := r.FieldByName(fmt.Sprintf("JSON%d", status))
	return f.IsValid() && !f.IsNil()
}

// TestGeneratedClient calls every route of the description with the
// client oapi-codegen generated from it (docs/api/openapi.json), as an
// admin and as a manager, in every representation, and with the errors a
// caller meets; every answer must be one the description documents,
// match its schema and be decoded by the client.
func TestGeneratedClient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		v := newValidator(t, e.srv.URL)
		var ops []string
		queueID := map[string]bool{} // operations with a queueId parameter
		for _, path := range v.doc.Paths.InMatchingOrder() {
			op := v.doc.Paths.Value(path).Get
			ops = append(ops, op.OperationID)
			queueID[op.OperationID] = op.Parameters.GetByInAndName("query", "queueId") != nil
		}
		window := map[string]any{"Start": "2024-10-26", "Stop": "2024-11-04", "Zone": "America/New_York", "QueueId": 1}
		anon, err := chimeclient.NewClientWithResponses(e.srv.URL, chimeclient.WithHTTPClient(&http.Client{Transport: v}))
		if err != nil {
			t.Fatal(err)
		}
		for _, user := range []uint{golden.Admin, golden.Alice} {
			key := e.key[user]
			c, err := chimeclient.NewClientWithResponses(e.srv.URL, chimeclient.WithHTTPClient(&http.Client{Transport: v}),
				chimeclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
					r.Header.Set("Authorization", "Bearer "+key)
					return nil
				}))
			if err != nil {
				t.Fatal(err)
			}
			sessions := map[string]int{}
			for _, op := range ops {
				if op == "SessionDetails" {
					for id := int64(1); id <= 30; id++ {
						r := callOp(t, c, op, id, map[string]any{"Zone": "Europe/London"})
						switch s := status(r); {
						case s == 200 && decoded(r, 200):
							sessions["ok"]++
							d := r.FieldByName("JSON200").Interface().(*chimeclient.SessionDetails)
							if d.Bot != nil {
								sessions["bot"]++
							}
							if d.Rating != nil {
								sessions["rated"]++
							}
							if len(d.Transfers) > 0 {
								sessions["transfers"]++
							}
						case s == 404 && decoded(r, 404):
						default:
							t.Errorf("user %d: SessionDetails/%d: %d, not decoded", user, id, s)
						}
					}
					if r := callOp(t, c, op, 1, map[string]any{"Csv": true}); status(r) != 200 || !strings.HasPrefix(string(r.FieldByName("Body").Bytes()), "Seq,SentAt") {
						t.Errorf("user %d: SessionDetails as CSV: %d", user, status(r))
					}
					continue
				}
				r := callOp(t, c, op, 0, window)
				if s := status(r); s != 200 || !decoded(r, 200) {
					t.Errorf("user %d: %s: %d %s", user, op, s, r.FieldByName("Body").Bytes())
					continue
				}
				if strings.HasPrefix(op, "Get") { // a catalog
					continue
				}
				for _, f := range []string{"csv", "xlsx"} {
					r := callOp(t, c, op, 0, merge(window, map[string]any{"Format": f}))
					if s := status(r); s != 200 || len(r.FieldByName("Body").Bytes()) == 0 {
						t.Errorf("user %d: %s as %s: %d", user, op, f, s)
					}
				}
				// The errors of a report route, each decoded in the error shape.
				for _, x := range []struct {
					set    map[string]any
					accept string
					want   int
				}{
					{merge(window, map[string]any{"Zone": "Nowhere/Zone"}), "", 400},
					{window, "image/png", 406},
				} {
					var ed []chimeclient.RequestEditorFn
					if x.accept != "" {
						ed = append(ed, func(_ context.Context, r *http.Request) error { r.Header.Set("Accept", x.accept); return nil })
					}
					if r := callOp(t, c, op, 0, x.set, ed...); status(r) != x.want || !decoded(r, x.want) {
						t.Errorf("user %d: %s: %d, want a decoded %d", user, op, status(r), x.want)
					}
				}
				if user == golden.Alice && queueID[op] { // queue 3 is bob's: not found, like a queue that does not exist
					if r := callOp(t, c, op, 0, merge(window, map[string]any{"QueueId": 3})); status(r) != 404 || !decoded(r, 404) {
						t.Errorf("alice: %s for queue 3: %d", op, status(r))
					}
				}
			}
			if sessions["ok"] == 0 || sessions["bot"] == 0 || sessions["rated"] == 0 || sessions["transfers"] == 0 {
				t.Errorf("user %d: the sessions read do not cover the shape: %v", user, sessions)
			}
		}
		for _, op := range ops { // no key: 401 on every route
			if r := callOp(t, anon, op, 1, window); status(r) != 401 || !decoded(r, 401) {
				t.Errorf("no key: %s: %d", op, status(r))
			}
		}
		if len(v.errs) > 0 {
			t.Errorf("%d of %d answers do not match the description:\n%s", len(v.errs), v.seen, strings.Join(v.errs[:min(len(v.errs), 20)], "\n"))
		}
		if len(ops) < 40 || v.seen < 10*len(ops) {
			t.Errorf("%d routes, %d answers checked", len(ops), v.seen)
		}
	})
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
