package reports_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The dependency rules of docs/architecture.md. Data flows one way —
// request → auth (keys) → parse into a query (reports/native, odata) →
// engine (reports, reports/query) through GORM → typed table → writer
// (reports/export) — so imports point down that flow and never back.
//
// A rule applies to the packages its pattern names: "p" is the package p,
// "p/..." is p and every package below it. An import is forbidden when it
// equals a Deny entry or lies below it, unless it equals or lies below an
// Allow entry. Every package of the module must be named by some rule, so
// a new package forces a decision about where it sits.

const mod = "github.com/chime-reports/chime-reports"

type rule struct {
	Pattern string
	Why     string
	Deny    []string
	Allow   []string
	// Require lists imports the package must have (what it is for).
	Require []string
}

const (
	depGin      = "github.com/gin-gonic/gin"
	depGorm     = "gorm.io"
	depDriver   = "github.com/go-sql-driver/mysql"
	depExcelize = "github.com/xuri/excelize"
	depHTTP     = "net/http"
)

var rules = []rule{
	{Pattern: "reports", Why: "the engine knows nothing of HTTP, OData, keys or the surfaces above it",
		Deny: []string{depGin, depHTTP, mod + "/odata", mod + "/keys", mod + "/cmd", mod + "/reports/native", mod + "/reports/query",
			mod + "/reports/details", mod + "/reports/export"}},
	{Pattern: "reports/query", Why: "the set engine speaks no HTTP and no OData",
		Deny: []string{depGin, depHTTP, mod + "/odata", mod + "/keys", mod + "/cmd", mod + "/reports/native"}},
	{Pattern: "reports/details", Why: "a record loader beside the engine: no HTTP",
		Deny: []string{depGin, depHTTP, mod + "/odata", mod + "/keys", mod + "/cmd", mod + "/reports/native", mod + "/reports/query"}},
	{Pattern: "reports/textindex", Why: "a store below the engine",
		Deny: []string{depGin, depHTTP, mod + "/odata", mod + "/keys", mod + "/cmd", mod + "/reports"}},
	{Pattern: "reports/civil", Why: "wall-clock arithmetic is a leaf the engine and the store share",
		Deny: []string{mod, depGorm, depDriver, depGin, depHTTP}},
	{Pattern: "reports/store", Why: "the interval store sits below the engine, which reads it: it knows tables, not reports",
		Deny:  []string{depGin, depHTTP, mod + "/odata", mod + "/keys", mod + "/cmd", mod + "/reports"},
		Allow: []string{mod + "/reports/civil"}},
	{Pattern: "reports/httpcache", Why: "an HTTP helper of the surfaces: it knows no report",
		Deny: []string{depGin, depGorm, mod}},
	{Pattern: "reports/apierror", Why: "the error shape is a leaf every layer may use",
		Deny: []string{mod, depGorm, depDriver, depGin}},
	{Pattern: "reports/export/cell", Why: "cell neutralisation is a leaf: writing a CSV must not pull in the engine",
		Deny: []string{mod, depGorm, depDriver, depGin, depExcelize}},
	{Pattern: "reports/export/...", Why: "writers know column types, never a request, the database or a report",
		Deny: []string{depGin, depHTTP, depGorm, mod + "/keys", mod + "/odata", mod + "/cmd", mod + "/reports/native", mod + "/reports/query"}},
	{Pattern: "reports/native", Why: "a surface on the engine",
		Deny: []string{depGorm, mod + "/odata", mod + "/cmd", mod + "/reports/query"}},
	{Pattern: "reports/native/openapi", Why: "the API description is derived from the native routes and the registry; it reads no data",
		Deny: []string{depGorm, mod + "/odata", mod + "/cmd", mod + "/keys", mod + "/reports/query", mod + "/reports/store"}},
	{Pattern: "reports/native/openapi/chimeclient", Why: "the generated client speaks HTTP only: it must not reach into the server",
		Deny: []string{mod, depGorm, depGin}},
	{Pattern: "odata/...", Why: "the feed sits on the engine and never touches the database",
		Deny: []string{depGorm, depDriver, depGin, mod + "/cmd", mod + "/reports/native", mod + "/models"}},
	{Pattern: "keys/...", Why: "authentication sits below the reports: of them it uses only the leaves",
		Deny:  []string{mod + "/reports", mod + "/odata", mod + "/cmd", mod + "/fixtures", depExcelize},
		Allow: []string{mod + "/reports/apierror", mod + "/reports/export/cell"}},
	{Pattern: "models/...", Why: "storage is the bottom layer: of the module it uses only the error-shape leaf",
		Deny: []string{mod, depGin, depHTTP}, Allow: []string{mod + "/models", mod + "/reports/apierror"}},
	{Pattern: "fixtures/...", Why: "the data generator writes models; it knows no report, key or surface",
		Deny:  []string{depGin, depHTTP, mod + "/reports", mod + "/keys", mod + "/odata", mod + "/cmd"},
		Allow: []string{mod + "/reports/textindex"}},
	{Pattern: "cmd/chime-reports", Why: "main keeps flags, environment and wiring; HTTP lives in cmd/chime-reports/server",
		Deny: []string{depGin, depHTTP}},
	{Pattern: "cmd/chime-reports/server", Why: "the middleware and the http.Server",
		Require: []string{depGin, "github.com/prometheus/client_golang/prometheus"}},
	{Pattern: "cmd/...", Why: "commands wire the packages"},
}

// global applies to every package outside cmd: nothing imports a command.
var global = rule{Pattern: "...", Why: "nothing outside cmd imports a command", Deny: []string{mod + "/cmd"}}

func matches(pattern, rel string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == p || strings.HasPrefix(rel, p+"/")
	}
	return rel == pattern
}

func under(imp, prefix string) bool { return imp == prefix || strings.HasPrefix(imp, prefix+"/") }

// violations lists the broken rules of one package (rel is its path in the
// module) with its non-test imports.
func violations(rel string, imports []string) []string {
	var out []string
	matched := false
	check := func(r rule) {
		for _, imp := range imports {
			bad := slices.ContainsFunc(r.Deny, func(d string) bool { return under(imp, d) })
			if bad && !slices.ContainsFunc(r.Allow, func(a string) bool { return under(imp, a) }) {
				out = append(out, rel+" imports "+imp+" ("+r.Pattern+": "+r.Why+")")
			}
		}
		for _, req := range r.Require {
			if !slices.Contains(imports, req) {
				out = append(out, rel+" does not import "+req+" ("+r.Pattern+": "+r.Why+")")
			}
		}
	}
	for _, r := range rules {
		if matches(r.Pattern, rel) {
			matched = true
			check(r)
		}
	}
	if !matches("cmd/...", rel) {
		check(global)
	}
	if !matched {
		out = append(out, rel+" is named by no rule of the architecture test: decide where it sits")
	}
	return out
}

// TestArchitecture enforces the rules on every package of the module and
// requires a package comment (doc.go) everywhere.
func TestArchitecture(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not available")
	}
	out, err := exec.Command("go", "list", "-json", mod+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath string
			Doc        string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		if p.Doc == "" {
			t.Errorf("%s has no package comment (doc.go)", rel)
		}
		for _, v := range violations(rel, p.Imports) {
			t.Error(v)
		}
	}
	if seen < 20 {
		t.Fatalf("go list saw only %d packages", seen)
	}
}

// TestArchitectureRulesBite breaks each rule once on paper: every case is
// a package with one import the rules must refuse (or without one they
// require), and the checker must report it.
func TestArchitectureRulesBite(t *testing.T) {
	for _, c := range []struct {
		pkg     string
		imports []string
	}{
		{"reports", []string{depGin}},
		{"reports", []string{depHTTP}},
		{"reports", []string{mod + "/odata"}},
		{"reports", []string{mod + "/keys"}},
		{"reports", []string{mod + "/reports/query"}},
		{"reports/query", []string{"github.com/gin-gonic/gin/binding"}},
		{"reports/query", []string{depHTTP}},
		{"reports/query", []string{mod + "/odata"}},
		{"reports/query", []string{mod + "/keys"}},
		{"reports/details", []string{depHTTP}},
		{"odata", []string{"gorm.io/gorm"}},
		{"odata/filter", []string{"gorm.io/gorm/clause"}},
		{"reports/apierror", []string{depDriver}},
		{"reports/apierror", []string{mod + "/models"}},
		{"reports/export/cell", []string{mod + "/reports"}},
		{"reports/export/cell", []string{depDriver}},
		{"keys", []string{mod + "/reports"}},
		{"keys", []string{mod + "/reports/native"}},
		{"keys/admin", []string{mod + "/reports/export"}},
		{"keys/admin", []string{"github.com/xuri/excelize/v2"}},
		{"models", []string{mod + "/reports"}},
		{"models", []string{mod + "/keys"}},
		{"models/dbtest", []string{mod + "/fixtures"}},
		{"fixtures/golden", []string{mod + "/reports"}},
		{"cmd/chime-reports", []string{depGin}},
		{"cmd/chime-reports/server", []string{"github.com/prometheus/client_golang/prometheus"}}, // no gin: no middleware
		{"reports/export", []string{mod + "/cmd/chime-reports/server"}},
		{"newpackage", nil},
	} {
		if v := violations(c.pkg, c.imports); len(v) == 0 {
			t.Errorf("%s importing %v passes the rules", c.pkg, c.imports)
		}
	}
	// And the allowed leaves stay allowed.
	for _, c := range []struct {
		pkg     string
		imports []string
	}{
		{"keys", []string{mod + "/reports/apierror", mod + "/models"}},
		{"keys/admin", []string{mod + "/reports/export/cell", mod + "/keys"}},
		{"models", []string{mod + "/reports/apierror", depDriver}},
		{"cmd/chime-reports/server", []string{depGin, "github.com/prometheus/client_golang/prometheus", mod + "/odata"}},
	} {
		if v := violations(c.pkg, c.imports); len(v) != 0 {
			t.Errorf("%s importing %v: %v", c.pkg, c.imports, v)
		}
	}
}
