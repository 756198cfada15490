package odata_test

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
)

// TestNavigationPaths: a navigation segment in the path answers what the
// target set answers with the condition that ties it to the parent, the
// query options and paging applied to it; a single-valued navigation is
// an entity (204 when null) with property and /$value access; a parent
// the caller may not see is the same 404 as a missing one.
func TestNavigationPaths(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		db := b.DB
		base := e.srv.URL + "/odata"
		var sessions []models.ChatSession
		db.Order("id").Find(&sessions)
		var msgs []models.SessionMessage
		db.Order("id").Find(&msgs)
		perSession := map[uint][]models.SessionMessage{}
		for _, m := range msgs {
			perSession[m.SessionID] = append(perSession[m.SessionID], m)
		}
		var busiest uint
		for id, ms := range perSession {
			if len(ms) > len(perSession[busiest]) || (len(ms) == len(perSession[busiest]) && id < busiest) {
				busiest = id
			}
		}
		if len(perSession[busiest]) < 5 {
			t.Fatalf("the busiest session has %d lines", len(perSession[busiest]))
		}
		ids := func(rows []map[string]any, prop string) []string {
			var out []string
			for _, r := range rows {
				out = append(out, jsonText(r[prop]))
			}
			return out
		}

		// A collection navigation is the target set with the parent's condition.
		nav := fmt.Sprintf("/odata/Sessions(%d)/Transcript", busiest)
		p := e.page(golden.Admin, nav)
		if p.Context != base+"/$metadata#Messages" {
			t.Errorf("context %q", p.Context)
		}
		want := e.page(golden.Admin, fmt.Sprintf("/odata/Messages?$filter=SessionId%%20eq%%20%d", busiest)).Value
		if jsonText(p.Value) != jsonText(want) || len(want) != len(perSession[busiest]) {
			t.Errorf("%s: %d rows, want %d", nav, len(p.Value), len(perSession[busiest]))
		}
		// Options and paging apply to the navigated rows; links keep the path.
		opts := "?$filter=" + url.QueryEscape("SenderType ne 'system'") + "&$orderby=Seq%20desc&$select=Seq,SenderType&$skip=1&$count=true"
		rows := e.allPages(golden.Admin, nav+opts, "odata.maxpagesize=2")
		var wantSeq []string
		for i := len(perSession[busiest]) - 1; i >= 0; i-- {
			if m := perSession[busiest][i]; m.SenderType != "system" {
				wantSeq = append(wantSeq, fmt.Sprint(m.Seq))
			}
		}
		if got := ids(rows, "Seq"); !slices.Equal(got, wantSeq[1:]) {
			t.Errorf("paged %s: %v, want %v", opts, got, wantSeq[1:])
		}
		first := e.page(golden.Admin, nav+opts, "Prefer", "odata.maxpagesize=2")
		if !strings.HasPrefix(first.NextLink, base+fmt.Sprintf("/Sessions(%d)/Transcript?", busiest)) || first.Count == nil || *first.Count != int64(len(wantSeq)) {
			t.Errorf("first page: nextLink %q, count %v (want %d)", first.NextLink, first.Count, len(wantSeq))
		}
		if len(first.Value) != 2 || len(first.Value[0]) != 2 {
			t.Errorf("first page: %v", first.Value)
		}
		// $apply groups the navigated rows only.
		bySender := map[string]int{}
		for _, m := range perSession[busiest] {
			bySender[m.SenderType]++
		}
		grouped := e.page(golden.Admin, nav+"?$apply="+url.QueryEscape("groupby((SenderType),aggregate($count as N))")+"&$orderby=SenderType")
		gotBySender := map[string]int{}
		for _, r := range grouped.Value {
			n, _ := strconv.Atoi(jsonText(r["N"]))
			gotBySender[fmt.Sprint(r["SenderType"])] = n
		}
		if !maps.Equal(gotBySender, bySender) {
			t.Errorf("%s?$apply=groupby: %v, want %v", nav, gotBySender, bySender)
		}
		if a := e.get(golden.Admin, nav+"/$count"); a.body != fmt.Sprint(len(perSession[busiest])) {
			t.Errorf("%s/$count: %d %s", nav, a.status, a.body)
		}
		if a := e.get(golden.Admin, nav+"/$count?$filter="+url.QueryEscape("SenderType eq 'agent'")); a.body == fmt.Sprint(len(perSession[busiest])) || a.status != 200 {
			t.Errorf("filtered $count: %d %s", a.status, a.body)
		}
		// An entity of the navigated collection by key, and one of another session.
		m0 := perSession[busiest][0]
		got := entityOf(t, e.get(golden.Admin, fmt.Sprintf("%s(%d)", nav, m0.ID)))
		if got["@odata.context"] != base+"/$metadata#Messages/$entity" || jsonText(got["Seq"]) != fmt.Sprint(m0.Seq) {
			t.Errorf("%s(%d): %v", nav, m0.ID, got)
		}
		for id, ms := range perSession {
			if id != busiest {
				if a := e.get(golden.Admin, fmt.Sprintf("%s(%d)", nav, ms[0].ID)); a.status != 404 {
					t.Errorf("a line of session %d through session %d: %d", id, busiest, a.status)
				}
				break
			}
		}

		// Single-valued navigations: an entity, a property, its raw value, null.
		var s14 models.ChatSession
		db.First(&s14, 14)
		var q models.Queue
		db.Unscoped().First(&q, s14.QueueID)
		got = entityOf(t, e.get(golden.Admin, "/odata/Sessions(14)/Queue"))
		if got["@odata.context"] != base+"/$metadata#Queues/$entity" || got["QueueName"] != q.Name {
			t.Errorf("Sessions(14)/Queue: %v", got)
		}
		if got := entityOf(t, e.get(golden.Admin, "/odata/Sessions(14)/Queue/QueueName")); got["value"] != q.Name ||
			got["@odata.context"] != base+fmt.Sprintf("/$metadata#Queues(%d)/QueueName", q.ID) {
			t.Errorf("Sessions(14)/Queue/QueueName: %v", got)
		}
		if a := e.get(golden.Admin, "/odata/Sessions(14)/Queue/QueueName/$value"); a.status != 200 || a.body != q.Name {
			t.Errorf("…/QueueName/$value: %d %q", a.status, a.body)
		}
		var rated, unrated int64
		var ratings []models.SessionRating
		db.Find(&ratings)
		for _, s := range sessions {
			if slices.ContainsFunc(ratings, func(r models.SessionRating) bool { return r.SessionID == s.ID }) {
				if rated == 0 {
					rated = int64(s.ID)
				}
			} else if unrated == 0 {
				unrated = int64(s.ID)
			}
		}
		if got := entityOf(t, e.get(golden.Admin, fmt.Sprintf("/odata/Sessions(%d)/RatingDetails", rated))); jsonText(got["SessionId"]) != fmt.Sprint(rated) {
			t.Errorf("RatingDetails of %d: %v", rated, got)
		}
		if a := e.get(golden.Admin, fmt.Sprintf("/odata/Sessions(%d)/RatingDetails", unrated)); a.status != 204 || a.body != "" {
			t.Errorf("RatingDetails of unrated %d: %d %q", unrated, a.status, a.body)
		}
		if a := e.get(golden.Admin, fmt.Sprintf("/odata/Sessions(%d)/RatingDetails/Rating", unrated)); a.status != 404 {
			t.Errorf("a property of a null navigation: %d", a.status)
		}
		if got := entityOf(t, e.get(golden.Admin, fmt.Sprintf("/odata/Ratings(%d)/Session", rated))); jsonText(got["SessionId"]) != fmt.Sprint(rated) {
			t.Errorf("Ratings(%d)/Session: %v", rated, got)
		}

		// Transfers, the queue's sessions and agents, the first agent.
		for _, s := range sessions {
			if s.ParentSessionID == nil {
				continue
			}
			got := e.page(golden.Admin, fmt.Sprintf("/odata/Sessions(%d)/Transfers", *s.ParentSessionID)).Value
			if !slices.Contains(ids(got, "SessionId"), fmt.Sprint(s.ID)) {
				t.Errorf("Sessions(%d)/Transfers: %v lacks %d", *s.ParentSessionID, ids(got, "SessionId"), s.ID)
			}
		}
		all := e.allPages(golden.Admin, "/odata/Queues(1)/Sessions?$select=SessionId", "odata.maxpagesize=3")
		var wantIDs []string
		for _, s := range sessions {
			if s.QueueID == 1 {
				wantIDs = append(wantIDs, fmt.Sprint(s.ID))
			}
		}
		if got := ids(all, "SessionId"); !slices.Equal(got, wantIDs) || len(wantIDs) == 0 {
			t.Errorf("Queues(1)/Sessions: %v, want %v", got, wantIDs)
		}
		var members []models.QueueMember
		db.Where("queue_id = 1 AND role IN ?", []string{"agent", "manager"}).Order("user_id").Find(&members)
		var wantAgents []string
		for _, m := range members {
			wantAgents = append(wantAgents, fmt.Sprint(m.UserID))
		}
		if got := ids(e.page(golden.Admin, "/odata/Queues(1)/Agents").Value, "AgentId"); !slices.Equal(got, wantAgents) || len(got) == 0 {
			t.Errorf("Queues(1)/Agents: %v, want %v", got, wantAgents)
		}
		if s14.FirstAgentID != nil {
			if got := entityOf(t, e.get(golden.Admin, "/odata/Sessions(14)/FirstAgent")); jsonText(got["AgentId"]) != fmt.Sprint(*s14.FirstAgentID) {
				t.Errorf("Sessions(14)/FirstAgent: %v", got)
			}
		}
		// $expand on a navigated collection.
		for _, row := range e.page(golden.Admin, "/odata/Queues(1)/Sessions?$top=3&$expand=Queue").Value {
			if q, _ := row["Queue"].(map[string]any); q == nil || jsonText(q["QueueId"]) != "1" {
				t.Errorf("expanded queue %v", row["Queue"])
			}
		}

		// The caller's queues: a hidden parent is a missing one.
		var hidden models.ChatSession
		db.Where("queue_id = 3").Order("id").First(&hidden)
		missing := e.get(golden.Alice, "/odata/Sessions(999999)/Transcript")
		for _, path := range []string{fmt.Sprintf("/odata/Sessions(%d)/Transcript", hidden.ID), "/odata/Queues(3)/Sessions",
			fmt.Sprintf("/odata/Sessions(%d)/Queue", hidden.ID)} {
			a := e.get(golden.Alice, path)
			if a.status != 404 || strings.ReplaceAll(a.body, "Queues", "Sessions") != missing.body {
				t.Errorf("alice %s: %d %s, want %s", path, a.status, a.body, missing.body)
			}
		}
		for _, row := range e.allPages(golden.Alice, "/odata/Queues(1)/Sessions", "") {
			if jsonText(row["QueueId"]) != "1" {
				t.Errorf("alice's Queues(1)/Sessions: %v", row)
			}
		}

		// Malformed and unknown paths.
		for _, c := range []struct {
			path   string
			status int
		}{
			{"/odata/Sessions(abc)/Transcript", 400},
			{"/odata/Sessions(14)/Queue(1)", 400},
			{"/odata/Sessions(14)/Transcript/Body", 400},
			{"/odata/Sessions(14)/Transcript(x)", 400},
			{"/odata/Sessions(14)/Nope", 404},
			{"/odata/Sessions(14)/Queue/Nope", 404},
			{"/odata/Sessions(14)/Queue?$top=1", 400},
			{"/odata/Sessions(14)/Transcript?$filter=Nope%20eq%201", 400},
			{"/odata/Sessions(14)/Transcript?$deltatoken=x", 400},
		} {
			a := e.get(golden.Admin, c.path)
			if a.status != c.status {
				t.Errorf("%s: %d, want %d: %.200s", c.path, a.status, c.status, a.body)
				continue
			}
			odataError(t, a)
		}
	})
}
