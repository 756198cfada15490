package odata_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/keys/keystest"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/query"
)

// FuzzQuery sends any raw query string to an entity set, its $count, the
// service document and $metadata of the feed over the golden data (SQLite),
// as an admin or as Alice. The answer is never a 5xx other than 501 (an
// OData option the feed does not evaluate), and every error is the OData
// error shape with exactly one OData-Version header.
func FuzzQuery(f *testing.F) {
	b := dbtest.SQLite(f)
	ctx := context.Background()
	if err := golden.Load(ctx, b.DB); err != nil {
		f.Fatal(err)
	}
	clock := func() time.Time { return golden.Now }
	callers := keystest.Principals(f, b.DB, clock, golden.Admin, golden.Alice)
	// No recovery middleware: a panic is a crash the fuzzer reports.
	feed := odata.New(reports.NewEngine(b.DB, clock), slog.New(slog.DiscardHandler), odata.Options{PageSize: 50, TokenKey: []byte("fuzz")})
	var paths []string
	for _, s := range query.Sets() {
		paths = append(paths, "/odata/"+s.Name)
	}
	paths = append(paths, "/odata/Sessions/$count", "/odata/InboundVsAnsweredChats/$count", "/odata/", "/odata/$metadata", "/odata/$batch",
		"/odata/Sessions(14)", "/odata/Sessions(14)/Question/$value", "/odata/InboundVsAnsweredChats(QueueId=1,PeriodStart=2024-11-03T00:00:00Z)",
		"/odata/Sessions(14)/Transcript", "/odata/Queues(1)/Sessions/$count", "/odata/Sessions(14)/Queue/QueueName/$value")
	index := func(name string) uint8 {
		for i, p := range paths {
			if p == "/odata/"+name {
				return uint8(i)
			}
		}
		f.Fatalf("no path %s", name)
		return 0
	}

	for _, c := range []struct{ path, query string }{
		{"Sessions", "$filter=StartedAt%20ge%202024-11-03T00:00:00Z%20and%20StartedAt%20lt%202024-11-04T00:00:00Z&$count=true&$top=3"},
		{"Sessions", "$apply=filter(StartedAt%20ge%202024-10-01T00:00:00Z)/groupby((QueueId),aggregate(Messages%20with%20sum%20as%20Messages,$count%20as%20Sessions,Rating%20with%20average%20as%20AvgRating))"},
		{"Sessions", "$select=SessionId,StartedAt&$orderby=StartedAt%20desc&$skip=2&$top=5"},
		{"Sessions", "$filter=QueueId%20in%20(1,2,3)%20and%20contains(tolower(Question),'vpn')&api_key=x&api_key=y"},
		{"Sessions", "$skiptoken=W1sxXV0.AAAA&$orderby=SessionId"},
		{"Sessions", "$filter=StartedAt%20ge%202024-11-03T00:00:00+01:00"},
		{"Sessions", "$top=1e309&$skip=99999999999999999999"},
		{"Sessions", "$filter=" + strings.Repeat("(", 60) + "true" + strings.Repeat(")", 60)},
		{"Sessions", "$filter=1%27%20OR%201=1--&$orderby=SessionId;DROP%20TABLE%20chat_sessions"},
		{"Sessions", "$expand=Queue&$search=vpn"},
		{"Sessions", "$format=csv&$top=2"},
		{"Sessions", "$format=xlsx&$top=2"},
		{"Sessions", "%zz=1&$filter=%"},
		{"Sessions/$count", "$filter=Rating%20eq%20null"},
		{"InboundVsAnsweredChats", "$filter=QueueId%20eq%201%20and%20Date%20ge%202024-11-01%20and%20Date%20le%202024-11-04&zone=America/New_York"},
		{"InboundVsAnsweredChats", "start=2024-11-01&stop=2024-11-04T23:59:59.999-05:00&zone=Asia/Kolkata&$orderby=Date%20desc"},
		{"InboundVsAnsweredChats", "$filter=PeriodStart%20ge%202020-01-01T00:00:00Z&start=2023-02-29&zone=America/../../etc"},
		{"InboundVsAnsweredChats", "$apply=groupby((QueueId),aggregate(Inbound%20with%20sum%20as%20Inbound))&$orderby=Inbound%20desc"},
		{"InboundVsAnsweredChats/$count", "$filter=Date%20gt%201970-01-01"},
		{"Queues", "$filter=QueueId%20eq%2099999999999999999999"},
		{"Agents", "$orderby=AgentName%20desc&$select=*"},
		{"", "$format=xml"},
		{"$metadata", "$format=json"},
		{"Sessions(14)", "$select=SessionId,Question&@k=1"},
		{"Sessions", "$expand=Transcript($filter=SenderType%20eq%20'agent';$orderby=Seq%20desc;$top=2),Queue,FirstAgent&$filter=Transcript/any(m:m/Seq%20gt%201)%20and%20Queue/QueueName%20ne%20'x'"},
		{"Sessions", "$deltatoken=AQIDAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA&$filter=QueueId%20eq%201"},
		{"Sessions(14)/Question/$value", "$format=json"},
		{"InboundVsAnsweredChats(QueueId=1,PeriodStart=2024-11-03T00:00:00Z)", "zone=UTC&$select=Inbound"},
		{"Sessions(14)/Transcript", "$filter=SenderType%20ne%20'system'&$orderby=Seq%20desc&$top=3&$count=true&$expand=Session"},
		{"Queues(1)/Sessions/$count", "$filter=Transcript/any()&start=2024-11-01"},
		{"Sessions(14)/Queue/QueueName/$value", "@x=1"},
	} {
		f.Add(index(c.path), c.query, "")
		f.Add(index(c.path)+128, c.query, "odata.maxpagesize=2")
	}
	f.Fuzz(func(t *testing.T, which uint8, rawQuery, prefer string) {
		r := httptest.NewRequest(http.MethodGet, "/odata/", nil)
		r.URL.Path = paths[int(which%128)%len(paths)]
		r.URL.RawQuery = rawQuery
		if prefer != "" {
			r.Header.Set("Prefer", prefer)
		}
		r = r.WithContext(keys.WithPrincipal(r.Context(), callers[int(which/128)]))
		w := httptest.NewRecorder()
		feed.ServeHTTP(w, r)
		if w.Code >= 500 && w.Code != http.StatusNotImplemented {
			t.Fatalf("%s?%s: status %d: %s", r.URL.Path, rawQuery, w.Code, w.Body.String())
		}
		//lint:ignore SA1008 the feed writes OData's own spelling, not Go's canonical "Odata-Version"
		if got := w.Header()["OData-Version"]; len(got) != 1 || got[0] != "4.0" {
			t.Fatalf("OData-Version %q", got)
		}
		if w.Code < 400 {
			return
		}
		var body struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
			t.Fatalf("%s?%s: status %d, not the OData error shape (%v): %s", r.URL.Path, rawQuery, w.Code, err, w.Body.String())
		}
	})
}
