package reports_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
)

// TestTextKeysKeepCase: keys that differ only in case stay apart on every
// back end, as Go's ranking and SQLite keep them (MariaDB's _ci collation
// would merge them in a GROUP BY). One of the two outlookPW sessions is
// retagged outlookpw.
func TestTextKeysKeepCase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		if err := golden.Load(context.Background(), b.DB); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := b.DB.Raw("SELECT MIN(id) FROM chat_sessions WHERE skill_tag = 'outlookPW'").Scan(&id).Error; err != nil || id == 0 {
			t.Fatalf("no outlookPW session: %v", err)
		}
		if err := b.DB.Exec("UPDATE chat_sessions SET skill_tag = 'outlookpw' WHERE id = ?", id).Error; err != nil {
			t.Fatal(err)
		}
		e := reports.NewEngine(b.DB, func() time.Time { return golden.Now })
		got := render(t, e, goldenCase{report: "SkillTagDistribution", queue: 1, visible: []uint32{1, 2},
			start: "2024-10-26", stop: "2024-11-04", zone: "America/New_York"})
		var tags []string
		for _, row := range got {
			tags = append(tags, strings.SplitN(row, "|", 2)[0])
		}
		if want := "(none) outlookPW outlookpw vpn"; strings.Join(tags, " ") != want {
			t.Errorf("skill tags %q, want %s", tags, want)
		}
	})
}
