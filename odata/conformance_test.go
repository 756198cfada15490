package odata_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
)

// conformanceRow is one row of the conformance table in docs/powerbi.md.
type conformanceRow struct {
	item, method, path string
	headers            [][2]string
	status             int
	shape              string
}

var (
	rowRE     = regexp.MustCompile("^\\| ([MI][0-9.–M]+) \\|.*\\| `([A-Z]+) ([^` \\[]+)( \\[[^`]*\\])?` \\| ([0-9]{3}) ([a-z]+) \\|$")
	itemRE    = regexp.MustCompile(`^\| [MI][0-9]`)
	headersRE = regexp.MustCompile(`\[([^:\]]+): ([^\]]*)\]`)
)

func conformanceTable(t *testing.T) []conformanceRow {
	t.Helper()
	doc, err := os.ReadFile("../docs/powerbi.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## OData conformance\n")
	if !ok {
		t.Fatal("docs/powerbi.md has no OData conformance section")
	}
	var rows []conformanceRow
	for _, line := range strings.Split(section, "\n") {
		if !itemRE.MatchString(line) {
			continue
		}
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("cannot read conformance row: %s", line)
		}
		r := conformanceRow{item: m[1], method: m[2], path: m[3], shape: m[6]}
		r.status, _ = strconv.Atoi(m[5])
		for _, h := range headersRE.FindAllStringSubmatch(m[4], -1) {
			r.headers = append(r.headers, [2]string{h[1], h[2]})
		}
		rows = append(rows, r)
	}
	return rows
}

// TestConformanceTable sends the request of every row of the conformance
// table and checks the status and the shape it names; the table must list
// every Minimal (M1–M13, M14–M23 together) and Intermediate (I1–I17) item.
func TestConformanceTable(t *testing.T) {
	rows := conformanceTable(t)
	var items []string
	for _, r := range rows {
		items = append(items, r.item)
	}
	want := "M1 M2 M3 M4 M5.1 M5.2 M6 M7 M8 M9 M10 M11 M12 M13 M14–M23 I1 I2 I3 I4 I5 I6 I7 I7.1 I7.2 I7.3 I7.4 I7.5 I8 I9 I10 I11 I12 I13 I14 I15 I16 I17"
	if got := strings.Join(items, " "); got != want {
		t.Fatalf("conformance items:\n%s\nwant\n%s", got, want)
	}
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		for _, r := range rows {
			req, err := http.NewRequest(r.method, e.srv.URL+r.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+e.key[golden.Admin])
			for _, h := range r.headers {
				v := strings.ReplaceAll(h[1], "{basic}", base64.StdEncoding.EncodeToString([]byte("powerbi:"+e.key[golden.Admin])))
				req.Header.Set(h[0], v)
			}
			resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body strings.Builder
			buf := make([]byte, 32<<10)
			for {
				n, err := resp.Body.Read(buf)
				body.WriteString(string(buf[:n]))
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			a := answer{resp.StatusCode, resp.Header, body.String()}
			if a.status != r.status {
				t.Errorf("%s %s %s: %d, want %d: %s", r.item, r.method, r.path, a.status, r.status, a.body)
				continue
			}
			if got := a.header.Values("OData-Version"); len(got) != 1 {
				t.Errorf("%s: OData-Version %q", r.item, got)
			}
			var m map[string]any
			jsonErr := json.Unmarshal([]byte(a.body), &m)
			ct := a.header.Get("Content-Type")
			ok := true
			switch r.shape {
			case "error":
				odataError(t, a)
			case "service":
				v, _ := m["value"].([]any)
				ok = jsonErr == nil && len(v) > 0 && strings.HasPrefix(ct, "application/json")
			case "collection", "nextlink":
				_, isList := m["value"].([]any)
				ok = jsonErr == nil && isList && strings.HasPrefix(ct, "application/json")
				if r.shape == "nextlink" {
					ok = ok && m["@odata.nextLink"] != nil
				}
			case "entity":
				ok = jsonErr == nil && m["value"] == nil && strings.HasSuffix(m["@odata.context"].(string), "/$entity")
			case "text":
				ok = ct == odata.CountType && a.body != ""
			case "xml":
				ok = ct == odata.MetadataType && strings.HasPrefix(a.body, "<?xml")
			default:
				t.Fatalf("%s: unknown shape %q", r.item, r.shape)
			}
			if !ok {
				t.Errorf("%s %s: not a %s answer (%s): %.300s", r.item, r.path, r.shape, ct, a.body)
			}
		}
	})
}
