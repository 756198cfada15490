package reports

import (
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/models"
)

// Measures over sessions: the vocabulary most report columns are written
// in (docs/architecture.md, "Reports and measures"). A measure aggregates
// the sessions attributed to a bucket by one instant (its Attribution)
// that meet a condition (its Pred), optionally over a per-session
// quantity (its Value). A Pred and a Value each carry their SQL and their
// Go evaluation in one value, so the two cannot drift apart:
// TestMeasuresMatchFacts checks every declared one, session by session.

// Attribution is the instant that places a session in a bucket: a time
// column of chat_sessions s.
type Attribution struct {
	Name string // the column's name: queued_at, started_at
	col  string // its SQL
	// from and queueCol replace chat_sessions s and s.queue_id when the
	// attributed rows are another table's (bot interactions).
	from, queueCol string
	// at is its Go twin; nil when the session has none.
	at func(f *facts) *time.Time
}

// The attribution times of the session measures.
var (
	QueuedAt  = Attribution{Name: "queued_at", col: "s.queued_at", at: func(f *facts) *time.Time { return f.QueuedAt }}
	StartedAt = Attribution{Name: "started_at", col: "s.started_at", at: func(f *facts) *time.Time { return &f.StartedAt }}
)

// Attributions lists every attribution time measures may use.
var Attributions = []Attribution{QueuedAt, StartedAt}

// Pred is a condition on one session: its SQL over chat_sessions s (and,
// when join is set, its rating r), for one run (per-queue thresholds are
// constants of the run), and its Go twin over facts.
type Pred struct {
	Name string
	sql  func(x *execution) string
	eval func(f *facts) bool
	join string
	// interaction: reads the bot interaction b (BotStartedAt only).
	interaction bool
	// parts, when set, make the predicate their conjunction (AllOf).
	parts []*Pred
}

// SQL is p for the run x, parenthesised.
func (p *Pred) SQL(x *execution) string {
	if p.parts == nil {
		return "(" + p.sql(x) + ")"
	}
	s := make([]string, len(p.parts))
	for i, q := range p.parts {
		s[i] = q.SQL(x)
	}
	return "(" + strings.Join(s, " AND ") + ")"
}

// Eval is p's Go twin.
func (p *Pred) Eval(f *facts) bool {
	if p.parts == nil {
		return p.eval(f)
	}
	for _, q := range p.parts {
		if !q.Eval(f) {
			return false
		}
	}
	return true
}

func (p *Pred) conjuncts() []*Pred {
	if p == nil {
		return nil
	}
	if p.parts == nil {
		return []*Pred{p}
	}
	return p.parts
}

func (p *Pred) joins() []string {
	var out []string
	for _, q := range p.conjuncts() {
		if q.join != "" {
			out = append(out, q.join)
		}
	}
	return out
}

// AllOf is the conjunction of ps (nested conjunctions are flattened, so a
// conjunct shared by every measure of a query can become its WHERE).
func AllOf(ps ...*Pred) *Pred {
	var names []string
	var flat []*Pred
	for _, p := range ps {
		for _, q := range p.conjuncts() {
			flat = append(flat, q)
			names = append(names, q.Name)
		}
	}
	if len(flat) == 1 {
		return flat[0]
	}
	return &Pred{Name: strings.Join(names, " ∧ "), parts: flat}
}

// Value is a per-session quantity: its SQL (NULL where it is undefined)
// and its Go twin (false where undefined). Scale is SQL units per output
// unit: durations are whole milliseconds in SQL and seconds at output.
type Value struct {
	Name  string
	Scale float64
	sql   func(x *execution) string
	eval  func(f *facts) (any, bool) // float64 in output units, or a key (int64, string)
	join  string
	// interaction: reads the bot interaction b (BotStartedAt only).
	interaction bool
}

// SQL is v for the run x.
func (v *Value) SQL(x *execution) string { return v.sql(x) }

// Eval is v's Go twin.
func (v *Value) Eval(f *facts) (any, bool) { return v.eval(f) }

const ratingsJoin = "LEFT JOIN session_ratings r ON r.session_id = s.id"

func state(name, st string) *Pred {
	return &Pred{Name: name, sql: func(*execution) string { return "s.state = '" + st + "'" },
		eval: func(f *facts) bool { return f.State == st }}
}

func unanswered(name, st string) *Pred {
	return &Pred{Name: name,
		sql: func(*execution) string {
			return "s.queued_at IS NOT NULL AND s.accepted_at IS NULL AND s.state = '" + st + "'"
		},
		eval: func(f *facts) bool { return f.unanswered(st) }}
}

func shortAbandonMs(x *execution) string {
	return x.perQueue(func(q queueInfo) int64 { return int64(q.ShortAbandon * 1000) })
}

// The session predicates: each one's SQL and Go twin are its definition.
var (
	// Offered: the session entered the queue (after a bot: was handed off).
	Offered  = &Pred{Name: "offered", sql: func(*execution) string { return "s.queued_at IS NOT NULL" }, eval: (*facts).offered}
	Answered = &Pred{Name: "answered", sql: func(*execution) string { return "s.accepted_at IS NOT NULL" }, eval: (*facts).answered}
	Closed   = &Pred{Name: "closed", sql: func(*execution) string { return "s.ended_at IS NOT NULL" }, eval: (*facts).closed}

	Abandoned   = unanswered("abandoned", models.StateAbandoned)
	TimedOut    = unanswered("timedOut", models.StateTimedOut)
	TransferOut = unanswered("transferOut", models.StateTransferred)
	ResolvedQ   = &Pred{Name: "resolvedQ", eval: (*facts).resolvedQ, sql: func(*execution) string {
		return "s.queued_at IS NOT NULL AND (s.accepted_at IS NOT NULL OR s.state IN ('" +
			models.StateAbandoned + "', '" + models.StateTimedOut + "', '" + models.StateTransferred + "'))"
	}}
	ShortAbandon = &Pred{Name: "shortAbandon", eval: (*facts).shortAbandon, sql: func(x *execution) string {
		return Abandoned.SQL(x) + " AND " + Wait.SQL(x) + " < " + shortAbandonMs(x)
	}}
	LongAbandon = &Pred{Name: "longAbandon", eval: (*facts).longAbandon, sql: func(x *execution) string {
		w := Wait.SQL(x)
		return Abandoned.SQL(x) + " AND (" + w + " IS NULL OR " + w + " >= " + shortAbandonMs(x) + ")"
	}}
	// SLIn: in the service-level denominator; SLMet: answered within T.
	SLIn = &Pred{Name: "slIn", eval: func(f *facts) bool { in, _ := f.serviceLevel(); return in }, sql: func(x *execution) string {
		return Answered.SQL(x) + " OR " + LongAbandon.SQL(x) + " OR " + TimedOut.SQL(x)
	}}
	SLMet = &Pred{Name: "slMet", eval: func(f *facts) bool { _, met := f.serviceLevel(); return met }, sql: func(x *execution) string {
		return Answered.SQL(x) + " AND " + Wait.SQL(x) + " <= " + x.perQueue(func(q queueInfo) int64 { return int64(q.SLASeconds * 1000) })
	}}

	Deflected        = state("deflected", models.StateDeflected)
	BotAbandoned     = state("botAbandoned", models.StateBotAbandoned)
	Completed        = state("completed", models.StateCompleted)
	StateAbandoned   = state("stateAbandoned", models.StateAbandoned)
	StateTimedOut    = state("stateTimedOut", models.StateTimedOut)
	StateTransferred = state("stateTransferred", models.StateTransferred)
	TransferredIn    = &Pred{Name: "transferredIn", sql: func(*execution) string { return "s.parent_session_id IS NOT NULL" }, eval: func(f *facts) bool { return f.TransferredIn }}
	TransferredAny   = &Pred{Name: "transferredAny", eval: func(f *facts) bool { return f.State == models.StateTransferred || f.AgentTransfers > 0 }, sql: func(*execution) string {
		return "s.state = '" + models.StateTransferred + "' OR s.agent_transfer_count > 0"
	}}
	ConnectionDropped = &Pred{Name: "connectionDropped", sql: func(*execution) string { return "s.end_reason = 'connection_error'" }, eval: func(f *facts) bool { return f.EndReason == "connection_error" }}
	// WaitBanded: answered or abandoned, with a wait (WaitTimeDistribution).
	WaitBanded = &Pred{Name: "waitBanded", eval: func(f *facts) bool { _, ok := f.wait(); return ok && (f.answered() || f.abandoned()) },
		sql: func(x *execution) string {
			return "(" + Answered.SQL(x) + " OR " + Abandoned.SQL(x) + ") AND " + Wait.SQL(x) + " IS NOT NULL"
		}}

	Scored   = &Pred{Name: "scored", sql: func(*execution) string { return "s.sentiment_score IS NOT NULL" }, eval: func(f *facts) bool { return f.Sentiment != nil }}
	Positive = &Pred{Name: "positive", sql: func(*execution) string { return "s.sentiment_score > 0.25" }, eval: func(f *facts) bool { return f.Sentiment != nil && *f.Sentiment > 0.25 }}
	Negative = &Pred{Name: "negative", sql: func(*execution) string { return "s.sentiment_score < -0.25" }, eval: func(f *facts) bool { return f.Sentiment != nil && *f.Sentiment < -0.25 }}

	Rated          = &Pred{Name: "rated", join: ratingsJoin, sql: func(*execution) string { return "r.rating IS NOT NULL" }, eval: func(f *facts) bool { return f.Rating != nil }}
	RatedSatisfied = ratedAtLeast(4)
)

func ratedAtLeast(n int64) *Pred {
	return &Pred{Name: "ratedAtLeast" + itoa(n), join: ratingsJoin, sql: func(*execution) string { return "r.rating >= " + itoa(n) },
		eval: func(f *facts) bool { return f.Rating != nil && *f.Rating >= n }}
}

// RatedExactly is the predicate rating = n.
func RatedExactly(n int64) *Pred {
	return &Pred{Name: "rated" + itoa(n), join: ratingsJoin, sql: func(*execution) string { return "r.rating = " + itoa(n) },
		eval: func(f *facts) bool { return f.Rating != nil && *f.Rating == n }}
}

func msValue(name string, sql func(x *execution) string, eval func(f *facts) (float64, bool)) *Value {
	return &Value{Name: name, Scale: 1000, sql: sql, eval: func(f *facts) (any, bool) {
		v, ok := eval(f)
		return v, ok
	}}
}

// The per-session values.
var (
	// Wait is the time in queue, defined when resolvedQ.
	Wait = msValue("wait", func(x *execution) string {
		return "CASE WHEN " + ResolvedQ.SQL(x) + " THEN " + x.daySQL().ms("s.queued_at", "COALESCE(s.accepted_at, s.ended_at)") + " END"
	}, (*facts).wait)
	// WaitOrZero is Wait, 0 where undefined (a long abandon without an end).
	WaitOrZero = msValue("waitOrZero", func(x *execution) string { return "COALESCE(" + Wait.SQL(x) + ", 0)" },
		func(f *facts) (float64, bool) { w, _ := f.wait(); return w, true })
	Handle = msValue("handle", func(x *execution) string {
		return "CASE WHEN s.accepted_at IS NOT NULL AND s.ended_at IS NOT NULL THEN " + x.daySQL().ms("s.accepted_at", "s.ended_at") + " END"
	}, (*facts).handle)
	// FirstResponse is queued_at → the first agent message (what the guest
	// experiences).
	FirstResponse = msValue("firstResponse", func(x *execution) string {
		return "CASE WHEN s.first_agent_message_at IS NOT NULL THEN " + x.daySQL().ms("s.queued_at", "s.first_agent_message_at") + " END"
	}, func(f *facts) (float64, bool) {
		if f.FirstAgentMessageAt == nil || f.QueuedAt == nil {
			return 0, false
		}
		return seconds(*f.QueuedAt, *f.FirstAgentMessageAt, f.ID), true
	})
	// Duration is start → end, for closed sessions (the session log's
	// DurationSeconds).
	Duration = msValue("duration", func(x *execution) string {
		return "CASE WHEN s.ended_at IS NOT NULL THEN " + x.daySQL().ms("s.started_at", "s.ended_at") + " END"
	}, func(f *facts) (float64, bool) {
		if !f.closed() {
			return 0, false
		}
		return seconds(f.StartedAt, *f.EndedAt, f.ID), true
	})
	Messages = &Value{Name: "messages", Scale: 1, sql: func(*execution) string { return "s.message_count" },
		eval: func(f *facts) (any, bool) { return float64(f.Messages), true }}
	AgentTransfers = &Value{Name: "agentTransfers", Scale: 1, sql: func(*execution) string { return "s.agent_transfer_count" },
		eval: func(f *facts) (any, bool) { return float64(f.AgentTransfers), true }}
	Rating = &Value{Name: "rating", Scale: 1, join: ratingsJoin, sql: func(*execution) string { return "r.rating" },
		eval: func(f *facts) (any, bool) {
			if f.Rating == nil {
				return 0.0, false
			}
			return float64(*f.Rating), true
		}}
	Sentiment = &Value{Name: "sentiment", Scale: 1, sql: func(*execution) string { return "s.sentiment_score" },
		eval: func(f *facts) (any, bool) {
			if f.Sentiment == nil {
				return 0.0, false
			}
			return *f.Sentiment, true
		}}
	Seeker = &Value{Name: "seeker", Scale: 1, sql: func(*execution) string { return "s.seeker_id" },
		eval: func(f *facts) (any, bool) { return f.SeekerID, true }}
	// Conversation compares by bytes (textKey), as Go does.
	Conversation = &Value{Name: "conversation", Scale: 1, sql: func(x *execution) string { return x.daySQL().textKey("s.conversation_guid") },
		eval: func(f *facts) (any, bool) { return f.Conversation, true }}
)

// Predicates and Values list every declared one, for the twin test.
var (
	Predicates = []*Pred{Offered, Answered, Closed, Abandoned, TimedOut, TransferOut, ResolvedQ, ShortAbandon, LongAbandon, SLIn, SLMet,
		Deflected, BotAbandoned, Completed, StateAbandoned, StateTimedOut, StateTransferred, TransferredIn, TransferredAny,
		ConnectionDropped, WaitBanded, Scored, Positive, Negative, Rated, RatedSatisfied,
		RatedExactly(1), RatedExactly(2), RatedExactly(3), RatedExactly(4), RatedExactly(5)}
	Values = []*Value{Wait, WaitOrZero, Handle, Duration, FirstResponse, Messages, AgentTransfers, Rating, Sentiment, Seeker, Conversation}
)

// MeasureKind is what a measure computes.
type MeasureKind string

// Measure kinds. Count, Sum, Min and Max are additive: a bucket's value
// follows from its parts' (sums of sums, maxima of maxima), so they can
// be kept per interval. Mean and Ratio are pairs of additive measures.
// Percentile and Distinct are not additive: computed from raw rows.
const (
	KindCount      MeasureKind = "count"
	KindSum        MeasureKind = "sum"
	KindMin        MeasureKind = "min"
	KindMax        MeasureKind = "max"
	KindMean       MeasureKind = "mean"
	KindRatio      MeasureKind = "ratio"
	KindPercentile MeasureKind = "percentile"
	KindDistinct   MeasureKind = "distinct"
)

// Measure is one aggregate over the sessions attributed to a bucket by At
// that meet Where (nil: all of them).
type Measure struct {
	Kind  MeasureKind
	At    Attribution
	Where *Pred
	// Of is the value aggregated (sum, min, max, percentile, distinct);
	// a count with Of counts the sessions where it is defined.
	Of *Value
	// Num and Den are the parts of a mean (sum / count) or a ratio
	// (count / count · 100).
	Num, Den *Measure
	P        int // percentile rank, 1–100 (nearest rank)
}

// Additive reports whether the measure can be combined from per-interval
// parts; a mean or ratio is additive through its parts.
func (m *Measure) Additive() bool {
	switch m.Kind {
	case KindCount, KindSum, KindMin, KindMax:
		return true
	case KindMean, KindRatio:
		return m.Num.Additive() && m.Den.Additive()
	}
	return false
}

// Nullable reports whether the measure can be null (an empty
// denominator or sample); counts and distinct counts are 0 instead.
func (m *Measure) Nullable() bool {
	switch m.Kind {
	case KindCount, KindDistinct:
		return false
	case KindSum:
		return m.Of.Scale != 1
	}
	return true
}

// Count counts the sessions at at that meet where.
func Count(at Attribution, where *Pred) *Measure {
	return &Measure{Kind: KindCount, At: at, Where: where}
}

// CountOf counts the sessions at at that meet where and have a value of v.
func CountOf(at Attribution, where *Pred, v *Value) *Measure {
	return &Measure{Kind: KindCount, At: at, Where: where, Of: v}
}

// Sum adds v over the sessions at at that meet where.
func Sum(at Attribution, where *Pred, v *Value) *Measure {
	return &Measure{Kind: KindSum, At: at, Where: where, Of: v}
}

// Max is the largest v; Min the smallest.
func Max(at Attribution, where *Pred, v *Value) *Measure {
	return &Measure{Kind: KindMax, At: at, Where: where, Of: v}
}

// Min is the smallest v over the sessions at at that meet where.
func Min(at Attribution, where *Pred, v *Value) *Measure {
	return &Measure{Kind: KindMin, At: at, Where: where, Of: v}
}

// Mean is sum / count, null when count is 0.
func Mean(sum, count *Measure) *Measure {
	return &Measure{Kind: KindMean, At: sum.At, Num: sum, Den: count}
}

// Ratio is num / den · 100, null when den is 0.
func Ratio(num, den *Measure) *Measure {
	return &Measure{Kind: KindRatio, At: num.At, Num: num, Den: den}
}

// Percentile is the nearest-rank p-th percentile of v.
func Percentile(at Attribution, where *Pred, v *Value, p int) *Measure {
	return &Measure{Kind: KindPercentile, At: at, Where: where, Of: v, P: p}
}

// Distinct counts the distinct values of v.
func Distinct(at Attribution, where *Pred, v *Value) *Measure {
	return &Measure{Kind: KindDistinct, At: at, Where: where, Of: v}
}

// readsInteraction reports whether a part reads the bot interaction b.
func (m *Measure) readsInteraction() bool {
	for _, p := range m.Where.conjuncts() {
		if p.interaction {
			return true
		}
	}
	return m.Of != nil && m.Of.interaction
}

// parts are the measures computed in SQL for m (itself, or the parts of a
// mean or ratio).
func (m *Measure) parts() []*Measure {
	if m.Kind == KindMean || m.Kind == KindRatio {
		return []*Measure{m.Num, m.Den}
	}
	return []*Measure{m}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Bot interactions. A bot report's measures run over bot_interactions b
// joined to their session s: an interaction counts only with its
// session, and the session predicates and values above apply to it (its
// queue wait after the hand-off, whether it was answered). Predicates and
// values that read b are marked interaction: only measures attributed by
// BotStartedAt may use them (registration checks it), and their Go twins
// read facts.Bot, which a session read without its interaction lacks.

// botFacts is the projection of the bot_interactions row of a session.
type botFacts struct {
	StartedAt     time.Time
	EndedAt       *time.Time
	Outcome       string // deflected | handoff | abandoned | timeout | error; "" while in the bot
	HandoffReason string
	TopIntent     string
	Feedback      string // helpful | not_helpful | ""
	Turns         int64
}

// botColumns select botFacts from bot_interactions b.
const botColumns = "b.started_at, b.ended_at, b.outcome, b.handoff_reason, b.top_intent, b.feedback, b.turns"

// botScanDest returns scan destinations for botColumns and a function
// that fills f.Bot from them once scanned.
func botScanDest(f *facts) ([]any, func()) {
	var ended sql.NullTime
	var outcome, reason, intent, feedback sql.NullString
	b := &botFacts{}
	dest := []any{&b.StartedAt, &ended, &outcome, &reason, &intent, &feedback, &b.Turns}
	return dest, func() {
		b.StartedAt = b.StartedAt.UTC()
		b.EndedAt = nullTime(ended)
		b.Outcome, b.HandoffReason, b.TopIntent, b.Feedback = outcome.String, reason.String, intent.String, feedback.String
		f.Bot = b
	}
}

// BotStartedAt attributes a bot interaction to its start.
var BotStartedAt = Attribution{Name: "bot_interactions.started_at", col: "b.started_at",
	from: "bot_interactions b JOIN chat_sessions s ON s.id = b.session_id", queueCol: "b.queue_id",
	at: func(f *facts) *time.Time {
		if f.Bot == nil {
			return nil
		}
		return &f.Bot.StartedAt
	}}

// botPred is a predicate on the interaction of a session.
func botPred(name, sql string, eval func(b *botFacts) bool) *Pred {
	return &Pred{Name: name, interaction: true, sql: func(*execution) string { return sql },
		eval: func(f *facts) bool { return f.Bot != nil && eval(f.Bot) }}
}

func botOutcome(name string, outcomes ...string) *Pred {
	return botPred(name, "b.outcome IN ('"+strings.Join(outcomes, "', '")+"')", func(b *botFacts) bool {
		return slices.Contains(outcomes, b.Outcome)
	})
}

// The bot-interaction predicates and values.
var (
	BotDeflected = botOutcome("botDeflected", "deflected")
	BotHandoff   = botOutcome("botHandoff", "handoff")
	// BotLeft: the guest left, timed out or the bot failed.
	BotLeft = botOutcome("botLeft", "abandoned", "timeout", "error")
	// InBot: still with the bot at query time (no outcome yet); BotDone is
	// its complement, the denominator of the bot's percentages.
	InBot   = botPred("inBot", "b.outcome IS NULL OR b.outcome = ''", func(b *botFacts) bool { return b.Outcome == "" })
	BotDone = botPred("botDone", "b.outcome IS NOT NULL AND b.outcome <> ''", func(b *botFacts) bool { return b.Outcome != "" })
	// Helpful: the guest found the bot's answer helpful; FeedbackGiven:
	// any feedback (helpful or not).
	Helpful       = botPred("helpful", "b.feedback = 'helpful'", func(b *botFacts) bool { return b.Feedback == "helpful" })
	FeedbackGiven = botPred("feedbackGiven", "b.feedback IN ('helpful', 'not_helpful')", func(b *botFacts) bool {
		return b.Feedback == "helpful" || b.Feedback == "not_helpful"
	})

	// BotLength is the interaction's start → end, defined once it ended.
	BotLength = &Value{Name: "botLength", Scale: 1000, interaction: true,
		sql: func(x *execution) string { return x.daySQL().ms("b.started_at", "b.ended_at") },
		eval: func(f *facts) (any, bool) {
			if f.Bot == nil || f.Bot.EndedAt == nil {
				return 0.0, false
			}
			return seconds(f.Bot.StartedAt, *f.Bot.EndedAt, f.ID), true
		}}
	// Turns counts a guest request and the bot's reply as one.
	Turns = &Value{Name: "turns", Scale: 1, interaction: true, sql: func(*execution) string { return "b.turns" },
		eval: func(f *facts) (any, bool) {
			if f.Bot == nil {
				return 0.0, false
			}
			return float64(f.Bot.Turns), true
		}}
)

// BotPredicates and BotValues list the declared ones that read the
// interaction, for the twin test (which also checks every session
// predicate and value on the sessions of the interactions).
var (
	BotPredicates = []*Pred{BotDeflected, BotHandoff, BotLeft, InBot, BotDone, Helpful, FeedbackGiven}
	BotValues     = []*Value{BotLength, Turns}
)
