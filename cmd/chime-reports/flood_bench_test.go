package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
)

// BenchmarkFloodIsolation: one key floods TopKeywords (a queue-year, the
// heaviest report) from 60 clients that retry 50 ms after any refusal,
// while another user requests a small report (a queue-month of
// InboundVsAnsweredChats) one after another, at most five a second as a
// dashboard refreshing would (well inside that user's own rate limit, so
// a refusal is the flood's doing) (audit records go through the
// batching writer, as in serve); the small report's latency is
// reported (p50, p99, ms) with the count of its answers that were not 200.
// Loopback, SQLite, bounded: b.N small requests. "guarded" runs serve's
// defaults (rate limit, admission control); "unguarded" turns both off.
//
//	go test ./cmd/chime-reports -run '^$' -bench 'FloodIsolation/^guarded$' -benchtime 200x
func BenchmarkFloodIsolation(b *testing.B) {
	ctx := context.Background()
	dsn, err := models.ParseDSN("sqlite:" + filepath.Join(b.TempDir(), "chime.db"))
	if err != nil {
		b.Fatal(err)
	}
	db, err := models.Open(ctx, dsn, models.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer models.Close(db)
	if err := models.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := fixtures.Load(ctx, db, fixtures.Options{Start: start, End: start.AddDate(1, 0, 0), Sessions: 40000, Seed: 7}); err != nil {
		b.Fatal(err)
	}
	ks := keys.New(db, nil, nil)
	keyOf := func(login string) string {
		k, err := ks.GenerateFor(ctx, login)
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	flooder, other := keyOf("admin"), keyOf("alice")
	pool, _ := db.DB()
	for _, guarded := range []bool{true, false} {
		name := map[bool]string{true: "guarded", false: "unguarded"}[guarded]
		b.Run(name, func(b *testing.B) {
			// As serve runs: audit records written in batches, off the
			// request path.
			audit := keys.NewAuditWriter(db, slog.New(slog.DiscardHandler), keys.AuditOptions{})
			defer audit.Close(context.Background())
			d := server.Deps{DB: db, Log: slog.New(slog.DiscardHandler), Audit: audit}
			if guarded {
				d.RateLimit, d.RateBurst = server.DefaultRateLimit, server.DefaultRateBurst
				d.MaxPerKey, d.MaxConcurrent = server.DefaultMaxPerKey, server.DefaultMaxConcurrent(pool)
			}
			srv := httptest.NewServer(server.NewHandler(d))
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}, Timeout: 60 * time.Second}
			get := func(key, path string) int {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := client.Do(req)
				if err != nil {
					return 0
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			for i := range 60 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					path := fmt.Sprintf("/Chime/Report/TopKeywords?queueId=%d&start=2020-01-01&stop=2020-12-31", i%5+1)
					for {
						select {
						case <-stop:
							return
						default:
						}
						c := get(flooder, path)
						mu.Lock()
						codes[c]++
						mu.Unlock()
						if c != http.StatusOK {
							time.Sleep(50 * time.Millisecond) // an impatient client: no heed to Retry-After
						}
					}
				}()
			}
			time.Sleep(time.Second) // let the flood fill the server
			lat := make([]time.Duration, 0, b.N)
			bad := 0
			b.ResetTimer()
			pace := time.NewTicker(200 * time.Millisecond)
			defer pace.Stop()
			for i := range b.N {
				<-pace.C
				t0 := time.Now()
				if c := get(other, fmt.Sprintf("/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2020-%02d-01&stop=2020-%02d-28", i%12+1, i%12+1)); c != http.StatusOK {
					bad++
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			slices.Sort(lat)
			q := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(float64(bad), "small-not-200")
			b.ReportMetric(float64(codes[http.StatusOK]), "flood-200")
			b.ReportMetric(float64(codes[http.StatusTooManyRequests]+codes[http.StatusServiceUnavailable]), "flood-429-503")
			b.ReportMetric(float64(codes[http.StatusGatewayTimeout]+codes[0]), "flood-504-or-none")
		})
	}
}
