package odata_test

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
	"github.com/chime-reports/chime-reports/reports/export"
)

// $format=csv|xlsx on an entity set downloads every row the query selects,
// through the same writers as the native routes.
func TestDownloads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{PageSize: 2})
		filter := url.QueryEscape("QueueId eq 1 and Date ge 2024-11-03 and Date le 2024-11-04")
		path := "/odata/InboundVsAnsweredChats?zone=America/New_York&$select=Date,Inbound,Answered,AnsweredPct&$filter=" + filter

		// The golden New York Nov 3 and 4 (see reports/golden_test.go): 6/3
		// and 2/1. Not paged, although the page size is 2.
		csv := e.get(golden.Alice, path+"&$format=csv")
		if csv.status != 200 || csv.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			csv.header.Get("Content-Disposition") != `attachment; filename="InboundVsAnsweredChats_2024-11-03_2024-11-04.csv"` {
			t.Fatalf("csv: %d %v %s", csv.status, csv.header, csv.body)
		}
		if want := "Date,Inbound,Answered,AnsweredPct\r\n2024-11-03,6,3,50\r\n2024-11-04,2,1,50\r\n"; csv.body != want {
			t.Errorf("csv body:\n%q\nwant\n%q", csv.body, want)
		}

		x := e.get(golden.Alice, path+"&$format=xlsx")
		if x.status != 200 || x.header.Get("Content-Type") != export.XLSXMediaType {
			t.Fatalf("xlsx: %d %v", x.status, x.header)
		}
		f, err := excelize.OpenReader(bytes.NewReader([]byte(x.body)))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.GetRows(f.GetSheetName(0))
		if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != "Date,Inbound,Answered,AnsweredPct" || rows[1][1] != "6" {
			t.Errorf("workbook rows (%v): %v", err, rows)
		}

		// Sessions: every row of the filter, and never queue 3 for alice.
		all := e.get(golden.Alice, "/odata/Sessions?$select=SessionId,QueueId&$orderby=SessionId&$format=csv")
		lines := strings.Split(strings.TrimSpace(all.body), "\r\n")
		count := e.get(golden.Alice, "/odata/Sessions/$count")
		if all.status != 200 || lines[0] != "SessionId,QueueId" || count.body != itoa(len(lines)-1) {
			t.Errorf("sessions: %d, %d lines, $count %s", all.status, len(lines)-1, count.body)
		}
		for _, l := range lines[1:] {
			if strings.HasSuffix(l, ",3") {
				t.Errorf("alice downloads a queue-3 session: %s", l)
			}
		}
		if a := e.get(golden.Alice, "/odata/Sessions?$format=pdf"); a.status != 406 {
			t.Errorf("$format=pdf: %d", a.status)
		}
		if a := e.get(golden.Alice, "/odata/Sessions?$format=csv&$apply=groupby((QueueId))"); a.status != 501 || a.header.Get("Content-Disposition") != "" {
			t.Errorf("$format with $apply: %d %v", a.status, a.header)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
