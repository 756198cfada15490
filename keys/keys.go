package keys

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/chime-reports/chime-reports/models"
)

// Service mints, checks and revokes API keys and manages users.
type Service struct {
	db    *gorm.DB
	clock func() time.Time
	log   *slog.Logger
	// auditw queues audit records; nil writes each one at once.
	auditw *AuditWriter

	mu       sync.Mutex
	lastSeen map[uint]time.Time // key id → last last_used_at write

	principals *principalCache
}

// lastUsedEvery bounds how often last_used_at is written for one key.
const lastUsedEvery = 30 * time.Second

// New returns a key service. A nil clock means time.Now.
func New(db *gorm.DB, clock func() time.Time, log *slog.Logger) *Service {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: db, clock: clock, log: log, lastSeen: map[uint]time.Time{}, principals: newPrincipalCache()}
}

// ErrUnknownUser is returned for a login that names no active user.
var ErrUnknownUser = errors.New("no such user")

// ErrInvalidKey is returned for a key that is malformed, unknown, revoked or
// belongs to an inactive user. The reason is deliberately not told apart.
var ErrInvalidKey = errors.New("invalid API key")

// Hash is the stored form of a key: SHA-256 of the lower-cased GUID text.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(strings.ToLower(key)))
	return h[:]
}

// Normalize checks that key is a GUID and returns its canonical lower-case
// text (braces and upper case, as Excel users paste them, are accepted).
func Normalize(key string) (string, bool) {
	key = strings.TrimSpace(key)
	if len(key) == 38 && key[0] == '{' && key[37] == '}' {
		key = key[1:37]
	}
	if len(key) != 36 {
		return "", false
	}
	u, err := uuid.Parse(key)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// Mask shows a key as its hint only.
func Mask(hint string) string {
	return "••••••••-••••-••••-••••-••••••••" + hint
}

// Generate mints a new key for the user and revokes the previous one in the
// same transaction, so the old key stops working at once. The returned key
// is the only copy: it is not stored.
func (s *Service) Generate(ctx context.Context, userID uint) (string, error) {
	key := uuid.NewString()
	now := models.UTC(s.clock())
	defer invalidateAuth()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u models.User
		// Lock the user row so two concurrent generations serialise.
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("is_active = ?", true).First(&u, userID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrUnknownUser
			}
			return err
		}
		if err := tx.Model(&models.APIKey{}).Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", now).Error; err != nil {
			return err
		}
		return tx.Create(&models.APIKey{UserID: userID, KeyHash: Hash(key), KeyHint: key[len(key)-4:], CreatedAt: now}).Error
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// Revoke revokes the user's active key; it reports how many were revoked.
func (s *Service) Revoke(ctx context.Context, userID uint) (int64, error) {
	defer invalidateAuth()
	res := s.db.WithContext(ctx).Model(&models.APIKey{}).Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", models.UTC(s.clock()))
	return res.RowsAffected, res.Error
}

// KeyInfo describes one key for listings; it never holds the key.
type KeyInfo struct {
	ID         uint       `json:"id"`
	UserID     uint       `json:"userId"`
	Login      string     `json:"login"`
	UserName   string     `json:"userName"`
	Masked     string     `json:"maskedKey"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	LastClient string     `json:"lastClient"`
	RevokedAt  *time.Time `json:"revokedAt"`
}

// List returns every key, newest first.
func (s *Service) List(ctx context.Context) ([]KeyInfo, error) {
	var ks []models.APIKey
	if err := s.db.WithContext(ctx).Order("created_at DESC, id DESC").Find(&ks).Error; err != nil {
		return nil, err
	}
	users := map[uint]models.User{}
	var us []models.User
	if err := s.db.WithContext(ctx).Unscoped().Find(&us).Error; err != nil {
		return nil, err
	}
	for _, u := range us {
		users[u.ID] = u
	}
	out := make([]KeyInfo, len(ks))
	for i, k := range ks {
		u := users[k.UserID]
		out[i] = KeyInfo{ID: k.ID, UserID: k.UserID, Login: deref(u.LoginName), UserName: u.DisplayName, Masked: Mask(k.KeyHint),
			CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, LastClient: k.LastClient, RevokedAt: k.RevokedAt}
	}
	return out, nil
}

// Principal is an authenticated caller and what it may see.
type Principal struct {
	UserID      uint
	Login       string
	DisplayName string
	IsAdmin     bool
	KeyID       uint
	KeyHint     string
	DefaultZone string
	// Visible are the queues whose reports the caller may read: every queue
	// for admins, else the queues the caller manages.
	Visible []uint32
	// Reviewable adds the queues the caller reviews (SessionDetails).
	Reviewable []uint32
}

// Name names the caller for humans: "Alice Manager (alice)".
func (p *Principal) Name() string {
	switch {
	case p == nil:
		return ""
	case p.DisplayName == "":
		return p.Login
	case p.Login == "" || p.Login == p.DisplayName:
		return p.DisplayName
	}
	return p.DisplayName + " (" + p.Login + ")"
}

// CanSee reports whether queue q is in Visible.
func (p *Principal) CanSee(q uint32) bool { return slices.Contains(p.Visible, q) }

// CanReview reports whether the caller may open sessions of queue q.
func (p *Principal) CanReview(q uint32) bool { return slices.Contains(p.Reviewable, q) }

// Check checks a presented key and resolves the caller's ACL.
func (s *Service) Check(ctx context.Context, presented, client string) (*Principal, error) {
	key, ok := Normalize(presented)
	if !ok {
		return nil, ErrInvalidKey
	}
	hash := Hash(key)
	if p, ok := s.principals.get(hash); ok {
		s.touch(p.KeyID, client)
		return p, nil
	}
	gen := authGeneration.Load()
	db := s.db.WithContext(ctx)
	var k models.APIKey
	if err := db.Where("key_hash = ? AND revoked_at IS NULL", hash).First(&k).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrInvalidKey
		}
		return nil, err
	}
	var u models.User
	if err := db.Where("is_active = ?", true).First(&u, k.UserID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrInvalidKey
		}
		return nil, err
	}
	p := &Principal{UserID: u.ID, Login: deref(u.LoginName), DisplayName: u.DisplayName, IsAdmin: u.IsAdmin,
		KeyID: k.ID, KeyHint: k.KeyHint, DefaultZone: u.DefaultZone}
	if err := s.resolveACL(ctx, p); err != nil {
		return nil, err
	}
	s.principals.put(hash, p, gen)
	s.touch(k.ID, client)
	return p, nil
}

// resolveACL fills Visible and Reviewable (docs/data-model.md "Access control").
func (s *Service) resolveACL(ctx context.Context, p *Principal) error {
	db := s.db.WithContext(ctx)
	if p.IsAdmin {
		var ids []uint32
		if err := db.Unscoped().Model(&models.Queue{}).Order("id").Pluck("id", &ids).Error; err != nil {
			return err
		}
		p.Visible, p.Reviewable = ids, ids
		return nil
	}
	var ms []models.QueueMember
	if err := db.Where("user_id = ? AND role IN ?", p.UserID, []string{"manager", "reviewer"}).Order("queue_id").Find(&ms).Error; err != nil {
		return err
	}
	p.Visible, p.Reviewable = []uint32{}, []uint32{}
	for _, m := range ms {
		if m.Role == "manager" {
			p.Visible = append(p.Visible, m.QueueID)
		}
		p.Reviewable = append(p.Reviewable, m.QueueID)
	}
	return nil
}

// touch records last use at most every 30 s per key, off the request path.
func (s *Service) touch(keyID uint, client string) {
	now := s.clock()
	s.mu.Lock()
	if last, ok := s.lastSeen[keyID]; ok && now.Sub(last) < lastUsedEvery {
		s.mu.Unlock()
		return
	}
	s.lastSeen[keyID] = now
	s.mu.Unlock()
	if len(client) > 200 {
		client = client[:200]
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.db.WithContext(ctx).Model(&models.APIKey{}).Where("id = ?", keyID).
			Updates(map[string]any{"last_used_at": models.UTC(now), "last_client": client}).Error
		if err != nil {
			s.log.Warn("recording key use failed", "key_id", keyID, "err", err)
		}
	}()
}

// NewUser describes a user to add.
type NewUser struct {
	Login       string
	DisplayName string
	Email       string
	Admin       bool
	Queues      []uint32
	Role        string // role on Queues: manager (default), reviewer or agent
}

// AddUser creates a user and their queue memberships.
func (s *Service) AddUser(ctx context.Context, n NewUser) (*models.User, error) {
	defer invalidateAuth()
	n.Login = strings.TrimSpace(n.Login)
	if n.Login == "" {
		return nil, fmt.Errorf("login is required")
	}
	if n.Role == "" {
		n.Role = "manager"
	}
	if n.Role != "manager" && n.Role != "reviewer" && n.Role != "agent" {
		return nil, fmt.Errorf("role must be manager, reviewer or agent, not %q", n.Role)
	}
	if n.DisplayName == "" {
		n.DisplayName = n.Login
	}
	u := &models.User{DisplayName: n.DisplayName, LoginName: &n.Login, IsAdmin: n.Admin, IsActive: true}
	if n.Email != "" {
		u.Email = &n.Email
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var exists int64
		if err := tx.Model(&models.User{}).Where("login_name = ?", n.Login).Count(&exists).Error; err != nil {
			return err
		}
		if exists > 0 {
			return fmt.Errorf("user %q already exists", n.Login)
		}
		for _, q := range n.Queues {
			var c int64
			if err := tx.Model(&models.Queue{}).Where("id = ?", q).Count(&c).Error; err != nil {
				return err
			}
			if c == 0 {
				return fmt.Errorf("queue %d does not exist", q)
			}
		}
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		for _, q := range n.Queues {
			if err := tx.Create(&models.QueueMember{QueueID: q, UserID: u.ID, Role: n.Role}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// GenerateFor mints a new key for the active user with this login
// (Generate): the CLI's keys generate, and test and benchmark setups.
func (s *Service) GenerateFor(ctx context.Context, login string) (string, error) {
	u, err := s.UserByLogin(ctx, login)
	if err != nil {
		return "", err
	}
	return s.Generate(ctx, u.ID)
}

// UserByLogin finds an active user by login name.
func (s *Service) UserByLogin(ctx context.Context, login string) (*models.User, error) {
	var u models.User
	err := s.db.WithContext(ctx).Where("login_name = ? AND is_active = ?", login, true).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownUser, login)
	}
	return &u, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
