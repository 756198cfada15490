package reports_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/chime-reports/chime-reports/reports"
)

var update = flag.Bool("update", false, "rewrite generated files")

// TestDocs fails when docs/reports.md no longer matches the registry.
func TestDocs(t *testing.T) {
	var b bytes.Buffer
	if err := reports.WriteDocs(&b); err != nil {
		t.Fatal(err)
	}
	const path = "../docs/reports.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		t.Fatal("docs/reports.md is stale: run go test ./reports -run TestDocs -update")
	}
}
