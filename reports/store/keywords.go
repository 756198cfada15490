package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The keyword tables hold, per queue, UTC hour or UTC day and keyword, the
// additive parts of the keyword reports over the sessions attributed to
// that time by started_at: the sessions using the keyword in one of the
// declared sources (document frequency: each session is in exactly one
// hour, so it adds across hours), the keyword's occurrences, and the sum
// (in thousandths) and count of those sessions' sentiment scores. The row
// with the empty keyword, which the tokenizer never produces, counts the
// sessions with any keyword. Keyword rows change with their sessions'
// intervals of the Started attribution time: a dirty Started interval
// recomputes its hour from raw rows and its day from its hours, in the
// transaction that rewrites the interval (docs/architecture.md, "The
// interval store").

// KeywordSources are the session_keywords sources the keyword tables
// count (none declared: no keyword tables).
var KeywordSources []string

// DeclareKeywords declares the keyword tables over the given sources;
// declaring other sources later is a panic (one definition).
func DeclareKeywords(sources ...string) {
	s := slices.Sorted(slices.Values(sources))
	s = slices.Compact(s)
	if len(s) == 0 {
		panic("store: keyword tables need at least one source")
	}
	if KeywordSources != nil && !slices.Equal(KeywordSources, s) {
		panic("store: keyword sources declared twice with different lists")
	}
	KeywordSources = s
}

// The keyword tables: one row per queue, unit start (a 15-minute interval
// number, a multiple of 4 for hours and of 96 for days) and keyword.
const (
	KeywordHourTable = "report_keywords_hour"
	KeywordDayTable  = "report_keywords_day"
	hourIvs          = 4
	dayIvs           = 96
)

func keywordsDeclared() bool { return len(KeywordSources) > 0 }

// keywordTables lists the keyword tables when they are declared.
func keywordTables() []string {
	if !keywordsDeclared() {
		return nil
	}
	return []string{KeywordHourTable, KeywordDayTable}
}

// createKeywordTables is the DDL of the keyword tables. The hour table has
// a second index led by the keyword, covering the sessions, for reading a
// few keywords over many hours (the keyword trend).
func createKeywordTables(mysql bool) []string {
	// SQLite: WITHOUT ROWID keeps the rows in key order, as InnoDB does,
	// instead of a rowid table beside an index of the key.
	kw, opts := "VARCHAR(64) NOT NULL", " WITHOUT ROWID"
	if mysql {
		kw, opts = "VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL", "" // byte order, as session_keywords
	}
	var out []string
	for _, t := range keywordTables() {
		out = append(out, "CREATE TABLE "+t+" (queue_id BIGINT NOT NULL, iv BIGINT NOT NULL, keyword "+kw+
			", sessions BIGINT NOT NULL DEFAULT 0, occurrences BIGINT NOT NULL DEFAULT 0, sentiment_sum BIGINT NOT NULL DEFAULT 0"+
			", sentiment_n BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (queue_id, iv, keyword))"+opts)
	}
	out = append(out, "CREATE INDEX ix_rkh_keyword ON "+KeywordHourTable+" (queue_id, keyword, iv, sessions)")
	return out
}

const keywordCols = "queue_id, iv, keyword, sessions, occurrences, sentiment_sum, sentiment_n"

// unitOf is the SQL of the first interval of the unit of units intervals
// holding the instant col.
func (d dialect) unitOf(col string, units int64) string {
	return d.div(d.iv(col), units) + " * " + strconv.FormatInt(units, 10)
}

// sentiment is a session's sentiment score in thousandths (an exact
// integer: the scores are DECIMAL(4,3)).
func (d dialect) sentiment() string {
	if d.mysql {
		return "CAST(ROUND(s.sentiment_score * 1000) AS SIGNED)"
	}
	return "CAST(ROUND(s.sentiment_score * 1000) AS INTEGER)"
}

// rowSet selects rows of one table: from is the FROM clause (the table
// with its alias, or ranges joined to it), cond the condition, each with
// its arguments.
type rowSet struct {
	from     string
	fromArgs []any
	cond     string
	condArgs []any
}

func (r rowSet) args() []any { return append(slices.Clone(r.fromArgs), r.condArgs...) }

// keywordSelect aggregates the keyword rows of the declared sources per
// group and keyword: groups is the select list of the group (from the
// session, alias s), groupBy its aliases; k selects session_keywords rows
// (alias k), jcond the sessions they join (a cheap bound: the keyword rows
// carry their session's queue and start), s the sessions counted with any
// keyword (alias s). Every session is counted once per keyword, however
// many sources name it. When keywords is empty, rows with the empty
// keyword count the sessions with any keyword; otherwise only those
// keywords are aggregated. The columns after the group's: keyword,
// sessions, occurrences, sentiment sum (thousandths), scored sessions.
func keywordSelect(d dialect, groups, groupBy string, k rowSet, jcond string, jargs []any, s rowSet, keywords []string) (string, []any) {
	args := slices.Clone(k.fromArgs)
	sub := "SELECT k.session_id, k.keyword, SUM(k.occurrences) AS occ FROM " + k.from + " WHERE k.source IN ? AND (" + k.cond + ")"
	args = append(append(args, KeywordSources), k.condArgs...)
	if len(keywords) > 0 {
		sub += " AND k.keyword IN ?"
		args = append(args, keywords)
	}
	sub += " GROUP BY k.session_id, k.keyword"
	stmt := "SELECT " + groups + ", k.keyword AS kw, COUNT(*) AS n, SUM(k.occ) AS occ, COALESCE(SUM(" + d.sentiment() + "), 0) AS ss, " +
		"COUNT(s.sentiment_score) AS sn FROM (" + sub + ") k JOIN chat_sessions s ON s.id = k.session_id WHERE (" + jcond + ") GROUP BY " + groupBy + ", kw"
	args = append(args, jargs...)
	if len(keywords) == 0 {
		stmt += " UNION ALL SELECT " + groups + ", '' AS kw, COUNT(*) AS n, 0 AS occ, 0 AS ss, 0 AS sn FROM " + s.from + " WHERE (" + s.cond +
			") AND EXISTS (SELECT 1 FROM session_keywords k2 WHERE k2.session_id = s.id AND k2.source IN ?) GROUP BY " + groupBy
		args = append(append(args, s.args()...), KeywordSources)
	}
	return stmt, args
}

// ranges selects the rows of table (alias a, the columns cols) of the
// (queue, [lo, hi)) ranges so that each range is one seek of the table's
// (queue_id, started_at) index, whatever the number of ranges: a
// disjunction of hundreds of ranges takes MariaDB tens of seconds and
// SQLite may scan the whole table for it. On MySQL a UNION ALL of one
// select per range; on SQLite the ranges as a list joined first (CROSS
// JOIN keeps that order). On MySQL filter (with its arguments) is
// repeated in each select, where the range's index serves it.
func (d dialect) ranges(table, a, cols string, rs []queueRange, filter string, fargs ...any) rowSet {
	if d.mysql {
		parts := make([]string, len(rs))
		var args []any
		for i, r := range rs {
			parts[i] = "SELECT " + cols + " FROM " + table + " WHERE queue_id = ? AND started_at >= ? AND started_at < ?"
			args = append(args, r.q, r.lo, r.hi)
			if filter != "" {
				parts[i] += " AND " + filter
				args = append(args, fargs...)
			}
		}
		return rowSet{from: "(" + strings.Join(parts, " UNION ALL ") + ") " + a, fromArgs: args, cond: "1 = 1"}
	}
	rows := make([]string, len(rs))
	var args []any
	for i, r := range rs {
		rows[i] = "(?, ?, ?)"
		args = append(args, r.q, r.lo, r.hi)
	}
	return rowSet{from: "(VALUES " + strings.Join(rows, ", ") + ") AS r CROSS JOIN " + table + " " + a, fromArgs: args,
		cond: a + ".queue_id = r.column1 AND " + a + ".started_at >= r.column2 AND " + a + ".started_at < r.column3"}
}

// queueRange is the time [lo, hi) of one queue.
type queueRange struct {
	q      uint32
	lo, hi time.Time
}

// addKeywordHours adds the keyword aggregates of the sessions meeting
// scond (their keyword rows meeting kcond) to the hour table.
func addKeywordHours(tx *gorm.DB, d dialect, kcond string, kargs []any, scond string, sargs []any) error {
	sel, args := keywordSelect(d, "s.queue_id AS qid, "+d.unitOf("s.started_at", hourIvs)+" AS gx", "qid, gx",
		rowSet{from: "session_keywords k", cond: kcond, condArgs: kargs}, scond, sargs, rowSet{from: "chat_sessions s", cond: scond, condArgs: sargs}, nil)
	ins := "INSERT INTO " + KeywordHourTable + " (" + keywordCols + ") SELECT qid, gx, kw, n, occ, ss, sn FROM (" + sel + ") u"
	set := []string{"sessions", "occurrences", "sentiment_sum", "sentiment_n"}
	for i, c := range set {
		if d.mysql {
			set[i] = c + " = " + c + " + VALUES(" + c + ")"
		} else {
			set[i] = c + " = " + c + " + excluded." + c
		}
	}
	if d.mysql {
		ins += " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
	} else {
		ins += " WHERE 1 = 1 ON CONFLICT (queue_id, iv, keyword) DO UPDATE SET " + strings.Join(set, ", ")
	}
	return tx.Exec(ins, args...).Error
}

// deriveKeywordDays rewrites the day rows of queue q (every queue when q
// is 0) over the intervals [lo, hi) (multiples of 96) as the sums of their
// hour rows.
func deriveKeywordDays(tx *gorm.DB, d dialect, q uint32, lo, hi int64) error {
	where, args := "iv >= ? AND iv < ?", []any{lo, hi}
	if q != 0 {
		where, args = "queue_id = ? AND "+where, append([]any{q}, args...)
	}
	if err := tx.Exec("DELETE FROM "+KeywordDayTable+" WHERE "+where, args...).Error; err != nil {
		return err
	}
	day := d.div("iv", dayIvs) + " * " + strconv.Itoa(dayIvs)
	return tx.Exec("INSERT INTO "+KeywordDayTable+" ("+keywordCols+") SELECT queue_id, "+day+" AS dx, keyword, SUM(sessions), SUM(occurrences), "+
		"SUM(sentiment_sum), SUM(sentiment_n) FROM "+KeywordHourTable+" WHERE "+where+" GROUP BY queue_id, dx, keyword", args...).Error
}

// recomputeKeywords rewrites the keyword rows of the hours overlapping the
// intervals [lo, hi) of queue q from raw rows, and the days overlapping
// them from their hours.
func recomputeKeywords(tx *gorm.DB, d dialect, q uint32, lo, hi int64) error {
	hlo, hhi := floorTo(lo, hourIvs), ceilTo(hi, hourIvs)
	if err := tx.Exec("DELETE FROM "+KeywordHourTable+" WHERE queue_id = ? AND iv >= ? AND iv < ?", q, hlo, hhi).Error; err != nil {
		return err
	}
	from, to := ivTime(hlo), ivTime(hhi)
	if err := addKeywordHours(tx, d, "k.queue_id = ? AND k.started_at >= ? AND k.started_at < ?", []any{q, from, to},
		"s.queue_id = ? AND s.started_at >= ? AND s.started_at < ?", []any{q, from, to}); err != nil {
		return err
	}
	return deriveKeywordDays(tx, d, q, floorTo(lo, dayIvs), ceilTo(hi, dayIvs))
}

func floorTo(x, n int64) int64 {
	if x < 0 {
		return -((-x + n - 1) / n) * n
	}
	return x / n * n
}

func ceilTo(x, n int64) int64 { return floorTo(x+n-1, n) }

// KeywordStat is what the store holds of one keyword over a stretch of
// time: the sessions using it, its occurrences, and the sum (thousandths)
// and count of those sessions' sentiment scores.
type KeywordStat struct {
	Sessions, Occurrences, SentimentSum, SentimentN int64
}

func (k *KeywordStat) add(o KeywordStat) {
	k.Sessions += o.Sessions
	k.Occurrences += o.Occurrences
	k.SentimentSum += o.SentimentSum
	k.SentimentN += o.SentimentN
}

// KeywordQuery is one read of the keyword tables: queues over the UTC
// range [Start, Stop) (both on 15-minute boundaries).
type KeywordQuery struct {
	Queues      []uint32
	Start, Stop time.Time
	Zone        *time.Location
	// Interval is the grain of Values (with Pick).
	Interval Interval
	// Pick chooses, from the totals of the whole range, the keywords
	// whose values per bucket of Interval are read, in the same snapshot.
	// Nil: totals only.
	Pick func(totals map[string]KeywordStat) []string
	// Raw computes everything from raw rows.
	Raw bool
}

// KeywordResult is a keyword read. Totals cover the whole range (the
// empty keyword: sessions with any keyword); Values hold, per bucket, the
// sessions of the picked keywords (their other parts are not read: the
// hour table's keyword index covers the sessions alone).
type KeywordResult struct {
	Totals  map[string]KeywordStat
	Picked  []string
	Buckets []Bucket
	Values  []map[string]KeywordStat
	// How the answer was made: queues read from the store and raw, and
	// the 15-minute intervals of the store queues read raw.
	StoreQueues, RawQueues, RawIntervals int
}

// ReadKeywords answers q from the keyword tables for the hours and days
// they hold exactly, from raw rows for the rest (hours holding an interval
// the store does not hold exactly, the parts of the range that are not
// whole hours, queues read raw), in one read-only transaction: the answer
// equals the raw computation of that snapshot.
func ReadKeywords(ctx context.Context, db *gorm.DB, q KeywordQuery) (*KeywordResult, error) {
	if !keywordsDeclared() {
		return nil, fmt.Errorf("store: no keyword tables declared")
	}
	if q.Zone == nil {
		q.Zone = time.UTC
	}
	if q.Interval == "" {
		q.Interval = Total
	}
	if q.Start.UnixMilli()%IntervalMs != 0 || q.Stop.UnixMilli()%IntervalMs != 0 {
		return nil, fmt.Errorf("store: the range %s–%s is not on 15-minute boundaries", q.Start, q.Stop)
	}
	total, err := Buckets(Total, q.Start, q.Stop, q.Zone)
	if err != nil {
		return nil, err
	}
	res := &KeywordResult{Totals: map[string]KeywordStat{}}
	if q.Pick != nil {
		if res.Buckets, err = Buckets(q.Interval, q.Start, q.Stop, q.Zone); err != nil {
			return nil, err
		}
	}
	if len(q.Queues) == 0 {
		if q.Pick != nil {
			res.Values = make([]map[string]KeywordStat, len(res.Buckets))
			for i := range res.Values {
				res.Values[i] = map[string]KeywordStat{}
			}
		}
		return res, nil
	}
	tx, err := snapshot(ctx, db)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	lo, hi := q.Start.UnixMilli()/IntervalMs, q.Stop.UnixMilli()/IntervalMs
	// A stored hour or day holding a raw interval is read raw (as whole
	// hours).
	sp, err := splitQueues(tx, Started, q.Queues, lo, hi, q.Raw)
	if err != nil {
		return nil, err
	}
	d, storeQ, rawQ, raw := sp.d, sp.storeQ, sp.rawQ, sp.raw
	res.StoreQueues, res.RawQueues, res.RawIntervals = len(storeQ), len(rawQ), sp.rawIntervals
	r := keywordRead{tx: tx, d: d, q: q, storeQ: storeQ, rawQ: rawQ, raw: raw}
	tot, err := r.read(Total, total, nil)
	if err != nil {
		return nil, err
	}
	res.Totals = tot[0]
	if q.Pick == nil {
		return res, nil
	}
	res.Picked = q.Pick(res.Totals)
	if len(res.Picked) == 0 {
		res.Values = make([]map[string]KeywordStat, len(res.Buckets))
		for i := range res.Values {
			res.Values[i] = map[string]KeywordStat{}
		}
		return res, nil
	}
	res.Values, err = r.read(q.Interval, res.Buckets, res.Picked)
	return res, err
}

// keywordRead is the state of one ReadKeywords.
type keywordRead struct {
	tx           *gorm.DB
	d            dialect
	q            KeywordQuery
	storeQ, rawQ []uint32
	raw          map[uint32]map[int64]bool
}

// pieces is how the buckets of one store queue are read: day and hour
// units from the keyword tables, intervals from raw rows, each a list of
// ranges of interval numbers.
type pieces struct {
	day, hour, raw []ivSpan
	// split are the hours that a boundary between two buckets cuts, read
	// from the hour table into the bucket that holds the larger side (by
	// the key of the hour's interval plus shift), with the smaller side's
	// quarter-hours in minor, read raw, added to their own bucket and
	// taken from the other (next: the larger side is the next bucket's).
	split []splitHour
}

// splitHour is an hour cut by a boundary between buckets (splits).
type splitHour struct {
	hour  int64
	shift int64
	minor ivSpan
	next  bool
}

type ivSpan struct{ lo, hi int64 }

func appendSpan(s []ivSpan, lo, hi int64) []ivSpan {
	if n := len(s); n > 0 && s[n-1].hi == lo {
		s[n-1].hi = hi
		return s
	}
	return append(s, ivSpan{lo, hi})
}

// decompose cuts every bucket into the largest units that lie in it and
// hold no raw interval: whole UTC days, then whole UTC hours; what is left
// (an hour holding a raw interval, the quarter-hours of a bucket that
// does not start or end on an hour) is read raw.
func decompose(buckets []Bucket, rawIvs []int64) pieces {
	hasRaw := func(lo, hi int64) bool {
		i := sort.Search(len(rawIvs), func(i int) bool { return rawIvs[i] >= lo })
		return i < len(rawIvs) && rawIvs[i] < hi
	}
	var p pieces
	// A boundary between two buckets inside an hour (a local midnight in
	// Kathmandu, +05:45): the hour's row goes to the bucket of its larger
	// side and its smaller side is read raw, so that the raw rows are one
	// quarter-hour a day instead of an hour. Sessions add across
	// intervals, so the larger side is the hour less the smaller one.
	cut := map[int64]bool{} // quarter-hours of split hours, read no other way
	for i := 0; i+1 < len(buckets); i++ {
		a := buckets[i].End.UnixMilli() / IntervalMs
		h := floorTo(a, hourIvs)
		if a == h || !buckets[i+1].Start.Equal(buckets[i].End) || hasRaw(h, h+hourIvs) ||
			buckets[i].Start.UnixMilli()/IntervalMs > h || buckets[i+1].End.UnixMilli()/IntervalMs < h+hourIvs {
			continue
		}
		if a-h <= h+hourIvs-a {
			p.split = append(p.split, splitHour{hour: h, shift: a - h, minor: ivSpan{h, a}, next: true})
		} else {
			p.split = append(p.split, splitHour{hour: h, shift: 0, minor: ivSpan{a, h + hourIvs}})
		}
		for x := h; x < h+hourIvs; x++ {
			cut[x] = true
		}
	}
	for _, b := range buckets {
		a, e := b.Start.UnixMilli()/IntervalMs, b.End.UnixMilli()/IntervalMs
		for a < e {
			switch {
			case cut[a]:
				a++
			case a%dayIvs == 0 && a+dayIvs <= e && !hasRaw(a, a+dayIvs):
				p.day = appendSpan(p.day, a, a+dayIvs)
				a += dayIvs
			case a%hourIvs == 0 && a+hourIvs <= e && !hasRaw(a, a+hourIvs):
				p.hour = appendSpan(p.hour, a, a+hourIvs)
				a += hourIvs
			case a%hourIvs == 0 && a+hourIvs <= e:
				p.raw = appendSpan(p.raw, a, a+hourIvs)
				a += hourIvs
			default:
				p.raw = appendSpan(p.raw, a, a+1)
				a++
			}
		}
	}
	return p
}

// read sums the keywords (all of them when keywords is empty, with the
// empty keyword's sessions with any keyword) per bucket of interval iv.
func (r *keywordRead) read(iv Interval, buckets []Bucket, keywords []string) ([]map[string]KeywordStat, error) {
	out := make([]map[string]KeywordStat, len(buckets))
	for i := range out {
		out[i] = map[string]KeywordStat{}
	}
	kq := Query{Start: r.q.Start, Stop: r.q.Stop, Zone: r.q.Zone, Interval: iv}
	key, index, err := bucketKey(r.d, kq, buckets)
	if err != nil {
		return nil, err
	}
	// add reads rows (bucket key, keyword, stat) into their buckets; with
	// from ±1 it also takes each row from the next (+1) or previous (−1)
	// bucket: the smaller side of a split hour, whose whole hour went to
	// that bucket.
	add := func(stmt string, args []any, from int) error {
		rows, err := r.tx.Raw(stmt, args...).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k int64
			var kw string
			var v KeywordStat
			if err := rows.Scan(&k, &kw, &v.Sessions, &v.Occurrences, &v.SentimentSum, &v.SentimentN); err != nil {
				return err
			}
			b, ok := index(k)
			if !ok {
				return fmt.Errorf("store: bucket key %d outside the range", k)
			}
			if len(keywords) > 0 {
				v = KeywordStat{Sessions: v.Sessions}
			}
			s := out[b][kw]
			s.add(v)
			out[b][kw] = s
			if from != 0 {
				o := b + from
				if o < 0 || o >= len(out) {
					return fmt.Errorf("store: a split hour's bucket %d outside the range", o)
				}
				t := out[o][kw]
				t.add(KeywordStat{Sessions: -v.Sessions, Occurrences: -v.Occurrences, SentimentSum: -v.SentimentSum, SentimentN: -v.SentimentN})
				out[o][kw] = t
			}
		}
		return rows.Err()
	}
	// Stored units, per table.
	var dayW, hourW []string
	// Stored units of a queue: on MySQL a range per span (the range
	// optimiser merges them); on SQLite, which scans the whole queue for a
	// disjunction of ranges on one index, the units one by one in an IN
	// list (one seek each). The numbers are the store's own integers.
	units := func(id uint32, ss []ivSpan, step int64) string {
		var b strings.Builder
		fmt.Fprintf(&b, "(queue_id = %d AND ", id)
		if r.d.mysql {
			b.WriteString("(")
			for i, s := range ss {
				if i > 0 {
					b.WriteString(" OR ")
				}
				fmt.Fprintf(&b, "iv >= %d AND iv < %d", s.lo, s.hi)
			}
			b.WriteString("))")
			return b.String()
		}
		b.WriteString("iv IN (")
		first := true
		for _, s := range ss {
			for u := s.lo; u < s.hi; u += step {
				if !first {
					b.WriteString(", ")
				}
				first = false
				b.WriteString(strconv.FormatInt(u, 10))
			}
		}
		b.WriteString("))")
		return b.String()
	}
	// Raw pieces: (queue, range) pairs; hull is their extent. Split hours:
	// their hour rows per shift, their smaller sides by direction.
	var rawR []queueRange
	hullLo, hullHi := int64(math.MaxInt64), int64(math.MinInt64)
	splitW := map[int64][]string{}
	var minorNext, minorPrev []queueRange
	for _, id := range r.storeQ {
		ivs := make([]int64, 0, len(r.raw[id]))
		for x := range r.raw[id] {
			ivs = append(ivs, x)
		}
		slices.Sort(ivs)
		p := decompose(buckets, ivs)
		if len(p.day) > 0 {
			dayW = append(dayW, units(id, p.day, dayIvs))
		}
		if len(p.hour) > 0 {
			hourW = append(hourW, units(id, p.hour, hourIvs))
		}
		for _, s := range p.raw {
			rawR = append(rawR, queueRange{id, ivTime(s.lo), ivTime(s.hi)})
			hullLo, hullHi = min(hullLo, s.lo), max(hullHi, s.hi)
		}
		byShift := map[int64][]ivSpan{}
		for _, sp := range p.split {
			byShift[sp.shift] = appendSpan(byShift[sp.shift], sp.hour, sp.hour+hourIvs)
			m := queueRange{id, ivTime(sp.minor.lo), ivTime(sp.minor.hi)}
			if sp.next {
				minorNext = append(minorNext, m)
			} else {
				minorPrev = append(minorPrev, m)
			}
		}
		for shift, ss := range byShift {
			splitW[shift] = append(splitW[shift], units(id, ss, hourIvs))
		}
	}
	type unitRead struct {
		table string
		where []string
		args  []any
		shift int64 // the hour rows of split hours: keyed by iv + shift
	}
	reads := []unitRead{{KeywordDayTable, dayW, nil, 0}, {KeywordHourTable, hourW, nil, 0}}
	shifts := make([]int64, 0, len(splitW))
	for shift := range splitW {
		shifts = append(shifts, shift)
	}
	slices.Sort(shifts)
	for _, shift := range shifts {
		reads = append(reads, unitRead{KeywordHourTable, splitW[shift], nil, shift})
	}
	for _, t := range reads {
		if len(t.where) == 0 {
			continue
		}
		sums := "SUM(sessions), SUM(occurrences), SUM(sentiment_sum), SUM(sentiment_n)"
		if len(keywords) > 0 {
			sums = "SUM(sessions), 0, 0, 0"
		}
		iv := "iv"
		if t.shift != 0 {
			iv = "(iv + " + strconv.FormatInt(t.shift, 10) + ")"
		}
		stmt := "SELECT " + key(iv) + " AS k, keyword, " + sums + " FROM " + t.table + " WHERE (" + strings.Join(t.where, " OR ") + ")"
		args := t.args
		if len(keywords) > 0 {
			stmt += " AND keyword IN ?"
			args = append(args, keywords)
		}
		if err := add(stmt+" GROUP BY k, keyword", args, 0); err != nil {
			return nil, err
		}
	}
	// Raw rows: whole queues, and the raw pieces of the others.
	for _, id := range r.rawQ {
		rawR = append(rawR, queueRange{id, r.q.Start.UTC(), r.q.Stop.UTC()})
		hullLo, hullHi = r.q.Start.UnixMilli()/IntervalMs, r.q.Stop.UnixMilli()/IntervalMs
	}
	kf, kargs := "source IN ?", []any{KeywordSources}
	if len(keywords) > 0 {
		kf, kargs = kf+" AND keyword IN ?", append(kargs, keywords)
	}
	rawSelect := func(rs []queueRange, jcond string, jargs []any) (string, []any) {
		return keywordSelect(r.d, key(r.d.iv("s.started_at"))+" AS gx", "gx",
			r.d.ranges("session_keywords", "k", "session_id, source, keyword, occurrences", rs, kf, kargs...), jcond, jargs,
			r.d.ranges("chat_sessions", "s", "id, queue_id, started_at", rs, ""), keywords)
	}
	if len(rawR) > 0 {
		// The joined sessions are bounded by the queues and the hull of
		// the raw pieces (the whole window for a queue read raw, as the
		// raw report filters them), not piece by piece: a keyword row
		// carries its session's queue and start (a write-side invariant).
		jcond := "s.queue_id IN ? AND s.started_at >= ? AND s.started_at < ?"
		jargs := []any{append(slices.Clone(r.storeQ), r.rawQ...), ivTime(hullLo), ivTime(hullHi)}
		if len(r.rawQ) == 0 && len(rawR) > 1 {
			// Pieces only: a bound over their hull would have MariaDB
			// drive the join from every session of the hull.
			jcond, jargs = "1 = 1", nil
		}
		stmt, args := rawSelect(rawR, jcond, jargs)
		if err := add(stmt, args, 0); err != nil {
			return nil, err
		}
	}
	for _, m := range []struct {
		rs   []queueRange
		from int
	}{{minorNext, 1}, {minorPrev, -1}} {
		if len(m.rs) == 0 {
			continue
		}
		stmt, args := rawSelect(m.rs, "1 = 1", nil)
		if err := add(stmt, args, m.from); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bucketKey is groupKey for the buckets of a keyword read, whose rows
// have no queue in their key.
func bucketKey(d dialect, q Query, buckets []Bucket) (func(iv string) string, func(int64) (int, bool), error) {
	q.Group = ByBucket
	key, index, err := groupKey(d, q, &Result{Buckets: buckets})
	if err != nil {
		return nil, nil, err
	}
	return func(iv string) string { return key(iv, "") }, index, nil
}
