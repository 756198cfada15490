package reports

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/chime-reports/chime-reports/reports/store"
)

func init() {
	register(&Report{
		Name: "TopKeywords", Title: "Top Keywords", Category: QueueTextAnalytics, Grain: GrainKeyword,
		Description: "Most frequent guest terms (top 100)",
		Columns: []Column{
			{Name: "Rank", Type: Int, Description: "1 = the keyword in most sessions"},
			{Name: "Keyword", Type: String, Description: "Lower-cased term from the question and the guest's messages"},
			{Name: "Sessions", Type: Int, Description: "Sessions using the keyword (document frequency)"},
			{Name: "SharePct", Type: Pct, Description: "Sessions / sessions with any keyword · 100"},
			{Name: "Occurrences", Type: Int, Description: "Times the keyword occurs"},
			{Name: "AvgSentiment", Type: Decimal, Description: "Mean session sentiment (−1 … 1) of those sessions, scored ones only"},
		},
		Formula: "session_keywords with source question or seeker for sessions that started in the window; ranked by Sessions, then keyword (byte order).",
		run:     topKeywords,
		cover:   uncovered,
	})
	register(&Report{
		Name: "KeywordTrendByDay", Title: "Keyword Trend by Day", Category: QueueTextAnalytics, Grain: GrainDayKeyword,
		Description: "Daily trend of the top 10 keywords",
		Columns: []Column{
			{Name: "Date", Type: Date, Description: "Local day of started_at"},
			{Name: "Keyword", Type: String, Description: "One of the window's 10 top keywords"},
			{Name: "Sessions", Type: Int, Description: "Sessions that day using the keyword"},
		},
		Formula: "The top 10 of TopKeywords over the whole window, then their sessions per day (per bucket of `interval`); every bucket × keyword is listed.",
		intervalFormula: "The top 10 of TopKeywords over the whole window, then their sessions per bucket of the interval holding started_at " +
			"(PeriodStart, the bucket's local start); every bucket × keyword is listed.",
		run:    keywordTrendByDay,
		cover:  uncovered,
		series: store.P1D,
	})
	scored := CountOf(StartedAt, nil, Sentiment)
	register(&Report{
		Name: "SentimentByDay", Title: "Sentiment by Day", Category: QueueTextAnalytics, Grain: GrainDay, By: ByDay,
		Description: "Guest sentiment trend per day",
		Inputs:      map[string]*Measure{"positive": Count(StartedAt, Positive), "negative": Count(StartedAt, Negative)},
		Columns: []Column{
			{Name: "Date", Type: Date, Description: "Local day of started_at"},
			{Name: "Sessions", Type: Int, Description: "Sessions started", Measure: Count(StartedAt, nil)},
			{Name: "ScoredSessions", Type: Int, Description: "Of those, sessions with a sentiment score", Measure: scored},
			{Name: "AvgSentiment", Type: Decimal, Description: "Mean session score (−1 … 1)", Measure: Mean(Sum(StartedAt, nil, Sentiment), scored)},
			// The thresholds of SentimentLabel; the scores are DECIMAL(4,3), exact in SQL.
			{Name: "PositivePct", Type: Pct, Description: "Scores above 0.25 / scored · 100", Measure: Ratio(Count(StartedAt, Positive), scored)},
			{Name: "NeutralPct", Type: Pct, Description: "Scores from −0.25 to 0.25 / scored · 100", Null: true,
				Calc: func(c Cells) any {
					n := c.Int("ScoredSessions")
					return ratio(n-c.Int("positive")-c.Int("negative"), n)
				}},
			{Name: "NegativePct", Type: Pct, Description: "Scores below −0.25 / scored · 100", Measure: Ratio(Count(StartedAt, Negative), scored)},
		},
		Formula: "Session scores come from the source system (the mean of its guest-message scores); the service only reports them.",
	})
	handled := CountOf(QueuedAt, nil, Handle)
	register(&Report{
		Name: "SkillTagDistribution", Title: "Skill Tag Distribution", Category: QueueTextAnalytics, Grain: GrainWindow,
		By:          ByText("SkillTag", "COALESCE(NULLIF(s.skill_tag, ''), '(none)')", nil, "Inbound"),
		Description: "Demand by skill tag / topic",
		Columns: []Column{
			{Name: "SkillTag", Type: String, Description: "The routing skill tag, or (none)"},
			{Name: "Inbound", Type: Int, Description: "Sessions that entered the queue with that tag", Measure: inbound},
			{Name: "Answered", Type: Int, Description: "Of those, answered", Measure: answered},
			{Name: "AnsweredPct", Type: Pct, Description: "Answered / Inbound · 100", Measure: answeredPct},
			{Name: "AvgWaitSeconds", Type: Seconds, Description: "Mean wait of the answered ones", Measure: avgAnsweredWait},
			{Name: "AvgHandleSeconds", Type: Seconds, Description: "Mean handle time of answered, closed ones", Measure: Mean(Sum(QueuedAt, nil, Handle), handled)},
		},
		Formula: "Sessions that entered the queue in the window, grouped by skill_tag; most inbound first.",
	})
	register(&Report{
		Name: "RatingComments", Title: "Rating Comments", Category: QueueTextAnalytics, Grain: GrainSession,
		Description: "Verbatim survey comments",
		Columns: []Column{
			{Name: "SessionId", Type: Int, Description: "Session id"},
			{Name: "SubmittedAt", Type: DateTime, Description: "When the survey was answered"},
			{Name: "Rating", Type: Int, Description: "Rating 1–5"},
			{Name: "Comment", Type: String, Description: "The guest's comment, verbatim"},
			{Name: "AgentName", Type: String, Description: "The rated (last) agent", Null: true},
			{Name: "Question", Type: String, Description: "The guest's question", Null: true},
		},
		Formula: "Survey answers with a non-empty comment for sessions that entered the queue in the window (queued_at), by submitted_at.",
		run:     ratingComments,
		cover:   sessionNames,
	})
}

// Text grains.
const (
	GrainKeyword    Grain = "keyword"
	GrainDayKeyword Grain = "dayKeyword"
)

// guestSources are the keyword sources that speak for the guest.
var guestSources = []string{"question", "seeker"}

// The interval store keeps the guest keywords' additive parts per queue,
// UTC hour and day (reports/store/keywords.go): the sessions using each
// keyword, its occurrences, and the sentiment sum and count of those
// sessions, plus the sessions with any guest keyword. TopKeywords and
// KeywordTrendByDay read them for windows on 15-minute boundaries;
// RawOnly and other windows compute them from session_keywords.
func init() { store.DeclareKeywords(guestSources...) }

// keywordsFromStore reports whether the run reads the keyword tables.
func (x *execution) keywordsFromStore() bool { return !x.engine.raw && storeAligned(x.q.Window) }

// statsOf turns the store's totals into ranked keyword statistics (the
// empty keyword, the sessions with any keyword, left out).
func statsOf(totals map[string]store.KeywordStat) []keywordStat {
	out := make([]keywordStat, 0, len(totals))
	for kw, t := range totals {
		if kw == "" || t.Sessions == 0 {
			continue
		}
		out = append(out, keywordStat{keyword: kw, sessions: t.Sessions, occ: t.Occurrences,
			sentSum: float64(t.SentimentSum) / float64(storedScale[Sentiment]), sentN: t.SentimentN})
	}
	rankKeywords(out)
	return out
}

// storedKeywords reads the run's keyword totals, and with pick the picked
// keywords per bucket of the run's interval, from the interval store.
func (x *execution) storedKeywords(ctx context.Context, pick func(map[string]store.KeywordStat) []string) (*store.KeywordResult, error) {
	w := x.q.Window
	iv := store.Total
	if x.q.Report.TakesInterval() {
		iv = x.interval()
	}
	return store.ReadKeywords(ctx, x.db, store.KeywordQuery{Queues: x.queueIDs(), Start: w.Start, Stop: w.Stop, Zone: w.Zone,
		Interval: iv, Pick: pick})
}

type keywordStat struct {
	keyword       string
	sessions, occ int64
	sentSum       float64
	sentN         int64
}

// keywordStats aggregates guest keywords of S in SQL: per keyword the
// distinct sessions, occurrences and the sentiment sum and count of those
// sessions (a per-session subquery keeps a session counted once even when
// its question and messages share a keyword). Ordered in Go by Sessions
// then keyword bytes, so both back ends agree whatever their collation.
func (x *execution) keywordStats() ([]keywordStat, int64, error) {
	w := x.q.Window
	per := x.db.Table("session_keywords").Select("keyword, session_id, SUM(occurrences) AS occ").
		Where("queue_id IN ? AND started_at >= ? AND started_at < ? AND source IN ?", nonEmpty(x.queueIDs()), w.Start, w.Stop, guestSources).
		Group("keyword, session_id")
	// The sessions are filtered too (session_keywords copies their queue and
	// start): without it MariaDB drives the join from every chat_sessions
	// row and reads each session's keywords by primary key, all queues'
	// (10.6 s for a queue-year of 1M sessions); with it, from the window's
	// sessions of the queue (7.4 s).
	rows, err := x.db.Table("(?) AS k", per).
		Select("k.keyword, COUNT(*), SUM(k.occ), SUM(s.sentiment_score), COUNT(s.sentiment_score)").
		Joins("JOIN chat_sessions s ON s.id = k.session_id").
		Where("s.queue_id IN ? AND s.started_at >= ? AND s.started_at < ?", nonEmpty(x.queueIDs()), w.Start, w.Stop).
		Group("k.keyword").Rows()
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []keywordStat
	for rows.Next() {
		var k keywordStat
		var sum sql.NullFloat64
		if err := rows.Scan(&k.keyword, &k.sessions, &k.occ, &sum, &k.sentN); err != nil {
			return nil, 0, err
		}
		k.sentSum = sum.Float64
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	rankKeywords(out)
	var withAny int64 // sessions with a guest keyword (1.2 s, against 2.2 s for COUNT(DISTINCT) over session_keywords)
	err = x.db.Table("chat_sessions AS s").Select("COUNT(*)").
		Where("s.queue_id IN ? AND s.started_at >= ? AND s.started_at < ?", nonEmpty(x.queueIDs()), w.Start, w.Stop).
		Where("EXISTS (SELECT 1 FROM session_keywords k WHERE k.session_id = s.id AND k.source IN ?)", guestSources).
		Scan(&withAny).Error
	return out, withAny, err
}

// rankKeywords orders keyword statistics by Sessions, then keyword bytes.
func rankKeywords(ks []keywordStat) {
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].sessions != ks[j].sessions {
			return ks[i].sessions > ks[j].sessions
		}
		return ks[i].keyword < ks[j].keyword
	})
}

// keywordSessions is keywordStats with Sessions alone, ranked the same
// way (the sessions of the window that use each keyword).
func (x *execution) keywordSessions() ([]keywordStat, error) {
	rows, err := x.keywordSessionRows("", nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []keywordStat
	for rows.Next() {
		var k keywordStat
		if err := rows.Scan(&k.keyword, &k.sessions); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	rankKeywords(out)
	return out, rows.Err()
}

// keywordSessionRows counts, per keyword and bucket (bucket is the SQL of
// a session's bucket key, "" for none), the sessions of the window using
// each guest keyword (among only, when set), as keywordStats counts them:
// each session once, and only sessions of the window's queues and times.
// The columns: the bucket key (with bucket), the keyword, the sessions.
func (x *execution) keywordSessionRows(bucket string, only []string) (*sql.Rows, error) {
	w := x.q.Window
	// Grouped as keywordStats groups them: MariaDB then builds the
	// derived table per joined session (split materialization), which it
	// does not for DISTINCT (ten times slower on a queue-year).
	per := x.db.Table("session_keywords").Select("keyword, session_id").
		Where("queue_id IN ? AND started_at >= ? AND started_at < ? AND source IN ?", nonEmpty(x.queueIDs()), w.Start, w.Stop, guestSources)
	if only != nil {
		per = per.Where("keyword IN ?", only)
	}
	per = per.Group("keyword, session_id")
	sel, group := "k.keyword, COUNT(*)", "k.keyword"
	if bucket != "" {
		sel, group = bucket+" AS b, k.keyword, COUNT(*)", "b, k.keyword"
	}
	return x.db.Table("(?) AS k", per).Select(sel).
		Joins("JOIN chat_sessions s ON s.id = k.session_id").
		Where("s.queue_id IN ? AND s.started_at >= ? AND s.started_at < ?", nonEmpty(x.queueIDs()), w.Start, w.Stop).
		Group(group).Rows()
}

func topKeywords(ctx context.Context, x *execution) (Rows, error) {
	var stats []keywordStat
	var withAny int64
	if x.keywordsFromStore() {
		res, err := x.storedKeywords(ctx, nil)
		if err != nil {
			return nil, err
		}
		stats, withAny = statsOf(res.Totals), res.Totals[""].Sessions
	} else {
		var err error
		if stats, withAny, err = x.keywordStats(); err != nil {
			return nil, err
		}
	}
	stats = stats[:min(len(stats), 100)]
	out := x.rowsByName()
	for i, k := range stats {
		var sent any
		if k.sentN > 0 {
			sent = k.sentSum / float64(k.sentN)
		}
		out.add(byName{"Rank": int64(i + 1), "Keyword": k.keyword, "Sessions": k.sessions,
			"SharePct": ratio(k.sessions, withAny), "Occurrences": k.occ, "AvgSentiment": sent})
	}
	return out.result(), nil
}

// trendTop is the number of keywords of KeywordTrendByDay.
const trendTop = 10

func topNames(stats []keywordStat) []string {
	stats = stats[:min(len(stats), trendTop)]
	out := make([]string, len(stats))
	for i, k := range stats {
		out[i] = k.keyword
	}
	return out
}

func keywordTrendByDay(ctx context.Context, x *execution) (Rows, error) {
	buckets := x.seriesBuckets()
	iv := x.interval()
	var top []string
	counts := make([]map[string]int64, len(buckets))
	for i := range counts {
		counts[i] = map[string]int64{}
	}
	if x.keywordsFromStore() {
		res, err := x.storedKeywords(ctx, func(t map[string]store.KeywordStat) []string { return topNames(statsOf(t)) })
		if err != nil {
			return nil, err
		}
		if len(res.Values) != len(buckets) {
			return nil, fmt.Errorf("keyword trend: the store cut %d buckets, the run %d", len(res.Values), len(buckets))
		}
		top = res.Picked
		for i, v := range res.Values {
			for kw, s := range v {
				counts[i][kw] = s.Sessions
			}
		}
	} else {
		stats, err := x.keywordSessions()
		if err != nil {
			return nil, err
		}
		top = topNames(stats)
		if len(top) > 0 { // sessions per bucket and keyword, counted in SQL (daily.go)
			at := map[int64]int{}
			for i, b := range buckets {
				at[seriesKey(iv, i, b.Label)] = i
			}
			rows, err := x.keywordSessionRows(x.seriesKeySQL("s.started_at"), top)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			for rows.Next() {
				var key, n int64
				var kw string
				if err := rows.Scan(&key, &kw, &n); err != nil {
					return nil, err
				}
				if b, ok := at[key]; ok {
					counts[b][kw] = n
				}
			}
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	out := x.rowsByName()
	for i, b := range buckets {
		for _, kw := range top {
			out.add(byName{"Date": b.Label, "Keyword": kw, "Sessions": counts[i][kw]})
		}
	}
	return out.result(), nil
}

func ratingComments(_ context.Context, x *execution) (Rows, error) {
	rows, err := x.db.Table("session_ratings AS r").
		Select("r.session_id, r.submitted_at, r.rating, r.comment, u.display_name, s.question").
		Joins("JOIN chat_sessions s ON s.id = r.session_id").
		Joins("LEFT JOIN users u ON u.id = r.rated_agent_id").
		Where("s.queue_id IN ?", nonEmpty(x.queueIDs())).
		Where("s.queued_at >= ? AND s.queued_at < ?", x.q.Window.Start, x.q.Window.Stop).
		Where("r.comment IS NOT NULL AND r.comment <> ''").
		Order("r.submitted_at, r.session_id").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	loc := x.q.Window.Zone
	out := x.rowsByName()
	for rows.Next() {
		var id, rating int64
		var at time.Time
		var comment string
		var agent, question sql.NullString
		if err := rows.Scan(&id, &at, &rating, &comment, &agent, &question); err != nil {
			return nil, err
		}
		out.add(byName{"SessionId": id, "SubmittedAt": at.In(loc), "Rating": rating, "Comment": comment,
			"AgentName": str(agent), "Question": str(question)})
	}
	return out.result(), rows.Err()
}
