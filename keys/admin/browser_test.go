package admin_test

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys/admin"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

var update = flag.Bool("update", false, "also write the screenshots of the browser test into docs/admin/")

// chromiumPath is Debian's chromium, installed by .ci/install-chromium.
const chromiumPath = "/usr/bin/chromium"

// TestBrowser drives the admin pages in a real headless Chromium through
// the acceptance scenario of the admin pages: sign in, generate a key for alice,
// confirm its regeneration, see the old key fail and the new one work,
// revoke, read the audit trail, sign out. It saves a screenshot of each
// page into $CHIME_ARTIFACTS (default: a new temporary folder, logged), and
// with -update into docs/admin/ as well.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing, so the admin pages cannot be tested in a browser: run .ci/install-chromium first", chromiumPath)
		}
		t.Skipf("%s is missing: run .ci/install-chromium (as root) to run the browser test", chromiumPath)
	}
	if testing.Short() {
		t.Skip("the browser test is not short")
	}
	// The real clock, so that the screenshots show plausible times.
	e := newEnvAt(t, dbtest.SQLite(t), admin.Options{}, time.Now)
	if _, err := e.keys.Revoke(context.Background(), golden.Alice); err != nil { // alice starts without a key
		t.Fatal(err)
	}
	shots := artifacts(t)

	// The bound only stops a hung browser from holding the test run; no
	// step is timed.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctx, cancel = chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // root in CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		shots.save(t, name, png)
	}
	url := e.srv.URL + "/Chime/Admin/"

	// A laptop screen.
	do("viewport", chromedp.EmulateViewport(1366, 768))

	// Sign in: /Chime/Admin/ without a session lands on the sign-in page.
	do("open", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("key")))
	shot("signin")
	do("sign in",
		chromedp.SendKeys(chromedp.ID("key"), e.key[golden.Admin]),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("people")))
	if got := text("#user-2 td:nth-of-type(3)"); got != "No key" {
		t.Fatalf("alice's key status before: %q", got)
	}
	shot("people")

	// Generate a key for alice: shown once, with the snippets.
	do("generate", chromedp.Click(chromedp.ID("generate-2")), chromedp.WaitVisible(chromedp.ID("new-key")))
	first := text("#new-key")
	if !strings.Contains(text("#snippet-curl"), `Authorization: Bearer `+first) || !strings.Contains(text("#snippet-web"), `api_key = "`+first+`"`) {
		t.Errorf("snippets do not carry the new key")
	}
	do("copy", chromedp.Click(chromedp.CSS(`button[data-copy="new-key"]`)), chromedp.WaitVisible(chromedp.Search(`//span[@id="new-key-copied" and text()="Copied"]`)))
	shot("new-key")

	// Afterwards only the mask; regenerate asks first.
	do("back", chromedp.Click(chromedp.ID("back")), chromedp.WaitVisible(chromedp.ID("regenerate-2")))
	if status := text("#user-2 td:nth-of-type(3)"); strings.Contains(status, first) || !strings.Contains(status, first[32:]) {
		t.Errorf("People shows %q after generation", status)
	}
	do("ask to regenerate", chromedp.Click(chromedp.ID("regenerate-2")), chromedp.WaitVisible(chromedp.ID("confirm")))
	shot("confirm-regenerate")
	do("confirm", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("new-key")))
	second := text("#new-key")
	if second == first {
		t.Fatal("regeneration showed the same key")
	}

	// The old key fails at once; the new one works.
	if s := e.reportStatus(first); s != http.StatusUnauthorized {
		t.Errorf("old key: %d, want 401", s)
	}
	if s := e.reportStatus(second); s != http.StatusOK {
		t.Errorf("new key: %d, want 200", s)
	}

	// Revoke, with its confirmation.
	do("back", chromedp.Click(chromedp.ID("back")), chromedp.WaitVisible(chromedp.ID("revoke-2")))
	do("ask to revoke", chromedp.Click(chromedp.ID("revoke-2")), chromedp.WaitVisible(chromedp.ID("confirm")))
	shot("confirm-revoke")
	do("revoke", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.CSS(`p.notice`)))
	if n := text("p.notice"); !strings.Contains(n, "Alice Manager (alice) was revoked") {
		t.Errorf("notice %q", n)
	}
	if s := e.reportStatus(second); s != http.StatusUnauthorized {
		t.Errorf("revoked key: %d, want 401", s)
	}

	// Settings › API Keys: alice's three keys (one from the set-up), all
	// revoked, masked.
	do("keys", chromedp.Click(chromedp.Search(`//a[text()="Settings › API keys"]`)), chromedp.WaitVisible(chromedp.ID("keys")))
	keysTable := text("#keys")
	if strings.Contains(keysTable, first) || strings.Contains(keysTable, second) || strings.Count(keysTable, "Revoked") != 3 {
		t.Errorf("API keys page:\n%s", keysTable)
	}
	shot("keys")

	// The audit trail holds every admin action and alice's report call.
	do("audit", chromedp.Click(chromedp.Search(`//a[text()="Audit"]`)), chromedp.WaitVisible(chromedp.ID("audit")))
	trail := text("#audit")
	for _, want := range []string{"action=signin", "action=key.generate", "action=key.regenerate", "action=key.revoke", "/Chime/Report/InboundVsAnsweredChats"} {
		if !strings.Contains(trail, want) {
			t.Errorf("the audit trail lacks %s", want)
		}
	}
	shot("audit")
	do("filter",
		chromedp.SetValue(chromedp.ID("f-user"), "alice"),
		chromedp.Click(chromedp.ID("filter")),
		chromedp.WaitVisible(chromedp.Search(`//caption[text()="1 records on this page"]`)))
	if row := text("#audit tbody tr"); !strings.Contains(row, "GET /Chime/Report/InboundVsAnsweredChats") || !strings.Contains(row, "200") {
		t.Errorf("alice's calls: %q", row)
	}

	// Sign out: back to the sign-in page, and People is closed.
	do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("key")))
	if n := text("p.notice"); n != "You are signed out." {
		t.Errorf("after sign-out: %q", n)
	}
	do("people after sign-out", chromedp.Navigate(url+"people"), chromedp.WaitVisible(chromedp.ID("key")))
}

// shotDir is where screenshots go.
type shotDir struct{ dir, docs string }

func artifacts(t *testing.T) shotDir {
	t.Helper()
	dir := os.Getenv("CHIME_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "chime-admin-screens-"); err != nil {
			t.Fatal(err)
		}
	}
	dir = filepath.Join(dir, "admin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", dir)
	s := shotDir{dir: dir}
	if *update {
		s.docs = filepath.Join("..", "..", "docs", "admin")
		if err := os.MkdirAll(s.docs, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s shotDir) save(t *testing.T, name string, png []byte) {
	t.Helper()
	for _, d := range []string{s.dir, s.docs} {
		if d == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
