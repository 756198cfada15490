package reports

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
)

// sessionLogColumns are the columns of both session logs (GlobalChatSessionLog, QueueChatSessionLog).
var sessionLogColumns = []Column{
	{Name: "SessionId", Type: Int, Description: "Session id (the SessionID of /Chime/Session/SessionDetails)"},
	{Name: "SessionStarted", Type: DateTime, Description: "When the guest started the session (started_at), local with offset"},
	{Name: "QueueId", Type: Int, Description: "Queue id"},
	{Name: "QueueName", Type: String, Description: "Queue name"},
	{Name: "State", Type: String, Description: "Bot, Waiting, Connected (open) or Deflected, BotAbandoned, Abandoned, TimedOut, Completed, Transferred"},
	{Name: "EndReason", Type: String, Description: "Why the session ended (seeker_left, agent_left, max_wait, transfer, …); empty while open", Null: true},
	{Name: "EntryPoint", Type: String, Description: "teams, webclient, directline, sharepoint, api or other"},
	{Name: "GuestName", Type: String, Description: "Guest display name", Null: true},
	{Name: "GuestEmail", Type: String, Description: "Guest e-mail", Null: true},
	{Name: "Question", Type: String, Description: "The guest's question", Null: true},
	{Name: "SkillTag", Type: String, Description: "Skill tag used for routing", Null: true},
	{Name: "AgentName", Type: String, Description: "First agent who accepted the session", Null: true},
	{Name: "QueuedAt", Type: DateTime, Description: "When the session entered the queue", Null: true},
	{Name: "AcceptedAt", Type: DateTime, Description: "When an agent accepted it", Null: true},
	{Name: "EndedAt", Type: DateTime, Description: "When it ended", Null: true},
	{Name: "WaitSeconds", Type: Seconds, Description: "Queue wait: to the accept if answered, else to the end; empty when not applicable or still waiting"},
	{Name: "HandleSeconds", Type: Seconds, Description: "Accept to end, for answered and closed sessions"},
	{Name: "DurationSeconds", Type: Seconds, Description: "Start to end, for closed sessions"},
	{Name: "Messages", Type: Int, Description: "Messages exchanged (system and internal notes excluded)"},
	{Name: "Files", Type: Int, Description: "Files sent during the chat"},
	{Name: "Rating", Type: Int, Description: "Survey rating 1–5, empty if not rated", Null: true},
	{Name: "ParentSessionId", Type: Int, Description: "Previous queue leg when the session was transferred in", Null: true},
}

func init() {
	register(&Report{
		Name:        "GlobalChatSessionLog",
		Title:       "Global Chat Session Log",
		Description: "Row per session across every visible queue (the Search Chat History grid)",
		Category:    Global,
		Grain:       GrainSession,
		Columns:     sessionLogColumns,
		Formula:     "Every session of the visible queues whose started_at lies in the window, ordered by started_at then id. Wait, handle and duration follow the shared rules and are empty when undefined. Every row is streamed; nothing is truncated.",
		run:         sessionLog,
		cover:       uncovered, // an export (fingerprint.go)
		SessionLog:  true,
	})
	register(&Report{
		Name:        "QueueChatSessionLog",
		Title:       "Queue Chat Session Log",
		Description: "Row per session of one queue",
		Category:    QueueBasic,
		Grain:       GrainSession,
		Columns:     sessionLogColumns,
		Formula:     "GlobalChatSessionLog restricted to queueId.",
		run:         sessionLog,
		cover:       uncovered, // an export (fingerprint.go)
		SessionLog:  true,
	})
}

const sessionLogSelect = "s.id, s.started_at, s.queue_id, COALESCE(q.name, ''), s.state, s.end_reason, s.entry_point, " +
	"sk.display_name, sk.first_name, sk.last_name, sk.email, s.question, s.skill_tag, u.display_name, " +
	"s.queued_at, s.accepted_at, s.ended_at, s.message_count, s.file_count, r.rating, s.parent_session_id"

// sessionLogSelectOf is sessionLogSelect for a FROM clause holding only
// the joins named by alias (sessionLogJoins): the columns of a join left
// out are NULL, and the queue name is taken from the run's queues (the
// converter never reads the column). On SQLite the instants are selected
// as blobs of their text and parsed by stamp: the driver parses a text
// column (declared DATETIME, or without a declared type) with time.Parse,
// twice per instant, a third of its per-row time in the profile.
func sessionLogSelectOf(mysql bool, joins []string) string {
	has := func(alias, cols string) string {
		if slices.Contains(joins, alias) {
			return cols
		}
		return strings.TrimSuffix(strings.Repeat("NULL, ", strings.Count(cols, ",")+1), ", ")
	}
	at := func(col string) string {
		if mysql {
			return col
		}
		return "CAST(" + col + " AS BLOB)"
	}
	return "s.id, " + at("s.started_at") + ", s.queue_id, NULL, s.state, s.end_reason, s.entry_point, " +
		has("sk", "sk.display_name, sk.first_name, sk.last_name, sk.email") + ", s.question, s.skill_tag, " + has("u", "u.display_name") + ", " +
		at("s.queued_at") + ", " + at("s.accepted_at") + ", " + at("s.ended_at") + ", s.message_count, s.file_count, " +
		has("r", "r.rating") + ", s.parent_session_id"
}

// sessionLogFrom is the FROM clause of every session-log query (native
// logs, the OData Sessions set and its counts). Every join is a LEFT JOIN,
// so that chat_sessions drives the plan: with an inner join to queues,
// MariaDB starts from the five-row queues table and sorts every matching
// session in a temporary table before returning the first row (seen as
// 9 s per 5,000-row page on 1M sessions); driven from chat_sessions, a
// keyset page is a primary-key range scan.
func sessionLogFrom(db *gorm.DB) *gorm.DB {
	return sessionLogFromOnly(db, "q", "sk", "u", "r")
}

// sessionLogJoins are the joins of the session-log FROM clause by alias.
// Each joins at most one row per session (by primary key), so a query
// that reads none of a join's columns may leave it out and count the same.
var sessionLogJoins = []struct{ alias, sql string }{
	{"q", "LEFT JOIN queues q ON q.id = s.queue_id"},
	{"sk", "LEFT JOIN seekers sk ON sk.id = s.seeker_id"},
	{"u", "LEFT JOIN users u ON u.id = s.first_agent_id"},
	{"r", "LEFT JOIN session_ratings r ON r.session_id = s.id"},
}

// sessionLogFromOnly is sessionLogFrom with only the joins named by alias.
func sessionLogFromOnly(db *gorm.DB, aliases ...string) *gorm.DB {
	return sessionLogJoinsOnly(db.Table("chat_sessions AS s"), aliases...)
}

// sessionLogJoinsOnly adds the joins named by alias to a FROM clause
// holding chat_sessions s.
func sessionLogJoinsOnly(db *gorm.DB, aliases ...string) *gorm.DB {
	for _, j := range sessionLogJoins {
		if slices.Contains(aliases, j.alias) {
			db = db.Joins(j.sql)
		}
	}
	return db
}

func sessionLog(ctx context.Context, x *execution) (Rows, error) {
	joins := []string{"sk", "u", "r"} // the queue name comes from the run's queues
	rows, err := sessionLogFromOnly(x.db, joins...).
		Select(sessionLogSelectOf(x.engine.mysql(), joins)).
		Where("s.queue_id IN ?", nonEmpty(x.queueIDs())).
		Where("s.started_at >= ? AND s.started_at < ?", x.q.Window.Start, x.q.Window.Stop).
		Order("s.started_at, s.id").
		Rows()
	if err != nil {
		return nil, err
	}
	return newSessionLogRows(rows, x), nil
}

// newSessionLogRows converts rows selected with sessionLogSelect (the
// session logs and the OData session set, which share their columns).
func newSessionLogRows(rows *sql.Rows, x *execution) *sessionLogRows {
	return &sessionLogRows{rows: rows, x: x, b: newRowBuilder(registry["GlobalChatSessionLog"])}
}

// sessionLogRows converts database rows to log rows one at a time.
type sessionLogRows struct {
	rows *sql.Rows
	x    *execution
	b    *rowBuilder
	row  []any
	err  error
}

// defined is a declared value of f, nil where it is undefined.
func defined(v *Value, f *facts) any {
	if w, ok := v.Eval(f); ok {
		return w
	}
	return nil
}

func (r *sessionLogRows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	var (
		f                                         facts
		queueName                                 sql.RawBytes // the name comes from the run's queues
		state, entry                              string
		endReason, guestDN, guestFirst, guestLast sql.NullString
		guestEmail, question, skill, agent        sql.NullString
		started, queued, accepted, ended          stamp
		messages, files                           int64
		rating, parent                            sql.NullInt64
	)
	if err := r.rows.Scan(&f.ID, &started, &f.QueueID, &queueName, &state, &endReason, &entry,
		&guestDN, &guestFirst, &guestLast, &guestEmail, &question, &skill, &agent,
		&queued, &accepted, &ended, &messages, &files, &rating, &parent); err != nil {
		r.err = models.Classify(err)
		return false
	}
	f.State, f.q = state, r.x.info[f.QueueID]
	f.StartedAt = started.t
	f.QueuedAt, f.AcceptedAt, f.EndedAt = queued.ptr(), accepted.ptr(), ended.ptr()
	loc := r.x.q.Window.Zone
	guest := guestDN.String
	if guest == "" {
		guest = strings.TrimSpace(guestFirst.String + " " + guestLast.String)
	}
	b := r.b
	b.put("SessionId", f.ID)
	b.put("SessionStarted", f.StartedAt.In(loc))
	b.put("QueueId", int64(f.QueueID))
	b.put("QueueName", f.q.Name)
	b.put("State", state)
	b.put("EndReason", str(endReason))
	b.put("EntryPoint", entry)
	b.put("GuestName", strOrNil(guest))
	b.put("GuestEmail", str(guestEmail))
	b.put("Question", str(question))
	b.put("SkillTag", str(skill))
	b.put("AgentName", str(agent))
	b.put("QueuedAt", local(f.QueuedAt, loc))
	b.put("AcceptedAt", local(f.AcceptedAt, loc))
	b.put("EndedAt", local(f.EndedAt, loc))
	b.put("WaitSeconds", defined(Wait, &f))
	b.put("HandleSeconds", defined(Handle, &f))
	b.put("DurationSeconds", defined(Duration, &f))
	b.put("Messages", messages)
	b.put("Files", files)
	b.put("Rating", num(rating))
	b.put("ParentSessionId", num(parent))
	r.row = b.finish()
	return true
}

func (r *sessionLogRows) Row() []any { return r.row }

func (r *sessionLogRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return models.Classify(r.rows.Err())
}

func (r *sessionLogRows) Close() error { return r.rows.Close() }

func str(s sql.NullString) any {
	if !s.Valid {
		return nil
	}
	return s.String
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func num(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}

func local(t *time.Time, loc *time.Location) any {
	if t == nil {
		return nil
	}
	return t.In(loc)
}

// stamp scans a stored instant: a time.Time (MySQL, or a SQLite column
// the driver parsed) or the text SQLite stores, read by parseStamp.
type stamp struct {
	t     time.Time
	valid bool
}

func (s *stamp) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		s.valid = false
		return nil
	case time.Time:
		s.t, s.valid = x.UTC(), true
		return nil
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	}
	return fmt.Errorf("reports: cannot read %T as an instant", v)
}

func (s *stamp) parse(text string) error {
	t, err := parseStamp(text)
	s.t, s.valid = t, err == nil
	return err
}

func (s *stamp) ptr() *time.Time {
	if !s.valid {
		return nil
	}
	t := s.t
	return &t
}

// stampLayouts are the text forms of instants on SQLite the slow path
// accepts (those the driver reads).
var stampLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"}

// parseStamp reads a stored instant as UTC: "YYYY-MM-DD HH:MM:SS", an
// optional fraction, then "Z", "±HH:MM" or nothing (UTC), the form the
// driver and the fixture loader write, without time.Parse; anything else
// through the layouts the driver accepts.
func parseStamp(s string) (time.Time, error) {
	if t, ok := fastStamp(s); ok {
		return t, nil
	}
	z, _ := strings.CutSuffix(s, "Z")
	for _, l := range stampLayouts {
		if t, err := time.Parse(l, z); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("reports: %q is not an instant", s)
}

func fastStamp(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	h, ok4 := num(11, 2)
	mi, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest, ns := s[19:], 0
	if len(rest) > 0 && rest[0] == '.' {
		i, scale := 1, 100_000_000
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			if i > 9 {
				return time.Time{}, false
			}
			ns += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	off := 0
	switch {
	case rest == "" || rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(len(s)-5, 2)
		om, ok2 := num(len(s)-2, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off = oh*3600 + om*60
		if rest[0] == '-' {
			off = -off
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC)
	if t.Day() != d { // 31 February
		return time.Time{}, false
	}
	return t.Add(-time.Duration(off) * time.Second), true
}
