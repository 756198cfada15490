package odata_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/query"
)

// Power Query's first request (docs/powerbi.md "What Power Query sends and what the feed guarantees").
var firstRequest = []string{
	"Accept", PowerQueryAccept,
	"OData-MaxVersion", "4.0",
	"MaxDataServiceVersion", "3.0",
	"Accept-Encoding", "gzip, deflate",
	"User-Agent", "Microsoft.Data.Mashup (https://go.microsoft.com/fwlink/?LinkID=304225)",
}

// Its later requests.
var laterRequest = []string{"Accept", "application/json;odata.metadata=minimal", "OData-MaxVersion", "4.0",
	"User-Agent", "Microsoft.Data.Mashup (https://go.microsoft.com/fwlink/?LinkID=304225)"}

var (
	dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
	dateRE     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// checkAnswer asserts the rules every answer shares: exactly one
// OData-Version: 4.0 and the expected content type.
func checkAnswer(t *testing.T, a answer, contentType string) {
	t.Helper()
	if got := a.header.Values("OData-Version"); len(got) != 1 || got[0] != "4.0" {
		t.Errorf("OData-Version headers %q, want exactly one 4.0", got)
	}
	if got := a.header.Get("Content-Type"); got != contentType {
		t.Errorf("Content-Type %q, want %q", got, contentType)
	}
}

func gunzip(t *testing.T, a answer) answer {
	t.Helper()
	if a.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not gzip-encoded for Accept-Encoding: gzip (Content-Encoding %q)", a.header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	a.body = string(b)
	return a
}

// csdl is the part of $metadata the contract checks.
type csdl struct {
	XMLName  xml.Name `xml:"Edmx"`
	Version  string   `xml:"Version,attr"`
	Services struct {
		Schemas []struct {
			Namespace   string `xml:"Namespace,attr"`
			EntityTypes []struct {
				Name string `xml:"Name,attr"`
				Key  struct {
					Refs []struct {
						Name string `xml:"Name,attr"`
					} `xml:"PropertyRef"`
				} `xml:"Key"`
				Properties []struct {
					Name        string `xml:"Name,attr"`
					Type        string `xml:"Type,attr"`
					Nullable    string `xml:"Nullable,attr"`
					Annotations []struct {
						Term   string `xml:"Term,attr"`
						String string `xml:"String,attr"`
					} `xml:"Annotation"`
				} `xml:"Property"`
			} `xml:"EntityType"`
			Container struct {
				Sets []struct {
					Name       string `xml:"Name,attr"`
					EntityType string `xml:"EntityType,attr"`
				} `xml:"EntitySet"`
				Annotations []struct {
					Term string `xml:"Term,attr"`
				} `xml:"Annotation"`
			} `xml:"EntityContainer"`
		} `xml:"Schema"`
	} `xml:"DataServices"`
}

// TestPowerQueryContract replays what Power BI Desktop sends when a user
// connects to the feed, previews every table and refreshes, and checks
// every rule of docs/powerbi.md "What Power Query sends and what the feed guarantees".
func TestPowerQueryContract(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		base := e.srv.URL + "/odata"

		// 1. The URL the user typed, with the first request's headers.
		a := gunzip(t, e.get(golden.Admin, "/odata/", firstRequest...))
		checkAnswer(t, a, odata.JSONType)
		var doc struct {
			Context string `json:"@odata.context"`
			Value   []struct{ Name, Kind, URL string }
		}
		if err := json.Unmarshal([]byte(a.body), &doc); err != nil {
			t.Fatalf("service document: %v", err)
		}
		if doc.Context != base+"/$metadata" {
			t.Errorf("service document context %q", doc.Context)
		}
		var names []string
		for _, v := range doc.Value {
			if v.Kind != "EntitySet" || v.URL != v.Name {
				t.Errorf("service document entry %+v", v)
			}
			names = append(names, v.Name)
		}
		for _, want := range []string{"Sessions", "Queues", "Agents", "InboundVsAnsweredChats", "QueueChatSessionLog", "GlobalQueueSummary"} {
			if !slices.Contains(names, want) {
				t.Errorf("service document lacks %s", want)
			}
		}
		if len(names) != len(reports.All())+9 { // + Sessions, Queues, Agents and the six raw tables beside them
			t.Errorf("%d sets for %d reports", len(names), len(reports.All()))
		}

		// 2. $metadata: CSDL XML 4.0 whatever Accept prefers.
		a = gunzip(t, e.get(golden.Admin, "/odata/$metadata", firstRequest...))
		checkAnswer(t, a, odata.MetadataType)
		var md csdl
		if err := xml.Unmarshal([]byte(a.body), &md); err != nil {
			t.Fatalf("$metadata is not XML: %v", err)
		}
		if md.Version != "4.0" || len(md.Services.Schemas) != 1 {
			t.Fatalf("Edmx Version %q, %d schemas", md.Version, len(md.Services.Schemas))
		}
		schema := md.Services.Schemas[0]
		types := map[string][]string{} // entity type → key
		allowed := []string{"Edm.Int64", "Edm.Double", "Edm.String", "Edm.Date", "Edm.DateTimeOffset"}
		for _, et := range schema.EntityTypes {
			props := map[string]string{}
			for _, p := range et.Properties {
				if !slices.Contains(allowed, p.Type) {
					t.Errorf("%s.%s has type %s", et.Name, p.Name, p.Type)
				}
				props[p.Name] = p.Nullable
				if len(p.Annotations) != 1 || p.Annotations[0].Term != "Core.Description" || p.Annotations[0].String == "" {
					t.Errorf("%s.%s has no Core.Description", et.Name, p.Name)
				}
			}
			if len(et.Key.Refs) == 0 {
				t.Errorf("%s has no key", et.Name)
			}
			for _, k := range et.Key.Refs {
				if nullable, ok := props[k.Name]; !ok || nullable != "false" {
					t.Errorf("%s: key %s is not a non-nullable property", et.Name, k.Name)
				}
				types[et.Name] = append(types[et.Name], k.Name)
			}
		}
		for _, s := range schema.Container.Sets {
			if _, ok := types[strings.TrimPrefix(s.EntityType, schema.Namespace+".")]; !ok {
				t.Errorf("set %s has no entity type %s", s.Name, s.EntityType)
			}
		}
		if len(schema.Container.Sets) != len(names) {
			t.Errorf("$metadata has %d sets, the service document %d", len(schema.Container.Sets), len(names))
		}
		if len(schema.Container.Annotations) != 1 || schema.Container.Annotations[0].Term != "Aggregation.ApplySupported" {
			t.Errorf("container annotations %+v", schema.Container.Annotations)
		}
		if !strings.Contains(a.body, `Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Aggregation.V1.xml"`) {
			t.Error("the Aggregation vocabulary is not referenced")
		}

		// 3. The preview of every set: $top=1000, later requests' headers.
		for _, name := range names {
			path := "/odata/" + name + "?$top=1000"
			a := e.get(golden.Admin, path, laterRequest...)
			if a.status == 400 && strings.Contains(a.body, "start and stop options") {
				// A set computed over its whole range (not piecewise), over
				// the golden data's four years, is longer than the cap: the
				// user gives it a range.
				a = e.get(golden.Admin, path+"&start=2024-10-01&stop=2024-11-04", laterRequest...)
			}
			checkAnswer(t, a, odata.JSONType)
			p := e.decode(a, name)
			if p.Context != base+"/$metadata#"+name {
				t.Errorf("%s: context %q", name, p.Context)
			}
			set, _ := query.LookupSet(name)
			seen := map[string]bool{}
			for _, row := range p.Value {
				var key []string
				for _, k := range types[name] {
					if row[k] == nil {
						t.Fatalf("%s: key %s is null in %v", name, k, row)
					}
					key = append(key, fmt.Sprint(row[k]))
				}
				if k := strings.Join(key, "|"); seen[k] {
					t.Errorf("%s: key %s twice", name, k)
				} else {
					seen[k] = true
				}
				for _, c := range set.Props {
					v, present := row[c.Name]
					if !present {
						t.Errorf("%s: %s missing", name, c.Name)
					}
					s, isString := v.(string)
					switch c.Type {
					case reports.DateTime:
						if v != nil && (!isString || !dateTimeRE.MatchString(s)) {
							t.Errorf("%s.%s = %v: not a DateTimeOffset with Z or offset", name, c.Name, v)
						}
					case reports.Date:
						if v != nil && (!isString || !dateRE.MatchString(s)) {
							t.Errorf("%s.%s = %v: not YYYY-MM-DD", name, c.Name, v)
						}
					case reports.Int, reports.Seconds, reports.Pct, reports.Decimal:
						if _, isNum := v.(json.Number); v != nil && !isNum {
							t.Errorf("%s.%s = %v: not a number", name, c.Name, v)
						}
					}
				}
			}
			if (name == "Sessions" || name == "InboundVsAnsweredChats") && len(p.Value) == 0 {
				t.Errorf("%s: no rows in the preview", name)
			}
		}

		// 4. An incremental-refresh partition, in each spelling of its offset.
		want := oracleSessionIDs(t, b, "2024-11-03T00:00:00Z", "2024-11-04T00:00:00Z", nil)
		if len(want) < 5 {
			t.Fatalf("the partition holds %d sessions", len(want))
		}
		for _, f := range []string{
			"StartedAt ge 2024-11-03T00:00:00Z and StartedAt lt 2024-11-04T00:00:00Z",
			"StartedAt ge 2024-11-03T01:00:00%2B01:00 and StartedAt lt 2024-11-04T01:00:00%2B01:00",
			"StartedAt ge 2024-11-03T01:00:00+01:00 and StartedAt lt 2024-11-04T01:00:00+01:00", // a raw +
			"StartedAt ge 2024-11-02T19:00:00-05:00 and StartedAt lt 2024-11-03T19:00:00.000-05:00",
		} {
			got := e.allPages(golden.Admin, "/odata/Sessions?$filter="+strings.ReplaceAll(f, " ", "%20"), "odata.maxpagesize=3")
			if ids := sessionIDs(t, got); !slices.Equal(ids, want) {
				t.Errorf("%s: %v, want %v", f, ids, want)
			}
		}

		// 5. /$count and $count=true with the filter applied.
		a = e.get(golden.Admin, "/odata/Sessions/$count?$filter=StartedAt%20ge%202024-11-03T00:00:00Z%20and%20StartedAt%20lt%202024-11-04T00:00:00Z", laterRequest...)
		checkAnswer(t, a, odata.CountType)
		if a.body != fmt.Sprint(len(want)) {
			t.Errorf("/$count = %q, want %d", a.body, len(want))
		}
		p := e.page(golden.Admin, "/odata/Sessions?$count=true&$top=1&$filter=StartedAt%20ge%202024-11-03T00:00:00Z%20and%20StartedAt%20lt%202024-11-04T00:00:00Z")
		if p.Count == nil || *p.Count != int64(len(want)) || len(p.Value) != 1 {
			t.Errorf("$count=true: %v with %d rows", p.Count, len(p.Value))
		}

		// 6. A folded Group By.
		p = e.page(golden.Admin, "/odata/Sessions?$apply=filter(StartedAt%20ge%202024-10-01T00:00:00Z)/groupby((QueueId),aggregate(Messages%20with%20sum%20as%20Messages,$count%20as%20Sessions,Rating%20with%20average%20as%20AvgRating))", laterRequest...)
		if p.Context != base+"/$metadata#Sessions(QueueId,Messages,Sessions,AvgRating)" {
			t.Errorf("$apply context %q", p.Context)
		}
		type agg struct{ messages, sessions, ratings, ratingSum int64 }
		oracle := map[int64]*agg{}
		var sessions []models.ChatSession
		b.DB.Where("started_at >= ?", time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)).Find(&sessions)
		var ratings []models.SessionRating
		b.DB.Find(&ratings)
		rating := map[uint]int64{}
		for _, r := range ratings {
			rating[uint(r.SessionID)] = int64(r.Rating)
		}
		for _, s := range sessions {
			g := oracle[int64(s.QueueID)]
			if g == nil {
				g = &agg{}
				oracle[int64(s.QueueID)] = g
			}
			g.messages += int64(s.MessageCount)
			g.sessions++
			if r, ok := rating[s.ID]; ok {
				g.ratings++
				g.ratingSum += r
			}
		}
		if len(p.Value) != len(oracle) {
			t.Errorf("groupby gave %d groups, want %d", len(p.Value), len(oracle))
		}
		for _, row := range p.Value {
			q, _ := row["QueueId"].(json.Number).Int64()
			g := oracle[q]
			if g == nil {
				t.Errorf("unexpected group %v", row)
				continue
			}
			if row["Messages"].(json.Number).String() != fmt.Sprint(g.messages) || row["Sessions"].(json.Number).String() != fmt.Sprint(g.sessions) {
				t.Errorf("queue %d: %v, want messages %d sessions %d", q, row, g.messages, g.sessions)
			}
			if g.ratings > 0 {
				avg, _ := row["AvgRating"].(json.Number).Float64()
				if want := float64(g.ratingSum) / float64(g.ratings); avg != want {
					t.Errorf("queue %d: average rating %v, want %v", q, avg, want)
				}
			}
		}
	})
}

// allPages follows @odata.nextLink to the end (as Power Query does) and
// checks each link: absolute, with a $skiptoken and never an api_key.
func (e *env) allPages(user uint, path, prefer string) []map[string]any {
	e.t.Helper()
	var rows []map[string]any
	url := e.srv.URL + path
	for i := 0; ; i++ {
		if i > 1000 {
			e.t.Fatal("paging does not end")
		}
		a := e.do(url, append([]string{"Authorization", "Bearer " + e.key[user], "Prefer", prefer}, laterRequest...)...)
		checkAnswer(e.t, a, odata.JSONType)
		if prefer != "" && a.header.Get("Preference-Applied") != prefer {
			e.t.Errorf("Preference-Applied %q for Prefer %q", a.header.Get("Preference-Applied"), prefer)
		}
		p := e.decode(a, url)
		rows = append(rows, p.Value...)
		if p.NextLink == "" {
			return rows
		}
		if !strings.HasPrefix(p.NextLink, e.srv.URL+"/odata/") || !strings.Contains(p.NextLink, "$skiptoken=") || strings.Contains(p.NextLink, "api_key") {
			e.t.Fatalf("nextLink %q", p.NextLink)
		}
		url = p.NextLink
	}
}

func sessionIDs(t *testing.T, rows []map[string]any) []int64 {
	t.Helper()
	var out []int64
	for _, r := range rows {
		n, err := r["SessionId"].(json.Number).Int64()
		if err != nil {
			t.Fatalf("SessionId %v", r["SessionId"])
		}
		out = append(out, n)
	}
	return out
}

// oracleSessionIDs reads the ids of sessions started in [from, to) of the
// given queues (nil: all) straight from the table, sorted.
func oracleSessionIDs(t *testing.T, b dbtest.Backend, from, to string, queues []uint32) []int64 {
	t.Helper()
	f, _ := time.Parse(time.RFC3339, from)
	u, _ := time.Parse(time.RFC3339, to)
	var ss []models.ChatSession
	if err := b.DB.WithContext(context.Background()).Order("id").Find(&ss).Error; err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, s := range ss {
		if !s.StartedAt.Before(f) && s.StartedAt.Before(u) && (queues == nil || slices.Contains(queues, s.QueueID)) {
			out = append(out, int64(s.ID))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// TestPagingIsExactAndStable: paging a filtered range returns exactly
// /$count distinct rows, in key order, and rows inserted behind the
// cursor while paging neither repeat nor shift later pages.
func TestPagingIsExactAndStable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{PageSize: 4})
		filter := "$filter=StartedAt%20ge%202024-10-01T00:00:00Z%20and%20StartedAt%20lt%202024-12-01T00:00:00Z"
		n := e.get(golden.Alice, "/odata/Sessions/$count?"+filter)
		rows := e.allPages(golden.Alice, "/odata/Sessions?"+filter+"&$select=SessionId,QueueId", "")
		ids := sessionIDs(t, rows)
		if fmt.Sprint(len(ids)) != n.body {
			t.Fatalf("paged %d rows, /$count says %s", len(ids), n.body)
		}
		if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("ids not distinct and ordered: %v", ids)
		}
		if want := oracleSessionIDs(t, b, "2024-10-01T00:00:00Z", "2024-12-01T00:00:00Z", []uint32{1, 2}); !slices.Equal(ids, want) {
			t.Errorf("alice paged %v, want %v", ids, want)
		}

		// Page 1, then insert a session with a smaller started_at than
		// everything (but a larger id): page 2 must continue after page 1.
		p1 := e.page(golden.Alice, "/odata/Sessions?"+filter+"&$orderby=StartedAt&$select=SessionId,StartedAt")
		if len(p1.Value) != 4 || p1.NextLink == "" {
			t.Fatalf("page 1: %d rows, next %q", len(p1.Value), p1.NextLink)
		}
		var s models.ChatSession
		b.DB.First(&s, 1)
		s.ID, s.SessionGUID, s.StartedAt = 0, "fe0dface-0da7-4a11-9e5e-0000000000ff", time.Date(2024, 10, 2, 0, 0, 0, 0, time.UTC)
		if err := b.DB.Create(&s).Error; err != nil {
			t.Fatal(err)
		}
		rest := e.allPages(golden.Alice, strings.TrimPrefix(p1.NextLink, e.srv.URL), "")
		all := append(sessionIDs(t, p1.Value), sessionIDs(t, rest)...)
		if slices.Contains(all, int64(s.ID)) {
			t.Errorf("a row inserted before the cursor appeared on a later page")
		}
		if len(all) != len(ids) {
			t.Errorf("ordered paging gave %d rows, want %d", len(all), len(ids))
		}
		var prev string
		for _, r := range append(p1.Value, rest...) {
			cur := r["StartedAt"].(string)
			if cur < prev {
				t.Errorf("StartedAt out of order: %s after %s", cur, prev)
			}
			prev = cur
		}
	})
}

// TestACL: alice (queues 1 and 2) never sees queue 3 — not through any
// $filter shape, not through counts, $apply or report sets.
func TestACL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		filters := []string{
			"", "QueueId eq 3", "QueueId eq 3 or QueueId eq 1", "not (QueueId ne 3)", "QueueId in (1,2,3)",
			"((QueueId eq 3)) or (QueueId eq 2 and true)", "SessionId eq 14", "not (QueueId eq 1) and not (QueueId eq 2)",
			"QueueId ge 0 or QueueId eq null", "true", "QueueId add 0 eq 3", "not (not (QueueId eq 3))",
		}
		for _, set := range []string{"Sessions", "GlobalChatSessionLog", "QueueChatSessionLog", "InboundVsAnsweredChats", "GlobalQueueSummary", "Queues"} {
			for _, f := range filters {
				if f == "SessionId eq 14" && !strings.Contains(set, "Session") {
					continue
				}
				path := "/odata/" + set + "?$top=1000"
				if set == "GlobalQueueSummary" {
					path += "&start=2024-10-01&stop=2024-11-04"
				}
				if f != "" {
					path += "&$filter=" + url.PathEscape(f)
				}
				for _, row := range e.page(golden.Alice, path).Value {
					if q := fmt.Sprint(row["QueueId"]); q != "1" && q != "2" {
						t.Errorf("%s %q: alice sees queue %s: %v", set, f, q, row)
					}
					if fmt.Sprint(row["SessionId"]) == "14" {
						t.Errorf("%s %q: alice sees session 14", set, f)
					}
				}
			}
		}
		// Counts and aggregates too.
		admin := e.get(golden.Admin, "/odata/Sessions/$count?$filter="+url.PathEscape("QueueId eq 3"))
		alice := e.get(golden.Alice, "/odata/Sessions/$count?$filter="+url.PathEscape("QueueId eq 3"))
		if admin.body == "0" || alice.body != "0" {
			t.Errorf("count of queue 3: admin %s, alice %s", admin.body, alice.body)
		}
		for _, row := range e.page(golden.Alice, "/odata/Sessions?$apply="+url.PathEscape("groupby((QueueId),aggregate($count as N))")).Value {
			if q := fmt.Sprint(row["QueueId"]); q == "3" {
				t.Errorf("alice's groupby shows queue 3")
			}
		}
		// Bob sees only queue 3.
		for _, row := range e.page(golden.Bob, "/odata/Sessions?$filter="+url.PathEscape("QueueId in (1,2,3)")).Value {
			if fmt.Sprint(row["QueueId"]) != "3" {
				t.Errorf("bob sees %v", row)
			}
		}
	})
}

// TestReportSetMatchesEngine: a report set returns the native route's
// numbers (the engine's rows for each queue, formatted as the writers
// format them), with QueueId and PeriodStart beside them, across a DST day.
func TestReportSetMatchesEngine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		ny, _ := time.LoadLocation("America/New_York")
		w, err := reports.ParseWindow(reports.WindowSpec{Start: "2024-10-26", Stop: "2024-11-04", Zone: ny, Now: golden.Now})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"InboundVsAnsweredChats", "ServiceLevelByDay", "WaitTimeByDay", "ChatOutcomesByDay", "AgentChatsPerDay",
			"GlobalChatsPerDay", "GlobalQueueSummary", "QueueDepthByHour", "ChatsByEntryPoint", "AgentChatsAnswered"} {
			rep, _ := reports.Lookup(name)
			set, _ := query.LookupSet(name)
			path := "/odata/" + name + "?zone=America/New_York&$filter=" + url.PathEscape("Date ge 2024-10-26 and Date le 2024-11-04")
			if set.Bucket == "" {
				path = "/odata/" + name + "?zone=America/New_York&start=2024-10-26&stop=2024-11-04"
			} else if set.Bucket == reports.GrainHour {
				path = "/odata/" + name + "?zone=America/New_York&$filter=" + url.PathEscape("PeriodStart ge 2024-10-26T04:00:00Z and PeriodStart lt 2024-11-05T05:00:00Z")
			}
			got := e.page(golden.Alice, path).Value
			var want []map[string]string
			queues := []uint32{1, 2}
			runs := [][]uint32{{1}, {2}}
			if !rep.RequiresQueue() {
				runs = [][]uint32{queues}
			}
			for _, run := range runs {
				q := reports.Query{Report: rep, Window: w, Visible: queues}
				if rep.RequiresQueue() {
					q.QueueID = run[0]
				}
				res, err := e.engine.Run(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				rows, _ := reports.Collect(res.Rows)
				for _, r := range rows {
					m := map[string]string{}
					for i, c := range rep.Columns {
						m[c.Name] = text(c, r[i])
					}
					if rep.RequiresQueue() {
						m["QueueId"] = fmt.Sprint(run[0])
					}
					want = append(want, m)
				}
			}
			if len(got) != len(want) || len(want) == 0 {
				t.Errorf("%s: %d rows, the engine %d", name, len(got), len(want))
				continue
			}
			index := func(m map[string]string) string {
				var k []string
				for _, key := range set.Key {
					if key != "PeriodStart" {
						k = append(k, m[key])
					}
				}
				k = append(k, m["Date"], m["HourStart"]) // the local labels of PeriodStart
				return strings.Join(k, "|")
			}
			byKey := map[string]map[string]string{}
			for _, m := range want {
				byKey[index(m)] = m
			}
			for _, row := range got {
				m := map[string]string{}
				for k, v := range row {
					m[k] = jsonText(v)
				}
				exp, ok := byKey[index(m)]
				if !ok {
					t.Errorf("%s: unexpected row %v", name, m)
					continue
				}
				for k, v := range exp {
					if m[k] != v {
						t.Errorf("%s %s: %s = %q, the engine says %q", name, index(m), k, m[k], v)
					}
				}
			}
		}
		// PeriodStart is the bucket's start instant: local midnight in New
		// York, 04:00Z before the fall-back and 05:00Z after it.
		rows := e.page(golden.Alice, "/odata/InboundVsAnsweredChats?zone=America/New_York&$filter="+url.PathEscape("QueueId eq 1 and Date ge 2024-11-02 and Date le 2024-11-04")).Value
		var starts []string
		for _, r := range rows {
			starts = append(starts, r["Date"].(string)+"@"+r["PeriodStart"].(string))
		}
		if want := []string{"2024-11-02@2024-11-02T04:00:00Z", "2024-11-03@2024-11-03T04:00:00Z", "2024-11-04@2024-11-04T05:00:00Z"}; !slices.Equal(starts, want) {
			t.Errorf("PeriodStart %v, want %v", starts, want)
		}
	})
}

func text(c reports.Column, v any) string {
	if v == nil {
		return "null"
	}
	if f, ok := v.(float64); ok {
		d := c.Decimals
		if c.Type == reports.Int {
			d = 0
		}
		p := 1.0
		for range d {
			p *= 10
		}
		v = float64(int64(f*p+0.5*sign(f))) / p
	}
	switch x := v.(type) {
	case time.Time:
		if c.Type == reports.Date {
			return x.Format(time.DateOnly)
		}
		return reports.FormatTime(x)
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%f", x), "0"), ".")
	}
	return fmt.Sprint(v)
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

// TestErrors: what the feed does not evaluate is a 400 or 501 with an
// OData error body, never a 200 that ignores it.
func TestErrors(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), odata.Options{})
	cases := []struct {
		path   string
		status int
	}{
		{"/odata/Sessions?$filter=" + url.PathEscape("Nope eq 1"), 400},
		{"/odata/Sessions?$filter=" + url.PathEscape("QueueId eq"), 400},
		{"/odata/Sessions?$filter=" + url.PathEscape("QueueId eq 'x'"), 400},
		{"/odata/Sessions?$filter=" + url.PathEscape("StartedAt ge 2024-01-01T00:00:00"), 400}, // no offset
		{"/odata/Sessions?$filter=" + url.PathEscape("WaitSeconds gt 30"), 501},
		{"/odata/Sessions?$filter=" + url.PathEscape("geo.distance(A,B) lt 1"), 501},
		{"/odata/Sessions?$filter=" + url.PathEscape("Tags/any(t:t eq 'x')"), 501},
		{"/odata/Sessions?$filter=" + url.PathEscape("fractionalseconds(StartedAt) eq 0"), 501},
		{"/odata/Sessions?$expand=*", 501},
		{"/odata/Sessions?$expand=Nope", 400},
		{"/odata/Sessions?$search=vpn", 501},
		{"/odata/Sessions?$format=atom", 406},
		{"/odata/$metadata?$format=json", 501},
		{"/odata/Sessions?$nonsense=1", 400},
		{"/odata/Sessions?filter=" + url.PathEscape("QueueId eq 3"), 400},
		{"/odata/Sessions?$top=-1", 400},
		{"/odata/Sessions?$top=1&$top=2", 400},
		{"/odata/Sessions?$orderby=length(Question)", 501},
		{"/odata/Sessions?$orderby=WaitSeconds", 501},
		{"/odata/Sessions?$select=Nope", 400},
		{"/odata/Sessions?$skiptoken=WzEwXQ.AAAAAAAAAAAAAAAAAAAAAA", 400},
		{"/odata/Sessions?$skiptoken=garbage", 400},
		{"/odata/Sessions(abc)", 400},
		{"/odata/NoSuchSet", 404},
		{"/odata/Sessions?zone=Mars/Olympus", 400},
		{"/odata/Sessions?$apply=" + url.PathEscape("groupby((QueueId),topcount(2,Messages))"), 501},
		{"/odata/Sessions?$apply=" + url.PathEscape("groupby((QueueId),aggregate(Messages with median as M))"), 501},
		{"/odata/Sessions?$apply=" + url.PathEscape("groupby((Nope))"), 400},
		{"/odata/GlobalQueueSummary", 400},                                                                 // a window-grain set over more than the window cap
		{"/odata/KeywordTrendByDay?$filter=" + url.PathEscape("PeriodStart ge 2020-01-01T00:00:00Z"), 400}, // not computed piecewise, over the cap
	}
	for _, c := range cases {
		a := e.get(golden.Admin, c.path)
		if a.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.path, a.status, c.status, a.body)
			continue
		}
		odataError(t, a)
	}
	// A forged token: a real token for another sort order.
	p := e.page(golden.Admin, "/odata/Sessions?$top=10", "Prefer", "odata.maxpagesize=2")
	u, _ := url.Parse(p.NextLink)
	tok := u.Query().Get("$skiptoken")
	if a := e.get(golden.Admin, "/odata/Sessions?$orderby=StartedAt&$skiptoken="+tok); a.status != 400 {
		t.Errorf("token replayed on another order: %d", a.status)
	}
	if a := e.get(golden.Admin, "/odata/Sessions?$skiptoken="+tok+"x"); a.status != 400 {
		t.Errorf("tampered token: %d", a.status)
	}
}

// TestKeysAndCustomOptions: api_key (repeated) authenticates and never
// reaches a link; unknown custom options are accepted; zone moves local
// labels, not instants.
func TestKeysAndCustomOptions(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), odata.Options{})
	k := e.key[golden.Alice]
	a := e.do(e.srv.URL+"/odata/Sessions?api_key="+k+"&$top=3&api_key="+k+"&utm_source=x;y", "Prefer", "odata.maxpagesize=2")
	p := e.decode(a, "api_key")
	if len(p.Value) != 2 || p.NextLink == "" {
		t.Fatalf("%d rows, next %q", len(p.Value), p.NextLink)
	}
	if strings.Contains(p.NextLink, "api_key") || strings.Contains(p.NextLink, k) || !strings.Contains(p.NextLink, "utm_source=x;y") || !strings.Contains(p.NextLink, "$top=1") {
		t.Errorf("nextLink %q", p.NextLink)
	}
	utc := e.page(golden.Alice, "/odata/InboundVsAnsweredChats?zone=UTC&$filter="+url.PathEscape("QueueId eq 1 and Date eq 2024-11-03")).Value
	ldn := e.page(golden.Alice, "/odata/InboundVsAnsweredChats?zone=Europe/London&$filter="+url.PathEscape("QueueId eq 1 and Date eq 2024-10-27")).Value
	if len(utc) != 1 || utc[0]["PeriodStart"] != "2024-11-03T00:00:00Z" {
		t.Errorf("UTC day: %v", utc)
	}
	// 27 October in London is the 25-hour fall-back day, starting 23:00Z on the 26th.
	if len(ldn) != 1 || ldn[0]["PeriodStart"] != "2024-10-26T23:00:00Z" {
		t.Errorf("London day: %v", ldn)
	}
	// Alice's default zone (America/New_York) applies without zone=.
	ny := e.page(golden.Alice, "/odata/InboundVsAnsweredChats?$filter="+url.PathEscape("QueueId eq 1 and Date eq 2024-11-04")).Value
	if len(ny) != 1 || ny[0]["PeriodStart"] != "2024-11-04T05:00:00Z" {
		t.Errorf("default zone: %v", ny)
	}
	var buf bytes.Buffer
	buf.WriteString(a.body)
}

// TestErrorTargets: errors of the set engine carry neutral targets
// ("filter", "apply"); the feed names the query option the client wrote.
func TestErrorTargets(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), odata.Options{})
	for _, c := range []struct {
		path, target string
		status       int
	}{
		{"/odata/Sessions?$filter=" + url.PathEscape("Nope eq 1"), "$filter", 400},
		{"/odata/Sessions?$filter=" + url.PathEscape("WaitSeconds gt 30"), "$filter", 501},
		{"/odata/Sessions?$apply=" + url.PathEscape("groupby((Nope))"), "$apply", 400},
		{"/odata/KeywordTrendByDay?$filter=" + url.PathEscape("PeriodStart ge 2020-01-01T00:00:00Z"), "$filter", 400},
		{"/odata/GlobalQueueSummary", "start", 400},
		{"/odata/InboundVsAnsweredChats?interval=PT7M", "interval", 400},
		{"/odata/InboundVsAnsweredChats?interval=P1W&interval=P1M", "interval", 400},
		{"/odata/GlobalQueueSummary?interval=P1D&start=2024-10-01&stop=2024-11-01", "interval", 400},
		{"/odata/InboundVsAnsweredChats?interval=PT15M", "$filter", 400}, // four years of quarter-hours are more rows than a set holds
		{"/odata/Sessions?$apply=" + url.PathEscape("groupby((QueueId))") + "&$orderby=Messages", "$orderby", 400},
		{"/odata/Sessions?$filter=" + url.PathEscape("QueueId eq 1") + "&$apply=" + url.PathEscape("groupby((QueueId))"), "$filter", 501},
	} {
		a := e.get(golden.Admin, c.path)
		var body struct {
			Error struct{ Target string } `json:"error"`
		}
		json.Unmarshal([]byte(a.body), &body)
		if a.status != c.status || body.Error.Target != c.target {
			t.Errorf("%s: %d target %q, want %d %q: %s", c.path, a.status, body.Error.Target, c.status, c.target, a.body)
		}
	}
}

// TestMemberNamesAreUnique: within an entity type, properties and
// navigation properties share one namespace (CSDL).
func TestMemberNamesAreUnique(t *testing.T) {
	for _, s := range query.Sets() {
		for _, n := range s.Navs() {
			if _, clash := s.Property(n.Name); clash {
				t.Errorf("%s: navigation %s has the name of a property", s.Name, n.Name)
			}
			if _, ok := query.LookupSet(n.Target); !ok {
				t.Errorf("%s.%s targets no set %s", s.Name, n.Name, n.Target)
			}
		}
	}
}

// TestIntervalOption: interval on a report set gives one row per bucket,
// PeriodStart its UTC start and Date its local day, in the entity type
// $metadata declares whatever the interval.
func TestIntervalOption(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), odata.Options{})
	path := "/odata/InboundVsAnsweredChats?zone=America/New_York&interval=P1M&$filter=" + url.PathEscape("year(PeriodStart) eq 2024 and month(PeriodStart) ge 10 and QueueId eq 1")
	rows := e.page(golden.Alice, path).Value
	if len(rows) != 2 {
		t.Fatalf("%d rows, want October and November: %v", len(rows), rows)
	}
	for i, want := range [][2]string{{"2024-10-01T04:00:00Z", "2024-10-01"}, {"2024-11-01T04:00:00Z", "2024-11-01"}} {
		if fmt.Sprint(rows[i]["PeriodStart"]) != want[0] || fmt.Sprint(rows[i]["Date"]) != want[1] {
			t.Errorf("row %d: PeriodStart %v, Date %v; want %s, %s", i, rows[i]["PeriodStart"], rows[i]["Date"], want[0], want[1])
		}
	}
	if fmt.Sprint(rows[1]["Inbound"]) != "8" {
		t.Errorf("November 2024 of queue 1: Inbound %v, want 8 (the sessions of November 3 and 4)", rows[1]["Inbound"])
	}
}

// TestIntervalOptionOnHandWrittenSets: the agent series and queue depth
// take the interval option too: a PT15M queue depth over New York's
// fall-back day is 100 rows, PeriodStart each quarter-hour's UTC start and
// HourStart its local start (the repeated 01:00 at both offsets); an
// agent series at total is one row per agent with chat time, PeriodStart
// the range's start.
func TestIntervalOptionOnHandWrittenSets(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), odata.Options{})
	rows := e.page(golden.Alice, "/odata/QueueDepthByHour?zone=America/New_York&interval=PT15M&start=2024-11-03&stop=2024-11-03&$filter="+url.PathEscape("QueueId eq 1")).Value
	if len(rows) != 100 {
		t.Fatalf("%d quarter-hours, want 100", len(rows))
	}
	for i, want := range map[int][2]string{0: {"2024-11-03T04:00:00Z", "2024-11-03T00:00:00-04:00"}, 4: {"2024-11-03T05:00:00Z", "2024-11-03T01:00:00-04:00"}, 8: {"2024-11-03T06:00:00Z", "2024-11-03T01:00:00-05:00"}} {
		if fmt.Sprint(rows[i]["PeriodStart"]) != want[0] || fmt.Sprint(rows[i]["HourStart"]) != want[1] {
			t.Errorf("row %d: PeriodStart %v, HourStart %v; want %s, %s", i, rows[i]["PeriodStart"], rows[i]["HourStart"], want[0], want[1])
		}
	}
	if fmt.Sprint(rows[10]["Arrivals"]) != "1" {
		t.Errorf("01:30 EST: Arrivals %v, want 1 (S5)", rows[10]["Arrivals"])
	}
	agents := e.page(golden.Alice, "/odata/AgentConcurrency?zone=America/New_York&interval=total&start=2024-11-03&stop=2024-11-04&$filter="+url.PathEscape("QueueId eq 1")).Value
	if len(agents) != 2 || fmt.Sprint(agents[0]["PeriodStart"]) != "2024-11-03T04:00:00Z" || fmt.Sprint(agents[0]["Date"]) != "2024-11-03" || fmt.Sprint(agents[0]["ChatSeconds"]) != "7815" {
		t.Errorf("AgentConcurrency at total: %v", agents)
	}
}
