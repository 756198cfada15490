package odata_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
)

// countQueries counts the statements run through db from now on.
func countQueries(t *testing.T, db *gorm.DB) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	inc := func(*gorm.DB) { n.Add(1) }
	for i, cb := range []interface {
		Register(string, func(*gorm.DB)) error
	}{db.Callback().Query().After("gorm:query"), db.Callback().Row().After("gorm:row"), db.Callback().Raw().After("gorm:raw")} {
		if err := cb.Register(fmt.Sprintf("test:count%d", i), inc); err != nil {
			t.Fatal(err)
		}
	}
	return &n
}

// TestExpand: navigation properties expand with nested options, from the
// same rows as their sets, inside the caller's queues, with one query per
// navigation whatever the page size; $metadata declares them.
func TestExpand(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		db := b.DB
		base := e.srv.URL + "/odata"

		p := e.page(golden.Admin, "/odata/Sessions?$expand=Queue,RatingDetails,Transcript,Transfers")
		if p.Context != base+"/$metadata#Sessions(Queue(),RatingDetails(),Transcript(),Transfers())" {
			t.Errorf("context %q", p.Context)
		}
		var msgs []models.SessionMessage
		db.Order("session_id, id").Find(&msgs)
		perSession := map[int64]int{}
		for _, m := range msgs {
			perSession[int64(m.SessionID)]++
		}
		transfers := 0
		for _, row := range p.Value {
			id, _ := row["SessionId"].(json.Number).Int64()
			q, _ := row["Queue"].(map[string]any)
			if q == nil || jsonText(q["QueueId"]) != jsonText(row["QueueId"]) {
				t.Errorf("session %d: Queue %v", id, row["Queue"])
			}
			rd, _ := row["RatingDetails"].(map[string]any)
			if (rd == nil) != (row["Rating"] == nil) || (rd != nil && jsonText(rd["Rating"]) != jsonText(row["Rating"])) {
				t.Errorf("session %d: Rating %v, RatingDetails %v", id, row["Rating"], row["RatingDetails"])
			}
			tr, _ := row["Transcript"].([]any)
			if len(tr) != perSession[id] {
				t.Errorf("session %d: %d transcript lines, want %d", id, len(tr), perSession[id])
			}
			for _, m := range tr {
				if jsonText(m.(map[string]any)["SessionId"]) != jsonText(row["SessionId"]) {
					t.Errorf("session %d: a line of another session %v", id, m)
				}
			}
			for _, c := range row["Transfers"].([]any) {
				transfers++
				if jsonText(c.(map[string]any)["ParentSessionId"]) != jsonText(row["SessionId"]) {
					t.Errorf("session %d: transfer %v", id, c)
				}
			}
		}
		if transfers == 0 || len(msgs) == 0 {
			t.Fatalf("the golden data has %d transfers, %d messages", transfers, len(msgs))
		}

		// The other session navigations: as many rows as their tables hold.
		counts := map[string]map[int64]int{}
		for nav, m := range map[string]any{"Participants": &[]models.SessionParticipant{}, "Offers": &[]models.SessionOffer{},
			"Keywords": &[]models.SessionKeyword{}, "BotInteraction": &[]models.BotInteraction{}} {
			var ids []int64
			db.Model(m).Pluck("session_id", &ids)
			counts[nav] = map[int64]int{}
			for _, id := range ids {
				counts[nav][id]++
			}
			if len(ids) == 0 {
				t.Errorf("the golden data has no %s", nav)
			}
		}
		for _, row := range e.page(golden.Admin, "/odata/Sessions?$expand=Participants,Offers,Keywords,BotInteraction").Value {
			id, _ := row["SessionId"].(json.Number).Int64()
			for nav, c := range counts {
				n := 0
				switch v := row[nav].(type) {
				case []any:
					n = len(v)
				case map[string]any:
					n = 1
				}
				if n != c[id] {
					t.Errorf("session %d: %d %s, want %d", id, n, nav, c[id])
				}
			}
		}

		// Navigations through a table: the session's first and last agent,
		// the queue's agents.
		var css []models.ChatSession
		db.Find(&css)
		first := map[int64]string{}
		for _, s := range css {
			if s.FirstAgentID != nil {
				first[int64(s.ID)] = fmt.Sprint(*s.FirstAgentID)
			}
		}
		agentsSeen := 0
		for _, row := range e.page(golden.Admin, "/odata/Sessions?$expand=FirstAgent($select=AgentId),LastAgent").Value {
			id, _ := row["SessionId"].(json.Number).Int64()
			fa, _ := row["FirstAgent"].(map[string]any)
			got := ""
			if fa != nil {
				got = jsonText(fa["AgentId"])
				agentsSeen++
			}
			if got != first[id] {
				t.Errorf("session %d: FirstAgent %v, want %q", id, row["FirstAgent"], first[id])
			}
		}
		if agentsSeen == 0 {
			t.Error("no session has a first agent")
		}
		var members []models.QueueMember
		db.Where("role IN ?", []string{"agent", "manager"}).Find(&members)
		wantAgents := map[string][]int{}
		for _, m := range members {
			q := fmt.Sprint(m.QueueID)
			wantAgents[q] = append(wantAgents[q], int(m.UserID))
		}
		for _, row := range e.page(golden.Admin, "/odata/Queues?$expand="+url.PathEscape("Agents($orderby=AgentId)")).Value {
			var got []int
			for _, a := range row["Agents"].([]any) {
				n, _ := a.(map[string]any)["AgentId"].(json.Number).Int64()
				got = append(got, int(n))
			}
			want := wantAgents[jsonText(row["QueueId"])]
			slices.Sort(want)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("queue %v: agents %v, want %v", row["QueueId"], got, want)
			}
		}

		// Nested options.
		var busiest int64
		for id, n := range perSession {
			if n > perSession[busiest] || (n == perSession[busiest] && id < busiest) {
				busiest = id
			}
		}
		a := e.get(golden.Admin, fmt.Sprintf("/odata/Sessions(%d)?$select=SessionId&$expand=%s", busiest,
			url.PathEscape("Transcript($filter=SenderType ne 'system';$orderby=Seq desc;$top=3;$skip=1;$select=Seq,SenderType)")))
		one := entityOf(t, a)
		if one["@odata.context"] != base+"/$metadata#Sessions(SessionId,Transcript(Seq,SenderType))/$entity" {
			t.Errorf("entity context %v", one["@odata.context"])
		}
		var want []string
		for i := len(msgs) - 1; i >= 0; i-- {
			if m := msgs[i]; int64(m.SessionID) == busiest && m.SenderType != "system" {
				want = append(want, fmt.Sprint(m.Seq))
			}
		}
		want = want[1:min(4, len(want))]
		var got []string
		for _, m := range one["Transcript"].([]any) {
			mm := m.(map[string]any)
			if len(mm) != 2 || mm["SenderType"] == "system" {
				t.Errorf("nested $select/$filter: %v", mm)
			}
			got = append(got, jsonText(mm["Seq"]))
		}
		if !slices.Equal(got, want) {
			t.Errorf("nested $orderby/$skip/$top: %v, want %v", got, want)
		}

		// One query per navigation, whatever the page size.
		n := countQueries(t, db)
		queries := func(path string) int64 {
			before := n.Load()
			e.page(golden.Admin, path)
			return n.Load() - before
		}
		plain2, plain20 := queries("/odata/Sessions?$top=2"), queries("/odata/Sessions?$top=20")
		exp2 := queries("/odata/Sessions?$top=2&$expand=Queue,RatingDetails,Transcript,Transfers")
		exp20 := queries("/odata/Sessions?$top=20&$expand=Queue,RatingDetails,Transcript,Transfers")
		t.Logf("queries: %d/%d without $expand, %d/%d with four navigations", plain2, plain20, exp2, exp20)
		if plain20 == 0 || exp20 <= plain20 || plain2 != plain20 || exp2 != exp20 || exp20-plain20 > 8 {
			t.Errorf("queries: %d/%d without $expand, %d/%d with four navigations", plain2, plain20, exp2, exp20)
		}

		// The caller's queues, inside every expansion and set.
		for _, row := range e.page(golden.Alice, "/odata/Queues?$expand=Sessions($select=SessionId,QueueId)").Value {
			for _, s := range row["Sessions"].([]any) {
				if q := jsonText(s.(map[string]any)["QueueId"]); q != jsonText(row["QueueId"]) || q == "3" {
					t.Errorf("alice's queue %v expands %v", row["QueueId"], s)
				}
			}
		}
		var hidden []int64
		db.Model(&models.ChatSession{}).Where("queue_id = 3").Pluck("id", &hidden)
		for _, m := range e.page(golden.Alice, "/odata/Messages?$top=5000").Value {
			id, _ := m["SessionId"].(json.Number).Int64()
			if slices.Contains(hidden, id) {
				t.Errorf("alice reads a line of session %d", id)
			}
		}
		if a := e.get(golden.Alice, fmt.Sprintf("/odata/Sessions(%d)?$expand=Transcript", hidden[0])); a.status != 404 {
			t.Errorf("hidden session expanded: %d", a.status)
		}
		if a := e.get(golden.Alice, fmt.Sprintf("/odata/Messages?$filter=SessionId%%20eq%%20%d", hidden[0])); !strings.Contains(a.body, `"value":[]`) {
			t.Errorf("hidden transcript: %s", a.body)
		}

		// The Messages set: rows as stored, internal notes marked.
		all := e.page(golden.Admin, "/odata/Messages?$top=5000&$orderby=SessionId,Seq").Value
		if len(all) != len(msgs) {
			t.Fatalf("%d messages, want %d", len(all), len(msgs))
		}
		internal := 0
		for _, m := range msgs {
			if m.IsInternal {
				internal++
			}
		}
		gotInternal := 0
		for _, m := range all {
			if m["Visibility"] == "internal" {
				gotInternal++
			}
		}
		if gotInternal != internal {
			t.Errorf("%d internal notes, want %d", gotInternal, internal)
		}

		// $metadata: navigation properties, constraints, bindings.
		md := e.get(golden.Admin, "/odata/$metadata").body
		for _, re := range []string{
			`<NavigationProperty Name="Queue" Type="Chime.Queues" Nullable="false"><ReferentialConstraint Property="QueueId" ReferencedProperty="QueueId"/></NavigationProperty>`,
			`<NavigationProperty Name="Transcript" Type="Collection\(Chime.Messages\)"/>`,
			`<EntitySet Name="Sessions" EntityType="Chime.Sessions"><NavigationPropertyBinding Path="Queue" Target="Queues"/>`,
			`(?s)<EntityType Name="Messages">.*<NavigationProperty Name="Session" Type="Chime.Sessions" Nullable="false"><ReferentialConstraint Property="SessionId" ReferencedProperty="SessionId"/>`,
		} {
			if !regexp.MustCompile(re).MatchString(md) {
				t.Errorf("$metadata lacks %s", re)
			}
		}

		// What is refused.
		for _, c := range []struct {
			q      string
			status int
		}{
			{"$expand=Transcript($expand=Session)", 501},
			{"$expand=Queue/Sessions", 501},
			{"$expand=Transcript($nope=1)", 400},
			{"$expand=Transcript($top=-1)", 400},
			{"$expand=Transcript($filter=Nope eq 1)", 400},
			{"$expand=Queue,Queue", 400},
			{"$expand=Transcript(", 400},
			{"$apply=groupby((QueueId))&$expand=Queue", 501},
			{"$format=csv&$expand=Queue", 501},
		} {
			a := e.get(golden.Admin, "/odata/Sessions?"+strings.ReplaceAll(c.q, " ", "%20"))
			if a.status != c.status {
				t.Errorf("%s: %d, want %d: %.200s", c.q, a.status, c.status, a.body)
				continue
			}
			odataError(t, a)
		}
	})
}

// TestCSDLNavigation parses $metadata and checks every navigation
// property: its type is an entity type of the schema, its referential
// constraint names a property of each side with the same type, and every
// binding of a set names one of its type's navigations and an existing set.
func TestCSDLNavigation(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), odata.Options{})
	var doc struct {
		Schemas []struct {
			Types []struct {
				Name  string `xml:"Name,attr"`
				Props []struct {
					Name string `xml:"Name,attr"`
					Type string `xml:"Type,attr"`
				} `xml:"Property"`
				Navs []struct {
					Name       string `xml:"Name,attr"`
					Type       string `xml:"Type,attr"`
					Constraint []struct {
						Property   string `xml:"Property,attr"`
						Referenced string `xml:"ReferencedProperty,attr"`
					} `xml:"ReferentialConstraint"`
				} `xml:"NavigationProperty"`
			} `xml:"EntityType"`
			Sets []struct {
				Name     string `xml:"Name,attr"`
				Type     string `xml:"EntityType,attr"`
				Bindings []struct {
					Path   string `xml:"Path,attr"`
					Target string `xml:"Target,attr"`
				} `xml:"NavigationPropertyBinding"`
			} `xml:"EntityContainer>EntitySet"`
		} `xml:"DataServices>Schema"`
	}
	if err := xml.Unmarshal([]byte(e.get(golden.Admin, "/odata/$metadata").body), &doc); err != nil || len(doc.Schemas) != 1 {
		t.Fatalf("$metadata: %v", err)
	}
	s := doc.Schemas[0]
	props := map[string]map[string]string{} // type → property → Edm type
	navs := map[string]map[string]bool{}
	for _, et := range s.Types {
		props[et.Name], navs[et.Name] = map[string]string{}, map[string]bool{}
		for _, p := range et.Props {
			props[et.Name][p.Name] = p.Type
		}
	}
	count := 0
	for _, et := range s.Types {
		for _, n := range et.Navs {
			count++
			target := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(n.Type, "Collection("), "Chime."), ")")
			if _, ok := props[target]; !ok {
				t.Errorf("%s.%s: type %s is not an entity type", et.Name, n.Name, n.Type)
				continue
			}
			if _, clash := props[et.Name][n.Name]; clash || navs[et.Name][n.Name] {
				t.Errorf("%s.%s: the name is taken", et.Name, n.Name)
			}
			navs[et.Name][n.Name] = true
			for _, c := range n.Constraint {
				if a, b := props[et.Name][c.Property], props[target][c.Referenced]; a == "" || a != b {
					t.Errorf("%s.%s: constraint %s → %s (%q, %q)", et.Name, n.Name, c.Property, c.Referenced, a, b)
				}
			}
		}
	}
	sets := map[string]bool{}
	for _, set := range s.Sets {
		sets[set.Name] = true
	}
	for _, set := range s.Sets {
		for _, b := range set.Bindings {
			if !navs[strings.TrimPrefix(set.Type, "Chime.")][b.Path] || !sets[b.Target] {
				t.Errorf("%s: binding %s → %s", set.Name, b.Path, b.Target)
			}
		}
	}
	if count < 10 {
		t.Errorf("only %d navigation properties", count)
	}
}

// TestExpandQueryCount: every navigation expanded at once, with nested
// options, costs the same number of queries for a page of 2 parents and a
// page of 20 (one query per expanded navigation, plus one per navigation
// through a table, never one per row), on collections, entities and
// navigation paths alike; nested $count counts a parent's related rows
// before $skip and $top.
func TestExpandQueryCount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		db := b.DB
		n := countQueries(t, db)
		queries := func(path string) int64 {
			t.Helper()
			before := n.Load()
			p := e.page(golden.Admin, path)
			if len(p.Value) == 0 {
				t.Fatalf("%s: no rows", path)
			}
			return n.Load() - before
		}
		every := url.PathEscape("Queue($select=QueueName),RatingDetails,BotInteraction,FirstAgent,LastAgent," +
			"Transcript($filter=SenderType ne 'system';$orderby=Seq desc;$top=2;$skip=1;$select=Seq;$count=true)," +
			"Transfers($select=SessionId),Participants($orderby=JoinedAt;$top=1),Offers($count=true),Keywords($filter=Source eq 'question')")
		for _, c := range []struct {
			name       string
			path       func(top int) string
			extraAtMax int64 // queries an expansion may add beyond the page itself
		}{
			{"every Sessions navigation", func(top int) string { return fmt.Sprintf("/odata/Sessions?$top=%d&$expand=%s", top, every) }, 3 * 10},
			{"Queues", func(top int) string {
				return fmt.Sprintf("/odata/Queues?$top=%d&$expand=%s", top, url.PathEscape("Sessions($filter=State ne 'Abandoned';$top=3;$count=true),Agents($select=AgentId)"))
			}, 3 * 2},
			{"Messages", func(top int) string {
				return fmt.Sprintf("/odata/Messages?$top=%d&$expand=Session($select=QueueId)", top)
			}, 3},
			{"a navigation path", func(top int) string {
				return fmt.Sprintf("/odata/Queues(1)/Sessions?$top=%d&$expand=%s", top, url.PathEscape("Transcript($top=1;$count=true),Queue"))
			}, 3 * 2},
		} {
			plain := queries(strings.SplitN(c.path(20), "&$expand", 2)[0])
			small, large := queries(c.path(2)), queries(c.path(20))
			t.Logf("%s: %d queries without $expand, %d for 2 parents, %d for 20", c.name, plain, small, large)
			if small != large || large <= plain || large-plain > c.extraAtMax {
				t.Errorf("%s: %d queries without $expand, %d for 2 parents, %d for 20", c.name, plain, small, large)
			}
		}

		// Nested $count: the related rows before $skip and $top.
		var msgs []models.SessionMessage
		db.Find(&msgs)
		nonSystem := map[string]int{}
		for _, m := range msgs {
			if m.SenderType != "system" {
				nonSystem[fmt.Sprint(m.SessionID)]++
			}
		}
		checked := 0
		for _, row := range e.page(golden.Admin, "/odata/Sessions?$expand="+every).Value {
			id := jsonText(row["SessionId"])
			if got := jsonText(row["Transcript@odata.count"]); got != fmt.Sprint(nonSystem[id]) {
				t.Errorf("session %s: Transcript@odata.count %s, want %d", id, got, nonSystem[id])
			}
			if lines := row["Transcript"].([]any); len(lines) != max(0, min(2, nonSystem[id]-1)) {
				t.Errorf("session %s: %d lines for $skip=1;$top=2 of %d", id, len(lines), nonSystem[id])
			}
			if _, ok := row["Offers@odata.count"]; !ok {
				t.Errorf("session %s: no Offers@odata.count", id)
			}
			if _, ok := row["Participants@odata.count"]; ok {
				t.Errorf("session %s: Participants@odata.count without $count", id)
			}
			checked++
		}
		if checked == 0 {
			t.Fatal("no sessions")
		}
		a := e.get(golden.Admin, "/odata/Sessions?$top=1&$expand="+url.PathEscape("Transcript($count=true)"), "Accept", "application/json;IEEE754Compatible=true")
		if !regexp.MustCompile(`"Transcript@odata.count":"[0-9]+"`).MatchString(a.body) {
			t.Errorf("IEEE754Compatible nested count: %.300s", a.body)
		}
		for _, q := range []string{"Queue($count=true)", "Transcript($count=maybe)"} {
			if a := e.get(golden.Admin, "/odata/Sessions?$expand="+url.PathEscape(q)); a.status != 400 {
				t.Errorf("%s: %d", q, a.status)
			} else {
				odataError(t, a)
			}
		}
	})
}
