package export_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/reports/export"
)

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	n, err := export.WriteCSV(&buf, result(typed, typedRows(), nil), export.CSVOptions{BOM: true})
	if err != nil || n != 6 {
		t.Fatalf("rows %d, err %v", n, err)
	}
	want := "\uFEFF" + strings.Join([]string{
		"Day,Inbound,WaitSeconds,AnsweredPct,AvgRating,Note,At",
		"2024-11-01,6,20,50,4.33,Outlook password reset,2024-11-01T00:30:00-04:00",
		"2024-11-02,0,,,,,",
		`2024-11-03,1234567,90.1,33.3,3.01,"'=HYPERLINK(""http://x"",""y"")",2024-11-03T01:30:00-04:00`,
		"2024-11-03,-2,0,0,,'=1+1,2024-11-03T01:30:00-05:00",
		"2024-11-04,7,5400,66.7,5,-12.5,2024-11-04T23:59:59.999-05:00",
		// encoding/csv ends lines inside quoted cells with CRLF too.
		"2024-11-05,1,,12.3,1,\"line one\r\nline two, \"\"quoted\"\"\",2024-11-05T00:00:00.250-05:00",
	}, "\r\n") + "\r\n"
	if got := buf.String(); got != want {
		t.Errorf("CSV:\n%q\nwant:\n%q", got, want)
	}
}

func TestWriteCSVNoBOM(t *testing.T) {
	var buf bytes.Buffer
	rows := [][]any{{int64(1), nil, "x", math.NaN()}}
	if _, err := export.WriteCSV(&buf, result(logReport, rows, nil), export.CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "SessionId,Started,Question,WaitSeconds\r\n1,,x,\r\n" {
		t.Errorf("CSV %q", got)
	}
}
