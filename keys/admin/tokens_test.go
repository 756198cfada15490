package admin

import (
	"strings"
	"testing"
	"time"
)

func TestSessionCookie(t *testing.T) {
	s := signer{key: []byte("k1")}
	now := time.Date(2024, 11, 4, 12, 0, 0, 0, time.UTC)
	ss := session{ID: "abc", UserID: 1, KeyID: 7, Expires: now.Add(time.Hour)}
	v := s.encodeSession(ss)
	if got, ok := s.decodeSession(v, now); !ok || got.ID != "abc" || got.UserID != 1 || got.KeyID != 7 || !got.Expires.Equal(ss.Expires) {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	p := strings.Split(v, ".")
	cases := map[string]string{
		"other secret":       signer{key: []byte("k2")}.encodeSession(ss),
		"user changed":       strings.Join([]string{p[0], p[1], "2", p[3], p[4], p[5]}, "."),
		"key changed":        strings.Join([]string{p[0], p[1], p[2], "8", p[4], p[5]}, "."),
		"expiry pushed":      strings.Join([]string{p[0], p[1], p[2], p[3], "99999999999", p[5]}, "."),
		"mac dropped":        strings.Join(p[:5], "."),
		"mac of another":     strings.Join(append(p[:5:5], s.mac("csrf", "abc")), "."),
		"empty":              "",
		"garbage":            "v1.....",
		"leading zero id":    s.encodeSessionRaw("abc", "01", "7", p[4]),
		"unknown version":    "v2" + strings.TrimPrefix(v, "v1"),
		"extra field":        v + ".x",
		"empty session id":   s.encodeSessionRaw("", "1", "7", p[4]),
		"negative user":      s.encodeSessionRaw("abc", "-1", "7", p[4]),
		"expiry not numeric": s.encodeSessionRaw("abc", "1", "7", "soon"),
	}
	for name, v := range cases {
		if _, ok := s.decodeSession(v, now); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, ok := s.decodeSession(v, ss.Expires); ok {
		t.Error("accepted at its expiry")
	}
}

// encodeSessionRaw signs arbitrary fields, to prove that a valid MAC over
// malformed fields is still refused.
func (s signer) encodeSessionRaw(sid, uid, kid, exp string) string {
	f := []string{sid, uid, kid, exp}
	return "v1." + strings.Join(f, ".") + "." + s.mac("session", f...)
}

func TestConfirmationToken(t *testing.T) {
	s := signer{key: []byte("k1")}
	c := confirmation{Nonce: "n1", UserID: 2, Action: "regenerate", Expect: 5, Expires: time.Unix(1730721600, 0)}
	v := s.encodeConfirmation("sid1", c)
	if got, ok := s.decodeConfirmation("sid1", v); !ok || got != c {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	if _, ok := s.decodeConfirmation("sid2", v); ok {
		t.Error("accepted from another session")
	}
	for _, bad := range []string{strings.Replace(v, ".regenerate.", ".revoke.", 1), strings.Replace(v, ".2.", ".3.", 1), "", "n1.2"} {
		if _, ok := s.decodeConfirmation("sid1", bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestBurnList(t *testing.T) {
	b := newBurnList()
	now := time.Unix(0, 0)
	if !b.burn("x", now.Add(time.Minute), now) || b.burn("x", now.Add(time.Minute), now) {
		t.Fatal("burn must succeed once")
	}
	// Expired entries are pruned once the list is large; live ones stay.
	for i := range 2047 {
		b.burn("e"+utoa(uint(i)), now.Add(time.Second), now)
	}
	later := now.Add(2 * time.Second)
	b.burn("y", later.Add(time.Minute), later)
	if len(b.m) > 1100 || !b.burned("x") || !b.burned("y") {
		t.Errorf("after pruning: %d entries, x %v, y %v", len(b.m), b.burned("x"), b.burned("y"))
	}
}
