package odata_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
	"github.com/chime-reports/chime-reports/reports"
)

// BenchmarkDeltaRows measures one delta read of Messages after a change of
// 20 sessions, on a database filled with `chime-reports fixtures load`
// (migrated first: it mutates the data, so use a copy):
//
//	CHIME_BENCH_ODATA_DB=sqlite:copy.db go test ./odata -run '^$' -bench DeltaRows -benchtime 5x
//
// The initial tracked load (every line) runs once, untimed, and is
// reported as initial-s; ns/op is one delta read of the changed
// sessions' lines, through the key middleware and the feed.
func BenchmarkDeltaRows(b *testing.B) {
	raw := os.Getenv("CHIME_BENCH_ODATA_DB")
	if raw == "" {
		b.Skip("CHIME_BENCH_ODATA_DB not set")
	}
	ctx := context.Background()
	db := dbtest.Bench(b, raw)
	if err := models.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	ks := keys.New(db, nil, nil)
	key := adminKey(b, ks)
	srv := httptest.NewServer(handler(ks, reports.NewEngine(db, nil), odata.Options{PageSize: 5000}))
	defer srv.Close()
	// read follows a tracked read to its delta link and counts the rows.
	read := func(u string) (string, int) {
		rows := 0
		for {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Prefer", "odata.track-changes")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("%s: %d %s", u, resp.StatusCode, body)
			}
			var p struct {
				Value     []json.RawMessage `json:"value"`
				NextLink  string            `json:"@odata.nextLink"`
				DeltaLink string            `json:"@odata.deltaLink"`
			}
			if err := json.Unmarshal(body, &p); err != nil {
				b.Fatal(err)
			}
			rows += len(p.Value)
			if p.DeltaLink != "" {
				return p.DeltaLink, rows
			}
			u = p.NextLink
		}
	}
	t0 := time.Now()
	link, n := read(srv.URL + "/odata/Messages?$select=MessageId,SessionId,Seq,Body")
	initial := time.Since(t0)
	var ids []int64
	db.Model(&models.SessionMessage{}).Distinct("session_id").Order("session_id DESC").Limit(20).Pluck("session_id", &ids)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db.Model(&models.ChatSession{}).Where("id IN ?", ids).Update("updated_at", time.Now().UTC())
		b.StartTimer()
		var rows int
		link, rows = read(link)
		if rows == 0 || strings.Contains(link, "$skiptoken") {
			b.Fatalf("delta read %d rows", rows)
		}
	}
	b.ReportMetric(initial.Seconds(), "initial-s")
	b.ReportMetric(float64(n), "initial-rows")
}
