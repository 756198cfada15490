package main

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestSessionDetailsEventsHideHiddenQueues: an event of a session alice
// may open that names a queue and a session she may not (a transfer into
// the Security Desk) shows them as null, as childSessionId is; the admin
// sees them; what she may see is kept.
func TestSessionDetailsEventsHideHiddenQueues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		var visible, hidden models.ChatSession
		if err := b.DB.Where("queue_id = ?", 1).Order("id").First(&visible).Error; err != nil {
			t.Fatal(err)
		}
		if err := b.DB.Where("queue_id = ?", golden.Hidden).Order("id").First(&hidden).Error; err != nil {
			t.Fatal(err)
		}
		data := `{"fromQueueId":1,"toQueueId":` + strconv.Itoa(int(golden.Hidden)) + `,"toSessionId":` + strconv.Itoa(int(hidden.ID)) +
			`,"otherSessionId":` + strconv.Itoa(int(visible.ID)) + `,"note":"x"}`
		ev := models.SessionEvent{SessionID: visible.ID, At: visible.StartedAt.Add(time.Minute), Type: "queue_transfer", ActorType: "agent", Data: &data}
		if err := b.DB.Create(&ev).Error; err != nil {
			t.Fatal(err)
		}
		eventData := func(user uint) map[string]any {
			t.Helper()
			a := e.get(user, "/Chime/Session/SessionDetails/"+strconv.Itoa(int(visible.ID)))
			if a.status != 200 {
				t.Fatalf("%d %s", a.status, a.body)
			}
			var d struct {
				Events []struct {
					Type string         `json:"type"`
					Data map[string]any `json:"data"`
				} `json:"events"`
			}
			if err := json.Unmarshal([]byte(a.body), &d); err != nil {
				t.Fatal(err)
			}
			for _, e := range d.Events {
				if e.Type == "queue_transfer" {
					return e.Data
				}
			}
			t.Fatalf("no queue_transfer event: %s", a.body)
			return nil
		}
		got := eventData(golden.Alice)
		if got["toQueueId"] != nil || got["toSessionId"] != nil {
			t.Errorf("alice sees the hidden queue or session: %v", got)
		}
		if got["fromQueueId"] != float64(1) || got["otherSessionId"] != float64(visible.ID) || got["note"] != "x" {
			t.Errorf("alice lost what she may see: %v", got)
		}
		if all := eventData(golden.Admin); all["toQueueId"] != float64(golden.Hidden) || all["toSessionId"] != float64(hidden.ID) {
			t.Errorf("the admin sees %v", all)
		}
	})
}
