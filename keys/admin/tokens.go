package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"time"
)

// signer makes and checks the MACs of cookies and form tokens. Each kind of
// token signs its own purpose string, so one kind can never pass for another.
type signer struct{ key []byte }

func (s signer) mac(purpose string, fields ...string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose))
	for _, f := range fields {
		m.Write([]byte{0})
		m.Write([]byte(f))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid compares in constant time.
func (s signer) valid(mac, purpose string, fields ...string) bool {
	return hmac.Equal([]byte(mac), []byte(s.mac(purpose, fields...)))
}

// randomID returns n random bytes as URL-safe text (no dots, so it can be a
// field of a dotted token).
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// session is what the session cookie says. It never holds the API key: only
// the id of the key the admin signed in with, so that revoking or replacing
// that key ends the session.
type session struct {
	ID      string
	UserID  uint
	KeyID   uint
	Expires time.Time
}

// encodeSession is "v1.SID.UID.KID.EXP.MAC".
func (s signer) encodeSession(ss session) string {
	f := []string{ss.ID, utoa(ss.UserID), utoa(ss.KeyID), strconv.FormatInt(ss.Expires.Unix(), 10)}
	return "v1." + strings.Join(f, ".") + "." + s.mac("session", f...)
}

// decodeSession checks the MAC and the expiry of a cookie value.
func (s signer) decodeSession(v string, now time.Time) (session, bool) {
	p := strings.Split(v, ".")
	if len(p) != 6 || p[0] != "v1" || !s.valid(p[5], "session", p[1:5]...) {
		return session{}, false
	}
	uid, ok1 := atou(p[2])
	kid, ok2 := atou(p[3])
	exp, err := strconv.ParseInt(p[4], 10, 64)
	if !ok1 || !ok2 || err != nil || p[1] == "" {
		return session{}, false
	}
	ss := session{ID: p[1], UserID: uid, KeyID: kid, Expires: time.Unix(exp, 0)}
	if !now.Before(ss.Expires) {
		return session{}, false
	}
	return ss, true
}

// csrf is the synchronizer token of every form of a session: a MAC of the
// session id, so it needs no storage and dies with the session.
func (s signer) csrf(sid string) string { return s.mac("csrf", sid) }

// signinCSRF protects the sign-in form (there is no session yet): a random
// value in a cookie and its MAC in the form (double submit with HMAC).
func (s signer) signinCSRF(cookie string) string { return s.mac("signin", cookie) }

// confirmation is what a key-action form promises: act on this user, with
// this action, while their active key is still Expect (0: none). Its Nonce
// makes each form usable once.
type confirmation struct {
	Nonce   string
	UserID  uint
	Action  string
	Expect  uint
	Expires time.Time
}

// encodeConfirmation is "NONCE.UID.ACTION.EXPECT.EXP.MAC", bound to the
// session sid.
func (s signer) encodeConfirmation(sid string, c confirmation) string {
	f := []string{c.Nonce, utoa(c.UserID), c.Action, utoa(c.Expect), strconv.FormatInt(c.Expires.Unix(), 10)}
	return strings.Join(f, ".") + "." + s.mac("confirm", append([]string{sid}, f...)...)
}

// decodeConfirmation checks the MAC against the session sid. Expiry is left
// to the caller, which tells an expired form from a forged one.
func (s signer) decodeConfirmation(sid, v string) (confirmation, bool) {
	p := strings.Split(v, ".")
	if len(p) != 6 || p[0] == "" || !s.valid(p[5], "confirm", append([]string{sid}, p[:5]...)...) {
		return confirmation{}, false
	}
	uid, ok1 := atou(p[1])
	exp, ok2 := atou(p[3])
	at, err := strconv.ParseInt(p[4], 10, 64)
	if !ok1 || !ok2 || err != nil {
		return confirmation{}, false
	}
	return confirmation{Nonce: p[0], UserID: uid, Action: p[2], Expect: exp, Expires: time.Unix(at, 0)}, true
}

// burnList remembers ids that must not be accepted again (signed-out
// sessions, used confirmation nonces) until they would have expired anyway.
// It is per process: see the package comment.
type burnList struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func newBurnList() *burnList { return &burnList{m: map[string]time.Time{}} }

// burn marks id as used until exp. It reports false when id was used
// already, atomically, so two concurrent submissions of one form cannot
// both pass.
func (b *burnList) burn(id string, exp, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[id]; ok {
		return false
	}
	if len(b.m) >= 1024 && len(b.m)%256 == 0 {
		for k, e := range b.m {
			if !now.Before(e) {
				delete(b.m, k)
			}
		}
	}
	b.m[id] = exp
	return true
}

// burned reports whether id was burnt.
func (b *burnList) burned(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.m[id]
	return ok
}

func utoa(u uint) string { return strconv.FormatUint(uint64(u), 10) }

// atou parses a positive decimal id without sign or leading zeros.
func atou(s string) (uint, bool) {
	if s == "" || len(s) > 19 || (s[0] == '0' && s != "0") {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return uint(n), err == nil
}
