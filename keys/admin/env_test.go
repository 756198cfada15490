package admin_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/keys/admin"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/native"
)

// clock is a test clock that moves only when told, one second per reading
// so that audit records get distinct, ordered times.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a server with the native routes behind the key middleware and the
// admin surface, over the golden data set; admin, alice and bob have keys.
type env struct {
	t     *testing.T
	b     dbtest.Backend
	clock *clock // nil for newEnvAt
	keys  *keys.Service
	srv   *httptest.Server
	key   map[uint]string
}

const secret = "a test secret of at least thirty-two bytes"

func newEnv(t *testing.T, b dbtest.Backend, opt admin.Options) *env {
	t.Helper()
	c := &clock{t: golden.Now}
	e := newEnvAt(t, b, opt, c.Now)
	e.clock = c
	return e
}

// newEnvAt is newEnv with the clock now.
func newEnvAt(t *testing.T, b dbtest.Backend, opt admin.Options, now func() time.Time) *env {
	t.Helper()
	ctx := context.Background()
	if err := golden.Load(ctx, b.DB); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, b: b, key: map[uint]string{}}
	e.keys = keys.New(b.DB, now, nil)
	for _, u := range []uint{golden.Admin, golden.Alice, golden.Bob} {
		k, err := e.keys.Generate(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		e.key[u] = k
	}
	opt.Clock = now
	if opt.Secret == nil {
		opt.Secret = []byte(secret)
	}
	e.srv = httptest.NewServer(handler(b, e.keys, now, opt))
	t.Cleanup(e.srv.Close)
	return e
}

// handler assembles the routes as cmd/chime-reports newHandler does, plus
// the admin surface.
func handler(b dbtest.Backend, ks *keys.Service, now func() time.Time, opt admin.Options) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	authed := r.Group("/", ks.Authenticate())
	native.New(reports.NewEngine(b.DB, now), nil, native.Options{}).Register(authed)
	admin.New(ks, b.DB, opt).Register(r)
	r.NoRoute(func(c *gin.Context) { apierror.Write(c.Writer, apierror.NotFoundf("no such route")) })
	return r
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see every 303.
type browser struct {
	e   *env
	c   *http.Client
	jar *cookiejar.Jar
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, jar: jar, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) location() string { return a.header.Get("Location") }

func (b *browser) do(method, path string, form url.Values, hdr ...string) answer {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(raw)}
}

func (b *browser) get(path string, hdr ...string) answer {
	b.e.t.Helper()
	return b.do(http.MethodGet, path, nil, hdr...)
}

func (b *browser) post(path string, form url.Values, hdr ...string) answer {
	b.e.t.Helper()
	return b.do(http.MethodPost, path, form, hdr...)
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

// fields returns the hidden fields of the form whose action is action.
func fields(t *testing.T, page, action string) url.Values {
	t.Helper()
	i := strings.Index(page, `action="`+action+`"`)
	if i < 0 {
		t.Fatalf("no form posting to %s in:\n%s", action, page)
	}
	rest := page[i:]
	rest = rest[:strings.Index(rest, "</form>")]
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(rest, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// signIn signs the browser in with key and checks the redirect to People.
func (b *browser) signIn(key string) {
	b.e.t.Helper()
	page := b.get("/Chime/Admin/signin")
	f := fields(b.e.t, page.body, "/Chime/Admin/signin")
	f.Set("key", key)
	a := b.post("/Chime/Admin/signin", f)
	if a.status != http.StatusSeeOther || a.location() != "/Chime/Admin/people" {
		b.e.t.Fatalf("sign-in: %d → %q\n%s", a.status, a.location(), a.body)
	}
}

// cookie returns the browser's session cookie value.
func (b *browser) cookie() string {
	u, _ := url.Parse(b.e.srv.URL + "/Chime/Admin/")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "chime_admin" {
			return c.Value
		}
	}
	return ""
}

// csrf reads the session's CSRF token from a page.
func (b *browser) csrf() string {
	b.e.t.Helper()
	return fields(b.e.t, b.get("/Chime/Admin/people").body, "/Chime/Admin/signout").Get("csrf")
}

// api calls the JSON API with an API key (key "" : none).
func (e *env) api(method, path, key string) answer {
	e.t.Helper()
	b := e.browser()
	if key == "" {
		return b.do(method, path, nil)
	}
	return b.do(method, path, nil, "Authorization", "Bearer "+key)
}

// errorCode checks the one error shape and returns its code.
func errorCode(t *testing.T, a answer) string {
	t.Helper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Fatalf("error content type %q: %s", a.header.Get("Content-Type"), a.body)
	}
	if err := json.Unmarshal([]byte(a.body), &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("not the error shape (%v): %s", err, a.body)
	}
	return body.Error.Code
}

// activeKeys counts a user's keys that are not revoked.
func (e *env) activeKeys(user uint) int64 {
	var n int64
	e.b.DB.Model(&models.APIKey{}).Where("user_id = ? AND revoked_at IS NULL", user).Count(&n)
	return n
}

// allKeys counts every key of a user.
func (e *env) allKeys(user uint) int64 {
	var n int64
	e.b.DB.Model(&models.APIKey{}).Where("user_id = ?", user).Count(&n)
	return n
}

// reportStatus fetches the report of the acceptance test with key.
func (e *env) reportStatus(key string) int {
	e.t.Helper()
	return e.api(http.MethodGet, "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-11-01&stop=2024-11-04", key).status
}

func utoa(i int) string { return strconv.Itoa(i) }

func basic(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
