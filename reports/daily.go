package reports

import (
	"cmp"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Per-day aggregates in SQL. The daily queue reports are sums, counts,
// means and maxima of per-session values; the database computes them per
// local day and sends one row per day instead of every session (docs/benchmarks.md:
// within 1.25× of the same aggregate run by the mariadb client).
//
// The local day of an instant needs no time-zone tables in the database:
// inside the window a zone's offset is constant between its transitions,
// which Go knows (time.Time.ZoneBounds). The SQL adds the offset of the
// instant's segment (a CASE over at most a few transitions) to its epoch
// milliseconds and divides by a day, which is the local calendar day the
// Go buckets of Window.Days carry: exact for every zone, half-hour offsets
// and DST days included. Durations are whole milliseconds (instants are
// stored with millisecond precision), so sums and thresholds are exact
// integers; negative durations (clock skew) count as 0, as seconds() does.

const msPerDay = 24 * 60 * 60 * 1000

// daySQL writes the dialect-specific expressions of one run.
type daySQL struct {
	mysql bool
	ref   time.Time // the window's start, whole seconds: epoch offsets are exact
}

func (x *execution) daySQL() daySQL {
	mysql := x.storeMySQL
	if x.engine != nil {
		mysql = x.engine.mysql()
	}
	return daySQL{mysql: mysql, ref: x.q.Window.Start.UTC().Truncate(time.Second)}
}

// sinceRef is the milliseconds from ref to col.
func (d daySQL) sinceRef(col string) string {
	if d.mysql {
		return "TIMESTAMPDIFF(MICROSECOND, '" + d.ref.Format("2006-01-02 15:04:05") + "', " + col + ") DIV 1000"
	}
	return "CAST(ROUND((unixepoch(" + col + ", 'subsec') - " + strconv.FormatInt(d.ref.Unix(), 10) + ") * 1000) AS INTEGER)"
}

// ms is b − a in milliseconds, 0 when negative; NULL when either is NULL.
func (d daySQL) ms(a, b string) string {
	if d.mysql {
		return "GREATEST(TIMESTAMPDIFF(MICROSECOND, " + a + ", " + b + ") DIV 1000, 0)"
	}
	return "MAX(CAST(ROUND((unixepoch(" + b + ", 'subsec') - unixepoch(" + a + ", 'subsec')) * 1000) AS INTEGER), 0)"
}

// localMs is col as milliseconds since 1970-01-01T00:00 on the zone's
// wall clock, for instants inside the window: the local day, hour and
// weekday follow by integer division.
func (d daySQL) localMs(col string, zone *time.Location, stop time.Time) string {
	since := d.sinceRef(col)
	refMs := d.ref.UnixMilli()
	// One segment per zone offset in [ref, stop): the offset plus ref's
	// epoch milliseconds, and where the segment ends (ms since ref).
	var shift strings.Builder
	at := d.ref
	for {
		_, off := at.In(zone).Zone()
		c := strconv.FormatInt(refMs+int64(off)*1000, 10)
		_, end := at.In(zone).ZoneBounds()
		if end.IsZero() || !end.Before(stop) {
			if shift.Len() == 0 {
				return "(" + since + " + " + c + ")"
			}
			shift.WriteString(" ELSE " + c + " END")
			break
		}
		if shift.Len() == 0 {
			shift.WriteString("CASE")
		}
		fmt.Fprintf(&shift, " WHEN %s < %d THEN %s", since, end.Sub(d.ref).Milliseconds(), c)
		at = end
	}
	return "(" + since + " + " + shift.String() + ")"
}

// div is integer division (operands are never negative here).
func (d daySQL) div(a string, b int64) string {
	op := " / "
	if d.mysql {
		op = " DIV "
	}
	return "((" + a + ")" + op + strconv.FormatInt(b, 10) + ")"
}

// dayOf is the local epoch day (days since 1970-01-01 in the zone's
// calendar) of col.
func (d daySQL) dayOf(col string, zone *time.Location, stop time.Time) string {
	return d.div(d.localMs(col, zone, stop), msPerDay)
}

// hourOfDay is the local hour (0–23) of col; weekday its ISO weekday
// (1 = Monday; 1970-01-01 was a Thursday).
func (d daySQL) hourOfDay(col string, zone *time.Location, stop time.Time) string {
	return "(" + d.div(d.localMs(col, zone, stop), 60*60*1000) + " % 24)"
}

func (d daySQL) weekday(col string, zone *time.Location, stop time.Time) string {
	return "((" + d.dayOf(col, zone, stop) + " + 3) % 7 + 1)"
}

// hourOfWeek is weekday·24 + hourOfDay of col from one evaluation of the
// local time: with h the local hours since the epoch (a Thursday 00:00),
// ((h DIV 24 + 3) mod 7)·24 + h mod 24 = (h + 72) mod 168.
func (d daySQL) hourOfWeek(col string, zone *time.Location, stop time.Time) string {
	return "((" + d.div(d.localMs(col, zone, stop), 60*60*1000) + " + 72) % 168 + 24)"
}

// epochDay is the local epoch day of a bucket, as dayOf computes it.
func epochDay(b Bucket) int64 {
	y, m, d := b.Label.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// count is the SQL count of rows meeting cond.
func count(cond string) string { return "SUM(CASE WHEN " + cond + " THEN 1 ELSE 0 END)" }

// perQueue is a SQL expression giving each of the run's queues its value
// of v (thresholds in ms, say).
func (x *execution) perQueue(v func(q queueInfo) int64) string {
	if len(x.queueIDs()) == 0 {
		return "NULL" // no queue: nothing to compare with (CASE needs a WHEN)
	}
	var b strings.Builder
	b.WriteString("CASE s.queue_id")
	for _, id := range x.queueIDs() {
		fmt.Fprintf(&b, " WHEN %d THEN %d", id, v(x.info[id]))
	}
	b.WriteString(" END")
	return b.String()
}

// dayQuery is one per-day aggregation over the sessions of the run's
// queues whose timeCol lies in the window (chat_sessions s, plus join,
// restricted by where when set).
type dayQuery struct {
	timeCol string
	// from and queueCol replace "chat_sessions s" and "s.queue_id" for a
	// report driven by another table (bot interactions).
	from, queueCol string
	join           string
	where          string
	sels           []string // aggregates
	// rank, when set, is a per-session value (NULL: not in the sample)
	// whose nearest-rank percentiles pcts follow sels, ranked per day by
	// ROW_NUMBER in a derived table. The derived table holds values, the
	// per-session expressions ("expr AS name") that rank and sels read as
	// s.name, computed once per session.
	rank   string
	pcts   []int
	values []string
}

// aggregate runs q grouped by the SQL expression key (a local day, hour
// or weekday of q.timeCol, or a text such as a skill tag: see textKey)
// and calls fn with each key's aggregates.
func aggregate[K int64 | string](x *execution, q dayQuery, key string, fn func(key K, v []sql.NullFloat64) error) error {
	table, queueCol := cmp.Or(q.from, "chat_sessions s"), cmp.Or(q.queueCol, "s.queue_id")
	from := " FROM " + table + " " + q.join + " WHERE " + queueCol + " IN ? AND " + q.timeCol + " >= ? AND " + q.timeCol + " < ?"
	if q.where != "" {
		from += " AND " + q.where
	}
	sels := q.sels
	var stmt string
	if q.rank == "" {
		stmt = "SELECT " + key + " AS d, " + strings.Join(sels, ", ") + from + " GROUP BY d"
	} else {
		d := x.daySQL()
		for _, p := range q.pcts { // nearest rank: ceil(p/100 · n), in integers
			sels = append(sels, fmt.Sprintf("MAX(CASE WHEN s.rv IS NOT NULL AND s.rn = %s THEN s.rv END)", d.div(fmt.Sprintf("s.rc * %d + 99", p), 100)))
		}
		stmt = "SELECT s.d, " + strings.Join(sels, ", ") + " FROM (" +
			"SELECT s.*, " + q.rank + " AS rv, " +
			"ROW_NUMBER() OVER (PARTITION BY s.d, CASE WHEN " + q.rank + " IS NULL THEN 0 ELSE 1 END ORDER BY " + q.rank + ") AS rn, " +
			"COUNT(" + q.rank + ") OVER (PARTITION BY s.d) AS rc FROM (" +
			"SELECT " + key + " AS d, " + strings.Join(q.values, ", ") + from + ") s) s GROUP BY s.d"
	}
	rows, err := x.db.Raw(stmt, nonEmpty(x.queueIDs()), x.q.Window.Start, x.q.Window.Stop).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	var k K
	dest := make([]any, len(sels)+1)
	dest[0] = &k
	for rows.Next() {
		v := make([]sql.NullFloat64, len(sels))
		for i := range v {
			dest[i+1] = &v[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// textKey groups by the bytes of a text expression: MySQL's _ci
// collations would merge keys that differ in case or accents, which Go
// (rankedKeys) and SQLite keep apart. (COLLATE keeps a VARCHAR; CAST AS
// BINARY grouped 40 % slower on MariaDB.)
func (d daySQL) textKey(expr string) string {
	if d.mysql {
		return "(" + expr + ") COLLATE utf8mb4_bin"
	}
	return expr
}
