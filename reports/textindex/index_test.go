package textindex_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports/textindex"
)

func snapshot(t *testing.T, db *gorm.DB) string {
	t.Helper()
	var ks []models.SessionKeyword
	if err := db.Order("session_id, source, keyword").Find(&ks).Error; err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "%d %s %s %d %d %s\n", k.SessionID, k.Source, k.Keyword, k.Occurrences, k.QueueID, k.StartedAt.UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}

func TestIndexer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		start := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		now := time.Date(2024, 6, 8, 14, 0, 0, 0, time.UTC)
		if _, err := fixtures.Load(ctx, b.DB, fixtures.Options{Start: start, End: start.AddDate(0, 0, 8), Sessions: 400, Seed: 3, Now: now}); err != nil {
			t.Fatal(err)
		}
		generated := snapshot(t, b.DB)
		if generated == "" {
			t.Fatal("the generator wrote no keywords")
		}
		ix := textindex.NewIndexer(b.DB, func() time.Time { return now })

		// The generator marks what it indexed: nothing is left to do.
		st, err := ix.Run(ctx, textindex.Options{})
		if err != nil || st.Sessions != 0 {
			t.Fatalf("incremental run after a load: %+v, %v", st, err)
		}
		// Rebuilding from the transcripts gives exactly what the generator
		// stored: one tokenizer for both.
		st, err = ix.Run(ctx, textindex.Options{Rebuild: true})
		if err != nil || st.Sessions == 0 {
			t.Fatalf("rebuild: %+v, %v", st, err)
		}
		if got := snapshot(t, b.DB); got != generated {
			t.Errorf("rebuilt keywords differ from the generated ones (%d vs %d bytes)", len(got), len(generated))
		}
		// Re-indexed keywords that stay are not removed: no tombstone is
		// left for them (change tracking would report removals that are
		// not, and the table would grow by every keyword at every run).
		tombstones := func() (n int64, others int64) {
			b.DB.Model(&models.RowTombstone{}).Where("tbl = ?", "session_keywords").Count(&n)
			b.DB.Model(&models.RowTombstone{}).Where("tbl = ? AND keyword <> ?", "session_keywords", "zebrafish").Count(&others)
			return n, others
		}
		if n, _ := tombstones(); n != 0 {
			t.Errorf("a rebuild that changed nothing left %d keyword tombstones", n)
		}

		// A session that closes later is indexed by the next run, alone.
		var seeker models.Seeker
		if err := b.DB.First(&seeker).Error; err != nil {
			t.Fatal(err)
		}
		began := models.UTC(now.Add(-time.Hour))
		open := models.ChatSession{SessionGUID: "late-session", ConversationGUID: "late-conversation", QueueID: 1, SeekerID: seeker.ID,
			EntryPoint: "teams", State: models.StateWaiting, StartedAt: began, QueuedAt: &began, LastActivityAt: began}
		if err := b.DB.Create(&open).Error; err != nil {
			t.Fatal(err)
		}
		if st, _ := ix.Run(ctx, textindex.Options{}); st.Sessions != 0 {
			t.Errorf("an open session was indexed")
		}
		end := models.UTC(now)
		b.DB.Model(&open).Updates(map[string]any{"ended_at": end, "state": models.StateAbandoned, "end_reason": "system"})
		b.DB.Create(&models.SessionMessage{SessionID: open.ID, Seq: 9000, SentAt: end, SenderType: "seeker", ContentType: "text/plain",
			Body: p("Zebrafish zebrafish printer")})
		st, err = ix.Run(ctx, textindex.Options{})
		if err != nil || st.Sessions != 1 {
			t.Fatalf("incremental run after one close: %+v, %v", st, err)
		}
		var k models.SessionKeyword
		if err := b.DB.Where("session_id = ? AND source = ? AND keyword = ?", open.ID, "seeker", "zebrafish").First(&k).Error; err != nil || k.Occurrences != 2 {
			t.Errorf("zebrafish: %+v, %v", k, err)
		}

		// Configured stop words are dropped; the dropped rows, and only
		// they, leave tombstones.
		var before int64
		b.DB.Model(&models.SessionKeyword{}).Where("keyword = ?", "zebrafish").Count(&before)
		if _, err := ix.Run(ctx, textindex.Options{Rebuild: true, StopWords: []string{"Zebrafish"}}); err != nil {
			t.Fatal(err)
		}
		var n int64
		b.DB.Model(&models.SessionKeyword{}).Where("keyword = ?", "zebrafish").Count(&n)
		if n != 0 {
			t.Errorf("a configured stop word was indexed %d times", n)
		}
		if got, others := tombstones(); got != before || others != 0 || before == 0 {
			t.Errorf("keyword tombstones after dropping zebrafish (%d rows): %d, %d of other keywords", before, got, others)
		}
	})
}

func p(s string) *string { return &s }
