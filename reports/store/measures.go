// Package store is the interval store: per-queue aggregates of the
// additive report measures (counts, sums, minima, maxima) in 15-minute UTC
// intervals, one table per attribution time, built by Rebuild, kept
// current by Maintainer and read by Read, which combines stored intervals
// with raw rows for the intervals the store does not hold exactly, so that
// every answer equals the raw computation (docs/architecture.md, "The
// interval store").
package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Attr is an attribution time: which instant puts a row in an interval.
type Attr uint8

const (
	// Queued attributes a session to its arrival in the queue (queued_at):
	// volume, outcomes, wait, service level, handle time, ratings,
	// transfers.
	Queued Attr = 1
	// Started attributes a session to its start (started_at): session
	// totals, terminal states, sentiment.
	Started Attr = 2
	// Bot attributes a bot interaction to its start (bot_interactions.started_at).
	Bot Attr = 3
)

// Attrs lists every attribution time.
var Attrs = []Attr{Queued, Started, Bot}

func (a Attr) String() string {
	switch a {
	case Queued:
		return "queued"
	case Started:
		return "started"
	case Bot:
		return "bot"
	}
	return fmt.Sprintf("attr%d", uint8(a))
}

// source is where the rows of an attribution time come from.
type source struct {
	from     string // FROM clause (aliases s, r, b)
	queueCol string
	timeCol  string
	where    string // rows that have the attribution time at all
	idCol    string // the session id, for batches by id
}

func (a Attr) source() source {
	switch a {
	case Queued:
		return source{from: "chat_sessions s LEFT JOIN session_ratings r ON r.session_id = s.id", queueCol: "s.queue_id",
			timeCol: "s.queued_at", where: "s.queued_at IS NOT NULL", idCol: "s.id"}
	case Started:
		return source{from: "chat_sessions s", queueCol: "s.queue_id", timeCol: "s.started_at", where: "1 = 1", idCol: "s.id"}
	default:
		// An interaction counts only with its session, as in the bot reports.
		return source{from: "bot_interactions b JOIN chat_sessions s ON s.id = b.session_id", queueCol: "b.queue_id",
			timeCol: "b.started_at", where: "1 = 1", idCol: "s.id"}
	}
}

// Table is the interval table of a.
func (a Attr) Table() string { return "report_intervals_" + a.String() }

// HourTable is a's hour table: the sums of its interval table per UTC
// hour (iv the hour's first interval), derived from the intervals in the
// transaction that writes them, for reads whose buckets are whole UTC
// hours (hours.go).
func (a Attr) HourTable() string { return a.Table() + "_hour" }

// Agg is how a measure aggregates, within an interval and across them.
type Agg uint8

const (
	Count Agg = iota // rows meeting the predicate
	Sum              // sum of an integer expression (NULL adds nothing)
	Min              // least value (NULL when no row has one)
	Max              // greatest value
)

// Dialect is what a measure's SQL depends on: the database, and the
// per-queue thresholds of the queues a statement reads (predicates such
// as the short abandon and the service level compare with them).
type Dialect struct {
	MySQL      bool
	Thresholds map[uint32]Thresholds
}

// Measure is one stored column: an aggregate of a per-row SQL expression
// over the rows of its attribution time. For Count, SQL is the predicate;
// otherwise an integer expression (whole milliseconds for durations). The
// SQL uses the aliases of the source (s = chat_sessions, r =
// session_ratings, b = bot_interactions).
type Measure struct {
	Name string
	Attr Attr
	Agg  Agg
	SQL  func(d Dialect) string
}

// Measures is the declaration of every stored measure: the store holds
// what its users declare (the reports declare their additive measures,
// reports/stored.go). Changing it changes the fingerprint: the store drops
// its interval tables and is rebuilt (reads stay exact meanwhile, from raw
// rows).
var Measures []Measure

var validName = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]{0,62}$`)

// Declare adds m to the declaration; declaring a measure again under the
// same name is a no-op when its SQL is the same, and a panic otherwise
// (one name, one definition).
func Declare(m Measure) {
	if !validName.MatchString(m.Name) || m.Name == "queue_id" || m.Name == "iv" {
		panic("store: invalid measure name " + m.Name)
	}
	if m.Attr != Queued && m.Attr != Started && m.Attr != Bot {
		panic(fmt.Sprintf("store: measure %s has no attribution time", m.Name))
	}
	for _, o := range Measures {
		if strings.EqualFold(o.Name, m.Name) {
			if o.Attr != m.Attr || o.Agg != m.Agg || canonical(o) != canonical(m) {
				panic("store: measure " + m.Name + " declared twice with different definitions")
			}
			return
		}
	}
	Measures = append(Measures, m)
}

// canonical is m's SQL in a fixed dialect (SQLite, two queues with
// distinct thresholds): what the fingerprint and Declare compare.
func canonical(m Measure) string {
	return m.SQL(Dialect{Thresholds: map[uint32]Thresholds{1: {SLAMs: 20000, ShortAbandonMs: 5000}, 2: {SLAMs: 30000, ShortAbandonMs: 7000}}})
}

// attrs lists the attribution times with stored rows: at least one
// declared measure (an interval table), or keyword tables (Started).
func attrs() []Attr {
	var out []Attr
	for _, a := range Attrs {
		if a.stored() {
			out = append(out, a)
		}
	}
	return out
}

// stored reports whether a has stored rows (see attrs).
func (a Attr) stored() bool { return len(Of(a)) > 0 || a == Started && keywordsDeclared() }

// hasTable reports whether a has an interval table.
func (a Attr) hasTable() bool { return len(Of(a)) > 0 }

// Of returns the measures of an attribution time, in declaration order.
func Of(a Attr) []Measure {
	var out []Measure
	for _, m := range Measures {
		if m.Attr == a {
			out = append(out, m)
		}
	}
	return out
}

// Fingerprint identifies the declaration: the interval tables were
// created from it.
func Fingerprint() string {
	h := sha256.New()
	for _, m := range Measures {
		fmt.Fprintf(h, "%s|%d|%d|%s\n", m.Name, m.Attr, m.Agg, canonical(m))
	}
	if keywordsDeclared() {
		fmt.Fprintf(h, "keywords|hour,day|%s\n", strings.Join(KeywordSources, ","))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// aggregate is the SQL aggregate of m over rows, with d's predicates.
func (m Measure) aggregate(d dialect) string {
	e := m.SQL(Dialect{MySQL: d.mysql, Thresholds: d.thresh})
	switch m.Agg {
	case Count:
		return "COALESCE(SUM(CASE WHEN " + e + " THEN 1 ELSE 0 END), 0)"
	case Sum:
		return "COALESCE(SUM(" + e + "), 0)"
	case Min:
		return "MIN(" + e + ")"
	default:
		return "MAX(" + e + ")"
	}
}

// combine is the SQL aggregate that combines stored values of m (col).
func (m Measure) combine(col string) string {
	switch m.Agg {
	case Min:
		return "MIN(" + col + ")"
	case Max:
		return "MAX(" + col + ")"
	default:
		return "COALESCE(SUM(" + col + "), 0)"
	}
}

func names(ms []Measure) string {
	n := make([]string, len(ms))
	for i, m := range ms {
		n[i] = m.Name
	}
	return strings.Join(n, ", ")
}
