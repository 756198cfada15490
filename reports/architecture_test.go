package reports_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestArchitecture enforces the one-way data flow of shared/DESIGN.md §2 and
// shared/STYLE.md: no HTTP in the engine or the writers, no upward imports,
// a package comment everywhere.
func TestArchitecture(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not available")
	}
	out, err := exec.Command("go", "list", "-json", "github.com/chime-reports/chime-reports/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/chime-reports/chime-reports/"
	forbidden := map[string][]string{
		"reports":          {"github.com/gin-gonic/gin", "net/http", mod + "keys", mod + "reports/native", mod + "odata"},
		"reports/export":   {"github.com/gin-gonic/gin", "net/http", "gorm.io/gorm", mod + "keys"},
		"reports/apierror": {"github.com/gin-gonic/gin", "gorm.io/gorm", mod + "models"},
		"models":           {"github.com/gin-gonic/gin", "net/http", mod + "keys", mod + "reports", mod + "fixtures"},
		"keys":             {mod + "reports", mod + "reports/native", mod + "fixtures"},
		"fixtures":         {"github.com/gin-gonic/gin", "net/http", mod + "reports", mod + "keys"},
		"fixtures/golden":  {"github.com/gin-gonic/gin", "net/http", mod + "reports", mod + "keys", mod + "fixtures"},
		"odata":            {"github.com/gin-gonic/gin", "gorm.io/gorm"},
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath string
			Name       string
			Doc        string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		rel := strings.TrimPrefix(p.ImportPath, mod)
		if p.Doc == "" {
			t.Errorf("%s has no package comment (doc.go)", rel)
		}
		for _, imp := range p.Imports {
			for _, bad := range forbidden[rel] {
				if imp == bad {
					t.Errorf("%s imports %s", rel, bad)
				}
			}
		}
	}
	if seen < 6 {
		t.Fatalf("go list saw only %d packages", seen)
	}
}
