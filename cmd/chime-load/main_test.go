package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ks, err := readKeys(write("good", "# keys of the load run\nk1\n\n  k2  \r\nk3\n"))
	if err != nil || !slices.Equal(ks, []string{"k1", "k2", "k3"}) {
		t.Errorf("keys %q, %v", ks, err)
	}
	for name, text := range map[string]string{"empty": "# nothing\n\n", "space": "k1\nk 2\n"} {
		if ks, err := readKeys(write(name, text)); err == nil {
			t.Errorf("%s: accepted %q", name, ks)
		}
	}
	// --keys-file goes alone.
	var out bytes.Buffer
	code, err := run(context.Background(), []string{"--keys-file", filepath.Join(dir, "good"), "--key", "x"}, &out, func(string) string { return "" })
	if code != 2 || err == nil || !strings.Contains(err.Error(), "--keys-file") {
		t.Errorf("--keys-file with --key: code %d, %v", code, err)
	}
}
