package filter_test

import (
	"testing"

	"github.com/chime-reports/chime-reports/odata/filter"
	"github.com/chime-reports/chime-reports/reports/query"
)

// FuzzKey: for any key predicate and alias value, parsing never panics,
// every error is a client error, and a parsed key holds only non-null
// literals, named whenever there is more than one.
func FuzzKey(f *testing.F) {
	for _, s := range []string{"1", "SessionId=14", "QueueId=1,PeriodStart=2024-11-03T00:00:00Z", "'a''b'", "abc", "@k",
		"-5", "2024-11-03", "A=1,B", "1,2", "@k,@k", "null", "(1)"} {
		f.Add(s, "1")
		f.Add(s, "@k")
	}
	f.Fuzz(func(t *testing.T, text, alias string) {
		parts, err := filter.ParseKey(text, map[string]string{"@k": alias})
		if err != nil {
			clientError(t, "key", err)
			return
		}
		for _, p := range parts {
			if p.Value.V == nil || p.Value.Kind == query.KindNull {
				t.Fatalf("null key value from %q", text)
			}
			if len(parts) > 1 && p.Name == "" {
				t.Fatalf("unnamed part of a composite key from %q", text)
			}
		}
	})
}
