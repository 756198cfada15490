package odata_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
)

// TestAliasesDatesDurations: parameter aliases in $filter, $orderby,
// $apply and keys; date() and duration literals fold into SQL with the
// answers of the literal forms; what is not supported is a 501 with a
// reason.
func TestAliasesDatesDurations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		f := func(s string) string { return url.PathEscape(s) }
		same := func(what, a, b string) {
			t.Helper()
			pa, pb := e.page(golden.Admin, a).Value, e.page(golden.Admin, b).Value
			if len(pa) == 0 || jsonText(pa) != jsonText(pb) {
				t.Errorf("%s: %d rows vs %d rows\n%s\n%s", what, len(pa), len(pb), a, b)
			}
		}
		same("filter alias", "/odata/Sessions?$filter="+f("QueueId eq @q and Messages ge @m")+"&@q=3&@m=1",
			"/odata/Sessions?$filter="+f("QueueId eq 3 and Messages ge 1"))
		same("alias of an expression", "/odata/Sessions?$filter=@c&@c="+f("startswith(Question,'Out')"),
			"/odata/Sessions?$filter="+f("startswith(Question,'Out')"))
		same("alias using an alias", "/odata/Sessions?$filter="+f("QueueId eq @a")+"&@a="+f("@b")+"&@b=2",
			"/odata/Sessions?$filter="+f("QueueId eq 2"))
		same("orderby alias", "/odata/Sessions?$orderby="+f("@o desc")+"&@o=StartedAt",
			"/odata/Sessions?$orderby="+f("StartedAt desc"))
		same("apply alias", "/odata/Sessions?$apply="+f("filter(QueueId eq @q)/groupby((QueueId),aggregate($count as N))")+"&@q=1",
			"/odata/Sessions?$apply="+f("filter(QueueId eq 1)/groupby((QueueId),aggregate($count as N))"))
		same("date()", "/odata/Sessions?$filter="+f("date(StartedAt) eq 2024-11-03"),
			"/odata/Sessions?$filter="+f("StartedAt ge 2024-11-03T00:00:00Z and StartedAt lt 2024-11-04T00:00:00Z"))
		same("duration", "/odata/Sessions?$filter="+f("StartedAt ge 2024-11-02T00:00:00Z add duration'P1D' and StartedAt lt 2024-11-04T06:00:00Z sub duration'PT6H'"),
			"/odata/Sessions?$filter="+f("StartedAt ge 2024-11-03T00:00:00Z and StartedAt lt 2024-11-04T00:00:00Z"))
		same("now minus a duration", "/odata/Sessions?$filter="+f("StartedAt ge now() sub duration'P3650D'"), "/odata/Sessions")
		// An alias without a value is null.
		if p := e.page(golden.Admin, "/odata/Sessions?$filter="+f("QueueId eq @nothing")); len(p.Value) != 0 {
			t.Errorf("missing alias: %d rows", len(p.Value))
		}
		for _, c := range []struct {
			method, path string
			status       int
			reason       string
		}{
			{"GET", "/odata/Sessions?$filter=" + f("QueueId eq @a") + "&@a=" + f("@a"), 400, "itself"},
			{"GET", "/odata/Sessions?$filter=" + f("QueueId eq @a") + "&@a=" + f("(("), 400, ""},
			{"GET", "/odata/Sessions?$filter=" + f("QueueId eq 1") + "&@a=1&@a=2", 400, ""},
			{"GET", "/odata/Sessions?$orderby=@o&@o=" + f("length(Question)"), 501, "property names"},
			{"GET", "/odata/Sessions?$orderby=@o&@o=" + f("Nope"), 400, ""},
			{"GET", "/odata/Sessions?$filter=" + f("StartedAt add duration'PT1H' gt 2024-11-03T00:00:00Z"), 501, "now()"},
			{"GET", "/odata/Sessions?$filter=" + f("duration'PT1H' gt duration'PT2H'"), 501, "Edm.Duration"},
			{"GET", "/odata/Sessions?$filter=" + f("date(QueueName) eq 2024-11-03"), 400, ""},
			{"GET", "/odata/Sessions?$filter=" + f("date(StartedAt) eq 2024-11-03T00:00:00Z"), 400, ""},
			{"GET", "/odata/QueueChatSessionLog?zone=Europe/London&$filter=" + f("date(SessionStarted) eq 2024-11-03"), 501, "local"},
			{"GET", "/odata/Sessions?$search=vpn", 501, "contains"},
			{"GET", "/odata/Sessions?$compute=" + f("Messages add 1 as M"), 501, "$apply"},
			{"POST", "/odata/$batch", 501, "on its own"},
			{"GET", "/odata/$batch", 501, "on its own"},
		} {
			req, _ := http.NewRequest(c.method, e.srv.URL+c.path, strings.NewReader("--batch\r\n"))
			req.Header.Set("Authorization", "Bearer "+e.key[golden.Admin])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body strings.Builder
			buf := make([]byte, 4096)
			for {
				n, err := resp.Body.Read(buf)
				body.WriteString(string(buf[:n]))
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			a := answer{resp.StatusCode, resp.Header, body.String()}
			if a.status != c.status {
				t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, a.status, c.status, a.body)
				continue
			}
			if _, msg := odataError(t, a); !strings.Contains(msg, c.reason) {
				t.Errorf("%s: message %q lacks %q", c.path, msg, c.reason)
			}
		}
	})
}
