package odata_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
)

// TestConditionalSets: entity sets over a closed window carry a strong
// ETag, answer If-None-Match with 304, and change their tag when a session
// arrives in the window (docs/api.md, "Caching").
func TestConditionalSets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		sp := func(s string) string { return strings.ReplaceAll(s, " ", "%20") }
		closed := sp("/odata/InboundVsAnsweredChats?$filter=QueueId eq 1 and PeriodStart ge 2024-10-27T00:00:00Z and PeriodStart lt 2024-11-02T00:00:00Z")
		sessions := sp("/odata/Sessions?$filter=StartedAt ge 2024-10-27T00:00:00Z and StartedAt lt 2024-11-02T00:00:00Z")
		count := sp("/odata/Sessions/$count?$filter=StartedAt ge 2024-10-27T00:00:00Z and StartedAt lt 2024-11-02T00:00:00Z")

		tags := map[string]string{}
		for name, path := range map[string]string{
			"report":      closed,
			"report csv":  closed + "&$format=csv",
			"report zone": closed + "&zone=Europe/London",
			"report top":  closed + "&$top=2",
			"report sel":  closed + "&$select=PeriodStart,Inbound",
		} {
			a := e.get(golden.Admin, path)
			tag := a.header.Get("ETag")
			if a.status != http.StatusOK || tag == "" || a.header.Get("Cache-Control") != "private, no-cache" {
				t.Fatalf("%s: %d, ETag %q, Cache-Control %q: %.300s", name, a.status, tag, a.header.Get("Cache-Control"), a.body)
			}
			for other, o := range tags {
				if o == tag {
					t.Errorf("%s and %s share a tag", name, other)
				}
			}
			tags[name] = tag
			nm := e.get(golden.Admin, path, "If-None-Match", tag)
			if nm.status != http.StatusNotModified || nm.body != "" || nm.header.Get("ETag") != tag {
				t.Errorf("%s with its tag: %d %q, ETag %q; want 304 without body", name, nm.status, nm.body, nm.header.Get("ETag"))
			}
			if got := nm.header.Values("OData-Version"); len(got) != 1 {
				t.Errorf("%s 304: OData-Version %q", name, got)
			}
		}
		if a := e.get(golden.Admin, closed, "Accept-Encoding", "gzip"); a.header.Get("ETag") == tags["report"] || a.header.Get("Content-Encoding") != "gzip" {
			t.Errorf("gzip and identity share a tag (%q)", a.header.Get("ETag"))
		}
		// Bob sees only queue 3: his answer is other rows, with another tag.
		bobReport := sp("/odata/GlobalChatsPerDay?$filter=PeriodStart ge 2024-10-27T00:00:00Z and PeriodStart lt 2024-11-02T00:00:00Z")
		adminTag := e.get(golden.Admin, bobReport).header.Get("ETag")
		if a := e.get(golden.Bob, bobReport, "If-None-Match", adminTag); adminTag == "" || a.status != http.StatusOK || a.header.Get("ETag") == adminTag {
			t.Errorf("bob with admin's tag %q: %d, ETag %q", adminTag, a.status, a.header.Get("ETag"))
		}

		// Session sets are exports: never tagged, even over a closed window.
		for _, path := range []string{
			sessions, count, sessions + "&$format=csv",
			sp("/odata/InboundVsAnsweredChats?$filter=QueueId eq 1 and PeriodStart ge 2024-10-27T00:00:00Z"), // up to today
			sp("/odata/Sessions?$filter=StartedAt ge 2024-10-27T00:00:00Z"),
			sp("/odata/Sessions?$filter=StartedAt ge 2024-10-27T00:00:00Z and StartedAt lt 2024-11-02T00:00:00Z and EndedAt lt now()"),
			"/odata/AgentChatsAnswered?start=2024-10-27&stop=2024-11-01",
			"/odata/Queues",
		} {
			if a := e.get(golden.Admin, path, "If-None-Match", "*"); a.status != http.StatusOK || a.header.Get("ETag") != "" {
				t.Errorf("%s: %d, ETag %q; want 200 without a tag", path, a.status, a.header.Get("ETag"))
			}
		}

		before := e.decode(e.get(golden.Admin, closed), closed)
		at := time.Date(2024, 10, 29, 15, 0, 0, 0, time.UTC)
		if err := b.DB.Create(&models.ChatSession{SessionGUID: "odata-cache-new", ConversationGUID: "odata-cache-new",
			QueueID: 1, SeekerID: 2, EntryPoint: "webclient", State: models.StateWaiting,
			StartedAt: at, QueuedAt: &at, LastActivityAt: at}).Error; err != nil {
			t.Fatal(err)
		}
		a := e.get(golden.Admin, closed, "If-None-Match", tags["report"])
		if a.status != http.StatusOK || a.header.Get("ETag") == tags["report"] {
			t.Fatalf("after an insert: %d, ETag %q; want 200 with a new tag", a.status, a.header.Get("ETag"))
		}
		sum := func(p page) (n float64) {
			for _, r := range p.Value {
				v, err := strconv.ParseFloat(fmt.Sprint(r["Inbound"]), 64)
				if err != nil {
					t.Fatalf("Inbound %v: %v", r["Inbound"], err)
				}
				n += v
			}
			return n
		}
		if s0, s1 := sum(before), sum(e.decode(a, closed)); s1 != s0+1 {
			t.Errorf("Inbound over the window: %v then %v, want one more", s0, s1)
		}
	})
}
