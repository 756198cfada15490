package reports_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

// answerQueries are closed-window questions over every report but the
// session logs: random windows, zones, intervals, queues and visible sets.
func answerQueries(r *rand.Rand, n int) []reports.Query {
	var all []*reports.Report
	for _, rep := range reports.All() {
		if !rep.SessionLog {
			all = append(all, rep)
		}
	}
	var out []reports.Query
	for len(out) < n {
		for _, rep := range all {
			q := randomSeriesQuery(r, []*reports.Report{rep})
			if q.Window.Stop.After(storeNow) {
				q.Window.Start = q.Window.Start.Add(-14 * 24 * time.Hour)
				q.Window.Stop = storeNow.Add(-time.Duration(r.IntN(200)) * time.Hour)
			}
			if !q.Window.Start.Before(q.Window.Stop) {
				q.Window.Start = q.Window.Stop.Add(-7 * 24 * time.Hour)
			}
			if r.IntN(4) == 0 {
				q.Visible = []uint32{1, 3}
				if q.QueueID != 0 {
					q.QueueID = q.Visible[r.IntN(2)]
				}
			}
			out = append(out, q)
		}
	}
	return out
}

// answerEngines loads generated data into db (the store test's six weeks,
// seed and size given) and returns an answer cache of maxBytes, an engine
// that answers through it and one that computes every answer, both with
// the clock at storeNow.
func answerEngines(t *testing.T, db *gorm.DB, sessions int, seed int64, maxBytes int64) (*reports.AnswerCache, *reports.Engine, *reports.Engine) {
	t.Helper()
	if _, err := fixtures.Load(context.Background(), db, fixtures.Options{Start: storeDataStart, End: storeDataEnd, Sessions: sessions, Seed: seed, Now: storeNow}); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return storeNow }
	cache := reports.NewAnswerCache(maxBytes)
	return cache, reports.NewEngine(db, clock).WithAnswers(cache), reports.NewEngine(db, clock)
}

// TestAnswerCacheEqualsComputation: an engine with an answer cache
// answers every question exactly as an engine without one, before and
// after each kind of change the data version must see (sessions updated,
// re-queued, moved, inserted with old stamps and deleted; ratings added
// and removed without touching their session; a transcript row deleted;
// a queue and a user renamed), and a question asked again at an
// unchanged version is not computed again.
func TestAnswerCacheEqualsComputation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := b.DB
		cache, cached, fresh := answerEngines(t, db, 600, 11, 64<<20)
		if _, err := store.Rebuild(ctx, db, time.Second, store.BuildOptions{BatchSize: 500}); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(5, 6))
		qs := answerQueries(r, 80)
		compare := func(what string) {
			t.Helper()
			for _, q := range qs {
				got, want := runRows(t, cached, q), runRows(t, fresh, q)
				if err := sameRows(got, want); err != nil {
					t.Fatalf("%s: %s %s %s–%s queue %d visible %v interval %q: %v", what, q.Report.Name, q.Window.Zone,
						q.Window.Start, q.Window.Stop, q.QueueID, q.Visible, q.Interval, err)
				}
			}
		}
		exec := func(stmt string, args ...any) {
			t.Helper()
			if err := db.Exec(stmt, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		compare("first asked")
		first := cache.Stats()
		if first.Computed == 0 || first.Entries == 0 {
			t.Fatalf("nothing was cached: %+v", first)
		}
		compare("asked again")
		again := cache.Stats()
		if again.Computed != first.Computed {
			t.Fatalf("unchanged data: %d answers computed again", again.Computed-first.Computed)
		}
		if again.Hits-first.Hits < int64(first.Computed) {
			t.Fatalf("unchanged data: %d hits for %d cached answers", again.Hits-first.Hits, first.Computed)
		}

		var sid uint
		db.Model(&models.ChatSession{}).Where("accepted_at IS NOT NULL").Order("id").Limit(1).Pluck("id", &sid)
		changes := []struct {
			name  string
			apply func()
		}{
			{"sessions changed, inserted and deleted", func() { mutateSessions(t, db, r, true) }},
			{"a rating added without touching its session", func() {
				exec("DELETE FROM session_ratings WHERE session_id = ?", sid)
				exec("INSERT INTO session_ratings (session_id, queue_id, rating, scale_max, submitted_at) SELECT id, queue_id, 1, 5, ? FROM chat_sessions WHERE id = ?",
					models.UTC(time.Now()), sid)
			}},
			{"a rating removed without touching its session", func() { exec("DELETE FROM session_ratings WHERE session_id = ?", sid) }},
			{"a transcript row deleted", func() {
				exec("DELETE FROM session_messages WHERE id = (SELECT MIN(id) FROM session_messages WHERE session_id = ?)", sid)
			}},
			{"a queue renamed", func() { exec("UPDATE queues SET name = 'Renamed' WHERE id = 1") }},
			{"an agent left queue 1", func() {
				exec("DELETE FROM queue_members WHERE queue_id = 1 AND user_id = (SELECT MIN(user_id) FROM queue_members WHERE queue_id = 1 AND role = 'agent')")
			}},
			{"an agent renamed", func() {
				exec("UPDATE users SET display_name = 'Renamed agent' WHERE id = (SELECT first_agent_id FROM chat_sessions WHERE id = ?)", sid)
			}},
		}
		for _, c := range changes {
			before := cache.Stats()
			c.apply()
			compare(c.name)
			if cache.Stats().Computed == before.Computed {
				t.Fatalf("%s: no answer was computed again", c.name)
			}
		}
	})
}

// TestAnswerCacheBounds: answers of open windows and of reports that read
// unstamped rows (agent presence) are always computed; the cache keeps
// within its size; a consumer that writes into a served row does not
// change the cached answer; concurrent askers of one question share one
// computation.
func TestAnswerCacheBounds(t *testing.T) {
	b := dbtest.SQLite(t)
	ctx := context.Background()
	cache, e, _ := answerEngines(t, b.DB, 300, 3, 1<<20)
	rep := func(name string) *reports.Report {
		r, ok := reports.Lookup(name)
		if !ok {
			t.Fatal(name)
		}
		return r
	}
	all := []uint32{1, 2, 3, 4, 5}
	closed := reports.Window{Start: storeDataStart, Stop: storeDataStart.Add(20 * 24 * time.Hour), Zone: time.UTC}
	open := reports.Window{Start: storeDataStart, Stop: storeNow.Add(time.Hour), Zone: time.UTC}

	for _, q := range []reports.Query{
		{Report: rep("InboundVsAnsweredChats"), Window: open, QueueID: 1, Visible: all},
		{Report: rep("AgentUtilization"), Window: closed, QueueID: 2, Visible: all},
		{Report: rep("QueueChatSessionLog"), Window: closed, QueueID: 1, Visible: all},
	} {
		runRows(t, e, q)
		runRows(t, e, q)
		if s := cache.Stats(); s.Hits != 0 || s.Entries != 0 {
			t.Fatalf("%s: served from the cache: %+v", q.Report.Name, s)
		}
	}

	q := reports.Query{Report: rep("InboundVsAnsweredChats"), Window: closed, QueueID: 1, Visible: all}
	res, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := reports.Collect(res.Rows)
	res, _ = e.Run(ctx, q)
	for res.Rows.Next() {
		row := res.Rows.Row()
		for i := range row {
			row[i] = "overwritten"
		}
	}
	if got := runRows(t, e, q); sameRows(got, want) != nil {
		t.Fatalf("a consumer changed the cached answer: %v", got)
	}

	// 40 days of hourly rows per window: about 80 KB each, so a 1 MiB
	// cache holds a dozen.
	for d := 0; d < 30; d++ {
		w := reports.Window{Start: storeDataStart.Add(time.Duration(d) * time.Hour), Stop: storeDataStart.Add(time.Duration(d)*time.Hour + 30*24*time.Hour), Zone: time.UTC}
		runRows(t, e, reports.Query{Report: rep("InboundVsAnsweredChats"), Window: w, QueueID: 1, Visible: all, Interval: store.PT1H})
		if s := cache.Stats(); s.Bytes > s.MaxBytes {
			t.Fatalf("cache over its size: %+v", s)
		}
	}
	if s := cache.Stats(); s.Entries >= 31 {
		t.Fatalf("nothing evicted: %+v", s)
	}

	cold := reports.Query{Report: rep("GlobalChatsPerDay"), Window: closed, Visible: all}
	before := cache.Stats().Computed
	var wg sync.WaitGroup
	answers := make([][][]any, 16)
	start := make(chan struct{})
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := e.Run(ctx, cold)
			if err != nil {
				t.Error(err)
				return
			}
			answers[i], _ = reports.Collect(res.Rows)
		}()
	}
	close(start)
	wg.Wait()
	if n := cache.Stats().Computed - before; n != 1 {
		t.Fatalf("16 concurrent askers: %d computations", n)
	}
	for _, a := range answers[1:] {
		if !slices.EqualFunc(a, answers[0], func(x, y []any) bool { return sameRows([][]any{x}, [][]any{y}) == nil }) {
			t.Fatal("concurrent askers got different answers")
		}
	}
}

// TestAnswerCacheSharesDays: the daily series keep one entry per local
// day, so windows that overlap compute only the days they add; each
// answer equals the computed one, across DST changes (New York's spring
// forward, Lord Howe's 30-minute change) and in Kathmandu (+05:45), with
// windows that start or end inside a day. The windows are given in their
// zone's location (not UTC), which the engine must read as the same
// instants (on SQLite a time bound in another location compared as text).
func TestAnswerCacheSharesDays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		cache, cached, fresh := answerEngines(t, b.DB, 400, 13, 64<<20)
		for _, name := range []string{"WaitTimeByDay", "InboundVsAnsweredChats", "GlobalChatsPerDay"} {
			rep, _ := reports.Lookup(name)
			for _, zoneName := range []string{"America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"} {
				zone, _ := time.LoadLocation(zoneName)
				first := time.Date(2021, 3, 2, 0, 0, 0, 0, zone)
				for k := 0; k < 8; k++ {
					w := reports.Window{Start: first.AddDate(0, 0, 3*k), Stop: first.AddDate(0, 0, 3*k+10), Zone: zone}
					if k%3 == 2 { // inside a day at both ends
						w.Start, w.Stop = w.Start.Add(7*time.Hour), w.Stop.Add(-5*time.Hour)
					}
					q := reports.Query{Report: rep, Window: w, Visible: []uint32{1, 2, 3, 4, 5}}
					if rep.RequiresQueue() {
						q.QueueID = 2
					}
					before := cache.Stats().Computed
					got, want := runRows(t, cached, q), runRows(t, fresh, q)
					if err := sameRows(got, want); err != nil {
						t.Fatalf("%s %s %s–%s: %v", name, zoneName, w.Start, w.Stop, err)
					}
					if n := cache.Stats().Computed - before; k > 0 && k%3 != 2 && k%3 != 0 && n != 1 {
						// The window adds three whole days to one asked
						// before: one computation for them.
						t.Fatalf("%s %s window %d: %d computations, want 1 (the days it adds)", name, zoneName, k, n)
					}
				}
			}
		}
	})
}
