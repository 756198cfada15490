package reports_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
)

// Keywords that differ only by an accent are different keywords on every
// back end (MySQL's default collation would merge them).
func TestKeywordsCompareByBytes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		if err := golden.Load(context.Background(), b.DB); err != nil {
			t.Fatal(err)
		}
		started := time.Date(2024, 10, 27, 23, 30, 0, 0, time.UTC) // S3
		for _, k := range []string{"cafe", "café"} {
			if err := b.DB.Create(&models.SessionKeyword{SessionID: 3, Source: "seeker", Keyword: k, Occurrences: 1, QueueID: 1, StartedAt: started}).Error; err != nil {
				t.Fatal(err)
			}
		}
		e := reports.NewEngine(b.DB, func() time.Time { return golden.Now })
		got := render(t, e, goldenCase{report: "TopKeywords", queue: 1, visible: []uint32{1},
			start: "2024-10-27", stop: "2024-10-27", zone: "America/New_York"})
		want := "1|cafe|1|100|1|-0.4\n2|café|1|100|1|-0.4\n3|drops|1|100|1|-0.4\n4|vpn|1|100|3|-0.4"
		if strings.Join(got, "\n") != want {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), want)
		}
	})
}
