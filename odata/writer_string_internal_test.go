package odata

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
)

// TestWriteStringMatchesEncoder: the unescaped fast path writes what the
// JSON encoder (HTML escaping off) writes, for plain and awkward strings.
func TestWriteStringMatchesEncoder(t *testing.T) {
	for _, s := range []string{"", "plain text 123", `quote " here`, `back\slash`, "tab\tnew\nline", "\x00\x1f\x7f",
		"<a href='x'>&</a>", "café ☕", "\u2028\u2029", "bad \xff utf-8", "2025-01-01T00:00:00.123Z"} {
		var got strings.Builder
		w := bufio.NewWriter(&got)
		writeString(w, s)
		w.Flush()
		var want strings.Builder
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got.String() != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("%q: wrote %s, want %s", s, got.String(), want.String())
		}
	}
}
