package details

import (
	"encoding/json"
	"strings"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
)

// redactEvents hides, in the data of a session's events, every queue and
// session the caller may not open, as the session's other fields do: a
// key ending in "QueueId" whose queue is not reviewable, or in
// "SessionId" whose session is in such a queue (or does not exist), gets
// null. Events that name nothing hidden keep their data byte for byte.
func redactEvents(db *gorm.DB, events []DetailsEvent, reviewable []uint32) error {
	ok := map[uint32]bool{}
	for _, q := range reviewable {
		ok[q] = true
	}
	type ref struct {
		ev  int
		key string
		id  uint64
	}
	var sessions []ref
	var sessionIDs []uint64
	decoded := make([]map[string]any, len(events))
	changed := make([]bool, len(events))
	for i, e := range events {
		if len(e.Data) == 0 || e.Data[0] != '{' {
			continue
		}
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(string(e.Data)))
		dec.UseNumber()
		if dec.Decode(&m) != nil {
			continue
		}
		decoded[i] = m
		for k, v := range m {
			n, isNum := v.(json.Number)
			if !isNum {
				continue
			}
			id, err := n.Int64()
			if err != nil || id < 0 {
				m[k], changed[i] = nil, true
				continue
			}
			switch {
			case strings.HasSuffix(k, "QueueId"):
				if !ok[uint32(id)] {
					m[k], changed[i] = nil, true
				}
			case strings.HasSuffix(k, "SessionId"):
				sessions = append(sessions, ref{i, k, uint64(id)})
				sessionIDs = append(sessionIDs, uint64(id))
			}
		}
	}
	if len(sessions) > 0 {
		var visible []uint64
		if err := db.Model(&models.ChatSession{}).Where("id IN ? AND queue_id IN ?", sessionIDs, reports.NonEmpty(reviewable)).
			Pluck("id", &visible).Error; err != nil {
			return err
		}
		seen := map[uint64]bool{}
		for _, id := range visible {
			seen[id] = true
		}
		for _, r := range sessions {
			if !seen[r.id] {
				decoded[r.ev][r.key], changed[r.ev] = nil, true
			}
		}
	}
	for i := range events {
		if !changed[i] {
			continue
		}
		b, err := json.Marshal(decoded[i])
		if err != nil {
			return err
		}
		events[i].Data = b
	}
	return nil
}
