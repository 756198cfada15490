package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/reports/civil"
)

// Query is one read: the measures of an attribution time for a set of
// queues over the UTC range [Start, Stop) (both on 15-minute boundaries),
// summed per bucket of Interval in Zone.
type Query struct {
	Attr        Attr
	Queues      []uint32
	Start, Stop time.Time
	Zone        *time.Location
	Interval    Interval
	// Measures names the measures to read (all of Attr's when empty).
	Measures []string
	// Raw computes everything from raw rows, as if the store were empty:
	// the reference the store-backed answer equals.
	Raw bool
}

// Result holds one row of values per bucket, in the order of Measures:
// counts and sums (never NULL), minima and maxima (NULL when no row).
type Result struct {
	Buckets  []Bucket
	Measures []Measure
	Values   [][]sql.NullInt64
	// How the answer was made: intervals read from the store, and
	// intervals (or whole queues) computed from raw rows.
	StoreQueues, RawQueues int
	RawIntervals           int
}

// Col returns the index of a measure in Values, or -1.
func (r *Result) Col(name string) int {
	for i, m := range r.Measures {
		if m.Name == name {
			return i
		}
	}
	return -1
}

// maxExcluded is the largest number of raw intervals of one queue the
// store query excludes one by one; a queue with more (a bulk load in
// progress) is read raw. maxExcludedTotal bounds them over all queues,
// far below the placeholder limits of a statement (SQLite 32,766, MySQL
// 65,535): past it the queues with the most are read raw too.
const (
	maxExcluded      = 2000
	maxExcludedTotal = 10000
)

// Read answers q: from the interval store for the intervals it holds
// exactly, from raw rows for the rest (the intervals of sessions changed
// since the last maintenance pass, intervals still dirty, queues whose
// thresholds changed, everything while the store is not built), in one
// read-only transaction, so that the answer equals the raw computation of
// the same snapshot.
func Read(ctx context.Context, db *gorm.DB, q Query) (*Result, error) {
	if q.Zone == nil {
		q.Zone = time.UTC
	}
	if q.Start.UnixMilli()%IntervalMs != 0 || q.Stop.UnixMilli()%IntervalMs != 0 {
		return nil, fmt.Errorf("store: the range %s–%s is not on 15-minute boundaries", q.Start, q.Stop)
	}
	buckets, err := Buckets(q.Interval, q.Start, q.Stop, q.Zone)
	if err != nil {
		return nil, err
	}
	res := &Result{Buckets: buckets, Measures: Of(q.Attr), Values: make([][]sql.NullInt64, len(buckets))}
	if len(q.Measures) > 0 {
		res.Measures = nil
		for _, name := range q.Measures {
			i := slices.IndexFunc(Of(q.Attr), func(m Measure) bool { return m.Name == name })
			if i < 0 {
				return nil, fmt.Errorf("store: no measure %q attributed by %s", name, q.Attr)
			}
			res.Measures = append(res.Measures, Of(q.Attr)[i])
		}
	}
	for i := range res.Values {
		res.Values[i] = make([]sql.NullInt64, len(res.Measures))
		for j, m := range res.Measures {
			res.Values[i][j].Valid = m.Agg == Count || m.Agg == Sum
		}
	}
	if len(q.Queues) == 0 {
		return res, nil
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialector.Name() == "mysql" {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx := db.WithContext(ctx).Begin(opts)
	if tx.Error != nil {
		return nil, tx.Error
	}
	defer tx.Rollback()
	err = read(tx, q, res)
	return res, err
}

func read(tx *gorm.DB, q Query, res *Result) error {
	cur, err := currentThresholds(tx)
	if err != nil {
		return err
	}
	d := newDialect(tx, cur)
	st, err := state(tx)
	if err != nil {
		return err
	}
	lo, hi := q.Start.UnixMilli()/IntervalMs, q.Stop.UnixMilli()/IntervalMs
	var storeQ, rawQ []uint32
	raw := map[uint32]map[int64]bool{}
	if st.Built && st.Measures == Fingerprint() && !q.Raw {
		rec, err := recordedThresholds(tx)
		if err != nil {
			return err
		}
		for _, id := range q.Queues {
			if r, ok := rec[id]; ok && r == cur[id] {
				storeQ = append(storeQ, id)
				raw[id] = map[int64]bool{}
			} else {
				rawQ = append(rawQ, id)
			}
		}
	} else {
		rawQ = q.Queues
	}
	if len(storeQ) > 0 {
		if err := rawIntervals(tx, d, q.Attr, st.SessionWatermark, st.MaxSessionID, st.RatingWatermark, storeQ, lo, hi, raw); err != nil {
			return err
		}
		// Fewest raw intervals first, so the total bound sends the
		// queues with the most to the raw read.
		slices.SortStableFunc(storeQ, func(a, b uint32) int { return len(raw[a]) - len(raw[b]) })
		kept := storeQ[:0:0]
		for _, id := range storeQ {
			if n := len(raw[id]); n > maxExcluded || res.RawIntervals+n > maxExcludedTotal {
				rawQ = append(rawQ, id)
				delete(raw, id)
				continue
			}
			kept = append(kept, id)
			res.RawIntervals += len(raw[id])
		}
		slices.Sort(kept)
		storeQ = kept
	}
	res.StoreQueues, res.RawQueues = len(storeQ), len(rawQ)
	key, index, err := bucketKey(d, q, res.Buckets)
	if err != nil {
		return err
	}
	add := func(rows *sql.Rows) error {
		defer rows.Close()
		n := len(res.Measures)
		for rows.Next() {
			var k int64
			v := make([]sql.NullInt64, n)
			dest := make([]any, n+1)
			dest[0] = &k
			for i := range v {
				dest[i+1] = &v[i]
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			b, ok := index(k)
			if !ok {
				return fmt.Errorf("store: bucket key %d outside the range", k)
			}
			for i, m := range res.Measures {
				res.Values[b][i] = merge(m.Agg, res.Values[b][i], v[i])
			}
		}
		return rows.Err()
	}
	if len(storeQ) > 0 {
		stmt, args := storeSQL(q, res.Measures, storeQ, raw, lo, hi, key("iv"))
		rows, err := tx.Raw(stmt, args...).Rows()
		if err != nil {
			return err
		}
		if err := add(rows); err != nil {
			return err
		}
	}
	if stmt, args, ok := rawSQL(d, q, res.Measures, rawQ, raw, key(d.iv(q.Attr.source().timeCol))); ok {
		rows, err := tx.Raw(stmt, args...).Rows()
		if err != nil {
			return err
		}
		if err := add(rows); err != nil {
			return err
		}
	}
	return nil
}

// merge combines two partial values of a measure.
func merge(a Agg, x, y sql.NullInt64) sql.NullInt64 {
	switch {
	case !y.Valid:
		return x
	case !x.Valid:
		return y
	case a == Min:
		return sql.NullInt64{Int64: min(x.Int64, y.Int64), Valid: true}
	case a == Max:
		return sql.NullInt64{Int64: max(x.Int64, y.Int64), Valid: true}
	}
	return sql.NullInt64{Int64: x.Int64 + y.Int64, Valid: true}
}

// rawIntervals adds to raw, per queue, the intervals in [lo, hi) the
// store may not hold exactly in this snapshot: the dirty ones, and the
// recorded and current intervals of the sessions the watermarks have not
// passed (changed, new, or with a late rating).
func rawIntervals(tx *gorm.DB, d dialect, a Attr, wm time.Time, maxID uint64, wr time.Time, queues []uint32, lo, hi int64, raw map[uint32]map[int64]bool) error {
	type qi struct {
		Q  uint32
		Iv *int64
	}
	var all []qi
	collect := func(stmt string, args ...any) error {
		var rows []qi
		if err := tx.Raw(stmt, args...).Scan(&rows).Error; err != nil {
			return err
		}
		all = append(all, rows...)
		return nil
	}
	if err := collect("SELECT queue_id AS q, iv FROM report_store_dirty WHERE attr = ? AND queue_id IN ? AND iv >= ? AND iv < ?", uint8(a), queues, lo, hi); err != nil {
		return err
	}
	src := a.source()
	recQ, recIv := map[Attr][2]string{Queued: {"queue_id", "queued_iv"}, Started: {"queue_id", "started_iv"}, Bot: {"bot_queue_id", "bot_iv"}}[a][0],
		map[Attr][2]string{Queued: {"queue_id", "queued_iv"}, Started: {"queue_id", "started_iv"}, Bot: {"bot_queue_id", "bot_iv"}}[a][1]
	for _, flag := range []struct {
		cond string
		arg  any
	}{{"s.updated_at >= ?", wm}, {"s.id > ?", maxID}} {
		if err := collect("SELECT DISTINCT "+src.queueCol+" AS q, "+d.iv(src.timeCol)+" AS iv FROM "+src.from+" WHERE "+src.where+" AND "+flag.cond, flag.arg); err != nil {
			return err
		}
		if err := collect("SELECT DISTINCT a."+recQ+" AS q, a."+recIv+" AS iv FROM chat_sessions s JOIN report_store_sessions a ON a.session_id = s.id WHERE "+flag.cond, flag.arg); err != nil {
			return err
		}
	}
	if a == Queued {
		if err := collect("SELECT DISTINCT s.queue_id AS q, "+d.iv("s.queued_at")+" AS iv FROM session_ratings r JOIN chat_sessions s ON s.id = r.session_id "+
			"WHERE r.submitted_at >= ? AND s.queued_at IS NOT NULL", wr); err != nil {
			return err
		}
		if err := collect("SELECT DISTINCT a.queue_id AS q, a.queued_iv AS iv FROM session_ratings r JOIN report_store_sessions a ON a.session_id = r.session_id "+
			"WHERE r.submitted_at >= ?", wr); err != nil {
			return err
		}
	}
	for _, r := range all {
		if r.Iv == nil || *r.Iv < lo || *r.Iv >= hi {
			continue
		}
		if m, ok := raw[r.Q]; ok {
			m[*r.Iv] = true
		}
	}
	return nil
}

// bucketKey returns the SQL bucket key of an interval number and the
// bucket index of a key. Sub-day grains and total step by fixed UTC
// lengths: the key is the bucket index itself. Days, weeks and months
// follow the zone's calendar: the key is the local epoch day (the offset
// of the interval's segment added), which index maps to its bucket.
func bucketKey(d dialect, q Query, buckets []Bucket) (func(iv string) string, func(int64) (int, bool), error) {
	n := len(buckets)
	if q.Interval == Total {
		return func(string) string { return "0" }, func(k int64) (int, bool) { return 0, k == 0 }, nil
	}
	if st := q.Interval.step(); st > 0 {
		g0 := buckets[0].Label.UnixMilli() / IntervalMs
		per := int64(st / (15 * time.Minute))
		return func(iv string) string { return d.div(iv+" - "+strconv.FormatInt(g0, 10), per) },
			func(k int64) (int, bool) { return int(k), k >= 0 && k < int64(n) }, nil
	}
	segs := Segments(q.Zone, q.Start, q.Stop)
	var cs strings.Builder
	for i, s := range segs {
		if s.Offset%(15*time.Minute) != 0 || (!s.End.IsZero() && s.End.UnixMilli()%IntervalMs != 0) {
			return nil, nil, fmt.Errorf("store: zone %s has an offset that is not a multiple of 15 minutes in the range", q.Zone)
		}
		off := strconv.FormatInt(int64(s.Offset/time.Minute), 10)
		switch {
		case len(segs) == 1:
			cs.WriteString(off)
		case i == len(segs)-1:
			cs.WriteString(" ELSE " + off + " END")
		default:
			if i == 0 {
				cs.WriteString("CASE")
			}
			fmt.Fprintf(&cs, " WHEN %%[1]s < %d THEN %s", s.End.UnixMilli()/IntervalMs, off)
		}
	}
	// Each local day in range → its bucket.
	days := map[int64]int{}
	for i, b := range buckets {
		for t := b.Start.In(q.Zone); t.Before(b.End); {
			y, m, dd := t.Date()
			days[time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Unix()/86400] = i
			next := civil.LocalMidnight(y, m, dd+1, q.Zone)
			if !next.After(t) {
				return nil, nil, fmt.Errorf("store: local day %04d-%02d-%02d in %s does not advance", y, m, dd, q.Zone)
			}
			t = next.In(q.Zone)
		}
	}
	shift := cs.String()
	return func(iv string) string {
			return d.div("("+iv+") * 15 + "+strings.ReplaceAll(shift, "%[1]s", "("+iv+")"), 1440)
		},
		func(k int64) (int, bool) { i, ok := days[k]; return i, ok }, nil
}

// storeSQL sums the stored intervals of queues in [lo, hi) per bucket,
// leaving out each queue's raw intervals.
func storeSQL(q Query, ms []Measure, queues []uint32, raw map[uint32]map[int64]bool, lo, hi int64, key string) (string, []any) {
	sels := make([]string, len(ms))
	for i, m := range ms {
		sels[i] = m.combine(m.Name)
	}
	where := "queue_id IN ? AND iv >= ? AND iv < ?"
	args := []any{queues, lo, hi}
	for _, id := range queues {
		if len(raw[id]) == 0 {
			continue
		}
		ivs := make([]int64, 0, len(raw[id]))
		for iv := range raw[id] {
			ivs = append(ivs, iv)
		}
		sort.Slice(ivs, func(i, j int) bool { return ivs[i] < ivs[j] })
		where += " AND NOT (queue_id = ? AND iv IN ?)"
		args = append(args, id, ivs)
	}
	return "SELECT " + key + " AS k, " + strings.Join(sels, ", ") + " FROM " + q.Attr.Table() + " WHERE " + where + " GROUP BY k", args
}

// rawSQL aggregates the raw rows of the whole range for the queues in
// all, and of their raw intervals for the others, per bucket.
func rawSQL(d dialect, q Query, ms []Measure, all []uint32, raw map[uint32]map[int64]bool, key string) (string, []any, bool) {
	src := q.Attr.source()
	var ors []string
	var args []any
	if len(all) > 0 {
		ors = append(ors, "("+src.queueCol+" IN ? AND "+src.timeCol+" >= ? AND "+src.timeCol+" < ?)")
		args = append(args, all, q.Start.UTC(), q.Stop.UTC())
	}
	ids := make([]int, 0, len(raw))
	for id := range raw {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	for _, id := range ids {
		ivs := make([]int64, 0, len(raw[uint32(id)]))
		for iv := range raw[uint32(id)] {
			ivs = append(ivs, iv)
		}
		if len(ivs) == 0 {
			continue
		}
		sort.Slice(ivs, func(i, j int) bool { return ivs[i] < ivs[j] })
		var rs []string
		for i := 0; i < len(ivs); {
			j := i + 1
			for j < len(ivs) && ivs[j] == ivs[j-1]+1 {
				j++
			}
			rs = append(rs, "("+src.timeCol+" >= ? AND "+src.timeCol+" < ?)")
			args = append(args, ivTime(ivs[i]), ivTime(ivs[j-1]+1))
			i = j
		}
		ors = append(ors, "("+src.queueCol+" = "+strconv.Itoa(id)+" AND ("+strings.Join(rs, " OR ")+"))")
	}
	if len(ors) == 0 {
		return "", nil, false
	}
	return "SELECT " + key + " AS k, " + d.aggregates(ms) + " FROM " + src.from + " WHERE " + src.where +
		" AND (" + strings.Join(ors, " OR ") + ") GROUP BY k", args, true
}
