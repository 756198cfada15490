package reports_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

// The data of the store property test: six weeks around the spring DST
// changes of New York (14 March), London (28 March) and Lord Howe (4
// April, a 30-minute change), with sessions still open at the end.
var (
	storeDataStart = time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	storeDataEnd   = time.Date(2021, 4, 12, 0, 0, 0, 0, time.UTC)
	storeNow       = storeDataEnd.Add(-36 * time.Hour)
	storeZones     = []string{"America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Asia/Beirut", "America/Santiago"}
)

// TestStoreBackedReportsEqualRaw: every report that reads the interval
// store answers, for random windows, zones, intervals and queues, exactly
// what the raw engine (Engine.RawOnly) answers: before the store is
// built, after the build, with changes the maintenance has not seen
// (updates, re-opened and re-queued sessions, late ratings, inserts with
// old timestamps), after a pass, after deletes and after a threshold
// change. Corrupting a stored interval changes an answer, so the store is
// really read.
func TestStoreBackedReportsEqualRaw(t *testing.T) {
	var series []*reports.Report
	for _, r := range reports.All() {
		if r.TakesInterval() {
			series = append(series, r)
		}
	}
	if len(series) < 10 {
		t.Fatalf("only %d time-series reports", len(series))
	}
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := b.DB
		if _, err := fixtures.Load(ctx, db, fixtures.Options{Start: storeDataStart, End: storeDataEnd, Sessions: 1200, Seed: 7, Now: storeNow}); err != nil {
			t.Fatal(err)
		}
		e := reports.NewEngine(db, func() time.Time { return storeNow })
		raw := e.RawOnly()
		r := rand.New(rand.NewPCG(3, 4))
		check := func(what string, n int) {
			t.Helper()
			for i := 0; i < n; i++ {
				q := randomSeriesQuery(r, series)
				got, want := runRows(t, e, q), runRows(t, raw, q)
				if err := sameRows(got, want); err != nil {
					t.Fatalf("%s: %s %s %s–%s queue %d interval %q: %v", what, q.Report.Name, q.Window.Zone, q.Window.Start, q.Window.Stop, q.QueueID, q.Interval, err)
				}
			}
		}
		check("store not built", 15)
		if _, err := store.Rebuild(ctx, db, time.Second, store.BuildOptions{BatchSize: 500}); err != nil {
			t.Fatal(err)
		}
		check("after the build", 40)
		storeIsRead(t, db, e, raw)
		mutateSessions(t, db, r, false)
		check("changes pending", 40)
		if _, err := store.Pass(ctx, db, time.Second, store.PassOptions{}); err != nil {
			t.Fatal(err)
		}
		check("after a pass", 25)
		mutateSessions(t, db, r, true)
		if _, err := store.Pass(ctx, db, time.Second, store.PassOptions{Sweep: true}); err != nil {
			t.Fatal(err)
		}
		check("after deletes and a sweep", 25)
		if err := db.Exec("UPDATE queues SET sla_threshold_seconds = 17, short_abandon_seconds = 3, updated_at = ? WHERE id = 1", time.Now()).Error; err != nil {
			t.Fatal(err)
		}
		check("thresholds changed", 20)
		if _, err := store.Pass(ctx, db, time.Second, store.PassOptions{}); err != nil {
			t.Fatal(err)
		}
		check("queue rebuilt", 20)
	})
}

// storeIsRead: a wrong stored interval shows in a store-backed answer
// (and not in the raw one), then a rebuild repairs it.
func storeIsRead(t *testing.T, db *gorm.DB, e, raw *reports.Engine) {
	t.Helper()
	rep, _ := reports.Lookup("InboundVsAnsweredChats")
	q := reports.Query{Report: rep, QueueID: 1, Visible: []uint32{1, 2, 3, 4, 5},
		Window: reports.Window{Start: storeDataStart, Stop: storeDataEnd, Zone: time.UTC}, Interval: store.Total}
	before := runRows(t, e, q)
	if err := db.Exec("UPDATE report_intervals_queued SET queued_count = queued_count + 1000 WHERE queue_id = 1").Error; err != nil {
		t.Fatal(err)
	}
	if sameRows(runRows(t, e, q), before) == nil {
		t.Fatal("a changed stored interval does not change the store-backed answer: the store is not read")
	}
	if sameRows(runRows(t, raw, q), before) != nil {
		t.Fatal("the raw engine read the store")
	}
	if _, err := store.Rebuild(context.Background(), db, time.Second, store.BuildOptions{}); err != nil {
		t.Fatal(err)
	}
}

func randomSeriesQuery(r *rand.Rand, series []*reports.Report) reports.Query {
	zone, _ := time.LoadLocation(storeZones[r.IntN(len(storeZones))])
	ivs := append([]store.Interval{""}, store.Intervals...)
	iv := ivs[r.IntN(len(ivs))]
	span := time.Duration(1+r.IntN(40)) * 24 * time.Hour
	switch iv {
	case store.PT15M, store.PT30M, store.PT1H:
		span = time.Duration(1+r.IntN(3)) * 24 * time.Hour
	}
	start := storeDataStart.Add(-24 * time.Hour).Add(time.Duration(r.IntN(44*96)) * 15 * time.Minute)
	stop := start.Add(span).Add(time.Duration(r.IntN(96)) * 15 * time.Minute)
	if r.IntN(8) == 0 { // off the 15-minute grid: raw
		start = start.Add(time.Duration(1+r.IntN(800)) * time.Second)
	}
	rep := series[r.IntN(len(series))]
	q := reports.Query{Report: rep, Window: reports.Window{Start: start, Stop: stop, Zone: zone}, Interval: iv, Visible: []uint32{1, 2, 3, 4, 5}}
	if rep.RequiresQueue() || r.IntN(2) == 0 {
		q.QueueID = uint32(1 + r.IntN(5))
	}
	return q
}

func runRows(t *testing.T, e *reports.Engine, q reports.Query) [][]any {
	t.Helper()
	res, err := e.Run(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q.Report.Name, err)
	}
	defer res.Rows.Close()
	var out [][]any
	for res.Rows.Next() {
		out = append(out, slices.Clone(res.Rows.Row()))
	}
	return out
}

// sameRows compares two answers cell by cell; floats to 1e-9 relative
// (SQLite sums a REAL sentiment score in floating point, the store in
// exact thousandths).
func sameRows(a, b [][]any) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d rows, raw %d", len(a), len(b))
	}
	for i := range a {
		for j := range a[i] {
			x, y := a[i][j], b[i][j]
			if fx, ok := x.(float64); ok {
				if fy, ok := y.(float64); ok && math.Abs(fx-fy) <= 1e-9*math.Max(1, math.Abs(fy)) {
					continue
				}
			}
			if tx, ok := x.(time.Time); ok {
				if ty, ok := y.(time.Time); ok && tx.Equal(ty) {
					continue
				}
			}
			if x != y {
				return fmt.Errorf("row %d column %d: %v, raw %v", i, j, x, y)
			}
		}
	}
	return nil
}

// mutateSessions changes sessions the way the write side does: re-opened
// and re-queued to another queue and day, answered late, abandoned
// quickly, moved in time, rated late (without touching the session), new
// sessions with old timestamps and, when del is set, deletes.
func mutateSessions(t *testing.T, db *gorm.DB, r *rand.Rand, del bool) {
	t.Helper()
	var ids []uint
	db.Model(&models.ChatSession{}).Order("id").Pluck("id", &ids)
	pick := func() uint { return ids[r.IntN(len(ids))] }
	now := func() time.Time { return models.UTC(time.Now()) }
	exec := func(stmt string, args ...any) {
		t.Helper()
		if err := db.Exec(stmt, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	at := func() time.Time { return storeDataStart.Add(time.Duration(r.IntN(40*24*60)) * time.Minute) }
	for i := 0; i < 8; i++ {
		// Re-queued: the keyword copies follow (a write-side invariant).
		id, q := pick(), 1+r.IntN(5)
		exec("UPDATE chat_sessions SET state = 'Waiting', accepted_at = NULL, ended_at = NULL, end_reason = NULL, queue_id = ?, "+
			"queued_at = ?, updated_at = ? WHERE id = ?", q, at(), now(), id)
		exec("UPDATE session_keywords SET queue_id = ? WHERE session_id = ?", q, id)
		exec("UPDATE chat_sessions SET state = 'Completed', accepted_at = ?, ended_at = ?, end_reason = 'agent_left', updated_at = ? "+
			"WHERE id = ? AND queued_at IS NOT NULL", storeDataStart.Add(41*24*time.Hour), storeDataStart.Add(41*24*time.Hour+time.Hour), now(), pick())
		exec("UPDATE chat_sessions SET state = 'Abandoned', accepted_at = NULL, ended_at = queued_at, end_reason = 'seeker_left', updated_at = ? "+
			"WHERE id = ? AND queued_at IS NOT NULL", now(), pick())
		id, a := pick(), at()
		exec("UPDATE chat_sessions SET started_at = ?, sentiment_score = 0.5, updated_at = ? WHERE id = ?", a, now(), id)
		exec("UPDATE session_keywords SET started_at = ? WHERE session_id = ?", a, id)
		id = pick()
		exec("DELETE FROM session_ratings WHERE session_id = ?", id)
		exec("INSERT INTO session_ratings (session_id, queue_id, rating, scale_max, submitted_at) SELECT id, queue_id, ?, 5, ? FROM chat_sessions WHERE id = ?",
			1+r.IntN(5), now(), id)
	}
	for i := 0; i < 3; i++ {
		a := at()
		s := models.ChatSession{SessionGUID: fmt.Sprintf("new-%d-%d", time.Now().UnixNano(), i), ConversationGUID: "c", QueueID: uint32(1 + r.IntN(5)),
			SeekerID: 1, EntryPoint: "teams", State: "Completed", StartedAt: a, QueuedAt: &a, AcceptedAt: ptrTo(a.Add(40 * time.Second)),
			EndedAt: ptrTo(a.Add(10 * time.Minute)), LastActivityAt: a, CreatedAt: a, UpdatedAt: a}
		if err := db.Session(&gorm.Session{SkipHooks: true}).Create(&s).Error; err != nil {
			t.Fatal(err)
		}
		exec("UPDATE chat_sessions SET updated_at = ? WHERE id = ?", a, s.ID)
	}
	if del {
		for i := 0; i < 5; i++ {
			id := pick()
			exec("DELETE FROM session_ratings WHERE session_id = ?", id)
			exec("DELETE FROM bot_interactions WHERE session_id = ?", id)
			exec("DELETE FROM chat_sessions WHERE id = ?", id)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestStoreBucketsMatchReportWindows: the store's buckets are the reports' own: local days as reports.Window.Days,
// hours as reports.Window.Hours, in every zone of the tests.
func TestStoreBucketsMatchReportWindows(t *testing.T) {
	for _, name := range append(storeZones, "UTC") {
		zone, _ := time.LoadLocation(name)
		start, stop := time.Date(2021, 3, 1, 0, 0, 0, 0, zone).UTC(), time.Date(2021, 11, 10, 0, 0, 0, 0, zone).UTC()
		w := reports.Window{Start: start, Stop: stop, Zone: zone}
		for _, c := range []struct {
			iv   store.Interval
			want []reports.Bucket
		}{{store.P1D, w.Days()}, {store.PT1H, w.Hours()}} {
			got, err := store.Buckets(c.iv, start, stop, zone)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%s %s: %d buckets, reports have %d", name, c.iv, len(got), len(c.want))
			}
			for i := range got {
				if !got[i].Start.Equal(c.want[i].Start) || !got[i].End.Equal(c.want[i].End) || !got[i].Label.Equal(c.want[i].Label) {
					t.Fatalf("%s %s bucket %d: %+v, reports %+v", name, c.iv, i, got[i], c.want[i])
				}
			}
		}
	}
}
