package admin

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// queryTimeout bounds every read of the admin surface.
const queryTimeout = 10 * time.Second

// Person, QueueRole and ActiveKey are the shapes of keys.People.
type (
	Person    = keys.Person
	QueueRole = keys.QueueRole
	ActiveKey = keys.ActiveKey
)

// people lists the active users with their queues and key status.
func (a *Admin) people(ctx context.Context) ([]Person, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	ppl, err := a.keys.People(ctx)
	if err != nil {
		return nil, models.Classify(err)
	}
	return ppl, nil
}

// person reads one active user with their queue ids (without queue names)
// and active key; an unknown or inactive user is a 404.
func (a *Admin) person(ctx context.Context, id uint) (*Person, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	db := a.db.WithContext(ctx)
	var u models.User
	if err := db.Where("is_active = ?", true).First(&u, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, apierror.NotFoundf("no active user has the id " + utoa(id))
		}
		return nil, models.Classify(err)
	}
	p := &Person{ID: u.ID, Login: deref(u.LoginName), DisplayName: u.DisplayName, Email: deref(u.Email), IsAdmin: u.IsAdmin, Queues: []QueueRole{}}
	var ms []models.QueueMember
	if err := db.Where("user_id = ?", id).Order("queue_id").Find(&ms).Error; err != nil {
		return nil, models.Classify(err)
	}
	for _, m := range ms {
		p.Queues = append(p.Queues, QueueRole{QueueID: m.QueueID, Role: m.Role})
	}
	var ks []models.APIKey
	if err := db.Where("user_id = ? AND revoked_at IS NULL", id).Order("id DESC").Limit(1).Find(&ks).Error; err != nil {
		return nil, models.Classify(err)
	}
	if len(ks) == 1 {
		p.Key = keys.NewActiveKey(ks[0])
	}
	return p, nil
}

// adminByKey resolves a session: the user must be an active admin and the
// key the session was made with still their active key. nil, nil means
// the session is no longer valid.
func (a *Admin) adminByKey(ctx context.Context, userID, keyID uint) (*actor, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	db := a.db.WithContext(ctx)
	var ks []models.APIKey
	if err := db.Where("id = ? AND user_id = ? AND revoked_at IS NULL", keyID, userID).Limit(1).Find(&ks).Error; err != nil {
		return nil, models.Classify(err)
	}
	var us []models.User
	if err := db.Where("id = ? AND is_active = ? AND is_admin = ?", userID, true, true).Limit(1).Find(&us).Error; err != nil {
		return nil, models.Classify(err)
	}
	if len(ks) == 0 || len(us) == 0 {
		return nil, nil
	}
	return &actor{UserID: userID, Login: deref(us[0].LoginName), Name: us[0].DisplayName, KeyID: keyID, KeyHint: ks[0].KeyHint}, nil
}

// logins maps user ids to login names (or display names), deleted users
// included, for the audit trail.
func (a *Admin) logins(ctx context.Context) (map[uint]string, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var us []models.User
	if err := a.db.WithContext(ctx).Unscoped().Select("id", "login_name", "display_name").Find(&us).Error; err != nil {
		return nil, models.Classify(err)
	}
	m := make(map[uint]string, len(us))
	for _, u := range us {
		m[u.ID] = cmp.Or(deref(u.LoginName), u.DisplayName)
	}
	return m, nil
}

// userOptions lists users for the audit filter, by login.
func userOptions(logins map[uint]string) []option {
	out := make([]option, 0, len(logins))
	for id, l := range logins {
		out = append(out, option{Value: l, Label: l, ID: id})
	}
	slices.SortFunc(out, func(x, y option) int { return strings.Compare(x.Label, y.Label) })
	return out
}

type option struct {
	Value, Label string
	ID           uint
}

// auditRecords reads one page of the audit trail, newest first, and tells
// whether older records remain.
func (a *Admin) auditRecords(ctx context.Context, f auditFilter) ([]models.AuditRecord, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var recs []models.AuditRecord
	if err := f.apply(a.db.WithContext(ctx)).Order("id DESC").Limit(f.Limit + 1).Find(&recs).Error; err != nil {
		return nil, false, models.Classify(err)
	}
	if len(recs) > f.Limit {
		return recs[:f.Limit], true, nil
	}
	return recs, false, nil
}

// apply adds the filter's conditions to a query on audit_log.
func (f auditFilter) apply(db *gorm.DB) *gorm.DB {
	q := db.Model(&models.AuditRecord{})
	if f.UserID != 0 {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.Route != "" {
		q = q.Where("route LIKE ? ESCAPE '!'", likePrefix(f.Route))
	}
	if f.StatusLo != 0 {
		q = q.Where("status >= ? AND status < ?", f.StatusLo, f.StatusHi)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", models.UTC(f.From))
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", models.UTC(f.To))
	}
	if f.Outcome != "" {
		q = q.Where("outcome = ?", f.Outcome)
	}
	if f.Before != 0 {
		q = q.Where("id < ?", f.Before)
	}
	return q
}

// likePrefix escapes s for LIKE … ESCAPE '!' and matches it as a prefix.
func likePrefix(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(s) + "%"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
