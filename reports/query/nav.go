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
	"Messages": {from: "session_messages AS m JOIN chat_sessions AS s ON s.id = m.session_id", queue: "s.queue_id"},
	"Ratings":  {from: "session_ratings AS r", queue: "r.queue_id"},
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
	"SessionId": {expr: "r.session_id"}, "QueueId": {expr: "r.queue_id"}, "Rating": {expr: "r.rating"}, "ScaleMax": {expr: "r.scale_max"},
	"Comment": {expr: "r.comment"}, "RatedAgentId": {expr: "r.rated_agent_id"}, "SubmittedAt": {expr: "r.submitted_at"},
}

// tableSets are the raw table sets, after Sessions, Queues and Agents.
func tableSets() []*Set {
	return []*Set{
		{Name: "Messages", Title: "Messages", Description: "Transcript lines of the visible queues' sessions, internal notes included",
			kind: tableSet, Key: []string{"MessageId"}, Props: messageColumns, columns: messageSQL},
		{Name: "Ratings", Title: "Ratings", Description: "Post-chat ratings of the visible queues' sessions",
			kind: tableSet, Key: []string{"SessionId"}, Props: ratingColumns, columns: ratingSQL},
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
	},
	"Queues":   {{Name: "Sessions", Target: "Sessions", Many: true, From: "QueueId", To: "QueueId"}},
	"Messages": {{Name: "Session", Target: "Sessions", From: "SessionId", To: "SessionId", Constraint: true}},
	"Ratings":  {{Name: "Session", Target: "Sessions", From: "SessionId", To: "SessionId", Constraint: true}},
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
	c := q.Set.compiler(e.mysql(), e.Now().UTC(), time.UTC)
	sel := make([]string, len(q.Set.Props))
	for i, p := range q.Set.Props {
		col, err := c.column(p.Name)
		if err != nil {
			return nil, err
		}
		sel[i] = col
	}
	db := e.DB().WithContext(ctx).Table(t.from).Select(strings.Join(sel, ", ")).Where(t.queue+" IN ?", reports.NonEmpty(narrowQueues(q.Visible, q.Filter)))
	if pred != nil {
		where, err := c.pred(pred)
		if err != nil {
			return nil, err
		}
		db = db.Where(where, c.args...)
	}
	order, err := c.orderBy(sort)
	if err != nil {
		return nil, err
	}
	db = db.Order(order)
	if q.Top >= 0 {
		db = db.Limit(q.Top)
	}
	if q.Skip > 0 {
		if q.Top < 0 {
			db = db.Limit(1 << 62)
		}
		db = db.Offset(q.Skip)
	}
	rows, err := db.Rows()
	if err != nil {
		return nil, models.Classify(err)
	}
	return &tableRows{rows: rows, props: q.Set.Props}, nil
}

// countTable counts the rows of a table set that match pred.
func (e *Engine) countTable(ctx context.Context, q *SetQuery, pred Expr) (int64, error) {
	t := tables[q.Set.Name]
	c := q.Set.compiler(e.mysql(), e.Now().UTC(), time.UTC)
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
