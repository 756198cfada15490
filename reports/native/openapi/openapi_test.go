package openapi_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/native/openapi"
)

var update = flag.Bool("update", false, "rewrite docs/api/openapi.json")

// committed is the copy of the description in docs/, which the generated
// client is built from.
const committed = "../../../docs/api/openapi.json"

// doc is the description as plain JSON, read the way any client reads it.
type doc struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas         map[string]schema          `json:"schemas"`
		Responses       map[string]json.RawMessage `json:"responses"`
		SecuritySchemes map[string]map[string]any  `json:"securitySchemes"`
	} `json:"components"`
	Security []map[string][]string `json:"security"`
	OpenAPI  string                `json:"openapi"`
}

type operation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
		Schema   schema `json:"schema"`
	} `json:"parameters"`
	Responses map[string]struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Schema schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

type schema struct {
	Ref                  string            `json:"$ref"`
	Type                 any               `json:"type"`
	Format               string            `json:"format"`
	Description          string            `json:"description"`
	Const                any               `json:"const"`
	Enum                 []string          `json:"enum"`
	Required             []string          `json:"required"`
	Properties           map[string]schema `json:"properties"`
	AdditionalProperties *bool             `json:"additionalProperties"`
	Items                *schema           `json:"items"`
}

func load(t *testing.T) (doc, []byte) {
	t.Helper()
	b, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d, b
}

// TestDocumentMatchesRegistry checks the description against the
// registry itself (not the generator's route list): every report and
// catalog route, each column with its type, nullability, format and
// description, the parameters, the error answers, and nothing else.
func TestDocumentMatchesRegistry(t *testing.T) {
	d, _ := load(t)
	if d.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", d.OpenAPI)
	}
	want := map[string]bool{"/Chime/Session/SessionDetails/{SessionID}": true}
	for _, c := range reports.Categories {
		want["/Chime/Report/"+c.Route] = true
		op := d.Paths["/Chime/Report/"+c.Route]["get"]
		if op.OperationID != c.Route {
			t.Errorf("catalog %s: operation %+v", c.Route, op)
		}
		if got := op.Responses["200"].Content["application/json"].Schema.Ref; got != "#/components/schemas/Catalog" {
			t.Errorf("catalog %s: 200 is %q", c.Route, got)
		}
	}
	formats := map[reports.ColumnType][2]string{
		reports.Int: {"integer", "int64"}, reports.Seconds: {"number", "double"}, reports.Pct: {"number", "double"}, reports.Decimal: {"number", "double"},
		reports.String: {"string", ""}, reports.Date: {"string", "date"}, reports.DateTime: {"string", "date-time"},
	}
	for _, r := range reports.All() {
		path := "/Chime/Report/" + r.Name
		want[path] = true
		op, ok := d.Paths[path]["get"]
		if !ok {
			t.Errorf("%s: no GET %s", r.Name, path)
			continue
		}
		var params []string
		for _, p := range op.Parameters {
			params = append(params, p.Name)
			if p.Name == "queueId" && p.Required != r.RequiresQueue() {
				t.Errorf("%s: queueId required = %v, want %v", r.Name, p.Required, r.RequiresQueue())
			}
		}
		// Every route takes the shared parameters; queueId is required
		// only where the report needs a queue; time series take interval.
		wantParams := []string{"start", "stop", "zone", "queueId", "csv", "format", "bom"}
		if r.TakesInterval() {
			wantParams = append(wantParams, "interval")
		}
		sort.Strings(params)
		sort.Strings(wantParams)
		if !slices.Equal(params, wantParams) {
			t.Errorf("%s: parameters %v, want %v", r.Name, params, wantParams)
		}
		content := op.Responses["200"].Content
		for _, mt := range []string{"application/json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} {
			if _, ok := content[mt]; !ok {
				t.Errorf("%s: no %s answer", r.Name, mt)
			}
		}
		env := d.Components.Schemas[strings.TrimPrefix(content["application/json"].Schema.Ref, "#/components/schemas/")]
		if env.Properties["report"].Const != r.Name || env.Properties["grain"].Const != string(r.Grain) {
			t.Errorf("%s: envelope %+v", r.Name, env.Properties["report"])
		}
		if _, has := env.Properties["queue"]; !has || slices.Contains(env.Required, "queue") != r.RequiresQueue() {
			t.Errorf("%s: queue in envelope: %v, required %v", r.Name, has, env.Required)
		}
		row := d.Components.Schemas[strings.TrimPrefix(env.Properties["rows"].Items.Ref, "#/components/schemas/")]
		var names []string
		for _, c := range r.Columns {
			names = append(names, c.Name)
			s, ok := row.Properties[c.Name]
			if !ok {
				t.Errorf("%s.%s: not in the row schema", r.Name, c.Name)
				continue
			}
			f := formats[c.Type]
			if typ, _ := s.Type.([]any); len(typ) != 2 || typ[0] != f[0] || typ[1] != "null" || s.Format != f[1] {
				t.Errorf("%s.%s (%s): schema type %v format %q", r.Name, c.Name, c.Type, s.Type, s.Format)
			}
			if !strings.HasPrefix(s.Description, c.Description) || c.Description == "" {
				t.Errorf("%s.%s: description %q, registry %q", r.Name, c.Name, s.Description, c.Description)
			}
		}
		if len(row.Properties) != len(r.Columns) || !slices.Equal(row.Required, names) || row.AdditionalProperties == nil || *row.AdditionalProperties {
			t.Errorf("%s: row schema has %d properties, required %v, want exactly %v", r.Name, len(row.Properties), row.Required, names)
		}
		for status, code := range map[string]string{"400": "InvalidParameter", "401": "Unauthorized", "404": "NotFound",
			"406": "NotAcceptable", "429": "TooManyRequests", "503": "ServiceUnavailable", "504": "Timeout"} {
			if got := op.Responses[status].Ref; got != "#/components/responses/"+code {
				t.Errorf("%s: %s answer is %q", r.Name, status, got)
			}
		}
	}
	for p := range d.Paths {
		if !want[p] {
			t.Errorf("path %s is not in the registry", p)
		}
	}
	if len(d.Paths) != len(want) {
		t.Errorf("%d paths, want %d", len(d.Paths), len(want))
	}
	for _, code := range []string{"TooManyRequests", "ServiceUnavailable"} {
		if !bytes.Contains(d.Components.Responses[code], []byte(`"Retry-After"`)) {
			t.Errorf("%s has no Retry-After", code)
		}
	}
	if len(d.Components.SecuritySchemes) != 3 || len(d.Security) != 3 {
		t.Errorf("security schemes %v, requirements %v", d.Components.SecuritySchemes, d.Security)
	}
	sd := d.Components.Schemas["SessionDetails"]
	for _, f := range []string{"sessionId", "queue", "timestamps", "metrics", "agents", "offers", "bot", "transfers", "rating", "events", "transcript"} {
		if !slices.Contains(sd.Required, f) {
			t.Errorf("SessionDetails: %s is not a required property", f)
		}
	}
}

// TestCommittedDocument fails when docs/api/openapi.json, from which the
// client is generated, is not the served description.
func TestCommittedDocument(t *testing.T) {
	_, b := load(t)
	if *update {
		if err := os.WriteFile(committed, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, b) {
		t.Fatal("docs/api/openapi.json is stale: run go test ./reports/native/openapi -run TestCommittedDocument -update, then go generate ./reports/native/openapi/...")
	}
}

// tools are the validators .ci/install-node-tools installs.
const tools = "../../../.ci/openapi-tools"

// TestValidators checks the description with two independent validators:
// Redocly CLI's strict lint and the OpenAPI 3.1 JSON Schema validator of
// @seriousme/openapi-schema-validator.
func TestValidators(t *testing.T) {
	bin := filepath.Join(tools, "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(bin, "redocly")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the OpenAPI validators are missing: run .ci/install-node-tools first")
		}
		t.Skip("the OpenAPI validators are not installed: run .ci/install-node-tools to check the description with them")
	}
	_, b := load(t)
	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
		return string(out)
	}
	if out := run("redocly", "lint", "--config", filepath.Join(tools, "redocly.yaml"), file); !strings.Contains(out, "Your API description is valid") || strings.Contains(out, "You have") {
		t.Errorf("redocly lint:\n%s", out)
	}
	if out := run("validate-api", file); !strings.Contains(out, `"valid": true`) {
		t.Errorf("validate-api:\n%s", out)
	}
}

// TestEmbeddedAssets checks the embedded Swagger UI files against the
// checksums .ci/fetch-swagger-ui wrote for the pinned release.
func TestEmbeddedAssets(t *testing.T) {
	f, err := os.Open("ui/dist/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); n++ {
		sum, name, _ := strings.Cut(s.Text(), "  ")
		b, err := os.ReadFile(filepath.Join("ui/dist", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("ui/dist/%s does not match SHA256SUMS: run .ci/fetch-swagger-ui", name)
		}
	}
	if n < 2 {
		t.Fatalf("SHA256SUMS lists %d files", n)
	}
}

// TestGeneratedClient fails when the committed client (chimeclient) is
// not what oapi-codegen, the go.mod tool, makes from docs/api/openapi.json.
func TestGeneratedClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds oapi-codegen")
	}
	// The committed configuration, writing elsewhere.
	cfg, err := os.ReadFile("chimeclient/oapi-codegen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "client.gen.go")
	cfg = bytes.Replace(cfg, []byte("\noutput: client.gen.go\n"), []byte("\noutput: "+out+"\n"), 1)
	if err := os.WriteFile(filepath.Join(dir, "cfg.yaml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", filepath.Join(dir, "cfg.yaml"), "../../../../docs/api/openapi.json")
	cmd.Dir = "chimeclient"
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("chimeclient/client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Fatal("chimeclient/client.gen.go is stale: run go generate ./reports/native/openapi/...")
	}
}
