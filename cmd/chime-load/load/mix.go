package load

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Body is what a 2xx answer must hold to count as complete.
type Body int

// The body checks (see Validate).
const (
	JSON  Body = iota // parses as one JSON value
	CSV               // RFC 4180 with a consistent field count, ends with CRLF
	XLSX              // a zip whose every entry reads with a good CRC
	OData             // a JSON object with a "value" array
	Count             // a non-negative integer (OData /$count)
)

// Request is one HTTP call of a kind.
type Request struct {
	Path   string            // path and query, relative to the base URL
	Header map[string]string // extra headers
	Body   Body
	// Pages is how many @odata.nextLink pages to follow after this one.
	Pages int
}

// Kind is one family of requests in the mix.
type Kind struct {
	Name string
	Help string
	// Make builds a request for queue q with windows inside the data span.
	Make func(r *rand.Rand, q int, span Span) Request
}

// Span is the stretch of days that holds data; windows are drawn inside it.
type Span struct {
	First, Last time.Time // local dates, inclusive
	Zone        string
}

// window picks days consecutive days inside the span (clamped to it) and
// returns the first and last date.
func (s Span) window(r *rand.Rand, days int) (time.Time, time.Time) {
	total := int(s.Last.Sub(s.First).Hours()/24) + 1
	if days > total {
		days = total
	}
	off := 0
	if total > days {
		off = r.IntN(total - days + 1)
	}
	first := s.First.AddDate(0, 0, off)
	return first, first.AddDate(0, 0, days-1)
}

const day = "2006-01-02"

// native is a native report over days days, as JSON unless format is set.
func native(reportsList []string, perQueue bool, days int, format string) func(*rand.Rand, int, Span) Request {
	return func(r *rand.Rand, q int, s Span) Request {
		rep := reportsList[r.IntN(len(reportsList))]
		first, last := s.window(r, days)
		v := url.Values{}
		if perQueue {
			v.Set("queueId", strconv.Itoa(q))
		}
		v.Set("start", first.Format(day))
		v.Set("stop", last.Format(day))
		if s.Zone != "" {
			v.Set("zone", s.Zone)
		}
		body := JSON
		switch format {
		case "csv":
			v.Set("csv", "true")
			body = CSV
		case "xlsx":
			v.Set("format", "xlsx")
			body = XLSX
		}
		return Request{Path: "/Chime/Report/" + rep + "?" + v.Encode(), Body: body}
	}
}

// odataQuery encodes OData options with %20 for spaces (what Power Query
// sends), keeping $ and the operators readable.
func odataQuery(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pairs[i] + "=" + strings.ReplaceAll(url.QueryEscape(pairs[i+1]), "+", "%20"))
	}
	return b.String()
}

// instant is midnight UTC of a date, as an OData literal.
func instant(t time.Time) string { return t.Format(day) + "T00:00:00Z" }

var (
	queueDaily  = []string{"InboundVsAnsweredChats", "ServiceLevelByDay", "ChatOutcomesByDay", "WaitTimeByDay", "AbandonedChatsByDay"}
	queueTables = []string{"AgentChatsAnswered", "ChatsByHourOfDay", "ChatsByDayOfWeek", "BotContainmentByDay", "TopKeywords"}
	globalSets  = []string{"GlobalChatsPerDay", "GlobalQueueSummary", "GlobalHourlyHeatmap"}
)

// Kinds is every kind the mix can name.
var Kinds = []Kind{
	{Name: "native-queue-30d", Help: "per-queue daily report, 30 days, JSON",
		Make: native(queueDaily, true, 30, "")},
	{Name: "native-queue-12m", Help: "per-queue report, 12 months, JSON",
		Make: native(append(append([]string{}, queueDaily...), queueTables...), true, 365, "")},
	{Name: "native-global-30d", Help: "global report, 30 days, JSON",
		Make: native(globalSets, false, 30, "")},
	{Name: "native-global-12m", Help: "global report, 12 months, JSON",
		Make: native(globalSets, false, 365, "")},
	{Name: "csv-day", Help: "QueueChatSessionLog for one day, CSV",
		Make: native([]string{"QueueChatSessionLog"}, true, 1, "csv")},
	{Name: "csv-week", Help: "QueueChatSessionLog for 7 days, CSV",
		Make: native([]string{"QueueChatSessionLog"}, true, 7, "csv")},
	{Name: "xlsx", Help: "per-queue daily report, 30 days, XLSX",
		Make: native(queueDaily, true, 30, "xlsx")},
	{Name: "odata-sessions", Help: "OData Sessions of a queue for 7 days, $top=1500 in pages of 500 (nextLink followed)",
		Make: func(r *rand.Rand, q int, s Span) Request {
			first, last := s.window(r, 7)
			f := fmt.Sprintf("QueueId eq %d and StartedAt ge %s and StartedAt lt %s", q, instant(first), instant(last.AddDate(0, 0, 1)))
			return Request{Path: "/odata/Sessions?" + odataQuery("$filter", f, "$top", "1500"),
				Header: map[string]string{"Prefer": "odata.maxpagesize=500"}, Body: OData, Pages: 2}
		}},
	{Name: "odata-report", Help: "OData report set of a queue, 90 days by PeriodStart",
		Make: func(r *rand.Rand, q int, s Span) Request {
			rep := queueDaily[r.IntN(len(queueDaily))]
			first, last := s.window(r, 90)
			f := fmt.Sprintf("QueueId eq %d and PeriodStart ge %s and PeriodStart lt %s", q, instant(first), instant(last.AddDate(0, 0, 1)))
			return Request{Path: "/odata/" + rep + "?" + odataQuery("$filter", f), Body: OData}
		}},
	{Name: "odata-count", Help: "OData Sessions/$count of a queue for 30 days",
		Make: func(r *rand.Rand, q int, s Span) Request {
			first, last := s.window(r, 30)
			f := fmt.Sprintf("QueueId eq %d and StartedAt ge %s and StartedAt lt %s", q, instant(first), instant(last.AddDate(0, 0, 1)))
			return Request{Path: "/odata/Sessions/$count?" + odataQuery("$filter", f), Body: Count}
		}},
}

// DefaultMix weighs the kinds: mostly small JSON reports, some exports and
// OData paging.
const DefaultMix = "native-queue-30d=20,native-queue-12m=10,native-global-30d=10,native-global-12m=5," +
	"csv-day=10,csv-week=5,xlsx=5,odata-sessions=15,odata-report=10,odata-count=10"

// ReportsMix is the native JSON reports of DefaultMix alone, with the
// same weights: no export, session log or OData.
const ReportsMix = "native-queue-30d=20,native-queue-12m=10,native-global-30d=10,native-global-12m=5"

// Presets are the mixes ParseMix knows by name.
var Presets = map[string]string{"default": DefaultMix, "reports": ReportsMix}

// Weighted is a kind with its share of the mix.
type Weighted struct {
	Kind   Kind
	Weight int
}

// ParseMix reads "kind=weight,kind=weight" (a kind without "=w" weighs
// 1) or the name of a preset ("default", "reports").
func ParseMix(s string) ([]Weighted, error) {
	if p, ok := Presets[strings.TrimSpace(s)]; ok {
		s = p
	}
	byName := map[string]Kind{}
	for _, k := range Kinds {
		byName[k.Name] = k
	}
	var mix []Weighted
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, hasW := strings.Cut(part, "=")
		k, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("mix: unknown kind %q (kinds: %s)", name, strings.Join(KindNames(), ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("mix: %q named twice", name)
		}
		seen[name] = true
		weight := 1
		if hasW {
			n, err := strconv.Atoi(w)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("mix: weight of %s must be a non-negative integer, not %q", name, w)
			}
			weight = n
		}
		if weight > 0 {
			mix = append(mix, Weighted{Kind: k, Weight: weight})
		}
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("mix: no kind with a positive weight")
	}
	return mix, nil
}

// KindNames lists the kinds, sorted.
func KindNames() []string {
	var names []string
	for _, k := range Kinds {
		names = append(names, k.Name)
	}
	sort.Strings(names)
	return names
}

// pick draws a kind by weight.
func pick(r *rand.Rand, mix []Weighted) Kind {
	total := 0
	for _, w := range mix {
		total += w.Weight
	}
	n := r.IntN(total)
	for _, w := range mix {
		if n < w.Weight {
			return w.Kind
		}
		n -= w.Weight
	}
	return mix[len(mix)-1].Kind
}
