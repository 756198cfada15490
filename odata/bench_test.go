package odata_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
	"github.com/chime-reports/chime-reports/reports"
)

// BenchmarkSessionsPaging pages through every row of the Sessions set of a
// large MariaDB database, following @odata.nextLink as Power Query does,
// and reports rows/s and the process's peak RSS. It needs a database
// filled beforehand (docs/benchmarks.md):
//
//	CHIME_BENCH_MYSQL_DSN='root@tcp(127.0.0.1:3306)/chime_bench' \
//	  go test ./odata -run '^$' -bench SessionsPaging -benchtime 1x
func BenchmarkSessionsPaging(b *testing.B) {
	raw := os.Getenv("CHIME_BENCH_MYSQL_DSN")
	if raw == "" {
		b.Skip("CHIME_BENCH_MYSQL_DSN not set")
	}
	db := dbtest.Bench(b, raw)
	ks := keys.New(db, nil, nil)
	key := adminKey(b, ks)
	srv := httptest.NewServer(handler(ks, reports.NewEngine(db, nil), odata.Options{}))
	defer srv.Close()
	filter := os.Getenv("CHIME_BENCH_FILTER") // e.g. StartedAt ge 2026-01-01T00:00:00Z
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		next := srv.URL + "/odata/Sessions"
		if filter != "" {
			next += "?$filter=" + url.QueryEscape(filter)
		}
		rows, pages := 0, 0
		for next != "" {
			req, _ := http.NewRequest(http.MethodGet, next, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Accept", "application/json;odata.metadata=minimal")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var page struct {
				Value    []json.RawMessage `json:"value"`
				NextLink string            `json:"@odata.nextLink"`
			}
			if err := json.NewDecoder(bufio.NewReaderSize(resp.Body, 1<<16)).Decode(&page); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			rows += len(page.Value)
			pages++
			next = page.NextLink
		}
		secs := time.Since(start).Seconds()
		b.ReportMetric(float64(rows), "rows")
		b.ReportMetric(float64(rows)/secs, "rows/s")
		b.ReportMetric(float64(pages), "pages")
	}
	b.ReportMetric(peakRSSMiB(), "peakRSS-MiB")
}

// peakRSSMiB reads the process's peak resident set (VmHWM) on Linux.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			for _, f := range strings.Fields(line)[1:2] {
				for _, c := range f {
					kb = kb*10 + float64(c-'0')
				}
			}
			return kb / 1024
		}
	}
	return 0
}

// adminKey mints an API key for the fixtures' admin user (every queue) of
// a benchmark database, replacing the user's previous key.
func adminKey(b *testing.B, ks *keys.Service) string {
	key, err := ks.GenerateFor(context.Background(), "admin")
	if err != nil {
		b.Fatal(err)
	}
	return key
}
