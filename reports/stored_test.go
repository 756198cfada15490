package reports_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata/filter"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/query"
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

// storeBackedReports are the reports that must read the interval store:
// the time series, the hour-of-day, weekday and weekday × hour profiles,
// the per-queue summary and the bot's daily reports.
var storeBackedReports = []string{"InboundVsAnsweredChats", "ChatOutcomesByDay", "AbandonedChatsByDay", "CustomerSatisfactionByDay",
	"ServiceLevelByDay", "TransfersByDay", "SentimentByDay", "ChatsByHourOfDay", "ChatsByDayOfWeek", "GlobalHourlyHeatmap",
	"GlobalQueueSummary", "BotContainmentByDay", "BotHandoffOutcomes"}

// TestStoreBackedReportsEqualRaw: every report that reads the interval
// store answers, for random windows, zones, intervals and queues, exactly
// what the raw engine (Engine.RawOnly) answers: before the store is
// built, after the build, with changes the maintenance has not seen
// (updates, re-opened and re-queued sessions, moved bot interactions,
// late ratings, inserts with old timestamps), after a pass, after deletes
// and after a threshold change. Corrupting the stored intervals changes
// the answer of each of them, so the store is really read.
func TestStoreBackedReportsEqualRaw(t *testing.T) {
	var series []*reports.Report
	for _, r := range reports.All() {
		if r.ReadsStore() {
			series = append(series, r)
		}
	}
	for _, name := range storeBackedReports {
		if r, ok := reports.Lookup(name); !ok || !r.ReadsStore() {
			t.Fatalf("%s does not read the interval store", name)
		}
	}
	if len(series) != len(storeBackedReports) {
		t.Fatalf("%d reports read the store, %d listed", len(series), len(storeBackedReports))
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
			countsEqualRaw(t, e, raw, r, what, n/2)
		}
		check("store not built", 15)
		if _, err := store.Rebuild(ctx, db, time.Second, store.BuildOptions{BatchSize: 500}); err != nil {
			t.Fatal(err)
		}
		check("after the build", 60)
		offGridChanges(t, e, raw, series)
		storeIsRead(t, db, e, raw, series)
		mutateSessions(t, db, r, false)
		check("changes pending", 60)
		if _, err := store.Pass(ctx, db, time.Second, store.PassOptions{}); err != nil {
			t.Fatal(err)
		}
		check("after a pass", 25)
		mutateSessions(t, db, r, true)
		if _, err := store.Pass(ctx, db, time.Second, store.PassOptions{}); err != nil {
			t.Fatal(err)
		}
		// The deleted sessions are still in the interval tables: their
		// tombstones make the reads take their intervals raw.
		check("after deletes, before a sweep", 40)
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

// storeIsRead: wrong stored intervals show in the answer of every
// store-backed report (and not in the raw one), then a rebuild repairs
// them. Every stored value of queue 1 grows by 1000, in one interval of
// each local hour of a week (a Kathmandu week: +05:45).
func storeIsRead(t *testing.T, db *gorm.DB, e, raw *reports.Engine, rs []*reports.Report) {
	t.Helper()
	kathmandu, _ := time.LoadLocation("Asia/Kathmandu")
	w := reports.Window{Start: time.Date(2021, 3, 8, 0, 0, 0, 0, kathmandu), Stop: time.Date(2021, 3, 15, 0, 0, 0, 0, kathmandu), Zone: kathmandu}
	before := make([][][]any, len(rs))
	query := func(r *reports.Report) reports.Query {
		q := reports.Query{Report: r, QueueID: 1, Visible: []uint32{1, 2, 3, 4, 5}, Window: w}
		if r.TakesInterval() {
			q.Interval = store.Total
		}
		return q
	}
	for i, r := range rs {
		before[i] = runRows(t, e, query(r))
	}
	weekFilter := fmt.Sprintf("QueueId eq 1 and StartedAt ge %s and StartedAt lt %s", w.Start.UTC().Format(time.RFC3339), w.Stop.UTC().Format(time.RFC3339))
	countBefore := countSessions(t, raw, weekFilter)
	lo, hi := w.Start.Unix()/900, w.Stop.Unix()/900
	for _, a := range store.Attrs {
		var sets []string
		for _, m := range store.Of(a) {
			sets = append(sets, m.Name+" = "+m.Name+" + 1000")
		}
		if len(sets) == 0 {
			t.Fatalf("no measure attributed by %s is stored", a)
		}
		// Interval 1 of each hour: a quarter past the UTC hour, which is
		// the local hour's first quarter in Kathmandu.
		if err := db.Exec("UPDATE "+a.Table()+" SET "+strings.Join(sets, ", ")+" WHERE queue_id = 1 AND iv >= ? AND iv < ? AND iv % 4 = 1", lo, hi).Error; err != nil {
			t.Fatal(err)
		}
		// And the hour rows, which a read of whole UTC hours takes instead.
		if err := db.Exec("UPDATE "+a.HourTable()+" SET "+strings.Join(sets, ", ")+" WHERE queue_id = 1 AND iv >= ? AND iv < ?", lo, hi).Error; err != nil {
			t.Fatal(err)
		}
	}
	if got, want := countSessions(t, e, weekFilter), countSessions(t, raw, weekFilter); got == want || want != countBefore {
		t.Errorf("Sessions/$count of the week: %d from the store, %d raw, %d before: the count does not read the store (or the raw one does)", got, want, countBefore)
	}
	for i, r := range rs {
		if sameRows(runRows(t, e, query(r)), before[i]) == nil {
			t.Errorf("%s: changed stored intervals do not change the store-backed answer: the store is not read", r.Name)
		}
		if err := sameRows(runRows(t, raw, query(r)), before[i]); err != nil {
			t.Errorf("%s: the raw engine read the store: %v", r.Name, err)
		}
	}
	if _, err := store.Rebuild(context.Background(), db, time.Second, store.BuildOptions{}); err != nil {
		t.Fatal(err)
	}
}

// countsEqualRaw: the OData Sessions/$count of a range of StartedAt
// (what an incremental refresh asks for each partition), which reads the
// interval store's count of sessions by start when the range is on its
// grid, equals the count of the raw rows: ranges on and off the grid, of
// minutes to weeks, with and without conditions on QueueId.
func countsEqualRaw(t *testing.T, e, raw *reports.Engine, r *rand.Rand, what string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		lo := storeDataStart.Add(time.Duration(r.IntN(45*96)) * 15 * time.Minute)
		hi := lo.Add(time.Duration(1+r.IntN(20*96)) * 15 * time.Minute)
		if r.IntN(4) == 0 { // off the grid: counted from raw rows
			hi = hi.Add(time.Duration(1+r.IntN(899)) * time.Second)
		}
		f := fmt.Sprintf("StartedAt ge %s and StartedAt lt %s", lo.Format(time.RFC3339), hi.Format(time.RFC3339))
		switch r.IntN(4) {
		case 1:
			f = fmt.Sprintf("QueueId eq %d and %s", 1+r.IntN(5), f)
		case 2:
			f += " and QueueId in (1, 3, 9)"
		case 3:
			f = fmt.Sprintf("%s and StartedAt lt %s", f, hi.Add(-time.Hour).Format(time.RFC3339))
		}
		if got, want := countSessions(t, e, f), countSessions(t, raw, f); got != want {
			t.Fatalf("%s: Sessions/$count with $filter=%s: %d, raw %d", what, f, got, want)
		}
	}
	all := "StartedAt ge 1970-01-01T00:00:00Z and StartedAt lt 2200-01-01T00:00:00Z"
	if got, want := countSessions(t, e, all), countSessions(t, raw, all); got != want {
		t.Fatalf("%s: Sessions/$count over two centuries: %d, raw %d", what, got, want)
	}
}

// countSessions is Sessions/$count with $filter f, every queue visible.
func countSessions(t *testing.T, e *reports.Engine, f string) int64 {
	t.Helper()
	x, err := filter.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := query.LookupSet("Sessions")
	n, err := query.NewEngine(e).CountSet(context.Background(), query.SetQuery{Set: set, Filter: x, Visible: []uint32{1, 2, 3, 4, 5}, Top: -1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// offGridChanges: a window over an offset change made a minute past the
// hour (Newfoundland at 00:01 until 2011, Antarctica/Casey at 00:01 UTC
// in 2022) is not a union of store intervals; it is read raw, not refused.
func offGridChanges(t *testing.T, e, raw *reports.Engine, rs []*reports.Report) {
	t.Helper()
	for _, c := range []struct {
		zone        string
		start, stop time.Time
	}{
		{"America/St_Johns", time.Date(2010, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2010, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"Antarctica/Casey", time.Date(2022, 9, 25, 0, 0, 0, 0, time.UTC), time.Date(2022, 10, 10, 0, 0, 0, 0, time.UTC)},
	} {
		zone, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		if store.Aligned(c.start, c.stop, zone) {
			t.Fatalf("%s %s–%s: store.Aligned misses the change a minute past the hour", c.zone, c.start, c.stop)
		}
		for _, r := range rs {
			q := reports.Query{Report: r, QueueID: 1, Visible: []uint32{1, 2, 3, 4, 5}, Window: reports.Window{Start: c.start, Stop: c.stop, Zone: zone}}
			if err := sameRows(runRows(t, e, q), runRows(t, raw, q)); err != nil {
				t.Fatalf("%s in %s: %v", r.Name, c.zone, err)
			}
		}
	}
}

func randomSeriesQuery(r *rand.Rand, series []*reports.Report) reports.Query {
	zone, _ := time.LoadLocation(storeZones[r.IntN(len(storeZones))])
	rep := series[r.IntN(len(series))]
	ivs := append([]store.Interval{""}, store.Intervals...)
	iv := ivs[r.IntN(len(ivs))]
	if !rep.TakesInterval() {
		iv = ""
	}
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
	if err := res.Rows.Err(); err != nil {
		t.Fatalf("%s: %v", q.Report.Name, err)
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
		id = pick()
		moved := at()
		exec("UPDATE chat_sessions SET started_at = ?, sentiment_score = 0.5, updated_at = ? WHERE id = ?", moved, now(), id)
		// Its keyword rows (which copy started_at) and its bot interaction
		// move with it, and the interaction changes outcome (a change to
		// the interaction stamps the session).
		exec("UPDATE session_keywords SET started_at = ? WHERE session_id = ?", moved, id)
		exec("UPDATE bot_interactions SET started_at = ?, outcome = ? WHERE session_id = ?", moved, []string{"deflected", "handoff", "abandoned"}[r.IntN(3)], id)
		// A bot interaction that starts hours after its session.
		id = pick()
		exec("UPDATE bot_interactions SET started_at = ?, outcome = 'handoff' WHERE session_id = ?", at(), id)
		exec("UPDATE chat_sessions SET updated_at = ? WHERE id = ?", now(), id)
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
