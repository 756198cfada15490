package query

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
)

// Table sets are raw tables beside chat_sessions (a session's transcript
// and its rating), queried in SQL like Sessions: the caller's queues, the
// filter, the order and the limit all go to the database. Navigation
// properties link the raw sets by their keys; a surface expands them with
// one query per navigation over the parents of a page.

const tableSet setKind = 100

// tableDef is the SQL of a table set.
type tableDef struct {
	from  string // FROM clause with its alias
	queue string // the column that holds the row's queue (the ACL)
}

var tables = map[string]tableDef{
	"Messages":        {from: "session_messages AS m JOIN chat_sessions AS s ON s.id = m.session_id", queue: "s.queue_id"},
	"Ratings":         {from: "session_ratings AS rt", queue: "rt.queue_id"},
	"Participants":    {from: "session_participants AS p JOIN chat_sessions AS s ON s.id = p.session_id", queue: "s.queue_id"},
	"Offers":          {from: "session_offers AS o JOIN chat_sessions AS s ON s.id = o.session_id", queue: "s.queue_id"},
	"BotInteractions": {from: "bot_interactions AS b", queue: "b.queue_id"},
	"Keywords":        {from: "session_keywords AS k", queue: "k.queue_id"},
}

var participantColumns = []reports.Column{
	{Name: "ParticipantId", Type: reports.Int, Description: "Participation id"},
	{Name: "SessionId", Type: reports.Int, Description: "The session"},
	{Name: "AgentId", Type: reports.Int, Description: "User id of the agent"},
	{Name: "Role", Type: reports.String, Description: "agent or supervisor"},
	{Name: "JoinReason", Type: reports.String, Description: "accepted, agent_transfer or conference"},
	{Name: "JoinedAt", Type: reports.DateTime, Description: "When the agent joined (UTC)"},
	{Name: "LeftAt", Type: reports.DateTime, Description: "When the agent left (UTC)"},
	{Name: "LeaveReason", Type: reports.String, Description: "session_ended, transferred or left"},
	{Name: "FirstMessageAt", Type: reports.DateTime, Description: "The agent's first message (UTC)"},
	{Name: "MessageCount", Type: reports.Int, Description: "Messages the agent sent"},
}

var participantSQL = map[string]sqlColumn{
	"ParticipantId": {expr: "p.id"}, "SessionId": {expr: "p.session_id"}, "AgentId": {expr: "p.user_id"}, "Role": {expr: "p.role"},
	"JoinReason": {expr: "p.join_reason"}, "JoinedAt": {expr: "p.joined_at"}, "LeftAt": {expr: "p.left_at"},
	"LeaveReason": {expr: "p.leave_reason"}, "FirstMessageAt": {expr: "p.first_message_at"}, "MessageCount": {expr: "p.message_count"},
}

var offerColumns = []reports.Column{
	{Name: "OfferId", Type: reports.Int, Description: "Offer id"},
	{Name: "SessionId", Type: reports.Int, Description: "The session offered"},
	{Name: "AgentId", Type: reports.Int, Description: "User id of the agent offered the chat"},
	{Name: "OfferedAt", Type: reports.DateTime, Description: "When the offer was sent (UTC)"},
	{Name: "RespondedAt", Type: reports.DateTime, Description: "When the agent responded (UTC)"},
	{Name: "Outcome", Type: reports.String, Description: "accepted, declined, timeout, taken_by_other or withdrawn; null while pending"},
}

var offerSQL = map[string]sqlColumn{
	"OfferId": {expr: "o.id"}, "SessionId": {expr: "o.session_id"}, "AgentId": {expr: "o.user_id"}, "OfferedAt": {expr: "o.offered_at"},
	"RespondedAt": {expr: "o.responded_at"}, "Outcome": {expr: "o.outcome"},
}

var botColumns = []reports.Column{
	{Name: "SessionId", Type: reports.Int, Description: "The session"},
	{Name: "QueueId", Type: reports.Int, Description: "Queue id of the session"},
	{Name: "BotId", Type: reports.Int, Description: "Bot id"},
	{Name: "StartedAt", Type: reports.DateTime, Description: "When the bot took the guest (UTC)"},
	{Name: "EndedAt", Type: reports.DateTime, Description: "When the bot part ended (UTC)"},
	{Name: "Outcome", Type: reports.String, Description: "deflected, handoff, abandoned, timeout or error; null while in the bot"},
	{Name: "HandoffReason", Type: reports.String, Description: "Why the bot handed off"},
	{Name: "Turns", Type: reports.Int, Description: "Conversation turns with the bot"},
	{Name: "TopIntent", Type: reports.String, Description: "The most confident intent"},
	{Name: "Feedback", Type: reports.String, Description: "helpful or not_helpful"},
}

var botSQL = map[string]sqlColumn{
	"SessionId": {expr: "b.session_id"}, "QueueId": {expr: "b.queue_id"}, "BotId": {expr: "b.bot_id"}, "StartedAt": {expr: "b.started_at"},
	"EndedAt": {expr: "b.ended_at"}, "Outcome": {expr: "b.outcome"}, "HandoffReason": {expr: "b.handoff_reason"}, "Turns": {expr: "b.turns"},
	"TopIntent": {expr: "b.top_intent"}, "Feedback": {expr: "b.feedback"},
}

var keywordColumns = []reports.Column{
	{Name: "SessionId", Type: reports.Int, Description: "The session"},
	{Name: "Source", Type: reports.String, Description: "question, seeker or agent: the text the keyword was found in"},
	{Name: "Keyword", Type: reports.String, Description: "The keyword"},
	{Name: "Occurrences", Type: reports.Int, Description: "How often it occurs in that text"},
	{Name: "QueueId", Type: reports.Int, Description: "Queue id of the session"},
}

var keywordSQL = map[string]sqlColumn{
	"SessionId": {expr: "k.session_id"}, "Source": {expr: "k.source"}, "Keyword": {expr: "k.keyword"},
	"Occurrences": {expr: "k.occurrences"}, "QueueId": {expr: "k.queue_id"},
}

var messageColumns = []reports.Column{
	{Name: "MessageId", Type: reports.Int, Description: "Message id"},
	{Name: "SessionId", Type: reports.Int, Description: "The session the message belongs to"},
	{Name: "Seq", Type: reports.Int, Description: "Position in the transcript (1 first)"},
	{Name: "SentAt", Type: reports.DateTime, Description: "When the message was sent (UTC)"},
	{Name: "SenderType", Type: reports.String, Description: "seeker, agent, bot or system"},
	{Name: "SenderName", Type: reports.String, Description: "Display name of the sender"},
	{Name: "Body", Type: reports.String, Description: "Message text"},
	{Name: "Visibility", Type: reports.String, Description: "public, or internal for an agent-only note (shown to the queue's managers, as in SessionDetails)"},
}

var messageSQL = map[string]sqlColumn{
	"MessageId": {expr: "m.id"}, "SessionId": {expr: "m.session_id"}, "Seq": {expr: "m.seq"}, "SentAt": {expr: "m.sent_at"},
	"SenderType": {expr: "m.sender_type"}, "SenderName": {expr: "m.sender_name"}, "Body": {expr: "m.body"},
	"Visibility": {expr: "(CASE WHEN m.is_internal THEN 'internal' ELSE 'public' END)"},
}

var ratingColumns = []reports.Column{
	{Name: "SessionId", Type: reports.Int, Description: "The rated session"},
	{Name: "QueueId", Type: reports.Int, Description: "Queue id of the session"},
	{Name: "Rating", Type: reports.Int, Description: "Post-chat rating 1–5 (5 Excellent, 1 Bad)"},
	{Name: "ScaleMax", Type: reports.Int, Description: "Highest value of the rating scale"},
	{Name: "Comment", Type: reports.String, Description: "The guest's comment"},
	{Name: "RatedAgentId", Type: reports.Int, Description: "User id of the rated agent"},
	{Name: "SubmittedAt", Type: reports.DateTime, Description: "When the rating was submitted (UTC)"},
}

var ratingSQL = map[string]sqlColumn{
	"SessionId": {expr: "rt.session_id"}, "QueueId": {expr: "rt.queue_id"}, "Rating": {expr: "rt.rating"}, "ScaleMax": {expr: "rt.scale_max"},
	"Comment": {expr: "rt.comment"}, "RatedAgentId": {expr: "rt.rated_agent_id"}, "SubmittedAt": {expr: "rt.submitted_at"},
}

// tableSets are the raw table sets, after Sessions, Queues and Agents.
func tableSets() []*Set {
	return []*Set{
		{Name: "Messages", Title: "Messages", Description: "Transcript lines of the visible queues' sessions, internal notes included",
			kind: tableSet, Key: []string{"MessageId"}, Props: messageColumns, columns: messageSQL},
		{Name: "Ratings", Title: "Ratings", Description: "Post-chat ratings of the visible queues' sessions",
			kind: tableSet, Key: []string{"SessionId"}, Props: ratingColumns, columns: ratingSQL},
		{Name: "Participants", Title: "Participants", Description: "Agents taking part in the visible queues' sessions",
			kind: tableSet, Key: []string{"ParticipantId"}, Props: participantColumns, columns: participantSQL},
		{Name: "Offers", Title: "Offers", Description: "Chat offers sent to agents for the visible queues' sessions",
			kind: tableSet, Key: []string{"OfferId"}, Props: offerColumns, columns: offerSQL},
		{Name: "BotInteractions", Title: "Bot interactions", Description: "The bot part of the visible queues' sessions",
			kind: tableSet, Key: []string{"SessionId"}, Props: botColumns, columns: botSQL},
		{Name: "Keywords", Title: "Keywords", Description: "Keywords of the visible queues' sessions, by the text they were found in",
			kind: tableSet, Key: []string{"SessionId", "Source", "Keyword"}, Props: keywordColumns, columns: keywordSQL},
	}
}

// NavProp is a navigation property: from a row of its set to the rows of
// Target whose To property equals the row's From property.
type NavProp struct {
	Name   string
	Target string
	Many   bool
	From   string
	To     string
	// Constraint: From references To (the source holds the foreign key,
	// or both share the key), declared as a referential constraint.
	Constraint bool
	// Nullable: a to-one navigation that may find no row.
	Nullable bool
	// Via, when set, links through a table instead of equal properties:
	// SQL selecting (From value, To value) pairs for From values IN ?.
	Via string
}

// Navigation names differ from property names (a type's members share one
// namespace): Sessions already has the properties Rating and Messages, so
// its navigations to those sets are RatingDetails and Transcript.
var navs = map[string][]NavProp{
	"Sessions": {
		{Name: "Queue", Target: "Queues", From: "QueueId", To: "QueueId", Constraint: true},
		{Name: "RatingDetails", Target: "Ratings", From: "SessionId", To: "SessionId", Constraint: true, Nullable: true},
		{Name: "Transcript", Target: "Messages", Many: true, From: "SessionId", To: "SessionId"},
		{Name: "Transfers", Target: "Sessions", Many: true, From: "SessionId", To: "ParentSessionId"},
		{Name: "Participants", Target: "Participants", Many: true, From: "SessionId", To: "SessionId"},
		{Name: "Offers", Target: "Offers", Many: true, From: "SessionId", To: "SessionId"},
		{Name: "BotInteraction", Target: "BotInteractions", From: "SessionId", To: "SessionId", Constraint: true, Nullable: true},
		{Name: "Keywords", Target: "Keywords", Many: true, From: "SessionId", To: "SessionId"},
		{Name: "FirstAgent", Target: "Agents", From: "SessionId", To: "AgentId", Nullable: true,
			Via: "SELECT id, first_agent_id FROM chat_sessions WHERE first_agent_id IS NOT NULL AND id IN ?"},
		{Name: "LastAgent", Target: "Agents", From: "SessionId", To: "AgentId", Nullable: true,
			Via: "SELECT id, last_agent_id FROM chat_sessions WHERE last_agent_id IS NOT NULL AND id IN ?"},
	},
	"Queues": {
		{Name: "Sessions", Target: "Sessions", Many: true, From: "QueueId", To: "QueueId"},
		{Name: "Agents", Target: "Agents", Many: true, From: "QueueId", To: "AgentId",
			Via: "SELECT queue_id, user_id FROM queue_members WHERE role IN ('agent', 'manager') AND queue_id IN ?"},
	},
	"Messages":        {{Name: "Session", Target: "Sessions", From: "SessionId", To: "SessionId", Constraint: true}},
	"Ratings":         {{Name: "Session", Target: "Sessions", From: "SessionId", To: "SessionId", Constraint: true}},
	"Participants":    {{Name: "Session", Target: "Sessions", From: "SessionId", To: "SessionId", Constraint: true}},
	"Offers":          {{Name: "Session", Target: "Sessions", From: "SessionId", To: "SessionId", Constraint: true}},
	"BotInteractions": {{Name: "Session", Target: "Sessions", From: "SessionId", To: "SessionId", Constraint: true}},
	"Keywords":        {{Name: "Session", Target: "Sessions", From: "SessionId", To: "SessionId", Constraint: true}},
}

// Navs lists the set's navigation properties.
func (s *Set) Navs() []NavProp { return navs[s.Name] }

// Nav finds a navigation property by name.
func (s *Set) Nav(name string) (NavProp, bool) {
	for _, n := range navs[s.Name] {
		if n.Name == name {
			return n, true
		}
	}
	return NavProp{}, false
}

// queryTable runs a table set query in SQL, like querySessions.
func (e *Engine) queryTable(ctx context.Context, q *SetQuery, pred Expr, sort []SortKey) (reports.Rows, error) {
	t := tables[q.Set.Name]
	c := q.Set.compiler(e.mysql(), e.Now().UTC(), time.UTC, q.Visible)
	sel := make([]string, len(q.Set.Props))
	for i, p := range q.Set.Props {
		col, err := c.column(p.Name)
		if err != nil {
			return nil, err
		}
		sel[i] = col
	}
	db := e.DB().WithContext(ctx).Table(t.from).Select(tableFirst(c.mysql, q.Set, sort, q.Filter)+strings.Join(sel, ", ")).
		Where(t.queue+" IN ?", reports.NonEmpty(narrowQueues(q.Visible, q.Filter)))
	db, err := c.page(db, pred, sort, q)
	if err != nil {
		return nil, err
	}
	rows, err := db.Rows()
	if err != nil {
		return nil, models.Classify(err)
	}
	return &tableRows{rows: rows, props: q.Set.Props}, nil
}

// tableFirst is the select-list prefix that makes MySQL read a table
// set's own table first, in the order of its key, when every row the
// caller can see is asked for in that order (no filter: keyset paging
// through the whole set, as Power Query and a warehouse loader's first
// load do). Left to itself MariaDB drives such a page from chat_sessions
// (the index of the queue condition) and sorts every visible row before
// the LIMIT: a 5,000-row page of Messages on 100k sessions took 1.6 s
// instead of 12 ms. Read in key order, the page stops after its rows; a
// caller who sees only a small share of the queues reads past the rows of
// the others (measured: 22 ms for one queue of five). With a filter the
// planner chooses (forcing key order made a range of SessionId 5× slower).
// SQLite's planner already reads the table in key order.
func tableFirst(mysql bool, s *Set, sort []SortKey, filter Expr) string {
	if mysql && filter == nil && len(sort) > 0 && len(s.Key) > 0 && sort[0].Prop == s.Key[0] && !sort[0].Desc {
		return "STRAIGHT_JOIN "
	}
	return ""
}

// countTable counts the rows of a table set that match pred.
func (e *Engine) countTable(ctx context.Context, q *SetQuery, pred Expr) (int64, error) {
	t := tables[q.Set.Name]
	c := q.Set.compiler(e.mysql(), e.Now().UTC(), time.UTC, q.Visible)
	db := e.DB().WithContext(ctx).Table(t.from).Where(t.queue+" IN ?", reports.NonEmpty(narrowQueues(q.Visible, q.Filter)))
	if pred != nil {
		where, err := c.pred(pred)
		if err != nil {
			return 0, err
		}
		db = db.Where(where, c.args...)
	}
	var n int64
	if err := db.Count(&n).Error; err != nil {
		return 0, models.Classify(err)
	}
	return n, nil
}

// tableRows scans typed rows of a table set.
type tableRows struct {
	rows  *sql.Rows
	props []reports.Column
	row   []any
	err   error
}

func (r *tableRows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	dest := make([]any, len(r.props))
	for i, p := range r.props {
		switch p.Type {
		case reports.Int:
			dest[i] = new(sql.NullInt64)
		case reports.DateTime, reports.Date:
			dest[i] = new(sql.NullTime)
		case reports.String:
			dest[i] = new(sql.NullString)
		default:
			dest[i] = new(sql.NullFloat64)
		}
	}
	if r.err = r.rows.Scan(dest...); r.err != nil {
		r.err = models.Classify(r.err)
		return false
	}
	if r.row == nil {
		r.row = make([]any, len(r.props))
	}
	for i, d := range dest {
		var v any
		switch x := d.(type) {
		case *sql.NullInt64:
			if x.Valid {
				v = x.Int64
			}
		case *sql.NullTime:
			if x.Valid {
				v = x.Time.UTC()
			}
		case *sql.NullString:
			if x.Valid {
				v = x.String
			}
		case *sql.NullFloat64:
			if x.Valid {
				v = x.Float64
			}
		}
		r.row[i] = v
	}
	return true
}

func (r *tableRows) Row() []any { return r.row }
func (r *tableRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return models.Classify(r.rows.Err())
}
func (r *tableRows) Close() error { return r.rows.Close() }

// NavPairs reads the (From, To) pairs of a navigation through a table for
// the given From values, in the table's order.
func (e *Engine) NavPairs(ctx context.Context, n NavProp, from []int64) ([][2]int64, error) {
	if n.Via == "" || len(from) == 0 {
		return nil, nil
	}
	rows, err := e.DB().WithContext(ctx).Raw(n.Via, from).Rows()
	if err != nil {
		return nil, models.Classify(err)
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var p [2]int64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, models.Classify(err)
		}
		out = append(out, p)
	}
	return out, models.Classify(rows.Err())
}
