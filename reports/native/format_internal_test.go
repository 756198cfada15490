package native

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/export"
)

func TestNegotiate(t *testing.T) {
	all := []format{formatJSON, formatCSV, formatXLSX}
	cases := []struct {
		name    string
		query   params
		accept  string
		offered []format
		want    format
		status  int // 0: no error
	}{
		{"default", params{}, "", all, formatJSON, 0},
		{"format=xlsx", params{"format": "xlsx"}, "", all, formatXLSX, 0},
		{"format=csv", params{"format": "CSV"}, "", all, formatCSV, 0},
		{"csv=true", params{"csv": "true"}, "", all, formatCSV, 0},
		{"csv=true and format=xlsx", params{"csv": "true", "format": "xlsx"}, "", all, 0, 400},
		{"format wins over Accept", params{"format": "xlsx"}, "text/csv", all, formatXLSX, 0},
		{"Accept xlsx", params{}, export.XLSXMediaType, all, formatXLSX, 0},
		{"Accept xlsx over */*", params{}, "*/*;q=0.1, " + export.XLSXMediaType, all, formatXLSX, 0},
		{"Accept text/*", params{}, "text/*", all, formatCSV, 0},
		{"Accept image/png", params{}, "image/png", all, 0, 406},
		{"xlsx not offered", params{"format": "xlsx"}, "", nil, 0, 406},
		{"Accept xlsx not offered", params{}, export.XLSXMediaType, nil, 0, 406},
		{"Accept xlsx or JSON, xlsx not offered", params{}, export.XLSXMediaType + ", application/json;q=0.1", nil, formatJSON, 0},
		{"unknown format", params{"format": "ods"}, "", all, 0, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := negotiate(c.query, c.accept, c.offered...)
			status := 0
			if err != nil {
				status = apierror.From(err).Status()
			}
			if status != c.status || (err == nil && got != c.want) {
				t.Errorf("got %v (%v), want %v (status %d)", got, err, c.want, c.status)
			}
		})
	}
}

func TestAttachment(t *testing.T) {
	cases := map[string]string{
		"InboundVsAnsweredChats_queue1_2020-11-01_2020-11-30.xlsx": `attachment; filename="InboundVsAnsweredChats_queue1_2020-11-01_2020-11-30.xlsx"`,
		`Réponses "file".csv`: `attachment; filename="R_ponses _file_.csv"; filename*=UTF-8''R%C3%A9ponses%20%22file%22.csv`,
	}
	for in, want := range cases {
		if got := attachment(in); got != want {
			t.Errorf("attachment(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGeneratedBy(t *testing.T) {
	for _, c := range []struct {
		p    *keys.Principal
		want string
	}{
		{&keys.Principal{DisplayName: "Alice Manager", Login: "alice"}, "Alice Manager (alice)"},
		{&keys.Principal{Login: "alice"}, "alice"},
		{&keys.Principal{DisplayName: "alice", Login: "alice"}, "alice"},
		{nil, ""},
	} {
		if got := c.p.Name(); got != c.want {
			t.Errorf("Name(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

// TestXLSXExportCap: when every export slot is taken, a workbook request is
// a 503 in the error shape with Retry-After, before any query runs; CSV,
// JSON and HEAD are not capped; a freed slot admits the next workbook.
func TestXLSXExportCap(t *testing.T) {
	b := dbtest.SQLite(t)
	ctx := context.Background()
	if err := golden.Load(ctx, b.DB); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return golden.Now }
	ks := keys.New(b.DB, clock, nil)
	key, err := ks.Generate(ctx, golden.Admin)
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	xlsxExports := export.NewLimiter(export.DefaultMaxXLSX)
	New(reports.NewEngine(b.DB, clock), nil, Options{XLSX: xlsxExports}).Register(r.Group("/", ks.Authenticate()))
	srv := httptest.NewServer(r)
	defer srv.Close()
	get := func(method, query string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+"/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-11-03&stop=2024-11-04"+query, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		// Read the whole answer: the handler has returned once it is complete.
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp
	}

	var held []func()
	for range xlsxExports.Cap() {
		release, ok := xlsxExports.TryAcquire()
		if !ok {
			t.Fatal("a slot is already taken")
		}
		held = append(held, release)
	}
	defer func() {
		for _, release := range held {
			release()
		}
	}()
	resp := get(http.MethodGet, "&format=xlsx")
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" || body.Error.Code != "ServiceUnavailable" || resp.Header.Get("Content-Disposition") != "" {
		t.Errorf("full cap: %d Retry-After %q %+v", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	for _, q := range []string{"&format=csv", "", "&format=xlsx&HEAD"} {
		method := http.MethodGet
		if q == "&format=xlsx&HEAD" {
			method, q = http.MethodHead, "&format=xlsx"
		}
		if resp := get(method, q); resp.StatusCode != 200 {
			t.Errorf("%s %q with the cap full: %d", method, q, resp.StatusCode)
		}
	}
	held[0]()
	held = held[1:]
	if resp := get(http.MethodGet, "&format=xlsx"); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != export.XLSXMediaType {
		t.Errorf("after a release: %d", resp.StatusCode)
	}
	if n := xlsxExports.InUse(); n != len(held) {
		t.Errorf("%d slots in use after the export, want %d", n, len(held))
	}
}
