package reports

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestMeasuresMatchFacts checks the SQL of every declared predicate and
// value (measure.go), and of every one a registered report's measures
// use, against its Go twin, session by session, on generated data; and
// the local day dayOf gives each session against the bucket Locate finds,
// its local hour and ISO weekday against time.In. The zones cover a
// fall-back day (New York, Nov 3), a half-hour offset (Kolkata), a
// half-hour DST shift (Lord Howe, Oct 6) and a window that starts and
// stops mid-day. If the per-session values agree, the per-bucket counts,
// sums, maxima and ranks of the measured reports agree too.
func TestMeasuresMatchFacts(t *testing.T) {
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
				for _, at := range append(slices.Clone(Attributions), BotStartedAt) {
					checked := comparePreds(t, e, win, at)
					if checked < 40 {
						t.Errorf("%s: only %d sessions compared", at.Name, checked)
					}
				}
			})
		}
	})
}

// declaredTwins returns every declared predicate and value, with those
// the registered reports' measures use (so none escapes the test).
func declaredTwins() ([]*Pred, []*Value) {
	preds, vals := slices.Concat(Predicates, BotPredicates), slices.Concat(Values, BotValues)
	addPred := func(p *Pred) {
		for _, q := range p.conjuncts() {
			if !slices.Contains(preds, q) {
				preds = append(preds, q)
			}
		}
	}
	for _, r := range All() {
		_, ms := r.measures()
		for _, m := range ms {
			for _, part := range m.parts() {
				if part.Where != nil {
					addPred(part.Where)
				}
				if part.Of != nil && !slices.Contains(vals, part.Of) {
					vals = append(vals, part.Of)
				}
			}
		}
	}
	return preds, vals
}

// comparePreds compares every session of queues 1–5 attributed by at to
// win (every bot interaction, with its session, for BotStartedAt), and
// returns how many it compared. Predicates and values that read the
// interaction are compared under BotStartedAt only; the session ones
// under every attribution.
func comparePreds(t *testing.T, e *Engine, win Window, at Attribution) int {
	t.Helper()
	x := &execution{engine: e, db: e.db, q: Query{Window: win}, queues: []uint32{1, 2, 3, 4, 5}}
	if err := x.loadQueues(); err != nil {
		t.Fatal(err)
	}
	preds, vals := declaredTwins()
	bot := at.from != ""
	if !bot {
		preds = slices.DeleteFunc(preds, func(p *Pred) bool { return p.interaction })
		vals = slices.DeleteFunc(vals, func(v *Value) bool { return v.interaction })
	}
	d := x.daySQL()
	timeCol := at.col
	sel := factsColumns
	if bot {
		sel += ", " + botColumns
	}
	sel += ", " + d.dayOf(timeCol, win.Zone, win.Stop) + ", " + d.hourOfDay(timeCol, win.Zone, win.Stop) + ", " +
		d.weekday(timeCol, win.Zone, win.Stop) + ", " + d.hourOfWeek(timeCol, win.Zone, win.Stop)
	for _, v := range vals {
		sel += ", " + v.SQL(x)
	}
	for _, p := range preds {
		sel += ", CASE WHEN " + p.SQL(x) + " THEN 1 ELSE 0 END"
	}
	from, queueCol := "chat_sessions AS s", "s.queue_id"
	if bot {
		from, queueCol = at.from, at.queueCol
	}
	rows, err := x.db.Table(from).Joins(ratingsJoin).Select(sel).Where(queueCol+" IN ?", x.queueIDs()).
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
		gotV := make([]sql.NullString, len(vals))
		got := make([]bool, len(preds))
		var extra []any
		fill := func() {}
		if bot {
			extra, fill = botScanDest(&f)
		}
		extra = append(extra, &day, &hour, &weekday, &hourOfWeek)
		for i := range gotV {
			extra = append(extra, &gotV[i])
		}
		for i := range got {
			extra = append(extra, &got[i])
		}
		if err := f.scan(rows, extra...); err != nil {
			t.Fatal(err)
		}
		fill()
		f.q = x.info[f.QueueID]
		when := *at.at(&f)
		i := Locate(days, when)
		if i < 0 || epochDay(days[i]) != day {
			t.Fatalf("session %d at %s: SQL day %d, Go bucket %d", f.ID, when, day, i)
		}
		if l := when.In(win.Zone); int64(l.Hour()) != hour || int64(isoWeekday(l.Weekday())) != weekday || hourOfWeek != weekday*24+hour {
			t.Fatalf("session %d at %s: SQL hour %d weekday %d hour of week %d, Go %s", f.ID, when, hour, weekday, hourOfWeek, l.Format("Mon 15:04 -07:00"))
		}
		for k, p := range preds {
			if want := p.Eval(&f); got[k] != want {
				t.Errorf("session %d: predicate %s is %v in SQL, %v in Go", f.ID, p.Name, got[k], want)
			}
		}
		for k, v := range vals {
			want, ok := v.Eval(&f)
			if !sameValue(gotV[k], want, ok, v.Scale) {
				t.Errorf("session %d: value %s is %v in SQL, %v (%v) in Go", f.ID, v.Name, gotV[k], want, ok)
			}
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// sameValue compares a value read from SQL with its Go twin: durations as
// whole milliseconds, other numbers within rounding, keys as text.
func sameValue(got sql.NullString, want any, ok bool, scale float64) bool {
	if got.Valid != ok {
		return false
	}
	if !ok {
		return true
	}
	switch w := want.(type) {
	case float64:
		g, err := strconv.ParseFloat(got.String, 64)
		if err != nil {
			return false
		}
		if scale != 1 {
			return int64(g) == int64(w*scale+0.5)
		}
		return math.Abs(g-w) < 1e-9
	default:
		return got.String == fmt.Sprint(w)
	}
}

// TestInteractionNeedsBotAttribution: a measure over sessions attributed
// by queued_at or started_at cannot read the bot interaction (its SQL
// would name a table its query does not join).
func TestInteractionNeedsBotAttribution(t *testing.T) {
	for _, m := range []*Measure{Count(StartedAt, BotDeflected), Sum(QueuedAt, nil, Turns), Count(QueuedAt, AllOf(Answered, InBot))} {
		r := &Report{Name: "Probe", By: ByDay, Columns: []Column{{Name: "Date", Type: Date}, {Name: "N", Type: Int, Measure: m}}}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("a measure at %s reading the interaction was accepted", m.At.Name)
				}
			}()
			r.checkMeasured()
		}()
	}
	ok := &Report{Name: "Probe", By: ByDay, Columns: []Column{{Name: "Date", Type: Date}, {Name: "N", Type: Int, Measure: Count(BotStartedAt, AllOf(Answered, InBot))}}}
	ok.checkMeasured()
}
