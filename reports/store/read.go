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
// summed per bucket of Interval in Zone, or per row of another Group.
type Query struct {
	Attr        Attr
	Queues      []uint32
	Start, Stop time.Time
	Zone        *time.Location
	Interval    Interval
	// Group is how intervals are summed into rows: by bucket of Interval
	// (ByBucket, the default) or by one of the keys of Group.
	Group Group
	// Measures names the measures to read (all of Attr's when empty).
	Measures []string
	// Raw computes everything from raw rows, as if the store were empty:
	// the reference the store-backed answer equals.
	Raw bool
}

// Group is how a read sums intervals into rows. Every IANA offset is a
// multiple of 15 minutes, so where the zone changes offset on 15-minute
// boundaries (Aligned) an interval lies in one local hour, day and
// weekday: those of its start, the wall clock the reports read for each
// of its instants (a repeated hour is one hour of day twice, a skipped
// one has no interval).
type Group uint8

const (
	// ByBucket: one row per bucket of Interval (Result.Buckets).
	ByBucket Group = iota
	// ByHourOfDay: one row per local hour 0–23 (Keys 0…23).
	ByHourOfDay
	// ByWeekday: one row per ISO weekday (Keys 1 = Monday … 7).
	ByWeekday
	// ByWeekdayHour: one row per weekday and hour, keyed weekday·24 +
	// hour (Keys 24…191, Monday 00:00 first).
	ByWeekdayHour
	// ByQueue: one row per queue of Queues, in that order, keyed by id.
	ByQueue
)

// Result holds one row of values per bucket (or per key of the Group),
// in the order of Measures: counts and sums (never NULL), minima and
// maxima (NULL when no row).
type Result struct {
	Buckets []Bucket
	// Keys are the rows' keys for a Group other than ByBucket.
	Keys     []int64
	Measures []Measure
	Values   [][]sql.NullInt64
	// How the answer was made: intervals read from the store, and
	// intervals (or whole queues) computed from raw rows.
	StoreQueues, RawQueues int
	RawIntervals           int
	// Hourly is true when the whole hours came from the hour tables.
	Hourly bool
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
	res := &Result{Measures: Of(q.Attr)}
	if q.Group == ByBucket {
		buckets, err := Buckets(q.Interval, q.Start, q.Stop, q.Zone)
		if err != nil {
			return nil, err
		}
		res.Buckets = buckets
		res.Values = make([][]sql.NullInt64, len(buckets))
	} else {
		keys, err := groupKeys(q)
		if err != nil {
			return nil, err
		}
		res.Keys = keys
		res.Values = make([][]sql.NullInt64, len(keys))
	}
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
	tx, err := snapshot(ctx, db)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return res, read(tx, q, res)
}

// snapshot begins the read-only transaction a read runs in: one snapshot
// of the store, its bookkeeping and the raw rows (MySQL REPEATABLE READ,
// SQLite WAL).
func snapshot(ctx context.Context, db *gorm.DB) (*gorm.DB, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialector.Name() == "mysql" {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx := db.WithContext(ctx).Begin(opts)
	return tx, tx.Error
}

// queueSplit is how a read of attribution a over intervals [lo, hi) takes
// its queues: storeQ from the store, except the intervals raw[queue]
// (dirty, or holding sessions the watermarks have not passed); rawQ wholly
// from raw rows (the store not built or built from another declaration,
// a queue whose thresholds changed, or one with too many raw intervals).
type queueSplit struct {
	d            dialect
	storeQ, rawQ []uint32 // ascending
	raw          map[uint32]map[int64]bool
	rawIntervals int
}

// splitQueues reads the state in tx and splits queues for a read of a
// over [lo, hi); rawOnly reads every queue raw.
func splitQueues(tx *gorm.DB, a Attr, queues []uint32, lo, hi int64, rawOnly bool) (queueSplit, error) {
	cur, err := currentThresholds(tx)
	if err != nil {
		return queueSplit{}, err
	}
	sp := queueSplit{d: newDialect(tx, cur), raw: map[uint32]map[int64]bool{}}
	st, err := state(tx)
	if err != nil {
		return queueSplit{}, err
	}
	if st.Built && st.Measures == Fingerprint() && !rawOnly {
		rec, err := recordedThresholds(tx)
		if err != nil {
			return queueSplit{}, err
		}
		// A queue whose rows are being recomputed for new thresholds is
		// read raw until then.
		for _, id := range queues {
			if r, ok := rec[id]; ok && r == cur[id] {
				sp.storeQ = append(sp.storeQ, id)
				sp.raw[id] = map[int64]bool{}
			} else {
				sp.rawQ = append(sp.rawQ, id)
			}
		}
	} else {
		sp.rawQ = slices.Clone(queues)
	}
	if len(sp.storeQ) > 0 {
		swept := epoch
		if st.SweptAt != nil {
			swept = st.SweptAt.UTC().Add(-Margin)
		}
		if err := rawIntervals(tx, sp.d, a, st.SessionWatermark, st.MaxSessionID, st.RatingWatermark, swept, sp.storeQ, lo, hi, sp.raw); err != nil {
			return queueSplit{}, err
		}
		// Fewest raw intervals first, so the total bound sends the
		// queues with the most to the raw read.
		slices.SortStableFunc(sp.storeQ, func(a, b uint32) int { return len(sp.raw[a]) - len(sp.raw[b]) })
		kept := sp.storeQ[:0:0]
		for _, id := range sp.storeQ {
			if n := len(sp.raw[id]); n > maxExcluded || sp.rawIntervals+n > maxExcludedTotal {
				sp.rawQ = append(sp.rawQ, id)
				delete(sp.raw, id)
				continue
			}
			kept = append(kept, id)
			sp.rawIntervals += len(sp.raw[id])
		}
		slices.Sort(kept)
		sp.storeQ = kept
	}
	slices.Sort(sp.rawQ)
	return sp, nil
}

func read(tx *gorm.DB, q Query, res *Result) error {
	lo, hi := q.Start.UnixMilli()/IntervalMs, q.Stop.UnixMilli()/IntervalMs
	sp, err := splitQueues(tx, q.Attr, q.Queues, lo, hi, q.Raw)
	if err != nil {
		return err
	}
	d, storeQ, rawQ, raw := sp.d, sp.storeQ, sp.rawQ, sp.raw
	res.StoreQueues, res.RawQueues, res.RawIntervals = len(storeQ), len(rawQ), sp.rawIntervals
	key, index, err := groupKey(d, q, res)
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
		for _, part := range storeParts(q, res, storeQ, raw, lo, hi) {
			res.Hourly = res.Hourly || part.table == q.Attr.HourTable()
			stmt, args := storeSQL(res.Measures, part, key("iv", "queue_id"))
			rows, err := tx.Raw(stmt, args...).Rows()
			if err != nil {
				return err
			}
			if err := add(rows); err != nil {
				return err
			}
		}
	}
	if stmt, args, ok := rawSQL(d, q, res.Measures, rawQ, raw, key(d.iv(q.Attr.source().timeCol), q.Attr.source().queueCol)); ok {
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
// passed (changed, new, or with a late rating), and the recorded intervals
// of sessions deleted since the last sweep began (swept): their
// tombstones, written by a trigger whoever deletes, find them before the
// sweep does.
//
// The reads of those sessions carry no DISTINCT (the map below removes
// repeats): with one, SQLite's planner reads a covering index in the
// DISTINCT's order from end to end (every session, 60 ms and more warm on
// a million) instead of the few sessions past the watermarks through the
// index of updated_at or the primary key.
func rawIntervals(tx *gorm.DB, d dialect, a Attr, wm time.Time, maxID uint64, wr, swept time.Time, queues []uint32, lo, hi int64, raw map[uint32]map[int64]bool) error {
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
		if err := collect("SELECT "+src.queueCol+" AS q, "+d.iv(src.timeCol)+" AS iv FROM "+src.from+" WHERE "+src.where+" AND "+flag.cond, flag.arg); err != nil {
			return err
		}
		if err := collect("SELECT a."+recQ+" AS q, a."+recIv+" AS iv FROM chat_sessions s JOIN report_store_sessions a ON a.session_id = s.id WHERE "+flag.cond, flag.arg); err != nil {
			return err
		}
	}
	if err := collect("SELECT a."+recQ+" AS q, a."+recIv+" AS iv FROM session_tombstones t JOIN report_store_sessions a ON a.session_id = t.session_id "+
		"WHERE t.deleted_at >= ?", swept); err != nil {
		return err
	}
	if a == Queued {
		if err := collect("SELECT s.queue_id AS q, "+d.iv("s.queued_at")+" AS iv FROM session_ratings r JOIN chat_sessions s ON s.id = r.session_id "+
			"WHERE r.submitted_at >= ? AND s.queued_at IS NOT NULL", wr); err != nil {
			return err
		}
		if err := collect("SELECT a.queue_id AS q, a.queued_iv AS iv FROM session_ratings r JOIN report_store_sessions a ON a.session_id = r.session_id "+
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

// groupKeys are the row keys of a read grouped by q.Group.
func groupKeys(q Query) ([]int64, error) {
	var keys []int64
	switch q.Group {
	case ByHourOfDay:
		for h := range 24 {
			keys = append(keys, int64(h))
		}
	case ByWeekday:
		for d := 1; d <= 7; d++ {
			keys = append(keys, int64(d))
		}
	case ByWeekdayHour:
		for k := 24; k < 24*8; k++ {
			keys = append(keys, int64(k))
		}
	case ByQueue:
		for _, id := range q.Queues {
			if slices.Contains(keys, int64(id)) {
				return nil, fmt.Errorf("store: queue %d named twice", id)
			}
			keys = append(keys, int64(id))
		}
	default:
		return nil, fmt.Errorf("store: unknown group %d", q.Group)
	}
	return keys, nil
}

// groupKey returns the SQL row key of an interval number and a queue,
// and the row index of a key. Sub-day grains and total step by fixed UTC
// lengths: the key is the bucket index itself. Days, weeks and months
// follow the zone's calendar: the key is the local epoch day, which index
// maps to its bucket. Hours of day and weekdays are those of the local
// minutes of the interval's start; a queue is its id.
func groupKey(d dialect, q Query, res *Result) (func(iv, queue string) string, func(int64) (int, bool), error) {
	buckets := res.Buckets
	n := len(buckets)
	switch {
	case q.Group == ByQueue:
		at := make(map[int64]int, len(res.Keys))
		for i, k := range res.Keys {
			at[k] = i
		}
		return func(_, queue string) string { return queue }, func(k int64) (int, bool) { i, ok := at[k]; return i, ok }, nil
	case q.Group == ByBucket && q.Interval == Total:
		return func(string, string) string { return "0" }, func(k int64) (int, bool) { return 0, k == 0 }, nil
	case q.Group == ByBucket && q.Interval.step() > 0:
		g0 := buckets[0].Label.UnixMilli() / IntervalMs
		per := int64(q.Interval.step() / (15 * time.Minute))
		return func(iv, _ string) string { return d.div(iv+" - "+strconv.FormatInt(g0, 10), per) },
			func(k int64) (int, bool) { return int(k), k >= 0 && k < int64(n) }, nil
	}
	local, err := localMinutes(d, q)
	if err != nil {
		return nil, nil, err
	}
	offset := func(lo int64) func(int64) (int, bool) {
		return func(k int64) (int, bool) { return int(k - lo), k >= lo && k < lo+int64(len(res.Keys)) }
	}
	switch q.Group {
	case ByHourOfDay:
		return func(iv, _ string) string { return "(" + d.div(local(iv), 60) + " % 24)" }, offset(0), nil
	case ByWeekday: // 1970-01-01 was a Thursday (ISO 4)
		return func(iv, _ string) string { return "((" + d.div(local(iv), 1440) + " + 3) % 7 + 1)" }, offset(1), nil
	case ByWeekdayHour: // with h the local hours since the epoch, ((h DIV 24 + 3) mod 7)·24 + h mod 24 = (h + 72) mod 168
		return func(iv, _ string) string { return "((" + d.div(local(iv), 60) + " + 72) % 168 + 24)" }, offset(24), nil
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
	return func(iv, _ string) string { return d.div(local(iv), 1440) },
		func(k int64) (int, bool) { i, ok := days[k]; return i, ok }, nil
}

// Aligned reports whether a read of [start, stop) in zone can be answered
// from the store: both ends on 15-minute boundaries and every offset of
// the zone in the range a multiple of 15 minutes, changing on 15-minute
// boundaries. Offsets have been whole quarter-hours since 1979
// (Kiritimati's −10:40), but some zones changed them a minute past the
// hour: Newfoundland until 2011, Gaza in 2010 and 2011, Casey until 2022.
func Aligned(start, stop time.Time, zone *time.Location) bool {
	if zone == nil {
		zone = time.UTC
	}
	if start.UnixMilli()%IntervalMs != 0 || stop.UnixMilli()%IntervalMs != 0 {
		return false
	}
	for _, s := range Segments(zone, start, stop) {
		if s.Offset%(15*time.Minute) != 0 || (!s.End.IsZero() && s.End.UnixMilli()%IntervalMs != 0) {
			return false
		}
	}
	return true
}

// localMinutes returns the SQL of the zone's wall-clock minutes since
// 1970-01-01T00:00 at the start of an interval (its UTC minutes plus the
// offset of its segment): the local day, hour and weekday follow by
// integer division, as the reports compute them from each instant.
func localMinutes(d dialect, q Query) (func(iv string) string, error) {
	if !Aligned(q.Start, q.Stop, q.Zone) {
		return nil, fmt.Errorf("store: zone %s has an offset that is not a multiple of 15 minutes in the range", q.Zone)
	}
	segs := Segments(q.Zone, q.Start, q.Stop)
	return func(iv string) string {
		var cs strings.Builder
		for i, s := range segs {
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
				fmt.Fprintf(&cs, " WHEN (%s) < %d THEN %s", iv, s.End.UnixMilli()/IntervalMs, off)
			}
		}
		return "(" + iv + ") * 15 + " + cs.String()
	}, nil
}

// storeSQL aggregates the store rows of part per row key: the queue
// condition, the part's condition, less each queue's excluded units.
func storeSQL(ms []Measure, part storePart, key string) (string, []any) {
	sels := make([]string, len(ms))
	for i, m := range ms {
		sels[i] = m.combine(m.Name)
	}
	where := "queue_id IN ? AND " + part.where
	args := append([]any{part.queues}, part.args...)
	for _, id := range part.queues {
		if len(part.exclude[id]) == 0 {
			continue
		}
		ivs := make([]int64, 0, len(part.exclude[id]))
		for iv := range part.exclude[id] {
			ivs = append(ivs, iv)
		}
		sort.Slice(ivs, func(i, j int) bool { return ivs[i] < ivs[j] })
		where += " AND NOT (queue_id = ? AND iv IN ?)"
		args = append(args, id, ivs)
	}
	return "SELECT " + key + " AS k, " + strings.Join(sels, ", ") + " FROM " + part.table + " WHERE " + where + " GROUP BY k", args
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
