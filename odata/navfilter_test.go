package odata_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
)

// TestNavigationFilters: navigation paths and any/all in $filter give the
// sessions an oracle over the raw tables gives, on both back ends, and
// never reach outside the caller's queues.
func TestNavigationFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		var sessions []models.ChatSession
		b.DB.Order("id").Find(&sessions)
		var msgs []models.SessionMessage
		b.DB.Find(&msgs)
		var ratings []models.SessionRating
		b.DB.Find(&ratings)
		var queues []models.Queue
		b.DB.Unscoped().Find(&queues)
		byID := map[uint][]models.SessionMessage{}
		for _, m := range msgs {
			byID[m.SessionID] = append(byID[m.SessionID], m)
		}
		rating := map[uint]uint8{}
		for _, r := range ratings {
			rating[r.SessionID] = r.Rating
		}
		qname := map[uint32]string{}
		for _, q := range queues {
			qname[q.ID] = q.Name
		}
		oracle := func(keep func(s models.ChatSession, ms []models.SessionMessage) bool) []int64 {
			var out []int64
			for _, s := range sessions {
				if keep(s, byID[s.ID]) {
					out = append(out, int64(s.ID))
				}
			}
			return out
		}
		anyMsg := func(ms []models.SessionMessage, f func(models.SessionMessage) bool) bool {
			return slices.ContainsFunc(ms, f)
		}
		for _, c := range []struct {
			filter string
			want   []int64
		}{
			{"Transcript/any(m: m/SenderType eq 'agent')", oracle(func(_ models.ChatSession, ms []models.SessionMessage) bool {
				return anyMsg(ms, func(m models.SessionMessage) bool { return m.SenderType == "agent" })
			})},
			{"Transcript/all(m: m/SenderType ne 'system')", oracle(func(_ models.ChatSession, ms []models.SessionMessage) bool {
				return !anyMsg(ms, func(m models.SessionMessage) bool { return m.SenderType == "system" })
			})},
			{"Transcript/any()", oracle(func(_ models.ChatSession, ms []models.SessionMessage) bool { return len(ms) > 0 })},
			{"not Transcript/any() and QueueId eq 1", oracle(func(s models.ChatSession, ms []models.SessionMessage) bool { return len(ms) == 0 && s.QueueID == 1 })},
			{"Transcript/any(m: m/Visibility eq 'internal' or m/Seq gt 10)", oracle(func(_ models.ChatSession, ms []models.SessionMessage) bool {
				return anyMsg(ms, func(m models.SessionMessage) bool { return m.IsInternal || m.Seq > 10 })
			})},
			{"Queue/QueueName eq 'HR Services'", oracle(func(s models.ChatSession, _ []models.SessionMessage) bool { return qname[s.QueueID] == "HR Services" })},
			{"RatingDetails/Rating ge 4", oracle(func(s models.ChatSession, _ []models.SessionMessage) bool { return rating[s.ID] >= 4 })},
			{"RatingDetails/Rating eq null", oracle(func(s models.ChatSession, _ []models.SessionMessage) bool { _, ok := rating[s.ID]; return !ok })},
		} {
			got := sessionIDs(t, e.allPages(golden.Admin, "/odata/Sessions?$filter="+url.PathEscape(c.filter), "odata.maxpagesize=7"))
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.filter, got, c.want)
			}
			if len(c.want) == 0 {
				t.Errorf("%s: the case matches nothing", c.filter)
			}
		}
		// Alice: the subqueries stay on her sessions.
		if p := e.page(golden.Alice, "/odata/Sessions?$filter="+url.PathEscape("Queue/QueueName eq 'Security Desk' or Transcript/any(m: m/SessionId eq 14)")); len(p.Value) != 0 {
			t.Errorf("alice reaches queue 3: %v", p.Value)
		}
		for _, c := range []struct {
			filter string
			status int
		}{
			{"Transcript/QueueId eq 1", 400},
			{"Queue/any(x: x/QueueId eq 1)", 400},
			{"Queue/Nope eq 1", 400},
			{"Nope/QueueId eq 1", 400},
			{"Transcript/any(m: m/Nope eq 1)", 400},
			{"Transcript/all()", 400},
			{"Transfers/any(x: x/Queue/QueueName eq 'x')", 501},
			{"Transfers/any(x: x/WaitSeconds gt 1)", 501},
			{"FirstAgent/any(a: a/AgentId eq 1)", 400},
			{"Transcript/any(m: Transcript/any(n: n/Seq eq 1))", 501},
			{"Transcript/any(m: QueueId eq 1)", 501},
			{"Queue/Sessions/QueueId eq 1", 501},
		} {
			a := e.get(golden.Admin, "/odata/Sessions?$filter="+url.PathEscape(c.filter))
			if a.status != c.status {
				t.Errorf("%s: %d, want %d: %.200s", c.filter, a.status, c.status, a.body)
				continue
			}
			odataError(t, a)
		}
		if a := e.get(golden.Admin, "/odata/GlobalChatSessionLog?$filter="+url.PathEscape("Queue/QueueName eq 'x'")); a.status != 400 {
			t.Errorf("a path on a set without navigation: %d", a.status)
		}
	})
}

// TestNavigationFiltersEverywhere: any/all over every collection
// navigation and paths through every single-valued one, against oracles
// over the raw tables on both back ends; the related rows of other
// queues (a transfer into a hidden queue, a first agent who works only
// there) count for nothing.
func TestNavigationFiltersEverywhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		db := b.DB
		// A transfer of session 1 into the hidden queue, and a session of
		// queue 1 whose first agent works only on the hidden queue.
		var s1 models.ChatSession
		db.First(&s1, 1)
		leg := s1
		leg.ID, leg.SessionGUID, leg.QueueID, leg.ParentSessionID, leg.State = 0, "00000000-0000-0000-0000-00000000feed", golden.Hidden, ptr(s1.ID), "Completed"
		if err := db.Create(&leg).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&models.ChatSession{}).Where("id = 2").Update("first_agent_id", golden.Carl).Error; err != nil {
			t.Fatal(err)
		}

		var sessions []models.ChatSession
		db.Order("id").Find(&sessions)
		var parts []models.SessionParticipant
		db.Find(&parts)
		var offers []models.SessionOffer
		db.Find(&offers)
		var kws []models.SessionKeyword
		db.Order("session_id, source, keyword").Find(&kws)
		var bots []models.BotInteraction
		db.Find(&bots)
		var users []models.User
		db.Find(&users)
		var members []models.QueueMember
		db.Find(&members)
		if len(parts) == 0 || len(offers) == 0 || len(kws) == 0 || len(bots) == 0 {
			t.Fatal("the golden data lacks related rows")
		}
		name := map[uint]string{}
		for _, u := range users {
			name[u.ID] = u.DisplayName
		}
		agentOf := func(id uint, visible []uint32) bool {
			return slices.ContainsFunc(members, func(m models.QueueMember) bool {
				return m.UserID == id && (m.Role == "agent" || m.Role == "manager") && slices.Contains(visible, m.QueueID)
			})
		}
		all := []uint32{1, 2, 3}
		alice := []uint32{1, 2}
		type sess = models.ChatSession
		oracle := func(visible []uint32, keep func(s sess) bool) []int64 {
			var out []int64
			for _, s := range sessions {
				if slices.Contains(visible, s.QueueID) && keep(s) {
					out = append(out, int64(s.ID))
				}
			}
			return out
		}
		transfers := func(s sess, visible []uint32) []sess {
			var out []sess
			for _, c := range sessions {
				if c.ParentSessionID != nil && *c.ParentSessionID == s.ID && slices.Contains(visible, c.QueueID) {
					out = append(out, c)
				}
			}
			return out
		}
		kw := kws[0].Keyword
		for _, c := range []struct {
			user    uint
			visible []uint32
			filter  string
			keep    func(s sess) bool
		}{
			{golden.Admin, all, "Participants/any(p: p/JoinReason eq 'agent_transfer')", func(s sess) bool {
				return slices.ContainsFunc(parts, func(p models.SessionParticipant) bool { return p.SessionID == s.ID && p.JoinReason == "agent_transfer" })
			}},
			{golden.Admin, all, "Participants/all(p: p/Role eq 'agent') and Participants/any()", func(s sess) bool {
				mine := slices.DeleteFunc(slices.Clone(parts), func(p models.SessionParticipant) bool { return p.SessionID != s.ID })
				return len(mine) > 0 && !slices.ContainsFunc(mine, func(p models.SessionParticipant) bool { return p.Role != "agent" })
			}},
			{golden.Admin, all, "Offers/any(o: o/Outcome ne 'accepted')", func(s sess) bool {
				return slices.ContainsFunc(offers, func(o models.SessionOffer) bool {
					return o.SessionID == s.ID && (o.Outcome == nil || *o.Outcome != "accepted") // null ne 'accepted' is true
				})
			}},
			{golden.Admin, all, "Keywords/any(k: k/Keyword eq '" + kw + "')", func(s sess) bool {
				return slices.ContainsFunc(kws, func(k models.SessionKeyword) bool { return k.SessionID == s.ID && k.Keyword == kw })
			}},
			{golden.Admin, all, "BotInteraction/Turns ge 1", func(s sess) bool {
				return slices.ContainsFunc(bots, func(x models.BotInteraction) bool { return x.SessionID == s.ID && x.Turns >= 1 })
			}},
			{golden.Admin, all, "BotInteraction/Outcome eq null", func(s sess) bool {
				return !slices.ContainsFunc(bots, func(x models.BotInteraction) bool { return x.SessionID == s.ID && x.Outcome != nil })
			}},
			{golden.Admin, all, "Transfers/any()", func(s sess) bool { return len(transfers(s, all)) > 0 }},
			{golden.Alice, alice, "Transfers/any()", func(s sess) bool { return len(transfers(s, alice)) > 0 }},
			{golden.Alice, alice, "Transfers/all(t: t/QueueId ne 3)", func(s sess) bool { return true }},
			{golden.Admin, all, "not Transfers/all(t: t/QueueId ne 3)", func(s sess) bool {
				return slices.ContainsFunc(transfers(s, all), func(c sess) bool { return c.QueueID == 3 })
			}},
			{golden.Admin, all, "Transfers/any(t: t/QueueName eq 'HR Services' and t/Rating eq null)", func(s sess) bool {
				return slices.ContainsFunc(transfers(s, all), func(c sess) bool { return c.QueueID == 2 })
			}},
			{golden.Admin, all, "FirstAgent/AgentName eq '" + name[golden.Carl] + "'", func(s sess) bool {
				return s.FirstAgentID != nil && *s.FirstAgentID == golden.Carl
			}},
			{golden.Alice, alice, "FirstAgent/AgentId eq null", func(s sess) bool {
				return s.FirstAgentID == nil || !agentOf(*s.FirstAgentID, alice)
			}},
			{golden.Admin, all, "LastAgent/AgentId eq " + fmt.Sprint(golden.Ann), func(s sess) bool {
				return s.LastAgentID != nil && *s.LastAgentID == golden.Ann
			}},
		} {
			want := oracle(c.visible, c.keep)
			got := sessionIDs(t, e.allPages(c.user, "/odata/Sessions?$filter="+url.PathEscape(c.filter), "odata.maxpagesize=7"))
			if !slices.Equal(got, want) {
				t.Errorf("user %d: %s: %v, want %v", c.user, c.filter, got, want)
			}
			if len(want) == 0 || (c.filter != "Transfers/all(t: t/QueueId ne 3)" && len(want) == len(oracle(c.visible, func(sess) bool { return true }))) {
				t.Errorf("%s: the case does not discriminate (%d rows)", c.filter, len(want))
			}
		}

		// Queues: any/all over their sessions and agents.
		queueIDs := func(user uint, filter string) []string {
			var out []string
			for _, r := range e.allPages(user, "/odata/Queues?$filter="+url.PathEscape(filter), "") {
				out = append(out, jsonText(r["QueueId"]))
			}
			return out
		}
		for _, c := range []struct {
			user   uint
			filter string
			want   []string
		}{
			{golden.Admin, "Agents/any(a: a/AgentId eq " + fmt.Sprint(golden.Carl) + ")", []string{"3"}},
			{golden.Admin, "Agents/any(a: a/AgentId eq " + fmt.Sprint(golden.Ben) + ") and QueueName ne 'x'", []string{"1", "2"}},
			{golden.Admin, "Sessions/any(s: s/ParentSessionId ne null)", []string{"2", "3"}},
			{golden.Alice, "Sessions/any(s: s/ParentSessionId ne null)", []string{"2"}},
			{golden.Admin, "not Sessions/all(s: s/State ne 'Abandoned')", queuesWith(sessions, func(s sess) bool { return s.State == "Abandoned" })},
			{golden.Alice, "Sessions/any(s: s/QueueId eq 3)", nil},
		} {
			if got := queueIDs(c.user, c.filter); !slices.Equal(got, c.want) {
				t.Errorf("user %d: Queues?$filter=%s: %v, want %v", c.user, c.filter, got, c.want)
			}
		}
		if a := e.get(golden.Admin, "/odata/Queues/$count?$filter="+url.PathEscape("Sessions/any(s: s/ParentSessionId ne null)")); a.body != "2" {
			t.Errorf("Queues/$count with any: %s", a.body)
		}
		if a := e.get(golden.Admin, "/odata/Queues?$apply="+url.PathEscape("filter(Agents/any(a: a/AgentId eq 7))/aggregate($count as N)")); !strings.Contains(a.body, `"N":1`) {
			t.Errorf("Queues $apply with any: %s", a.body)
		}

		// The sets beside Sessions: a path to their session.
		var msgs []models.SessionMessage
		db.Find(&msgs)
		queueOf := map[uint]uint32{}
		stateOf := map[uint]string{}
		for _, s := range sessions {
			queueOf[s.ID], stateOf[s.ID] = s.QueueID, s.State
		}
		var q1 models.Queue
		db.First(&q1, 1)
		qname1 := q1.Name
		wantMsgs := 0
		for _, m := range msgs {
			if queueOf[m.SessionID] == 1 {
				wantMsgs++
			}
		}
		if a := e.get(golden.Admin, "/odata/Messages/$count?$filter="+url.PathEscape("Session/QueueName eq '"+qname1+"' and Session/QueueId eq 1")); a.body != fmt.Sprint(wantMsgs) || wantMsgs == 0 {
			t.Errorf("Messages by their session's queue: %s, want %d", a.body, wantMsgs)
		}
		var ratings []models.SessionRating
		db.Find(&ratings)
		wantRated := 0
		for _, r := range ratings {
			if stateOf[r.SessionID] == "Completed" {
				wantRated++
			}
		}
		if a := e.get(golden.Admin, "/odata/Ratings/$count?$filter="+url.PathEscape("Session/State eq 'Completed'")); a.body != fmt.Sprint(wantRated) || wantRated == 0 {
			t.Errorf("Ratings by their session's state: %s, want %d", a.body, wantRated)
		}
		for _, set := range []string{"Participants", "Offers", "BotInteractions", "Keywords"} {
			n := e.get(golden.Admin, "/odata/"+set+"/$count").body
			if a := e.get(golden.Admin, "/odata/"+set+"/$count?$filter="+url.PathEscape("Session/SessionId eq SessionId")); a.body != n || a.status != 200 {
				t.Errorf("%s: every row's session is its own: %s of %s", set, a.body, n)
			}
		}
		if p := e.page(golden.Alice, "/odata/Keywords?$filter="+url.PathEscape("Session/QueueId eq 3")); len(p.Value) != 0 {
			t.Errorf("alice reaches queue 3 through a path: %v", p.Value)
		}
	})
}

func queuesWith(sessions []models.ChatSession, keep func(models.ChatSession) bool) []string {
	var out []string
	for _, q := range []uint32{1, 2, 3} {
		if slices.ContainsFunc(sessions, func(s models.ChatSession) bool { return s.QueueID == q && keep(s) }) {
			out = append(out, fmt.Sprint(q))
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }
