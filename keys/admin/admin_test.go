package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys/admin"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

func TestSignIn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, admin.Options{SessionTTL: time.Hour})
		cases := []struct {
			name   string
			key    string
			csrf   bool
			status int
		}{
			{"admin key", e.key[golden.Admin], true, http.StatusSeeOther},
			{"admin key in braces and upper case", "{" + strings.ToUpper(e.key[golden.Admin]) + "}", true, http.StatusSeeOther},
			{"non-admin key", e.key[golden.Alice], true, http.StatusForbidden},
			{"unknown key", "3f2504e0-4f89-41d3-9a0c-0305e82c3301", true, http.StatusUnauthorized},
			{"not a key", "hunter2", true, http.StatusUnauthorized},
			{"no sign-in CSRF token", e.key[golden.Admin], false, http.StatusForbidden},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				br := e.browser()
				f := fields(t, br.get("/Chime/Admin/signin").body, "/Chime/Admin/signin")
				if !c.csrf {
					f.Del("csrf")
				}
				f.Set("key", c.key)
				a := br.post("/Chime/Admin/signin", f)
				if a.status != c.status {
					t.Fatalf("status %d, want %d\n%s", a.status, c.status, a.body)
				}
				if c.status != http.StatusSeeOther {
					if br.cookie() != "" {
						t.Error("a refused sign-in set a session cookie")
					}
					return
				}
				set := a.header.Values("Set-Cookie")
				var sc string
				for _, s := range set {
					if strings.HasPrefix(s, "chime_admin=") {
						sc = s
					}
				}
				for _, want := range []string{"Path=/Chime/Admin/", "Max-Age=3600", "HttpOnly", "SameSite=Strict"} {
					if !strings.Contains(sc, want) {
						t.Errorf("session cookie %q lacks %s", sc, want)
					}
				}
				if strings.Contains(sc, "Secure") {
					t.Errorf("Secure on plain HTTP without Options.Secure: %q", sc)
				}
				k := e.key[golden.Admin]
				if strings.Contains(strings.ToLower(sc), k) || strings.Contains(strings.ToLower(sc), strings.ReplaceAll(k, "-", "")) {
					t.Errorf("the cookie holds the key: %q", sc)
				}
				if p := br.get("/Chime/Admin/people"); p.status != 200 || !strings.Contains(p.body, "Alice Manager") {
					t.Errorf("People after sign-in: %d", p.status)
				}
			})
		}
	})
}

func TestSecureCookie(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), admin.Options{Secure: true})
	br := e.browser()
	f := fields(t, br.get("/Chime/Admin/signin").body, "/Chime/Admin/signin")
	f.Set("key", e.key[golden.Admin])
	a := br.post("/Chime/Admin/signin", f)
	if sc := strings.Join(a.header.Values("Set-Cookie"), "\n"); !strings.Contains(sc, "chime_admin=") || !strings.Contains(sc, "; Secure") {
		t.Errorf("Options.Secure: %q", sc)
	}
}

func TestRejectedSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, admin.Options{SessionTTL: time.Hour})
		br := e.browser()
		br.signIn(e.key[golden.Admin])
		good := br.cookie()
		p := strings.Split(good, ".")
		other := newEnv(t, dbtest.SQLite(t), admin.Options{Secret: []byte("another secret")})
		ob := other.browser()
		ob.signIn(other.key[golden.Admin])

		cookies := map[string]string{
			"forged":                     "v1.x.1.1.99999999999.AAAA",
			"tampered user":              strings.Join([]string{p[0], p[1], "2", p[3], p[4], p[5]}, "."),
			"tampered expiry":            strings.Join([]string{p[0], p[1], p[2], p[3], "99999999999", p[5]}, "."),
			"signed by another instance": ob.cookie(),
			"the API key itself":         e.key[golden.Admin],
		}
		check := func(t *testing.T, cookie string) {
			t.Helper()
			hdr := []string{"Cookie", "chime_admin=" + cookie}
			for _, path := range []string{"/Chime/Admin/people", "/Chime/Admin/audit", "/Chime/Admin/settings/keys"} {
				a := e.browser().get(path, hdr...)
				if a.status != http.StatusSeeOther || a.location() != "/Chime/Admin/signin" {
					t.Errorf("%s: %d → %q, want a redirect to sign-in", path, a.status, a.location())
				}
			}
			a := e.browser().get("/Chime/Admin/api/users", hdr...)
			if a.status != http.StatusUnauthorized || errorCode(t, a) != "Unauthorized" || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("API: %d %s", a.status, a.body)
			}
		}
		for name, c := range cookies {
			t.Run(name, func(t *testing.T) { check(t, c) })
		}
		if a := e.browser().get("/Chime/Admin/api/users", "Cookie", "chime_admin="+good); a.status != 200 {
			t.Fatalf("the good cookie is refused by the API: %d %s", a.status, a.body)
		}
		t.Run("expired", func(t *testing.T) {
			e.clock.Add(61 * time.Minute)
			defer e.clock.Add(-61 * time.Minute)
			check(t, good)
		})
		t.Run("signed out", func(t *testing.T) {
			b2 := e.browser()
			b2.signIn(e.key[golden.Admin])
			kept := b2.cookie()
			f := fields(t, b2.get("/Chime/Admin/people").body, "/Chime/Admin/signout")
			if a := b2.post("/Chime/Admin/signout", f); a.status != http.StatusSeeOther || a.location() != "/Chime/Admin/signin?signedout=1" {
				t.Fatalf("sign out: %d %q", a.status, a.location())
			}
			check(t, kept)
		})
		t.Run("the admin's key was replaced", func(t *testing.T) {
			if _, err := e.keys.Generate(t.Context(), golden.Admin); err != nil {
				t.Fatal(err)
			}
			check(t, good)
		})
	})
}

func TestCSRF(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, admin.Options{})
		br := e.browser()
		br.signIn(e.key[golden.Admin])
		people := br.get("/Chime/Admin/people").body
		gen := fields(t, people, "/Chime/Admin/people/4/key") // ann has no key
		conf := br.get("/Chime/Admin/people/2/confirm?action=revoke").body
		rev := fields(t, conf, "/Chime/Admin/people/2/revoke")
		out := fields(t, people, "/Chime/Admin/signout")

		other := e.browser()
		other.signIn(e.key[golden.Admin])
		foreign := other.csrf()

		without := func(v url.Values, set string) url.Values {
			c := url.Values{}
			for k, x := range v {
				c[k] = x
			}
			if set == "" {
				c.Del("csrf")
			} else {
				c.Set("csrf", set)
			}
			return c
		}
		cases := []struct {
			name string
			path string
			form url.Values
		}{
			{"generate without token", "/Chime/Admin/people/4/key", without(gen, "")},
			{"generate with another session's token", "/Chime/Admin/people/4/key", without(gen, foreign)},
			{"revoke without token", "/Chime/Admin/people/2/revoke", without(rev, "")},
			{"revoke with a made-up token", "/Chime/Admin/people/2/revoke", without(rev, "AAAA")},
			{"sign out without token", "/Chime/Admin/signout", without(out, "")},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if a := br.post(c.path, c.form); a.status != http.StatusForbidden {
					t.Fatalf("status %d, want 403\n%s", a.status, a.body)
				}
			})
		}
		if e.allKeys(4) != 0 || e.activeKeys(golden.Alice) != 1 {
			t.Fatalf("a refused form changed keys: ann %d, alice active %d", e.allKeys(4), e.activeKeys(golden.Alice))
		}
		if a := br.get("/Chime/Admin/people"); a.status != 200 {
			t.Fatalf("the session ended after a refused sign-out: %d", a.status)
		}
		t.Run("cross-site request", func(t *testing.T) {
			if a := br.post("/Chime/Admin/people/2/revoke", rev, "Sec-Fetch-Site", "cross-site"); a.status != http.StatusForbidden {
				t.Fatalf("status %d", a.status)
			}
		})
		t.Run("API with the cookie needs the header", func(t *testing.T) {
			if a := br.do(http.MethodPost, "/Chime/Admin/api/users/4/key", nil); a.status != http.StatusForbidden || errorCode(t, a) != "Forbidden" {
				t.Fatalf("without X-CSRF-Token: %d %s", a.status, a.body)
			}
			if a := br.do(http.MethodPost, "/Chime/Admin/api/users/4/key", nil, "X-CSRF-Token", br.csrf()); a.status != http.StatusCreated {
				t.Fatalf("with X-CSRF-Token: %d %s", a.status, a.body)
			}
		})
		t.Run("the good tokens work", func(t *testing.T) {
			if a := br.post("/Chime/Admin/people/2/revoke", rev); a.status != http.StatusSeeOther {
				t.Fatalf("revoke: %d %s", a.status, a.body)
			}
			if e.activeKeys(golden.Alice) != 0 {
				t.Error("alice's key is still active")
			}
		})
	})
}

func TestReplayedConfirmation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, admin.Options{})
		br := e.browser()
		br.signIn(e.key[golden.Admin])
		old := e.key[golden.Alice]

		conf := br.get("/Chime/Admin/people/2/confirm?action=regenerate")
		if conf.status != 200 || !strings.Contains(conf.body, "stops working <strong>at once</strong>") {
			t.Fatalf("confirmation page: %d\n%s", conf.status, conf.body)
		}
		form := fields(t, conf.body, "/Chime/Admin/people/2/key")
		first := br.post("/Chime/Admin/people/2/key", form)
		if first.status != 200 || !strings.Contains(first.body, `id="new-key"`) {
			t.Fatalf("regenerate: %d\n%s", first.status, first.body)
		}
		keysAfter := e.allKeys(golden.Alice)
		replay := br.post("/Chime/Admin/people/2/key", form)
		if replay.status != http.StatusForbidden || !strings.Contains(replay.body, "already submitted") {
			t.Fatalf("replay: %d\n%s", replay.status, replay.body)
		}
		if e.allKeys(golden.Alice) != keysAfter || e.activeKeys(golden.Alice) != 1 {
			t.Fatalf("the replay regenerated again: %d keys, %d active", e.allKeys(golden.Alice), e.activeKeys(golden.Alice))
		}
		if e.reportStatus(old) != http.StatusUnauthorized {
			t.Error("the old key still works")
		}

		t.Run("a form for a key that has changed since", func(t *testing.T) {
			stale := fields(t, br.get("/Chime/Admin/people/3/confirm?action=regenerate").body, "/Chime/Admin/people/3/key")
			if _, err := e.keys.Generate(t.Context(), golden.Bob); err != nil {
				t.Fatal(err)
			}
			if a := br.post("/Chime/Admin/people/3/key", stale); a.status != http.StatusForbidden || !strings.Contains(a.body, "changed since") {
				t.Fatalf("%d\n%s", a.status, a.body)
			}
		})
		t.Run("an expired form", func(t *testing.T) {
			f := fields(t, br.get("/Chime/Admin/people/3/confirm?action=revoke").body, "/Chime/Admin/people/3/revoke")
			e.clock.Add(16 * time.Minute)
			if a := br.post("/Chime/Admin/people/3/revoke", f); a.status != http.StatusForbidden || !strings.Contains(a.body, "expired") {
				t.Fatalf("%d\n%s", a.status, a.body)
			}
		})
		t.Run("a form used for another user or action", func(t *testing.T) {
			f := fields(t, br.get("/Chime/Admin/people/3/confirm?action=revoke").body, "/Chime/Admin/people/3/revoke")
			if a := br.post("/Chime/Admin/people/1/revoke", f); a.status != http.StatusForbidden {
				t.Fatalf("other user: %d", a.status)
			}
			f.Set("action", "regenerate")
			if a := br.post("/Chime/Admin/people/3/key", f); a.status != http.StatusForbidden {
				t.Fatalf("other action: %d", a.status)
			}
		})
		t.Run("a one-click generate posted twice", func(t *testing.T) {
			f := fields(t, br.get("/Chime/Admin/people").body, "/Chime/Admin/people/5/key")
			if a := br.post("/Chime/Admin/people/5/key", f); a.status != 200 {
				t.Fatalf("generate: %d", a.status)
			}
			if a := br.post("/Chime/Admin/people/5/key", f); a.status != http.StatusForbidden {
				t.Fatalf("second post: %d", a.status)
			}
			if e.allKeys(5) != 1 {
				t.Errorf("ben has %d keys", e.allKeys(5))
			}
		})
	})
}

func TestNewKeyPage(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), admin.Options{BaseURL: "https://chime.example.com"})
	br := e.browser()
	br.signIn(e.key[golden.Admin])
	f := fields(t, br.get("/Chime/Admin/people").body, "/Chime/Admin/people/4/key")
	a := br.post("/Chime/Admin/people/4/key", f)
	var k models.APIKey
	e.b.DB.Where("user_id = ? AND revoked_at IS NULL", 4).First(&k)
	for _, want := range []string{
		`curl -H &#34;Authorization: Bearer `,
		`&#39;https://chime.example.com/Chime/Report/InboundVsAnsweredChats?queueId=1&amp;csv=true&#39;`,
		`Web.Contents(&#34;https://chime.example.com&#34;`, `api_key = &#34;`,
		`OData.Feed(&#34;https://chime.example.com/odata/&#34;, null, [Implementation = &#34;2.0&#34;, ApiKeyName = &#34;api_key&#34;])`,
		`data-copy="new-key"`, "shown only this once", k.KeyHint,
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("new key page lacks %s", want)
		}
	}
	csp := a.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'nonce-") || strings.Contains(csp, "unsafe-inline") || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: CSP %q, Cache-Control %q", csp, a.header.Get("Cache-Control"))
	}
	// Afterwards only the mask.
	people := br.get("/Chime/Admin/people").body
	if !strings.Contains(people, "••••••••-••••-••••-••••-••••••••"+k.KeyHint) {
		t.Error("People does not show the mask")
	}
	start := strings.Index(a.body, `id="new-key"`)
	key := a.body[strings.Index(a.body[start:], ">")+start+1:]
	key = key[:strings.Index(key, "<")]
	for _, p := range []string{"/Chime/Admin/people", "/Chime/Admin/settings/keys", "/Chime/Admin/audit"} {
		if strings.Contains(br.get(p).body, key) {
			t.Errorf("%s shows the full key", p)
		}
	}
}

func TestAdminActionsAreAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, admin.Options{})
		start := e.clock.Now()
		br := e.browser()
		br.signIn(e.key[golden.Admin])
		gen := fields(t, br.get("/Chime/Admin/people").body, "/Chime/Admin/people/4/key")
		br.post("/Chime/Admin/people/4/key", gen)
		re := fields(t, br.get("/Chime/Admin/people/4/confirm?action=regenerate").body, "/Chime/Admin/people/4/key")
		br.post("/Chime/Admin/people/4/key", re)
		rv := fields(t, br.get("/Chime/Admin/people/4/confirm?action=revoke").body, "/Chime/Admin/people/4/revoke")
		br.post("/Chime/Admin/people/4/revoke", rv)
		out := fields(t, br.get("/Chime/Admin/people").body, "/Chime/Admin/signout")
		br.post("/Chime/Admin/signout", out)
		refused := e.browser()
		f := fields(t, refused.get("/Chime/Admin/signin").body, "/Chime/Admin/signin")
		f.Set("key", e.key[golden.Alice])
		refused.post("/Chime/Admin/signin", f)
		e.api(http.MethodPost, "/Chime/Admin/api/users/5/key", e.key[golden.Admin])
		e.api(http.MethodDelete, "/Chime/Admin/api/users/5/key", e.key[golden.Admin])

		var recs []models.AuditRecord
		e.b.DB.Where("at >= ? AND method = ?", models.UTC(start), "POST").Or("method = ?", "DELETE").Order("id").Find(&recs)
		type row struct {
			user   uint
			route  string
			status int
			query  string
		}
		want := []row{
			{golden.Admin, "/Chime/Admin/signin", 303, "action=signin"},
			{golden.Admin, "/Chime/Admin/people/4/key", 200, "action=key.generate&login=ann&newKeyHint="},
			{golden.Admin, "/Chime/Admin/people/4/key", 200, "action=key.regenerate&login=ann&newKeyHint="},
			{golden.Admin, "/Chime/Admin/people/4/revoke", 303, "action=key.revoke&login=ann&userId=4"},
			{golden.Admin, "/Chime/Admin/signout", 303, "action=signout"},
			{golden.Alice, "/Chime/Admin/signin", 403, "action=signin.refused"},
			{golden.Admin, "/Chime/Admin/api/users/5/key", 201, ""},
			{golden.Admin, "/Chime/Admin/api/users/5/key", 200, ""},
		}
		if len(recs) != len(want) {
			for _, r := range recs {
				t.Logf("%+v", r)
			}
			t.Fatalf("%d audit records of actions, want %d", len(recs), len(want))
		}
		adminHint := e.key[golden.Admin][32:]
		for i, w := range want {
			r := recs[i]
			if r.UserID != w.user || r.Route != w.route || r.Status != w.status || !strings.HasPrefix(r.Query, w.query) {
				t.Errorf("record %d: %d %s %d %q, want %d %s %d %q…", i, r.UserID, r.Route, r.Status, r.Query, w.user, w.route, w.status, w.query)
			}
			if w.user == golden.Admin && r.KeyHint != adminHint {
				t.Errorf("record %d: key hint %q, want the admin's %q", i, r.KeyHint, adminHint)
			}
		}
		// Page views made with the session are audited too, as calls made with a key are.
		var views int64
		e.b.DB.Model(&models.AuditRecord{}).Where("user_id = ? AND route = ? AND method = ?", golden.Admin, "/Chime/Admin/people", "GET").Count(&views)
		if views != 2 {
			t.Errorf("%d audited views of People", views)
		}
		// No record holds a key.
		var leaked int64
		for _, k := range e.key {
			var n int64
			e.b.DB.Model(&models.AuditRecord{}).Where("query LIKE ?", "%"+k+"%").Count(&n)
			leaked += n
		}
		if leaked != 0 {
			t.Errorf("%d audit records hold a key", leaked)
		}
	})
}

func TestAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, admin.Options{})
		adminKey := e.key[golden.Admin]
		for _, c := range []struct {
			name, method, path, key string
			status                  int
			code                    string
		}{
			{"no credentials", "GET", "/Chime/Admin/api/users", "", 401, "Unauthorized"},
			{"unknown key", "GET", "/Chime/Admin/api/users", "3f2504e0-4f89-41d3-9a0c-0305e82c3301", 401, "Unauthorized"},
			{"non-admin key: users", "GET", "/Chime/Admin/api/users", e.key[golden.Alice], 403, "Forbidden"},
			{"non-admin key: keys", "GET", "/Chime/Admin/api/keys", e.key[golden.Bob], 403, "Forbidden"},
			{"non-admin key: generate", "POST", "/Chime/Admin/api/users/2/key", e.key[golden.Alice], 403, "Forbidden"},
			{"non-admin key: revoke", "DELETE", "/Chime/Admin/api/users/3/key", e.key[golden.Alice], 403, "Forbidden"},
			{"non-admin key: audit", "GET", "/Chime/Admin/api/audit", e.key[golden.Alice], 403, "Forbidden"},
			{"bad user id", "POST", "/Chime/Admin/api/users/abc/key", adminKey, 400, "InvalidParameter"},
			{"unknown user", "POST", "/Chime/Admin/api/users/999/key", adminKey, 404, "NotFound"},
			{"nothing to revoke", "DELETE", "/Chime/Admin/api/users/4/key", adminKey, 404, "NotFound"},
			{"bad filter", "GET", "/Chime/Admin/api/audit?status=abc", adminKey, 400, "InvalidParameter"},
			{"misspelt filter", "GET", "/Chime/Admin/api/audit?usr=alice", adminKey, 400, "InvalidParameter"},
			{"unknown user filter", "GET", "/Chime/Admin/api/audit?user=nobody-here", adminKey, 400, "InvalidParameter"},
			{"bad time", "GET", "/Chime/Admin/api/audit?from=2024-13-01", adminKey, 400, "InvalidParameter"},
			{"bad cursor", "GET", "/Chime/Admin/api/audit?cursor=-5", adminKey, 400, "InvalidParameter"},
			{"limit too large", "GET", "/Chime/Admin/api/audit?limit=100000", adminKey, 400, "InvalidParameter"},
		} {
			t.Run(c.name, func(t *testing.T) {
				a := e.api(c.method, c.path, c.key)
				if a.status != c.status || errorCode(t, a) != c.code {
					t.Fatalf("%d %s, want %d %s", a.status, a.body, c.status, c.code)
				}
			})
		}

		t.Run("users", func(t *testing.T) {
			a := e.api("GET", "/Chime/Admin/api/users", adminKey)
			var body struct{ Users []admin.Person }
			if err := json.Unmarshal([]byte(a.body), &body); err != nil || a.status != 200 {
				t.Fatalf("%d %v %s", a.status, err, a.body)
			}
			var alice *admin.Person
			for i := range body.Users {
				if body.Users[i].Login == "alice" {
					alice = &body.Users[i]
				}
			}
			if len(body.Users) != 8 || alice == nil || len(alice.Queues) != 2 || alice.Queues[0].Role != "manager" || alice.Key == nil ||
				!strings.HasSuffix(alice.Key.Masked, e.key[golden.Alice][32:]) {
				t.Errorf("users: %s", a.body)
			}
			if strings.Contains(a.body, e.key[golden.Alice]) || strings.Contains(a.body, "keyHash") {
				t.Error("the user list leaks a key")
			}
		})

		var fresh string
		t.Run("generate, use, list, revoke", func(t *testing.T) {
			a := e.api("POST", "/Chime/Admin/api/users/2/key", adminKey)
			var nk admin.NewKey
			if err := json.Unmarshal([]byte(a.body), &nk); err != nil || a.status != 201 || nk.UserID != 2 || nk.Login != "alice" || !nk.Replaced {
				t.Fatalf("%d %s", a.status, a.body)
			}
			fresh = nk.Key
			if e.reportStatus(e.key[golden.Alice]) != 401 || e.reportStatus(fresh) != 200 {
				t.Error("old key should fail and the new one work")
			}
			ks := e.api("GET", "/Chime/Admin/api/keys", adminKey)
			var kb struct{ Keys []admin.KeyEntry }
			json.Unmarshal([]byte(ks.body), &kb)
			if len(kb.Keys) != 4 || kb.Keys[0].Login != "alice" || kb.Keys[0].Status != "active" || strings.Contains(ks.body, fresh) {
				t.Errorf("keys: %s", ks.body)
			}
			statuses := map[string]int{}
			for _, k := range kb.Keys {
				statuses[k.Status]++
			}
			if statuses["active"] != 3 || statuses["revoked"] != 1 {
				t.Errorf("statuses %v", statuses)
			}
			if d := e.api("DELETE", "/Chime/Admin/api/users/2/key", adminKey); d.status != 200 || e.reportStatus(fresh) != 401 {
				t.Errorf("revoke: %d %s", d.status, d.body)
			}
		})
		t.Run("api_key and Basic work too", func(t *testing.T) {
			if a := e.api("GET", "/Chime/Admin/api/keys?api_key="+adminKey, ""); a.status != 200 {
				t.Errorf("api_key: %d", a.status)
			}
			br := e.browser()
			if a := br.get("/Chime/Admin/api/keys", "Authorization", "Basic "+basic("x:"+adminKey)); a.status != 200 {
				t.Errorf("basic: %d", a.status)
			}
		})
	})
}

func TestAuditPaging(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, admin.Options{})
		base := time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)
		var recs []models.AuditRecord
		for i := range 25 {
			status := 200
			if i%5 == 4 {
				status = 404
			}
			recs = append(recs, models.AuditRecord{At: base.Add(time.Duration(i) * time.Hour), UserID: golden.Bob, KeyHint: "abcd",
				Method: "GET", Route: "/Chime/Report/InboundVsAnsweredChats", Query: "queueId=3&n=" + utoa(i), Status: status})
		}
		recs = append(recs, models.AuditRecord{At: base, UserID: golden.Bob, KeyHint: "abcd", Method: "GET",
			Route: "/Chime/Report_Other", Status: 200, UserAgent: "=cmd|' /C calc'!A0"})
		if err := e.b.DB.Create(&recs).Error; err != nil {
			t.Fatal(err)
		}
		adminKey := e.key[golden.Admin]
		type page struct {
			Items []admin.AuditEntry
			Next  *string `json:"nextCursor"`
			Limit int
		}
		get := func(q string) page {
			t.Helper()
			a := e.api("GET", "/Chime/Admin/api/audit?"+q, adminKey)
			var p page
			if err := json.Unmarshal([]byte(a.body), &p); err != nil || a.status != 200 {
				t.Fatalf("%s: %d %v %s", q, a.status, err, a.body)
			}
			return p
		}

		filter := "user=bob&route=/Chime/Report/Inbound"
		var sizes []int
		var seen []uint
		cursor := ""
		for range 5 {
			p := get(filter + "&limit=10" + cursor)
			sizes = append(sizes, len(p.Items))
			for _, it := range p.Items {
				seen = append(seen, it.ID)
			}
			if p.Next == nil {
				break
			}
			cursor = "&cursor=" + *p.Next
		}
		if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 5 {
			t.Fatalf("page sizes %v, want [10 10 5]", sizes)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] >= seen[i-1] {
				t.Fatalf("ids not strictly newest first: %v", seen)
			}
		}

		// The route prefix treats _ and % literally.
		if p := get("route=/Chime/Report_"); len(p.Items) != 1 {
			t.Errorf("route prefix with _: %d items", len(p.Items))
		}
		if p := get("user=bob&status=4xx"); len(p.Items) != 5 || p.Items[0].Status != 404 || p.Items[0].Login != "bob" {
			t.Errorf("status=4xx: %+v", p.Items)
		}
		if p := get("user=3&status=404&limit=2"); len(p.Items) != 2 || p.Next == nil {
			t.Errorf("user by id, status=404, limit 2: %d, next %v", len(p.Items), p.Next)
		}
		// from 01:00 to 03:00 inclusive at the minute: records 1, 2 and 3.
		if p := get("user=bob&route=/Chime/Report/I&from=2024-10-01T01:00&to=2024-10-01T03:00"); len(p.Items) != 3 ||
			p.Items[0].Query != "queueId=3&n=3" || !p.Items[2].At.Equal(base.Add(time.Hour)) {
			t.Errorf("time range: %+v", p.Items)
		}
		if p := get("user=bob&route=/Chime/Report/I&to=2024-10-01"); len(p.Items) != 24 {
			t.Errorf("to a date covers the whole day: %d", len(p.Items))
		}

		t.Run("CSV export neutralises formulas", func(t *testing.T) {
			br := e.browser()
			br.signIn(adminKey)
			a := br.get("/Chime/Admin/audit.csv?user=bob&bom=true")
			if a.status != 200 || a.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
				!strings.Contains(a.header.Get("Content-Disposition"), `filename="audit_log_`) {
				t.Fatalf("%d %v", a.status, a.header)
			}
			lines := strings.Split(strings.TrimSuffix(a.body, "\r\n"), "\r\n")
			if len(lines) != 27 || !strings.HasPrefix(lines[0], "\uFEFFId,At,UserId,Login,") {
				t.Fatalf("%d lines; header %q", len(lines), lines[0])
			}
			if !strings.Contains(a.body, ",'=cmd|' /C calc'!A0,complete\r\n") || !strings.HasSuffix(lines[0], ",UserAgent,Outcome") {
				t.Errorf("formula not neutralised, or no outcome:\n%s", a.body)
			}
			if a := br.get("/Chime/Admin/audit.csv?user=bob&outcome=stalled"); a.status != 200 || strings.Count(a.body, "\r\n") != 1 {
				t.Errorf("no record of bob's is stalled: %d\n%s", a.status, a.body)
			}
		})
		t.Run("the page pages too", func(t *testing.T) {
			br := e.browser()
			br.signIn(adminKey)
			p := br.get("/Chime/Admin/audit?user=bob&status=4xx")
			if p.status != 200 || strings.Count(p.body, "<td class=\"num\">404</td>") != 5 {
				t.Fatalf("%d\n%s", p.status, p.body)
			}
			bad := br.get("/Chime/Admin/audit?status=abc")
			if bad.status != 400 || !strings.Contains(bad.body, `role="alert"`) {
				t.Errorf("bad filter: %d", bad.status)
			}
		})
	})
}

func TestDatabaseDown(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), admin.Options{})
	br := e.browser()
	br.signIn(e.key[golden.Admin])
	if s, _ := e.b.DB.DB(); s != nil {
		s.Close()
	}
	if a := br.get("/Chime/Admin/people"); a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
		t.Errorf("page: %d %v", a.status, a.header)
	}
	a := br.get("/Chime/Admin/api/audit")
	if a.status != http.StatusServiceUnavailable || errorCode(t, a) != "ServiceUnavailable" {
		t.Errorf("API: %d %s", a.status, a.body)
	}
}
