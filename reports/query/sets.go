package query

import (
	"slices"
	"sync"

	"github.com/chime-reports/chime-reports/reports"
)

// Set is a queryable table derived from the registry: one per report plus
// the raw tables Sessions, Queues and Agents. It is what the OData feed
// exposes as an entity set; the engine answers SetQuery values over it.
//
// Report sets serve every visible queue at once: per-queue reports carry a
// QueueId property, and time-series reports a PeriodStart property (the
// bucket's start as an instant) beside their local Date/HourStart labels.
// Every set has a key of non-null properties that is unique per row.
type Set struct {
	Name        string
	Title       string
	Description string
	// Props are the properties, in output order.
	Props []reports.Column
	// Key names the properties that identify a row.
	Key []string
	// Report is the report behind a report set (nil for raw sets).
	Report *reports.Report
	// Bucket is GrainDay or GrainHour for time-series report sets: a range
	// on PeriodStart (or Date) becomes the report window.
	Bucket reports.Grain

	kind    setKind
	index   map[string]int
	columns map[string]sqlColumn // SQL-backed sets: property → column
	zoned   bool                 // SQL-backed sets: instants in the query's zone (else UTC)
	extra   int                  // properties added before the report's own columns
}

type setKind int

const (
	reportSet  setKind = iota // computed by Engine.Run, filtered in Go
	sessionSet                // chat_sessions through SQL (Sessions and the session logs)
	queueSet
	agentSet
)

// Property returns the named property.
func (s *Set) Property(name string) (reports.Column, bool) {
	i, ok := s.index[name]
	if !ok {
		return reports.Column{}, false
	}
	return s.Props[i], true
}

// Index is the position of a property in a row, or -1.
func (s *Set) Index(name string) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	return -1
}

// SQLBacked reports whether every $filter on the set becomes SQL (true for
// Sessions and the session logs); other sets are computed and filtered in
// Go after the report window was pushed into SQL.
func (s *Set) SQLBacked() bool { return s.kind == sessionSet }

// Filterable reports whether a property may be used in $filter and
// $orderby. Durations of the session sets are derived in Go and are not.
func (s *Set) Filterable(name string) bool {
	if s.kind != sessionSet && s.kind != tableSet {
		_, ok := s.index[name]
		return ok
	}
	c, ok := s.columns[name]
	return ok && c.expr != ""
}

var (
	setsOnce sync.Once
	setList  []*Set
	setIndex map[string]*Set
)

// Sets returns every set: one per registered report (in catalog order),
// then Sessions, Queues, Agents and the raw tables beside them (Messages,
// Ratings, Participants, Offers, BotInteractions, Keywords).
func Sets() []*Set {
	setsOnce.Do(buildSets)
	return setList
}

// LookupSet finds a set by its exact name.
func LookupSet(name string) (*Set, bool) {
	setsOnce.Do(buildSets)
	s, ok := setIndex[name]
	return s, ok
}

func buildSets() {
	setIndex = map[string]*Set{}
	add := func(s *Set) {
		s.index = make(map[string]int, len(s.Props))
		for i, c := range s.Props {
			s.index[c.Name] = i
		}
		setList = append(setList, s)
		setIndex[s.Name] = s
	}
	for _, r := range reports.All() {
		if r.SessionLog {
			add(sessionLogSet(r.Name, r.Title, r.Description, r, true))
			continue
		}
		add(reportSetOf(r))
	}
	add(sessionLogSet("Sessions", "Sessions",
		"Every chat session of the visible queues, one row per queue leg, with instants in UTC", nil, false))
	add(&Set{Name: "Queues", Title: "Queues", Description: "The queues the caller may see", kind: queueSet,
		Key: []string{"QueueId"}, Props: queueColumns})
	add(&Set{Name: "Agents", Title: "Agents", Description: "Agents and managers of the visible queues", kind: agentSet,
		Key: []string{"AgentId"}, Props: agentColumns})
	for _, s := range tableSets() {
		add(s)
	}
}

var (
	queueIDColumn     = reports.Column{Name: "QueueId", Type: reports.Int, Description: "Queue id"}
	periodStartColumn = reports.Column{Name: "PeriodStart", Type: reports.DateTime,
		Description: "Start of the bucket as an instant (UTC); filter a range on it to choose the report window"}
)

func reportSetOf(r *reports.Report) *Set {
	s := &Set{Name: r.Name, Title: r.Title, Description: r.Description, Report: r, kind: reportSet}
	hasQueue := slices.ContainsFunc(r.Columns, func(c reports.Column) bool { return c.Name == "QueueId" })
	if r.RequiresQueue() && !hasQueue {
		s.Props = append(s.Props, queueIDColumn)
	}
	switch r.Grain {
	case reports.GrainDay, reports.GrainAgentDay, reports.GrainDayKeyword:
		s.Bucket = reports.GrainDay
	case reports.GrainHour:
		s.Bucket = reports.GrainHour
	}
	if s.Bucket != "" {
		s.Props = append(s.Props, periodStartColumn)
	}
	s.extra = len(s.Props)
	s.Props = append(s.Props, r.Columns...)
	key := r.Keys
	if r.RequiresQueue() && !slices.Contains(key, "QueueId") {
		key = append([]string{"QueueId"}, key...)
	}
	s.Key = key
	return s
}

var queueColumns = []reports.Column{
	{Name: "QueueId", Type: reports.Int, Description: "Queue id (the queueId of the native routes)"},
	{Name: "QueueName", Type: reports.String, Description: "Queue name"},
	{Name: "Mode", Type: reports.String, Description: "Production, Development or Testing"},
	{Name: "ServiceLevelThresholdSeconds", Type: reports.Int, Description: "Service-level threshold T in seconds"},
	{Name: "ServiceLevelTargetPct", Type: reports.Pct, Unit: "%", Decimals: 1, Description: "Service-level target in percent"},
	{Name: "ShortAbandonSeconds", Type: reports.Int, Description: "Abandons faster than this are short abandons"},
}

var agentColumns = []reports.Column{
	{Name: "AgentId", Type: reports.Int, Description: "User id of the agent"},
	{Name: "AgentName", Type: reports.String, Description: "Display name"},
	{Name: "Email", Type: reports.String, Description: "E-mail address"},
	{Name: "MaxConcurrentChats", Type: reports.Int, Description: "How many chats the agent may hold at once"},
}
