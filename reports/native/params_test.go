package native_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
)

// errorOf decodes the error shape.
func errorOf(t *testing.T, a answer) (code, message string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("not the error shape: %s", a.body)
	}
	return e.Error.Code, e.Error.Message
}

// TestSharedParametersOnEveryRoute: the published API says every route
// takes start, stop, csv, queueId and zone. One templated query string
// works on every report, catalog and SessionDetails; queueId narrows
// global reports and the global catalog; an unknown or repeated parameter
// is a 400 that lists what the route accepts.
func TestSharedParametersOnEveryRoute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		s := newServer(t, b)
		const shared = "queueId=1&start=2024-10-27&stop=2024-11-02&zone=America/New_York"
		var routes []string
		for _, n := range reports.Names() {
			routes = append(routes, "/Chime/Report/"+n)
		}
		for _, c := range reports.Categories {
			routes = append(routes, "/Chime/Report/"+c.Route)
		}
		routes = append(routes, "/Chime/Session/SessionDetails/1")
		for _, r := range routes {
			for _, q := range []string{shared, shared + "&csv=true", shared + "&csv=false"} {
				if a := s.get(golden.Alice, r+"?"+q); a.status != http.StatusOK {
					t.Errorf("%s?%s: %d %s", r, q, a.status, a.body)
				}
			}
			for _, q := range []string{"strat=2024-10-27", "start=2024-10-27&start=2024-10-28", "queueId=1&queueId=1"} {
				a := s.get(golden.Alice, r+"?"+q)
				code, msg := errorOf(t, a)
				if a.status != http.StatusBadRequest || code != "InvalidParameter" {
					t.Errorf("%s?%s: %d %s", r, q, a.status, a.body)
				}
				accepts := "this route accepts start, stop, zone, queueId, csv, format, bom"
				if rep, ok := reports.Lookup(strings.TrimPrefix(r, "/Chime/Report/")); ok && rep.TakesInterval() {
					accepts += ", interval"
				}
				if strings.HasPrefix(q, "strat") && !strings.HasSuffix(msg, accepts) {
					t.Errorf("%s?%s: message %q does not list what the route accepts", r, q, msg)
				}
			}
		}
	})
}

func TestQueueIDNarrowsGlobalAnswers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		s := newServer(t, b)
		// The global catalog lists only the queue asked for, and its URLs
		// carry the queue and window.
		a := s.get(golden.Alice, "/Chime/Report/GetAvailableGlobalReports?queueId=2&start=2024-10-27&zone=Europe/London")
		var cat struct {
			QueueID *uint32 `json:"queueId"`
			Queues  []reports.QueueRef
			Reports []struct{ Name, URL string }
		}
		if a.status != http.StatusOK || json.Unmarshal(a.body, &cat) != nil {
			t.Fatalf("global catalog: %d %s", a.status, a.body)
		}
		if cat.QueueID == nil || *cat.QueueID != 2 || len(cat.Queues) != 1 || cat.Queues[0].ID != 2 || len(cat.Reports) == 0 {
			t.Errorf("global catalog narrowed to queue 2: %s", a.body)
		}
		for _, r := range cat.Reports {
			if want := "/Chime/Report/" + r.Name + "?queueId=2&start=2024-10-27&zone=Europe%2FLondon"; r.URL != want {
				t.Errorf("URL %s, want %s", r.URL, want)
			}
		}
		// GlobalQueueSummary: one row, queue 1, the same numbers as in the
		// unnarrowed answer.
		all := s.get(golden.Alice, "/Chime/Report/GlobalQueueSummary?"+closedWindow)
		one := s.get(golden.Alice, "/Chime/Report/GlobalQueueSummary?queueId=1&"+closedWindow)
		type env struct {
			Queue *reports.QueueRef
			Rows  []map[string]any
		}
		var ea, eo env
		if all.status != http.StatusOK || one.status != http.StatusOK || json.Unmarshal(all.body, &ea) != nil || json.Unmarshal(one.body, &eo) != nil {
			t.Fatalf("GlobalQueueSummary: %d %s / %d %s", all.status, all.body, one.status, one.body)
		}
		if len(ea.Rows) != 2 || len(eo.Rows) != 1 || eo.Queue == nil || eo.Queue.ID != 1 || eo.Rows[0]["QueueId"] != 1.0 {
			t.Fatalf("narrowed summary: %s", one.body)
		}
		for _, r := range ea.Rows {
			if r["QueueId"] == 1.0 {
				x, _ := json.Marshal(r)
				y, _ := json.Marshal(eo.Rows[0])
				if string(x) != string(y) {
					t.Errorf("queue 1 narrowed %s, in the whole %s", y, x)
				}
			}
		}
		if cd := s.get(golden.Alice, "/Chime/Report/GlobalQueueSummary?queueId=1&format=csv&"+closedWindow).header.Get("Content-Disposition"); !strings.Contains(cd, "GlobalQueueSummary_queue1_2024-10-27_2024-11-02.csv") {
			t.Errorf("file name %s", cd)
		}
		// A queue the caller cannot see, and one that does not exist: the
		// same 404 as everywhere.
		for _, path := range []string{
			"/Chime/Report/GlobalQueueSummary?queueId=3&" + closedWindow,
			"/Chime/Report/GlobalChatsPerDay?queueId=99&" + closedWindow,
			"/Chime/Report/GetAvailableGlobalReports?queueId=3",
			"/Chime/Report/GetAvailableGlobalReports?queueId=99",
			"/Chime/Session/SessionDetails/1?queueId=2",
		} {
			a := s.get(golden.Alice, path)
			if code, _ := errorOf(t, a); a.status != http.StatusNotFound || code != "NotFound" {
				t.Errorf("%s: %d %s", path, a.status, a.body)
			}
		}
		if a, b := s.get(golden.Alice, "/Chime/Session/SessionDetails/1?queueId=2"), s.get(golden.Alice, "/Chime/Session/SessionDetails/999999"); strings.Replace(string(a.body), "999999", "1", 1) != strings.Replace(string(b.body), "999999", "1", 1) {
			t.Errorf("a session of another queue %s, a missing one %s", a.body, b.body)
		}
	})
}

func TestCatalogCSV(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		s := newServer(t, b)
		for _, c := range reports.Categories {
			a := s.get(golden.Alice, "/Chime/Report/"+c.Route+"?queueId=1&csv=true")
			if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), "text/csv") ||
				!strings.Contains(a.header.Get("Content-Disposition"), c.Route+"_queue1.csv") {
				t.Fatalf("%s: %d %v %s", c.Route, a.status, a.header, a.body)
			}
			lines := strings.Split(strings.TrimSuffix(string(a.body), "\r\n"), "\r\n")
			in := reports.InCategory(c.Category)
			if lines[0] != "Name,Title,Category,URL" || len(lines) != len(in)+1 {
				t.Fatalf("%s: %q", c.Route, a.body)
			}
			for i, r := range in {
				want := r.Name + "," + r.Title + "," + string(r.Category) + ",/Chime/Report/" + r.Name + "?queueId=1"
				if strings.ContainsAny(r.Title, ",\"") {
					continue
				}
				if lines[i+1] != want {
					t.Errorf("%s row %d: %q, want %q", c.Route, i+1, lines[i+1], want)
				}
			}
		}
	})
}

func TestSessionDetailsZone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		s := newServer(t, b)
		for zone, offset := range map[string]string{"America/New_York": "-0", "Asia/Kolkata": "+05:30", "UTC": "Z"} {
			a := s.get(golden.Alice, "/Chime/Session/SessionDetails/1?zone="+zone+"&start=2024-10-01&stop=2024-10-02&queueId=1")
			var d struct {
				Zone       string
				Timestamps map[string]*string
			}
			if a.status != http.StatusOK || json.Unmarshal(a.body, &d) != nil || d.Zone != zone {
				t.Fatalf("%s: %d %s", zone, a.status, a.body)
			}
			n := 0
			for k, v := range d.Timestamps {
				if v == nil {
					continue
				}
				n++
				if tail := (*v)[19:]; !strings.HasPrefix(tail, offset) && !strings.HasPrefix(tail[min(len(tail), 4):], offset) {
					t.Errorf("%s %s = %s, not in the zone", zone, k, *v)
				}
			}
			if n == 0 {
				t.Fatalf("%s: no timestamps: %s", zone, a.body)
			}
		}
	})
}
