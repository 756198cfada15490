package reports

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestSessionPredsMatchFacts checks the SQL of daily.go against its Go
// twins in sessions.go, session by session, on generated data: the local
// day dayOf gives each session against the bucket Locate finds, its local
// hour and ISO weekday against time.In, and every
// predicate and duration of sessionPreds against the facts method. The
// zones cover a fall-back day (New York, Nov 3), a half-hour offset
// (Kolkata), a half-hour DST shift (Lord Howe, Oct 6) and a window that
// starts and stops mid-day. If the per-session values agree, the per-day
// sums, maxima and ranks of the daily reports agree too.
func TestSessionPredsMatchFacts(t *testing.T) {
	start := time.Date(2024, 9, 25, 0, 0, 0, 0, time.UTC)
	end := time.Date(2024, 11, 10, 0, 0, 0, 0, time.UTC)
	now := time.Date(2024, 11, 9, 15, 0, 0, 0, time.UTC)
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: start, End: end, Sessions: 4000, Seed: 5, Now: now}); err != nil {
			t.Fatal(err)
		}
		e := NewEngine(b.DB, func() time.Time { return now })
		windows := []struct{ zone, start, stop string }{
			{"UTC", "2024-09-25", "2024-11-09"},
			{"America/New_York", "2024-10-20", "2024-11-09"},
			{"Asia/Kolkata", "2024-10-01", "2024-10-20"},
			{"Australia/Lord_Howe", "2024-09-28", "2024-10-12"},
			{"Europe/Berlin", "2024-10-26T13:30", "2024-10-29T09:15"},
		}
		for _, w := range windows {
			t.Run(w.zone, func(t *testing.T) {
				zone, err := ParseZone(w.zone)
				if err != nil {
					t.Fatal(err)
				}
				win, err := ParseWindow(WindowSpec{Start: w.start, Stop: w.stop, Zone: zone, Now: now})
				if err != nil {
					t.Fatal(err)
				}
				for _, timeCol := range []string{"s.queued_at", "s.started_at"} {
					checked := comparePreds(t, e, win, timeCol)
					if checked < 40 {
						t.Errorf("%s: only %d sessions compared", timeCol, checked)
					}
				}
			})
		}
	})
}

// comparePreds compares every session of queues 1–5 whose timeCol lies in
// win, and returns how many it compared.
func comparePreds(t *testing.T, e *Engine, win Window, timeCol string) int {
	t.Helper()
	x := &execution{engine: e, db: e.db, q: Query{Window: win}, queues: []uint32{1, 2, 3, 4, 5}}
	if err := x.loadQueues(); err != nil {
		t.Fatal(err)
	}
	p := x.sessionPreds()
	d := x.daySQL()
	bools := []string{p.answered, p.closed, p.resolvedQ, p.abandoned, p.timedOut, p.xferOut, p.shortAbandon, p.longAbandon, p.slIn, p.slMet}
	sel := factsColumns + ", " + d.dayOf(timeCol, win.Zone, win.Stop) + ", " + d.hourOfDay(timeCol, win.Zone, win.Stop) + ", " +
		d.weekday(timeCol, win.Zone, win.Stop) + ", " + d.hourOfWeek(timeCol, win.Zone, win.Stop) + ", " + p.wait + ", " + p.handle
	for _, c := range bools {
		sel += ", CASE WHEN " + c + " THEN 1 ELSE 0 END"
	}
	rows, err := x.db.Table("chat_sessions AS s").Joins("LEFT JOIN session_ratings r ON r.session_id = s.id").Select(sel).Where("s.queue_id IN ?", x.queueIDs()).
		Where(timeCol+" >= ? AND "+timeCol+" < ?", win.Start, win.Stop).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	days := win.Days()
	n := 0
	for rows.Next() {
		var f facts
		var day, hour, weekday, hourOfWeek int64
		var wait, handle sql.NullInt64
		got := make([]bool, len(bools))
		extra := []any{&day, &hour, &weekday, &hourOfWeek, &wait, &handle}
		for i := range got {
			extra = append(extra, &got[i])
		}
		if err := f.scan(rows, extra...); err != nil {
			t.Fatal(err)
		}
		f.q = x.info[f.QueueID]
		at := f.StartedAt
		if timeCol == "s.queued_at" {
			at = *f.QueuedAt
		}
		i := Locate(days, at)
		if i < 0 || epochDay(days[i]) != day {
			t.Fatalf("session %d at %s: SQL day %d, Go bucket %d", f.ID, at, day, i)
		}
		if l := at.In(win.Zone); int64(l.Hour()) != hour || int64(isoWeekday(l.Weekday())) != weekday || hourOfWeek != weekday*24+hour {
			t.Fatalf("session %d at %s: SQL hour %d weekday %d hour of week %d, Go %s", f.ID, at, hour, weekday, hourOfWeek, l.Format("Mon 15:04 -07:00"))
		}
		w, wok := f.wait()
		h, hok := f.handle()
		slIn, slMet := f.serviceLevel()
		want := []bool{f.answered(), f.closed(), f.resolvedQ(), f.abandoned(), f.timedOut(), f.transferOut(), f.shortAbandon(), f.longAbandon(), slIn, slMet}
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("session %d: predicate %d (%s) is %v in SQL, %v in Go", f.ID, k, bools[k], got[k], want[k])
			}
		}
		if fmt.Sprint(wait.Valid, wait.Int64) != fmt.Sprint(wok, int64(w*1000+0.5)) && (wok || wait.Valid) {
			t.Errorf("session %d: wait %v ms in SQL, %v s (%v) in Go", f.ID, wait, w, wok)
		}
		if fmt.Sprint(handle.Valid, handle.Int64) != fmt.Sprint(hok, int64(h*1000+0.5)) && (hok || handle.Valid) {
			t.Errorf("session %d: handle %v ms in SQL, %v s (%v) in Go", f.ID, handle, h, hok)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
