package filter_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/odata/filter"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// FuzzFilter: for any text, parsing, checking against the Sessions set and
// compiling to SQL for both back ends never panics; every error is a
// client error (400, or 501 for valid OData the feed does not evaluate);
// the SQL has exactly one placeholder per argument.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		"StartedAt ge 2024-01-01T00:00:00Z and StartedAt lt 2024-02-01T00:00:00Z",
		"StartedAt ge 2024-01-01T00:00:00 01:00", "QueueId in (1,2,3) or not (QueueId eq 3)",
		"contains(tolower(Question),'vpn') and length(GuestName) gt 3", "Rating eq null", "substring(State,1,2) eq 'om'",
		"year(StartedAt) eq 2024 and Messages div 0 eq null", "indexof(Question,'x''y') ge 0", "D lt duration'P1D'",
		"concat(State,EntryPoint) ne 'x'", "round(Messages) eq ceiling(Files)", "((((A))))", "-Messages lt -3",
	} {
		f.Add(s)
	}
	set, _ := reports.LookupSet("Sessions")
	clientError := func(t *testing.T, stage string, err error) {
		var ae *apierror.Error
		if !errors.As(err, &ae) || (ae.Code != apierror.InvalidParameter && ae.Code != apierror.NotImplemented) {
			t.Fatalf("%s: not a 400/501 error: %#v", stage, err)
		}
		if ae.Status() != 400 && ae.Status() != 501 {
			t.Fatalf("%s: status %d", stage, ae.Status())
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		x, err := filter.Parse(text)
		if err != nil {
			clientError(t, "parse", err)
			return
		}
		if err := set.CheckPredicate(x); err != nil {
			clientError(t, "check", err)
			return
		}
		for _, mysql := range []bool{false, true} {
			where, args, err := set.WhereSQL(x, mysql, time.Unix(0, 0))
			if err != nil {
				clientError(t, "compile", err)
				return
			}
			if n := strings.Count(where, "?"); n != len(args) {
				t.Fatalf("%d placeholders for %d arguments: %s", n, len(args), where)
			}
			if strings.Contains(where, ";") {
				t.Fatalf("; in SQL: %s", where)
			}
		}
	})
}
