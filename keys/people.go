package keys

import (
	"context"
	"time"

	"github.com/chime-reports/chime-reports/models"
)

// Person is a user with their queue roles and key status, as the admin
// pages, the admin API and `users list` show them. It never holds a key.
type Person struct {
	ID          uint        `json:"id"`
	Login       string      `json:"login"`
	DisplayName string      `json:"displayName"`
	Email       string      `json:"email,omitempty"`
	IsAdmin     bool        `json:"isAdmin"`
	Queues      []QueueRole `json:"queues"`
	Key         *ActiveKey  `json:"key"` // nil: no active key
}

// QueueRole is one queue membership.
type QueueRole struct {
	QueueID uint32 `json:"queueId"`
	Queue   string `json:"queue"`
	Role    string `json:"role"`
}

// ActiveKey describes a user's active key; it never holds the key.
type ActiveKey struct {
	ID         uint       `json:"id"`
	Masked     string     `json:"maskedKey"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	LastClient string     `json:"lastClient"`
}

// NewActiveKey describes a stored key.
func NewActiveKey(k models.APIKey) *ActiveKey {
	return &ActiveKey{ID: k.ID, Masked: Mask(k.KeyHint), CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, LastClient: k.LastClient}
}

// People lists the active users with their queues and key status, by
// display name.
func (s *Service) People(ctx context.Context) ([]Person, error) {
	db := s.db.WithContext(ctx)
	var (
		us []models.User
		ms []models.QueueMember
		qs []models.Queue
		ks []models.APIKey
	)
	if err := db.Where("is_active = ?", true).Order("display_name, id").Find(&us).Error; err != nil {
		return nil, err
	}
	if err := db.Order("queue_id").Find(&ms).Error; err != nil {
		return nil, err
	}
	if err := db.Unscoped().Find(&qs).Error; err != nil {
		return nil, err
	}
	if err := db.Where("revoked_at IS NULL").Find(&ks).Error; err != nil {
		return nil, err
	}
	names := map[uint32]string{}
	for _, q := range qs {
		names[q.ID] = q.Name
	}
	roles := map[uint][]QueueRole{}
	for _, m := range ms {
		roles[m.UserID] = append(roles[m.UserID], QueueRole{QueueID: m.QueueID, Queue: names[m.QueueID], Role: m.Role})
	}
	active := map[uint]*ActiveKey{}
	for _, k := range ks {
		active[k.UserID] = NewActiveKey(k)
	}
	out := make([]Person, len(us))
	for i, u := range us {
		qr := roles[u.ID]
		if qr == nil {
			qr = []QueueRole{}
		}
		out[i] = Person{ID: u.ID, Login: deref(u.LoginName), DisplayName: u.DisplayName, Email: deref(u.Email), IsAdmin: u.IsAdmin,
			Queues: qr, Key: active[u.ID]}
	}
	return out, nil
}
