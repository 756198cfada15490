package reports_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
	"github.com/chime-reports/chime-reports/reports/textindex"
)

// TestStoredKeywordsEqualRaw: TopKeywords and KeywordTrendByDay answer,
// for random windows, zones (Kathmandu's +05:45 and Lord Howe's
// half-hour change among them), intervals and queues, exactly what the
// raw engine answers: before the store is built, after the build, with
// keyword changes the maintenance has not seen (sessions closed and
// indexed late, a re-index with another stop word, sentiment changed,
// sessions re-queued and moved in time, new sessions with keywords and
// old timestamps, a re-index of every session), after a pass, and after
// deletes and a sweep.
func TestStoredKeywordsEqualRaw(t *testing.T) {
	top, _ := reports.Lookup("TopKeywords")
	trend, _ := reports.Lookup("KeywordTrendByDay")
	if !trend.TakesInterval() || top.TakesInterval() {
		t.Fatal("KeywordTrendByDay must take an interval, TopKeywords not")
	}
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := b.DB
		if _, err := fixtures.Load(ctx, db, fixtures.Options{Start: storeDataStart, End: storeDataEnd, Sessions: 1200, Seed: 7, Now: storeNow}); err != nil {
			t.Fatal(err)
		}
		e := reports.NewEngine(db, func() time.Time { return storeNow })
		raw := e.RawOnly()
		r := rand.New(rand.NewPCG(5, 6))
		// Sessions still open when the store is built: not indexed yet,
		// no keywords.
		var ids []uint
		db.Model(&models.ChatSession{}).Where("keywords_indexed_at IS NOT NULL").Order("id").Pluck("id", &ids)
		for i := 0; i < 40; i++ {
			id := ids[r.IntN(len(ids))]
			for _, stmt := range []string{"DELETE FROM session_keywords WHERE session_id = ?",
				"UPDATE chat_sessions SET state = 'Connected', ended_at = NULL, end_reason = NULL, keywords_indexed_at = NULL WHERE id = ? AND accepted_at IS NOT NULL"} {
				if err := db.Exec(stmt, id).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
		var nonEmpty int
		check := func(what string, n int) {
			t.Helper()
			for i := 0; i < n; i++ {
				q := randomSeriesQuery(r, []*reports.Report{trend})
				if r.IntN(2) == 0 {
					q.Report, q.Interval = top, ""
				}
				got, want := runRows(t, e, q), runRows(t, raw, q)
				if err := sameRows(got, want); err != nil {
					t.Fatalf("%s: %s %s %s–%s queue %d interval %q: %v", what, q.Report.Name, q.Window.Zone, q.Window.Start, q.Window.Stop, q.QueueID, q.Interval, err)
				}
				if len(want) > 0 {
					nonEmpty++
				}
			}
		}
		check("store not built", 10)
		if _, err := store.Rebuild(ctx, db, time.Second, store.BuildOptions{BatchSize: 300}); err != nil {
			t.Fatal(err)
		}
		check("after the build", 40)
		keywordStoreIsRead(t, db, e, raw)
		check("after a rebuild", 10)

		mutateKeywords(t, db, r, 0)
		check("keyword changes pending", 40)
		if _, err := store.Pass(ctx, db, time.Second, store.PassOptions{}); err != nil {
			t.Fatal(err)
		}
		check("after a pass", 25)
		mutateKeywords(t, db, r, 1)
		mutateSessions(t, db, r, false)
		check("re-index pending", 25)
		// Deletes are seen by the sweep (until then a read may still
		// count a deleted session: docs/architecture.md).
		mutateSessions(t, db, r, true)
		if _, err := store.Pass(ctx, db, time.Second, store.PassOptions{Sweep: true}); err != nil {
			t.Fatal(err)
		}
		check("after deletes and a sweep", 25)
		if nonEmpty < 100 {
			t.Fatalf("only %d of the answers compared had rows", nonEmpty)
		}
	})
}

// keywordStoreIsRead: a wrong stored day changes TopKeywords and a wrong
// stored hour changes the keyword trend in New York (whose local days are
// not UTC days), and neither changes the raw answers; a rebuild repairs
// them.
func keywordStoreIsRead(t *testing.T, db *gorm.DB, e, raw *reports.Engine) {
	t.Helper()
	top, _ := reports.Lookup("TopKeywords")
	trend, _ := reports.Lookup("KeywordTrendByDay")
	ny, _ := time.LoadLocation("America/New_York")
	for _, c := range []struct {
		q       reports.Query
		corrupt string
	}{
		{reports.Query{Report: top, Window: reports.Window{Start: storeDataStart, Stop: storeDataEnd, Zone: time.UTC}},
			"UPDATE " + store.KeywordDayTable + " SET sessions = sessions + 1000 WHERE queue_id = 1 AND keyword <> ''"},
		{reports.Query{Report: trend, Window: reports.Window{Start: reports.LocalMidnight(2021, 3, 2, ny), Stop: reports.LocalMidnight(2021, 4, 2, ny), Zone: ny}},
			"UPDATE " + store.KeywordHourTable + " SET sessions = sessions + 7 WHERE queue_id = 1"},
	} {
		q := c.q
		q.QueueID, q.Visible = 1, []uint32{1, 2, 3, 4, 5}
		before := runRows(t, e, q)
		if len(before) == 0 {
			t.Fatalf("%s: no rows", q.Report.Name)
		}
		if err := sameRows(before, runRows(t, raw, q)); err != nil {
			t.Fatalf("%s before the change: %v", q.Report.Name, err)
		}
		if err := db.Exec(c.corrupt).Error; err != nil {
			t.Fatal(err)
		}
		if sameRows(runRows(t, e, q), before) == nil {
			t.Fatalf("%s: a changed stored keyword row does not change the store-backed answer: the store is not read", q.Report.Name)
		}
		if sameRows(runRows(t, raw, q), before) != nil {
			t.Fatalf("%s: the raw engine read the keyword store", q.Report.Name)
		}
		if _, err := store.Rebuild(context.Background(), db, time.Second, store.BuildOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := sameRows(runRows(t, e, q), before); err != nil {
			t.Fatalf("%s after a rebuild: %v", q.Report.Name, err)
		}
	}
}

// mutateKeywords changes keywords the way the service and the write side
// do: open sessions are closed and indexed late (textindex), sessions
// change sentiment, queue and start (their keyword copies follow, as the
// write-side invariants require), sessions with old timestamps are
// inserted with keywords, and in round 1 the whole index is rebuilt with
// the most frequent keyword as an extra stop word.
func mutateKeywords(t *testing.T, db *gorm.DB, r *rand.Rand, round int) {
	t.Helper()
	ctx := context.Background()
	exec := func(stmt string, args ...any) {
		t.Helper()
		if err := db.Exec(stmt, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	now := func() time.Time { return models.UTC(time.Now()) }
	// Late keywords: open sessions end, then the indexer runs.
	var open []uint
	db.Model(&models.ChatSession{}).Where("ended_at IS NULL").Order("id").Pluck("id", &open)
	if len(open) < 4 {
		t.Fatalf("only %d open sessions to close", len(open))
	}
	// They closed a while ago and a pass has seen them close (another
	// session changed since, so the watermark is past them): only the
	// indexer's writes tell the store their keywords changed.
	for _, id := range open[:len(open)/2] {
		exec("UPDATE chat_sessions SET state = 'Completed', ended_at = last_activity_at, end_reason = 'agent_left', updated_at = ? WHERE id = ?",
			now().Add(-10*time.Minute), id)
	}
	exec("UPDATE chat_sessions SET updated_at = ? WHERE id = (SELECT MIN(id) FROM chat_sessions)", now())
	if _, err := store.Pass(ctx, db, time.Second, store.PassOptions{}); err != nil {
		t.Fatal(err)
	}
	opt := textindex.Options{}
	if round == 1 {
		var kw string
		db.Raw("SELECT keyword FROM session_keywords WHERE source = 'question' GROUP BY keyword ORDER BY COUNT(*) DESC, keyword LIMIT 1").Row().Scan(&kw)
		opt = textindex.Options{Rebuild: true, StopWords: []string{kw}}
	}
	st, err := textindex.NewIndexer(db, func() time.Time { return storeNow }).Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sessions == 0 || st.Keywords == 0 {
		t.Fatalf("the indexer indexed nothing: %+v", st)
	}
	var ids []uint
	db.Model(&models.ChatSession{}).Where("keywords_indexed_at IS NOT NULL").Order("id").Pluck("id", &ids)
	pick := func() uint { return ids[r.IntN(len(ids))] }
	at := func() time.Time { return storeDataStart.Add(time.Duration(r.IntN(40*24*60)) * time.Minute) }
	for i := 0; i < 10; i++ {
		exec("UPDATE chat_sessions SET sentiment_score = ?, updated_at = ? WHERE id = ?", float64(r.IntN(2001)-1000)/1000, now(), pick())
		id, q := pick(), 1+r.IntN(5)
		exec("UPDATE chat_sessions SET queue_id = ?, updated_at = ? WHERE id = ?", q, now(), id)
		exec("UPDATE session_keywords SET queue_id = ? WHERE session_id = ?", q, id)
		id, a := pick(), at()
		exec("UPDATE chat_sessions SET started_at = ?, updated_at = ? WHERE id = ?", a, now(), id)
		exec("UPDATE session_keywords SET started_at = ? WHERE session_id = ?", a, id)
	}
	// Sessions of a bulk load: old timestamps, larger ids, keywords.
	for i := 0; i < 4; i++ {
		a := at()
		s := models.ChatSession{SessionGUID: fmt.Sprintf("kw-%d-%d-%d", round, time.Now().UnixNano(), i), ConversationGUID: "c", QueueID: uint32(1 + r.IntN(5)),
			SeekerID: 1, EntryPoint: "teams", State: "Completed", StartedAt: a, QueuedAt: &a, EndedAt: ptrTo(a.Add(10 * time.Minute)),
			LastActivityAt: a, CreatedAt: a, UpdatedAt: a, KeywordsIndexedAt: &a, SentimentScore: ptrTo(-0.25)}
		if err := db.Session(&gorm.Session{SkipHooks: true}).Create(&s).Error; err != nil {
			t.Fatal(err)
		}
		exec("UPDATE chat_sessions SET updated_at = ? WHERE id = ?", a, s.ID)
		for j, kw := range []string{"printer", "password", "zebra"} {
			src := []string{"question", "seeker", "agent"}[(i+j)%3]
			if err := db.Create(&models.SessionKeyword{SessionID: s.ID, Source: src, Keyword: kw, Occurrences: uint16(1 + j),
				QueueID: s.QueueID, StartedAt: a}).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
}
