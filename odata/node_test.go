package odata_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
)

// nodeTool finds node and the installed packages of a .ci/ check; outside
// CI a missing tool skips the test, in CI (CI=true) it fails it.
func nodeTool(t *testing.T, dir string) (node, script string) {
	t.Helper()
	root, _ := filepath.Abs(filepath.Join("..", ".ci", dir))
	missing := func(what string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing in CI: run .ci/install-node-tools", what)
		}
		t.Skipf("%s is missing (run .ci/install-node-tools)", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node")
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules")); err != nil {
		missing(filepath.Join(".ci", dir, "node_modules"))
	}
	return node, root
}

// TestThirdPartyODataClient: the npm package @odata/client reads the
// service document, $metadata and a paged entity set of a running feed.
func TestThirdPartyODataClient(t *testing.T) {
	node, dir := nodeTool(t, "odata-client")
	e := newEnv(t, dbtest.SQLite(t), odata.Options{})
	cmd := exec.Command(node, filepath.Join(dir, "client.js"), e.srv.URL+"/odata/", e.key[golden.Alice])
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("client.js: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	var got struct{ Sets, Count, Rows, Distinct, Pages int }
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("client.js printed %q: %v", stdout.String(), err)
	}
	want := oracleSessionIDs(t, dbtestBackend(e), "2024-10-01T00:00:00Z", "9999-01-01T00:00:00Z", []uint32{1, 2})
	if got.Rows != len(want) || got.Count != len(want) || got.Distinct != len(want) || got.Pages < 2 {
		t.Errorf("the client saw %+v, want %d rows", got, len(want))
	}
}

func dbtestBackend(e *env) dbtest.Backend { return e.b }

// TestPowerBIDocSnippets: every M snippet of docs/powerbi.md parses with
// Microsoft's Power Query parser.
func TestPowerBIDocSnippets(t *testing.T) {
	node, dir := nodeTool(t, "m-syntax")
	doc, _ := filepath.Abs(filepath.Join("..", "docs", "powerbi.md"))
	out, err := exec.Command(node, filepath.Join(dir, "check.js"), doc).CombinedOutput()
	if err != nil {
		t.Fatalf("check.js: %v\n%s", err, out)
	}
	var got struct{ Snippets int }
	if err := json.Unmarshal(out, &got); err != nil || got.Snippets < 5 {
		t.Fatalf("check.js printed %q (%v); the doc needs at least 5 snippets", out, err)
	}
}
