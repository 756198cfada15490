package odata_test

import (
	"net/url"
	"slices"
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
			{"Transfers/any(x: x/QueueId eq 1)", 501},
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
