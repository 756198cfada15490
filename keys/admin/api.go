package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// writeJSON sends v as JSON without HTML escaping, so that routes and
// query strings in the audit trail read as they are (a & stays a &).
func writeJSON(c *gin.Context, status int, v any) {
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(status)
	enc := json.NewEncoder(c.Writer)
	enc.SetEscapeHTML(false)
	// Encode fails only when the client has gone: nothing left to tell it.
	enc.Encode(v)
}

// apiUsers answers GET /Chime/Admin/api/users: {"users":[Person…]}.
func (a *Admin) apiUsers(c *gin.Context) {
	ppl, err := a.people(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	addRows(c, int64(len(ppl)))
	writeJSON(c, http.StatusOK, gin.H{"users": ppl})
}

// KeyEntry is one key of GET /Chime/Admin/api/keys.
type KeyEntry struct {
	keys.KeyInfo
	Status string `json:"status"` // active or revoked
}

// keyEntries lists every key, newest first, with its status.
func (a *Admin) keyEntries(c *gin.Context) ([]KeyEntry, error) {
	ks, err := a.keys.List(c.Request.Context())
	if err != nil {
		return nil, models.Classify(err)
	}
	out := make([]KeyEntry, len(ks))
	for i, k := range ks {
		out[i] = KeyEntry{KeyInfo: k, Status: "active"}
		if k.RevokedAt != nil {
			out[i].Status = "revoked"
		}
	}
	return out, nil
}

// apiKeys answers GET /Chime/Admin/api/keys: {"keys":[KeyEntry…]}.
func (a *Admin) apiKeys(c *gin.Context) {
	ks, err := a.keyEntries(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	addRows(c, int64(len(ks)))
	writeJSON(c, http.StatusOK, gin.H{"keys": ks})
}

// NewKey is the answer of POST /Chime/Admin/api/users/{id}/key: the only
// time the key is ever shown.
type NewKey struct {
	UserID    uint      `json:"userId"`
	Login     string    `json:"login"`
	Key       string    `json:"key"`
	Masked    string    `json:"maskedKey"`
	Replaced  bool      `json:"replacedPreviousKey"`
	CreatedAt time.Time `json:"createdAt"`
}

// generate mints a key for user id (revoking the previous one at once) and
// records what happened for the audit record.
func (a *Admin) generate(c *gin.Context, p *Person, action string) (*NewKey, error) {
	key, err := a.keys.Generate(c.Request.Context(), p.ID)
	if errors.Is(err, keys.ErrUnknownUser) {
		return nil, apierror.NotFoundf("no active user has the id " + utoa(p.ID))
	}
	if err != nil {
		return nil, models.Classify(err)
	}
	hint := key[len(key)-4:]
	setDetail(c, url.Values{"action": {"key." + action}, "userId": {utoa(p.ID)}, "login": {p.Login}, "newKeyHint": {hint}}.Encode())
	a.log.Info("API key generated", "by", actorOf(c).Login, "user", p.Login, "action", action)
	return &NewKey{UserID: p.ID, Login: p.Login, Key: key, Masked: keys.Mask(hint), Replaced: p.Key != nil, CreatedAt: a.clock().UTC()}, nil
}

// revoke revokes the active key of p; none is a 404.
func (a *Admin) revoke(c *gin.Context, p *Person) error {
	n, err := a.keys.Revoke(c.Request.Context(), p.ID)
	if err != nil {
		return models.Classify(err)
	}
	if n == 0 {
		return apierror.NotFoundf(p.Login + " has no active key")
	}
	setDetail(c, url.Values{"action": {"key.revoke"}, "userId": {utoa(p.ID)}, "login": {p.Login}}.Encode())
	a.log.Info("API key revoked", "by", actorOf(c).Login, "user", p.Login)
	return nil
}

// apiGenerate answers POST /Chime/Admin/api/users/{id}/key with 201 and
// the new key. An existing key is replaced (no confirmation: the caller is
// a script).
func (a *Admin) apiGenerate(c *gin.Context) {
	p, err := a.target(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	action := "generate"
	if p.Key != nil {
		action = "regenerate"
	}
	nk, err := a.generate(c, p, action)
	if err != nil {
		a.fail(c, err)
		return
	}
	writeJSON(c, http.StatusCreated, nk)
}

// apiRevoke answers DELETE /Chime/Admin/api/users/{id}/key.
func (a *Admin) apiRevoke(c *gin.Context) {
	p, err := a.target(c)
	if err == nil {
		err = a.revoke(c, p)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"userId": p.ID, "login": p.Login, "revoked": true})
}

// target reads the user named by the route's :id.
func (a *Admin) target(c *gin.Context) (*Person, error) {
	id, err := userParam(c)
	if err != nil {
		return nil, err
	}
	return a.person(c.Request.Context(), id)
}

// apiAudit answers GET /Chime/Admin/api/audit:
// {"items":[AuditEntry…],"nextCursor":"…"|null,"limit":50}, newest first.
// Pass nextCursor back as cursor (with the same filters) for older records.
func (a *Admin) apiAudit(c *gin.Context) {
	ctx := c.Request.Context()
	f, logins, err := a.auditQuery(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	items, next, err := a.auditSlice(ctx, f, logins)
	if err != nil {
		a.fail(c, err)
		return
	}
	addRows(c, int64(len(items)))
	var cursor *string
	if next != "" {
		cursor = &next
	}
	writeJSON(c, http.StatusOK, gin.H{"items": items, "nextCursor": cursor, "limit": f.Limit})
}
