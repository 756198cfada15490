package odata_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
	"github.com/chime-reports/chime-reports/reports"
)

// BenchmarkODataSpeed measures the five requests of docs/benchmarks.md
// ("OData: aggregation and counting") against a database filled
// beforehand with `chime-reports fixtures load` (the same data set on
// both back ends), through the key middleware and the feed, in process:
//
//	CHIME_BENCH_ODATA_DB=sqlite:os.db go test ./odata -run '^$' -bench ODataSpeed -benchtime 10x
//
// CHIME_BENCH_ODATA_DB takes any DSN chime-reports accepts (a MySQL DSN
// for MariaDB). The month filtered is CHIME_BENCH_MONTH (default
// 2025-06). Sub-benchmarks report ms per request (ns/op), rows/s for the
// full read and req/s for 16 clients paging one month, and each the
// process's CPU time per operation (cpu-ms/op: the feed and this client),
// which moves less than wall time with a shared machine's load.
func BenchmarkODataSpeed(b *testing.B) {
	raw := os.Getenv("CHIME_BENCH_ODATA_DB")
	if raw == "" {
		b.Skip("CHIME_BENCH_ODATA_DB not set")
	}
	month := os.Getenv("CHIME_BENCH_MONTH")
	if month == "" {
		month = "2025-06"
	}
	m0, err := time.Parse("2006-01", month)
	if err != nil {
		b.Fatal(err)
	}
	from, to := m0.Format(time.RFC3339), m0.AddDate(0, 1, 0).Format(time.RFC3339)
	ctx := context.Background()
	db := dbtest.Bench(b, raw)
	ks := keys.New(db, nil, nil)
	// Audit records are written in batches off the request path, as serve
	// writes them; without the writer each request would wait for its own
	// INSERT, and on SQLite sixteen clients queue for the one write lock
	// (whose busy handler sleeps).
	audit := keys.NewAuditWriter(db, slog.New(slog.DiscardHandler), keys.AuditOptions{})
	defer audit.Close(ctx)
	ks.SetAuditWriter(audit)
	key := adminKey(b, ks)
	srv := httptest.NewServer(handler(ks, reports.NewEngine(db, nil), odata.Options{PageSize: 5000}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	get := func(path string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Accept", "application/json;odata.metadata=minimal")
		resp, err := client.Do(req)
		if err == nil && resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return nil, fmt.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		return resp, err
	}
	// page reads one page and returns its row count and next link.
	page := func(path string) (int, string, error) {
		resp, err := get(path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		var p struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		err = json.NewDecoder(bufio.NewReaderSize(resp.Body, 1<<16)).Decode(&p)
		return len(p.Value), p.NextLink, err
	}
	// cpu reports the process's CPU time per operation (server and this
	// client together) next to the wall time.
	cpu := func(b *testing.B, from time.Duration) {
		b.ReportMetric(float64(processCPU()-from)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
	one := func(name, path string) {
		b.Run(name, func(b *testing.B) {
			defer cpu(b, processCPU())
			for range b.N {
				resp, err := get(srv.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	q := url.QueryEscape
	one("GroupedCount", "/odata/Sessions?$apply="+q("groupby((QueueId),aggregate($count as Count))"))
	one("FilteredAverage", "/odata/Sessions?$apply="+q("filter(StartedAt ge "+from+" and StartedAt lt "+to+")/groupby((QueueId),aggregate(WaitSeconds with average as AvgWait))"))
	one("Count", "/odata/Sessions/$count")
	b.Run("FullRead", func(b *testing.B) {
		defer cpu(b, processCPU())
		for range b.N {
			start := time.Now()
			rows, next := 0, srv.URL+"/odata/Sessions"
			for next != "" {
				n, nl, err := page(next)
				if err != nil {
					b.Fatal(err)
				}
				rows, next = rows+n, nl
			}
			b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
		}
	})
	b.Run("Paging16", func(b *testing.B) {
		first := srv.URL + "/odata/Sessions?$filter=" + q("StartedAt ge "+from+" and StartedAt lt "+to)
		defer cpu(b, processCPU())
		for range b.N {
			// 16 clients each page through the month once.
			var reqs atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			start := time.Now()
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next := first; next != ""; {
						_, nl, err := page(next)
						if err != nil {
							errs <- err
							return
						}
						reqs.Add(1)
						next = nl
					}
				}()
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(reqs.Load())/time.Since(start).Seconds(), "req/s")
		}
	})
}
