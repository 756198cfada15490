package filter_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/odata/filter"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/query"
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
	set, _ := query.LookupSet("Sessions")
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

// FuzzApply: for any text, parsing an $apply pipeline never panics and every
// error is a client error (400, or 501 for transformations the feed does
// not evaluate); a parsed pipeline has at most MaxTransforms steps, each
// exactly one of filter, groupby or aggregate with named aliases, and its
// filters check and compile against the Sessions set like a $filter.
func FuzzApply(f *testing.F) {
	for _, s := range []string{
		"groupby((QueueId),aggregate($count as N))",
		"filter(StartedAt ge 2024-11-01T00:00:00Z)/groupby((QueueId,State),aggregate(Messages with sum as M,Rating with average as R))",
		"aggregate(Messages with max as Top,$count as Rows)", "filter(QueueId eq 1)/filter(Rating ne null)",
		"groupby((Date),aggregate(Inbound with sum as Inbound))", "groupby((QueueId))/groupby((QueueId),aggregate($count as N))",
		"compute(Messages add 1 as M)", "topcount(5,Messages)", "groupby((A/B))", "aggregate(Messages as M)",
		"aggregate(Messages with median as M)", "groupby((QueueId),aggregate($count as $count))",
		"filter(contains(Question,'a''b'))/aggregate($count as N)", strings.Repeat("filter(true)/", 17) + "filter(true)",
	} {
		f.Add(s)
	}
	set, _ := query.LookupSet("Sessions")
	f.Fuzz(func(t *testing.T, text string) {
		steps, err := filter.ParseApply(text)
		if err != nil {
			clientError(t, "parse", err)
			return
		}
		if len(steps) == 0 || len(steps) > filter.MaxTransforms {
			t.Fatalf("%d steps", len(steps))
		}
		for i, st := range steps {
			kinds := 0
			for _, b := range []bool{st.Filter != nil, st.Grouped, !st.Grouped && len(st.Aggregates) > 0} {
				if b {
					kinds++
				}
			}
			if kinds != 1 {
				t.Fatalf("step %d is not exactly one transformation: %+v", i, st)
			}
			if st.Grouped && len(st.GroupBy) == 0 {
				t.Fatalf("step %d: groupby without properties", i)
			}
			for _, a := range st.Aggregates {
				if a.As == "" || strings.HasPrefix(a.As, "$") || (a.Method != "count" && a.Prop == "") {
					t.Fatalf("step %d: aggregate %+v", i, a)
				}
			}
			if st.Filter == nil {
				continue
			}
			if err := set.CheckPredicate(st.Filter); err != nil {
				clientError(t, "check", err)
				continue
			}
			where, args, err := set.WhereSQL(st.Filter, true, time.Unix(0, 0))
			if err != nil {
				clientError(t, "compile", err)
				continue
			}
			if n := strings.Count(where, "?"); n != len(args) {
				t.Fatalf("%d placeholders for %d arguments: %s", n, len(args), where)
			}
		}
	})
}

// clientError fails unless err is a 400 or a 501 in the error shape: what
// a parser or checker may answer to any input.
func clientError(t *testing.T, stage string, err error) {
	t.Helper()
	var ae *apierror.Error
	if !errors.As(err, &ae) || (ae.Code != apierror.InvalidParameter && ae.Code != apierror.NotImplemented) {
		t.Fatalf("%s: not a 400/501 error: %#v", stage, err)
	}
	if ae.Status() != 400 && ae.Status() != 501 {
		t.Fatalf("%s: status %d", stage, ae.Status())
	}
}
