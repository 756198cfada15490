package xlsxtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

var formulaAttr = regexp.MustCompile(`table:formula="([^"]*)"`)

// CSVFormulas opens csv in LibreOffice as a user would, splitting lines on
// sep (',', ';' or '\t'), with double quotes as text delimiters, UTF-8 and
// formulas evaluated, and returns the formula of every cell it made a
// formula cell (none for a safe file).
func CSVFormulas(t testing.TB, csv []byte, sep byte) []string {
	t.Helper()
	soffice := Soffice(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, csv, 0o644); err != nil {
		t.Fatal(err)
	}
	// Tokens: separator, text delimiter ("), UTF-8, first line 1, default
	// column formats, en-US, quoted fields not forced to text, special
	// numbers detected, …, evaluate formulas (token 13).
	filter := "CSV:" + strconv.Itoa(int(sep)) + ",34,76,1,,1033,false,true,false,false,false,-1,true"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, soffice, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless", "--norestore",
		"--infilter="+filter, "--convert-to", "fods", "--outdir", dir, in)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, log)
	}
	b, err := os.ReadFile(filepath.Join(dir, "in.fods"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range formulaAttr.FindAllSubmatch(b, -1) {
		out = append(out, string(m[1]))
	}
	return out
}
