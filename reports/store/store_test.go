package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

var zones = []string{"America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Asia/Beirut", "America/Santiago", "UTC"}

// The data: six weeks around the spring DST changes of New York (14
// March), London (28 March) and Lord Howe (4 April, a 30-minute change),
// with sessions still open at the end.
var (
	dataStart = time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	dataEnd   = time.Date(2021, 4, 12, 0, 0, 0, 0, time.UTC)
)

func load(t *testing.T, db *gorm.DB, n int) {
	t.Helper()
	_, err := fixtures.Load(context.Background(), db, fixtures.Options{Start: dataStart, End: dataEnd, Sessions: n, Seed: 7,
		Now: dataEnd.Add(-36 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
}

// oracle computes q row by row straight from the raw rows: one aggregate
// per row over its UTC ranges, no store, no bucket keys. A bucket is one
// range; an hour of day, weekday or weekday-hour is the union of the
// 15-minute steps of the range whose start Go's time package puts in it;
// a queue is the whole range of that queue.
func oracle(t *testing.T, db *gorm.DB, q Query, res *Result) [][]sql.NullInt64 {
	t.Helper()
	cur, err := currentThresholds(db)
	if err != nil {
		t.Fatal(err)
	}
	d := newDialect(db, cur)
	src := q.Attr.source()
	type row struct {
		queues []uint32
		ranges [][2]time.Time
	}
	var rows []row
	switch q.Group {
	case ByBucket:
		for _, b := range res.Buckets {
			rows = append(rows, row{q.Queues, [][2]time.Time{{b.Start, b.End}}})
		}
	case ByQueue:
		for _, id := range q.Queues {
			rows = append(rows, row{[]uint32{id}, [][2]time.Time{{q.Start, q.Stop}}})
		}
	default:
		at := map[int64]int{}
		for i, k := range res.Keys {
			at[k] = i
			rows = append(rows, row{queues: q.Queues})
		}
		for s := q.Start; s.Before(q.Stop); s = s.Add(15 * time.Minute) {
			l := s.In(q.Zone)
			wd := int64(l.Weekday()+6)%7 + 1
			k := map[Group]int64{ByHourOfDay: int64(l.Hour()), ByWeekday: wd, ByWeekdayHour: wd*24 + int64(l.Hour())}[q.Group]
			r := &rows[at[k]]
			if n := len(r.ranges); n > 0 && r.ranges[n-1][1].Equal(s) {
				r.ranges[n-1][1] = s.Add(15 * time.Minute)
			} else {
				r.ranges = append(r.ranges, [2]time.Time{s, s.Add(15 * time.Minute)})
			}
		}
	}
	out := make([][]sql.NullInt64, len(rows))
	for i, r := range rows {
		v := make([]sql.NullInt64, len(Of(q.Attr)))
		out[i] = v
		if len(r.ranges) == 0 {
			for j, m := range Of(q.Attr) {
				v[j].Valid = m.Agg == Count || m.Agg == Sum
			}
			continue
		}
		ors := make([]string, len(r.ranges))
		args := []any{r.queues}
		for j, rg := range r.ranges {
			ors[j] = "(" + src.timeCol + " >= ? AND " + src.timeCol + " < ?)"
			args = append(args, rg[0], rg[1])
		}
		stmt := "SELECT " + d.aggregates(Of(q.Attr)) + " FROM " + src.from + " WHERE " + src.where + " AND " + src.queueCol + " IN ? AND (" +
			strings.Join(ors, " OR ") + ")"
		dest := make([]any, len(v))
		for j := range v {
			dest[j] = &v[j]
		}
		if err := db.Raw(stmt, args...).Row().Scan(dest...); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func randomQuery(r *rand.Rand) Query {
	zone, _ := time.LoadLocation(zones[r.IntN(len(zones))])
	iv := Intervals[r.IntN(len(Intervals))]
	span := 6 * time.Hour
	switch iv {
	case P1D, P1W, P1M, Total:
		span = time.Duration(1+r.IntN(40)) * 24 * time.Hour
	case PT1H, PT30M:
		span = time.Duration(1+r.IntN(4)) * 24 * time.Hour
	}
	from := dataStart.Add(-24 * time.Hour).Add(time.Duration(r.IntN(46*96)) * 15 * time.Minute)
	stop := from.Add(span).Add(time.Duration(r.IntN(96)) * 15 * time.Minute)
	var queues []uint32
	for id := uint32(1); id <= 5; id++ {
		if r.IntN(2) == 0 {
			queues = append(queues, id)
		}
	}
	if len(queues) == 0 {
		queues = []uint32{1 + uint32(r.IntN(5))}
	}
	q := Query{Attr: Attrs[r.IntN(len(Attrs))], Queues: queues, Start: from, Stop: stop, Zone: zone, Interval: iv}
	if r.IntN(2) == 0 { // the same range by hour of day, weekday, weekday-hour or queue
		q.Group = []Group{ByHourOfDay, ByWeekday, ByWeekdayHour, ByQueue}[r.IntN(4)]
	}
	return q
}

// check compares n random reads with the oracle, and returns how many
// intervals they read raw and how many queues they read wholly raw.
func check(t *testing.T, db *gorm.DB, r *rand.Rand, n int, what string) (raw, rawQueues int) {
	t.Helper()
	for i := 0; i < n; i++ {
		q := randomQuery(r)
		res, err := Read(context.Background(), db, q)
		if err != nil {
			t.Fatalf("%s: %+v: %v", what, q, err)
		}
		want := oracle(t, db, q, res)
		if len(want) != len(res.Values) {
			t.Fatalf("%s: %+v: %d rows, raw computation %d", what, q, len(res.Values), len(want))
		}
		for b := range want {
			row := fmt.Sprint("key ", b)
			if q.Group == ByBucket {
				row = fmt.Sprintf("bucket %s–%s", res.Buckets[b].Start, res.Buckets[b].End)
			} else if len(res.Keys) > b {
				row = fmt.Sprint("key ", res.Keys[b])
			}
			for j, m := range res.Measures {
				g, w := res.Values[b][j], want[b][j]
				if g != w {
					t.Fatalf("%s: %s %s group %d %s %v–%v queues %v, %s: %s = %v, raw computation %v (store queues %d, raw queues %d, raw intervals %d)",
						what, q.Attr, q.Interval, q.Group, q.Zone, q.Start, q.Stop, q.Queues, row, m.Name, g, w,
						res.StoreQueues, res.RawQueues, res.RawIntervals)
				}
			}
		}
		raw += res.RawIntervals
		rawQueues += res.RawQueues
		if res.Hourly {
			hourlyReads++
			if res.RawIntervals > 0 {
				hourlyRawReads++
			}
		}
		if res.Hourly && q.Zone.String() == "Asia/Kathmandu" && q.Group != ByQueue && !(q.Group == ByBucket && q.Interval == Total) {
			t.Errorf("%s: a read in Kathmandu (+05:45) by %d %s used the hour tables", what, q.Group, q.Interval)
		}
	}
	return raw, rawQueues
}

// hourlyReads counts the reads of check that used the hour tables, and
// hourlyRawReads those of them that also had intervals to read raw.
var hourlyReads, hourlyRawReads int

func TestStoreEqualsRaw(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		db := b.DB
		load(t, db, 1500)
		r := rand.New(rand.NewPCG(1, 2))
		// Not built yet: everything raw, still exact.
		check(t, db, r, 10, "before the build")
		if _, err := Rebuild(ctx, db, time.Second, BuildOptions{BatchSize: 700}); err != nil {
			t.Fatal(err)
		}
		// Only the sessions within Margin of the newest updated_at are
		// read raw.
		if raw, rawQueues := check(t, db, r, 60, "after the build"); rawQueues != 0 || raw > 20 {
			t.Errorf("a fresh store read %d queues and %d intervals raw", rawQueues, raw)
		}
		rebuildIsIdempotent(t, db)

		// Changes the maintenance loop has not seen yet: reads stay exact
		// by computing the touched intervals raw.
		mutate(t, db, r, false)
		if raw, _ := check(t, db, r, 60, "changes pending"); raw == 0 {
			t.Error("no read took the changed intervals raw")
		}
		// Captured but not recomputed: dirty intervals pending.
		st, _ := state(db)
		if _, err := pass(ctx, db, PassOptions{}); err != nil {
			t.Fatal(err)
		}
		mutate(t, db, r, false)
		cur, _ := currentThresholds(db)
		captureOnly(t, db, cur, st)
		var dirty int64
		db.Model(&models.ReportStoreDirty{}).Count(&dirty)
		if dirty == 0 {
			t.Fatal("capture left no dirty interval")
		}
		check(t, db, r, 60, "dirty intervals pending")

		// Deletes are seen by the sweep.
		mutate(t, db, r, true)
		ps, err := Pass(ctx, db, time.Second, PassOptions{Sweep: true})
		if err != nil {
			t.Fatal(err)
		}
		if ps.Deleted == 0 || ps.DirtyLeft != 0 {
			t.Errorf("pass after deletes: %+v", ps)
		}
		check(t, db, r, 60, "after a pass with deletes")
		sameAsRebuild(t, db)

		// A queue whose thresholds change is read raw, then rebuilt.
		if err := db.Exec("UPDATE queues SET sla_threshold_seconds = 17, short_abandon_seconds = 3, updated_at = ? WHERE id = 1", time.Now()).Error; err != nil {
			t.Fatal(err)
		}
		if _, rawQueues := check(t, db, r, 30, "thresholds changed"); rawQueues == 0 {
			t.Error("no read took the queue whose thresholds changed raw")
		}
		if ps, err := Pass(ctx, db, time.Second, PassOptions{}); err != nil || ps.QueuesRebuilt != 1 {
			t.Fatalf("pass after a threshold change: %+v, %v", ps, err)
		}
		check(t, db, r, 30, "queue rebuilt")
		sameAsRebuild(t, db)
		if hourlyReads == 0 || hourlyRawReads == 0 {
			t.Errorf("%d reads used the hour tables, %d of them with raw intervals: the random reads should reach both", hourlyReads, hourlyRawReads)
		}
	})
}

// captureOnly runs a pass's capture without the recompute: the changed
// sessions' intervals are dirty, the watermarks have moved past them.
func captureOnly(t *testing.T, db *gorm.DB, cur map[uint32]Thresholds, st models.ReportStoreState) {
	t.Helper()
	var ids []uint64
	if err := db.Raw("SELECT id FROM chat_sessions WHERE updated_at >= ? OR id > ?", st.SessionWatermark, st.MaxSessionID).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	var rated []uint64
	db.Raw("SELECT session_id FROM session_ratings WHERE submitted_at >= ?", st.RatingWatermark).Scan(&rated)
	if err := capture(db, newDialect(db, cur), append(ids, rated...)); err != nil {
		t.Fatal(err)
	}
	var top struct {
		MaxUpd time.Time
		MaxID  uint64
	}
	db.Raw("SELECT MAX(updated_at) AS max_upd, MAX(id) AS max_id FROM chat_sessions").Scan(&top)
	var maxRate time.Time
	db.Raw("SELECT MAX(submitted_at) FROM session_ratings").Row().Scan(&maxRate)
	st.SessionWatermark, st.MaxSessionID, st.RatingWatermark = top.MaxUpd.Add(-Margin), top.MaxID, maxRate.Add(-Margin)
	if err := saveState(db, st); err != nil {
		t.Fatal(err)
	}
}

// mutate changes sessions the way the write side does: answers, re-opens,
// re-queues (to another queue and day), closes, late ratings (without
// touching the session), new sessions with old timestamps and, when del
// is set, deletes.
func mutate(t *testing.T, db *gorm.DB, r *rand.Rand, del bool) {
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
	for i := 0; i < 8; i++ {
		// Re-opened: back to waiting, in another queue, queued hours
		// later (the keyword copies follow, a write-side invariant).
		id, q := pick(), 1+r.IntN(5)
		exec("UPDATE chat_sessions SET state = 'Waiting', accepted_at = NULL, ended_at = NULL, end_reason = NULL, queue_id = ?, "+
			"queued_at = ?, updated_at = ? WHERE id = ?", q, dataStart.Add(time.Duration(r.IntN(40*24*60))*time.Minute), now(), id)
		exec("UPDATE session_keywords SET queue_id = ? WHERE session_id = ?", q, id)
		// Answered late: a long wait and handle time.
		exec("UPDATE chat_sessions SET state = 'Completed', accepted_at = ?, ended_at = ?, end_reason = 'agent_left', updated_at = ? "+
			"WHERE id = ? AND queued_at IS NOT NULL", dataStart.Add(41*24*time.Hour), dataStart.Add(41*24*time.Hour+time.Hour), now(), pick())
		// Abandoned quickly (short abandons depend on the threshold).
		exec("UPDATE chat_sessions SET state = 'Abandoned', accepted_at = NULL, ended_at = queued_at, end_reason = 'seeker_left', updated_at = ? "+
			"WHERE id = ? AND queued_at IS NOT NULL", now(), pick())
		// Moved in time by started_at (and its bot interaction and
		// keyword copies).
		id = pick()
		at := dataStart.Add(time.Duration(r.IntN(40*24*60)) * time.Minute)
		exec("UPDATE chat_sessions SET started_at = ?, updated_at = ? WHERE id = ?", at, now(), id)
		exec("UPDATE session_keywords SET started_at = ? WHERE session_id = ?", at, id)
		exec("UPDATE bot_interactions SET started_at = ?, outcome = 'deflected' WHERE session_id = ?", at, id)
		// A late rating: the session is not touched.
		id = pick()
		exec("DELETE FROM session_ratings WHERE session_id = ?", id)
		exec("INSERT INTO session_ratings (session_id, queue_id, rating, scale_max, submitted_at) SELECT id, queue_id, ?, 5, ? FROM chat_sessions WHERE id = ?",
			1+r.IntN(5), now(), id)
	}
	// New sessions with historic timestamps (a bulk load): a larger id.
	for i := 0; i < 3; i++ {
		at := dataStart.Add(time.Duration(r.IntN(40*24*60)) * time.Minute)
		s := models.ChatSession{SessionGUID: fmt.Sprintf("new-%d-%d", time.Now().UnixNano(), i), ConversationGUID: "c", QueueID: uint32(1 + r.IntN(5)),
			SeekerID: 1, EntryPoint: "teams", State: "Completed", StartedAt: at, QueuedAt: &at, AcceptedAt: ptr(at.Add(40 * time.Second)),
			EndedAt: ptr(at.Add(10 * time.Minute)), LastActivityAt: at, CreatedAt: at, UpdatedAt: at}
		if err := db.Session(&gorm.Session{SkipHooks: true}).Create(&s).Error; err != nil {
			t.Fatal(err)
		}
		exec("UPDATE chat_sessions SET updated_at = ? WHERE id = ?", at, s.ID) // GORM stamped it now
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

func ptr[T any](v T) *T { return &v }

// sameAsRebuild checks that the maintained interval tables equal a fresh
// build's, row for row.
func sameAsRebuild(t *testing.T, db *gorm.DB) {
	t.Helper()
	before := dump(t, db)
	if _, err := Rebuild(context.Background(), db, time.Second, BuildOptions{BatchSize: 500}); err != nil {
		t.Fatal(err)
	}
	after := dump(t, db)
	for k, v := range after {
		if before[k] != v {
			t.Fatalf("interval %s: maintained %q, rebuilt %q", k, before[k], v)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Fatalf("interval %s: maintained %q, absent from a rebuild", k, before[k])
		}
	}
}

func rebuildIsIdempotent(t *testing.T, db *gorm.DB) {
	t.Helper()
	sameAsRebuild(t, db)
}

// dumpTable adds the rows of a's interval or hour table to out.
func dumpTable(t *testing.T, db *gorm.DB, a Attr, table string, out map[string]string) {
	t.Helper()
	if len(Of(a)) == 0 {
		return
	}
	rows, err := db.Raw("SELECT queue_id, iv, " + names(Of(a)) + " FROM " + table).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		v := make([]sql.NullInt64, len(Of(a))+2)
		dest := make([]any, len(v))
		for i := range v {
			dest[i] = &v[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%s/%d/%d", table, v[0].Int64, v[1].Int64)] = fmt.Sprint(v[2:])
	}
}

// dump reads every interval row as text, keyed by table, queue and
// interval; an all-zero row (an interval whose sessions all left) counts
// as absent.
func dump(t *testing.T, db *gorm.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, a := range Attrs {
		for _, table := range []string{a.Table(), a.HourTable()} {
			dumpTable(t, db, a, table, out)
		}
	}
	for _, tb := range keywordTables() {
		rows, err := db.Raw("SELECT " + keywordCols + " FROM " + tb).Rows()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var q, iv, n, occ, ss, sn int64
			var kw string
			if err := rows.Scan(&q, &iv, &kw, &n, &occ, &ss, &sn); err != nil {
				t.Fatal(err)
			}
			if n != 0 || occ != 0 || ss != 0 || sn != 0 {
				out[fmt.Sprintf("%s/%d/%d/%q", tb, q, iv, kw)] = fmt.Sprint(n, occ, ss, sn)
			}
		}
		rows.Close()
	}
	return out
}
