package odata_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
)

// entityOf decodes a single-entity answer.
func entityOf(t *testing.T, a answer) map[string]any {
	t.Helper()
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(a.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%v: %s", err, a.body)
	}
	return m
}

// TestEntityByKey: every set answers Set(key) with the row its collection
// holds, property and /$value access work, an invisible key is the same
// 404 as a missing one, and a malformed key is a 400.
func TestEntityByKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		base := e.srv.URL + "/odata"
		var s14 models.ChatSession
		if err := b.DB.First(&s14, 14).Error; err != nil {
			t.Fatal(err)
		}

		// Short and named forms give the collection's row.
		want := e.page(golden.Admin, "/odata/Sessions?$filter=SessionId%20eq%2014").Value
		if len(want) != 1 {
			t.Fatalf("collection gives %d rows for session 14", len(want))
		}
		for _, path := range []string{"/odata/Sessions(14)", "/odata/Sessions(SessionId=14)", "/odata/Sessions(@k)?@k=14"} {
			a := e.get(golden.Admin, path)
			checkAnswer(t, a, odata.JSONType)
			got := entityOf(t, a)
			if got["@odata.context"] != base+"/$metadata#Sessions/$entity" {
				t.Errorf("%s: context %v", path, got["@odata.context"])
			}
			delete(got, "@odata.context")
			if jsonText(got) != jsonText(want[0]) {
				t.Errorf("%s: %v, want %v", path, got, want[0])
			}
		}
		got := entityOf(t, e.get(golden.Admin, "/odata/Sessions(14)?$select=SessionId,QueueId"))
		if got["@odata.context"] != base+"/$metadata#Sessions(SessionId,QueueId)/$entity" || len(got) != 3 {
			t.Errorf("$select on an entity: %v", got)
		}

		// Property and raw value.
		a := e.get(golden.Admin, "/odata/Sessions(14)/QueueId")
		got = entityOf(t, a)
		if got["@odata.context"] != base+"/$metadata#Sessions(14)/QueueId" || got["value"].(json.Number).String() != "3" {
			t.Errorf("property: %v", got)
		}
		a = e.get(golden.Admin, "/odata/Sessions(14)/QueueId/$value")
		checkAnswer(t, a, odata.CountType)
		if a.body != "3" {
			t.Errorf("$value %q", a.body)
		}
		a = e.get(golden.Admin, "/odata/Sessions(14)/StartedAt/$value")
		if a.status != 200 || !dateTimeRE.MatchString(a.body) {
			t.Errorf("StartedAt/$value: %d %q", a.status, a.body)
		}
		var noQuestion models.ChatSession
		if err := b.DB.Where("question IS NULL").First(&noQuestion).Error; err == nil {
			if a := e.get(golden.Admin, "/odata/Sessions("+itoa(int(noQuestion.ID))+")/Question"); a.status != 204 || a.body != "" {
				t.Errorf("null property: %d %q", a.status, a.body)
			}
		}

		// Not visible is exactly not found.
		hidden := e.get(golden.Alice, "/odata/Sessions(14)")
		missing := e.get(golden.Alice, "/odata/Sessions(999999)")
		if hidden.status != 404 || missing.status != 404 || hidden.body != missing.body {
			t.Errorf("hidden %d %s / missing %d %s", hidden.status, hidden.body, missing.status, missing.body)
		}
		odataError(t, hidden)
		if a := e.get(golden.Alice, "/odata/Sessions(14)/Question/$value"); a.status != 404 || a.body != missing.body {
			t.Errorf("hidden property: %d %s", a.status, a.body)
		}

		// Composite keys: a report set and the agents' and queues' keys.
		day := e.page(golden.Admin, "/odata/InboundVsAnsweredChats?zone=UTC&$filter="+url.PathEscape("QueueId eq 1 and Date eq 2024-11-03")).Value
		if len(day) != 1 {
			t.Fatalf("report day: %v", day)
		}
		got = entityOf(t, e.get(golden.Admin, "/odata/InboundVsAnsweredChats(QueueId=1,PeriodStart=2024-11-03T00:00:00Z)?zone=UTC"))
		delete(got, "@odata.context")
		if jsonText(got) != jsonText(day[0]) {
			t.Errorf("report entity %v, want %v", got, day[0])
		}
		got = entityOf(t, e.get(golden.Admin, "/odata/InboundVsAnsweredChats(PeriodStart=2024-11-03T00:00:00Z,QueueId=1)/Inbound?zone=UTC"))
		if jsonText(got["value"]) != jsonText(day[0]["Inbound"]) {
			t.Errorf("report property %v, want %v", got, day[0]["Inbound"])
		}
		if a := e.get(golden.Alice, "/odata/InboundVsAnsweredChats(QueueId=3,PeriodStart=2024-11-03T00:00:00Z)?zone=UTC"); a.status != 404 {
			t.Errorf("report row of a hidden queue: %d", a.status)
		}
		got = entityOf(t, e.get(golden.Alice, "/odata/Queues(1)"))
		if got["QueueId"].(json.Number).String() != "1" {
			t.Errorf("Queues(1): %v", got)
		}
		if a := e.get(golden.Alice, "/odata/Queues(3)"); a.status != 404 {
			t.Errorf("Queues(3) for alice: %d", a.status)
		}
		agents := e.page(golden.Admin, "/odata/Agents?$top=1").Value
		got = entityOf(t, e.get(golden.Admin, "/odata/Agents("+jsonText(agents[0]["AgentId"])+")"))
		if jsonText(got["AgentName"]) != jsonText(agents[0]["AgentName"]) {
			t.Errorf("Agents by key: %v", got)
		}

		// Malformed keys and misplaced options.
		for _, c := range []struct {
			path   string
			status int
		}{
			{"/odata/Sessions(abc)", 400},
			{"/odata/Sessions('14')", 400},
			{"/odata/Sessions(14", 400},
			{"/odata/Sessions()", 400},
			{"/odata/Sessions(Nope=14)", 400},
			{"/odata/Sessions(SessionId=14,SessionId=14)", 400},
			{"/odata/Sessions(null)", 400},
			{"/odata/Sessions(1.5)", 400},
			{"/odata/InboundVsAnsweredChats(1)", 400},
			{"/odata/InboundVsAnsweredChats(QueueId=1)", 400},
			{"/odata/Sessions(14)?$filter=QueueId%20eq%203", 400},
			{"/odata/Sessions(14)?$top=1", 400},
			{"/odata/Sessions(14)/Nope", 404},
			{"/odata/Sessions(14)/$value", 400},
			{"/odata/Sessions(14)/QueueId/Nope", 501},
			{"/odata/Nope(1)", 404},
		} {
			a := e.get(golden.Admin, c.path)
			if a.status != c.status {
				t.Errorf("%s: %d, want %d: %s", c.path, a.status, c.status, a.body)
				continue
			}
			odataError(t, a)
		}
	})
}
