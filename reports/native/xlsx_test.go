package native_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/export/xlsxtest"
	"github.com/chime-reports/chime-reports/reports/native"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// server is the native routes behind the key middleware, over the golden
// data set, with a key for admin and alice (as cmd/chime-reports wires them).
type server struct {
	t   *testing.T
	url string
	key map[uint]string
}

func newServer(t *testing.T, b dbtest.Backend) *server {
	t.Helper()
	ctx := context.Background()
	if err := golden.Load(ctx, b.DB); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return golden.Now }
	ks := keys.New(b.DB, clock, nil)
	s := &server{t: t, key: map[uint]string{}}
	for _, u := range []uint{golden.Admin, golden.Alice} {
		k, err := ks.Generate(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		s.key[u] = k
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// The answer cache on, as in serve.
	native.New(reports.NewEngine(b.DB, clock).WithAnswers(reports.NewAnswerCache(16<<20)), nil, native.Options{}).Register(r.Group("/", ks.Authenticate()))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request as user with extra header pairs.
func (s *server) do(method string, user uint, path string, hdr ...string) answer {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.key[user])
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func (s *server) get(user uint, path string, hdr ...string) answer {
	s.t.Helper()
	return s.do(http.MethodGet, user, path, hdr...)
}

func openBook(t *testing.T, b []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a workbook (%v): %.200q", err, b)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func zipPart(t *testing.T, b []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	return string(data)
}

// dataSheets lists a workbook's sheets but About.
func dataSheets(f *excelize.File) []string {
	var out []string
	for _, s := range f.GetSheetList() {
		if s != export.AboutSheet {
			out = append(out, s)
		}
	}
	return out
}

// TestXLSXMatchesCSV downloads every report of the registry as CSV and as
// XLSX for the same request, opens the workbooks with LibreOffice and
// compares every cell with the CSV (xlsxtest's rules). The window covers
// New York's fall-back day (25 hours, 01:30 twice).
func TestXLSXMatchesCSV(t *testing.T) {
	xlsxtest.Soffice(t)
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		s := newServer(t, b)
		type download struct {
			rep    *reports.Report
			csv    []byte
			sheets []string
		}
		downloads := map[string]download{}
		books := map[string][]byte{}
		for _, rep := range reports.All() {
			path := "/Chime/Report/" + rep.Name + "?start=2024-10-26&stop=2024-11-04&zone=America/New_York"
			if rep.RequiresQueue() {
				path += "&queueId=1"
			}
			c := s.get(golden.Admin, path+"&format=csv")
			x := s.get(golden.Admin, path+"&format=xlsx")
			if c.status != 200 || x.status != 200 {
				t.Errorf("%s: CSV %d, XLSX %d: %.300s", rep.Name, c.status, x.status, x.body)
				continue
			}
			if got := x.header.Get("Content-Type"); got != xlsxType {
				t.Errorf("%s: Content-Type %q", rep.Name, got)
			}
			f := openBook(t, x.body)
			downloads[rep.Name] = download{rep, c.body, dataSheets(f)}
			books[rep.Name] = x.body
		}
		converted := xlsxtest.ConvertAll(t, books)
		for _, name := range slices.Sorted(maps.Keys(downloads)) {
			d := downloads[name]
			t.Run(name, func(t *testing.T) {
				var sheets [][][]string
				for _, sh := range d.sheets {
					sheets = append(sheets, converted[name][sh])
				}
				xlsxtest.CompareWithCSV(t, d.rep.Columns, d.csv, sheets)
			})
		}
	})
}

func TestXLSXDownload(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t))
	const path = "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-11-03&stop=2024-11-04&zone=America/New_York"
	const disposition = `attachment; filename="InboundVsAnsweredChats_queue1_2024-11-03_2024-11-04.xlsx"`
	cases := []struct {
		name   string
		path   string
		hdr    []string
		status int
		ctype  string
	}{
		{"format=xlsx", path + "&format=xlsx", nil, 200, xlsxType},
		{"format=XLSX", path + "&format=XLSX", nil, 200, xlsxType},
		{"Accept", path, []string{"Accept", xlsxType}, 200, xlsxType},
		{"Accept with weights", path, []string{"Accept", "application/json;q=0.5, " + xlsxType}, 200, xlsxType},
		{"Accept prefers JSON", path, []string{"Accept", "application/json, " + xlsxType + ";q=0.9"}, 200, "application/json; charset=utf-8"},
		{"csv=true contradicts format=xlsx", path + "&csv=true&format=xlsx", nil, 400, "application/json; charset=utf-8"},
		{"session details are not workbooks", "/Chime/Session/SessionDetails/1?format=xlsx", nil, 406, "application/json; charset=utf-8"},
		{"session details by Accept", "/Chime/Session/SessionDetails/1", []string{"Accept", xlsxType}, 406, "application/json; charset=utf-8"},
		{"unknown format lists xlsx", path + "&format=xls", nil, 400, "application/json; charset=utf-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := s.get(golden.Admin, c.path, c.hdr...)
			if a.status != c.status || a.header.Get("Content-Type") != c.ctype {
				t.Fatalf("%d %q: %.300s", a.status, a.header.Get("Content-Type"), a.body)
			}
			if c.ctype == xlsxType {
				if got := a.header.Get("Content-Disposition"); got != disposition {
					t.Errorf("Content-Disposition %q", got)
				}
				openBook(t, a.body)
			}
		})
	}
	if a := s.get(golden.Admin, path+"&format=xls"); !strings.Contains(string(a.body), "json, csv or xlsx") {
		t.Errorf("the 400 does not name the formats: %s", a.body)
	}

	// HEAD: the same headers, no body, no workbook built.
	h := s.do(http.MethodHead, golden.Admin, path+"&format=xlsx")
	if h.status != 200 || len(h.body) != 0 || h.header.Get("Content-Type") != xlsxType || h.header.Get("Content-Disposition") != disposition {
		t.Errorf("HEAD: %d %v %q", h.status, h.header, h.body)
	}
	// Global reports have no queue in the name.
	g := s.get(golden.Admin, "/Chime/Report/GlobalQueueSummary?start=2024-10-01&stop=2024-10-31&format=xlsx")
	if got := g.header.Get("Content-Disposition"); got != `attachment; filename="GlobalQueueSummary_2024-10-01_2024-10-31.xlsx"` {
		t.Errorf("global: %d %q", g.status, got)
	}
	// CSV keeps its name.
	c := s.get(golden.Admin, path+"&format=csv")
	if got := c.header.Get("Content-Disposition"); got != `attachment; filename="InboundVsAnsweredChats_queue1_2024-11-03_2024-11-04.csv"` {
		t.Errorf("CSV: %q", got)
	}
}

// TestXLSXWorkbook reads a downloaded workbook back: typed cells, the About
// sheet (with the caller) and the native chart.
func TestXLSXWorkbook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		s := newServer(t, b)
		a := s.get(golden.Alice, "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-11-03&stop=2024-11-04&zone=America/New_York&format=xlsx")
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		f := openBook(t, a.body)
		const sh = "InboundVsAnsweredChats"
		if got := f.GetSheetList(); strings.Join(got, ",") != sh+",About" {
			t.Fatalf("sheets %v", got)
		}
		rows, err := f.GetRows(sh, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		// Hand-worked in reports/golden_test.go: 3 November (NY) has 6 inbound,
		// 3 answered (S5, S9, S7), 50 %; 4 November has S12 and S13.
		want := [][]string{
			{"Date", "Inbound", "Answered", "NotAnswered", "AnsweredPct"},
			{"45599", "6", "3", "3", "0.5"},
			{"45600", "2", "1", "1", "0.5"},
		}
		if fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Errorf("cells %v, want %v", rows, want)
		}
		if v, _ := f.GetCellValue(sh, "A2"); v != "2024-11-03" {
			t.Errorf("A2 shows %q", v)
		}
		if v, _ := f.GetCellValue(sh, "E2"); v != "50.0%" {
			t.Errorf("E2 shows %q", v)
		}

		about, err := f.GetRows(export.AboutSheet)
		if err != nil {
			t.Fatal(err)
		}
		kv := map[string]string{}
		for _, r := range about {
			if len(r) >= 2 {
				kv[r[0]] = r[1]
			}
		}
		for k, v := range map[string]string{
			"Report": "InboundVsAnsweredChats", "Title": "Inbound vs Answered Chats", "Queue": "1: IT Help Desk",
			"Zone": "America/New_York", "Window start (inclusive)": "2024-11-03T00:00:00-04:00",
			"Window stop (inclusive)": "2024-11-04T23:59:59.999-05:00", "Generated by": "Alice Manager (alice)",
			"Generated at": "2024-11-04T07:00:00-05:00 (2024-11-04T12:00:00Z)", "Cut cells": "none",
		} {
			if kv[k] != v {
				t.Errorf("About %q = %q, want %q", k, kv[k], v)
			}
		}
		for _, c := range []string{"Inbound", "AnsweredPct"} {
			found := false
			for _, r := range about {
				if len(r) > 1 && r[0] == c && strings.HasPrefix(r[1], "Sessions that entered") || len(r) > 1 && r[0] == c && strings.HasPrefix(r[1], "Answered / Inbound") {
					found = true
				}
			}
			if !found {
				t.Errorf("About does not describe column %s", c)
			}
		}

		chart := zipPart(t, a.body, "xl/charts/chart1.xml")
		bars, _, _ := strings.Cut(chart, "</barChart>")
		for _, ref := range []string{"$B$1", "$C$1", "$D$1"} {
			if !strings.Contains(bars, "<f>"+sh+"!"+ref+"</f>") {
				t.Errorf("no column series for %s", ref)
			}
		}
		if line := chart[strings.Index(chart, "<lineChart>"):]; !strings.Contains(line, "<f>"+sh+"!$E$2:$E$3</f>") {
			t.Error("AnsweredPct is not the line")
		}
		if strings.Count(chart, "<valAx>") != 2 {
			t.Error("no secondary axis")
		}
	})
}

// TestXLSXGuestFormulasInert: S2's question is =HYPERLINK("http://x","y")
// and its guest is called "=1+1"; both come back as text in CSV and XLSX,
// and LibreOffice shows the text, never a link or a sum.
func TestXLSXGuestFormulasInert(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		s := newServer(t, b)
		path := "/Chime/Report/QueueChatSessionLog?queueId=1&start=2024-10-27&stop=2024-10-27&zone=UTC"
		x := s.get(golden.Admin, path+"&format=xlsx")
		c := s.get(golden.Admin, path+"&format=csv")
		if x.status != 200 || c.status != 200 {
			t.Fatalf("%d %d", x.status, c.status)
		}
		const question, guest = `'=HYPERLINK("http://x","y")`, "'=1+1"
		if !strings.Contains(string(c.body), `"'=HYPERLINK(""http://x"",""y"")"`) || !strings.Contains(string(c.body), ","+guest+",") {
			t.Errorf("CSV: %s", c.body)
		}
		f := openBook(t, x.body)
		const sh = "QueueChatSessionLog"
		rows, _ := f.GetRows(sh)
		var row []string
		for _, r := range rows {
			if r[0] == "2" {
				row = r
			}
		}
		if len(row) < 10 || row[7] != guest || row[9] != question {
			t.Fatalf("session 2: %q", row)
		}
		for _, ref := range []string{"H3", "J3"} {
			if fx, _ := f.GetCellFormula(sh, ref); fx != "" {
				t.Errorf("%s holds a formula %q", ref, fx)
			}
		}
		if xml := zipPart(t, x.body, "xl/worksheets/sheet1.xml"); strings.Contains(xml, "<f>") || strings.Contains(xml, "HYPERLINK") && !strings.Contains(xml, "t=\"inlineStr\"") {
			t.Error("the sheet holds a formula")
		}
		lo := xlsxtest.ConvertAll(t, map[string][]byte{"log": x.body})["log"][sh]
		for _, r := range lo {
			if r[0] == "2" && (r[7] != guest || r[9] != question) {
				t.Errorf("LibreOffice shows %q and %q", r[7], r[9])
			}
		}
	})
}

func TestXLSXSessionLogWidths(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t))
	x := s.get(golden.Admin, "/Chime/Report/GlobalChatSessionLog?start=2024-10-01&stop=2024-11-04&zone=Europe/London&format=xlsx")
	f := openBook(t, x.body)
	const sh = "GlobalChatSessionLog"
	for col, min := range map[string]float64{"B": 19, "D": 12, "J": 26} { // datetime, queue name, question
		if w, _ := f.GetColWidth(sh, col); w < min {
			t.Errorf("column %s is %v wide, want at least %v", col, w, min)
		}
	}
	// As many rows as the CSV of the same request.
	c := s.get(golden.Admin, "/Chime/Report/GlobalChatSessionLog?start=2024-10-01&stop=2024-11-04&zone=Europe/London&format=csv")
	rows, _ := f.GetRows(sh)
	if want := strings.Count(string(c.body), "\r\n"); len(rows) != want || len(rows) < 17 {
		t.Errorf("%d rows in the workbook, %d in the CSV", len(rows), want)
	}
}
