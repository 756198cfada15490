package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports"
)

var updateShots = flag.Bool("update", false, "also write the API reference screenshot into docs/api/")

// chromiumPath is Debian's chromium, installed by .ci/install-chromium.
const chromiumPath = "/usr/bin/chromium"

// TestAPIReferencePage opens /Chime/docs in a headless Chromium: the page
// renders from the embedded assets and the served description with no
// console error (a Content-Security-Policy violation is one), lists every
// report, and "try it" with a key returns a report's data.
func TestAPIReferencePage(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing, so the API reference cannot be tested in a browser: run .ci/install-chromium first", chromiumPath)
		}
		t.Skipf("%s is missing: run .ci/install-chromium (as root) to run the browser test", chromiumPath)
	}
	if testing.Short() {
		t.Skip("the browser test is not short")
	}
	e := newEnv(t, dbtest.SQLite(t))

	// The bound only stops a hung browser from holding the test run; no
	// step is timed.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctx, cancel = chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // root in CI
		chromedp.Flag("disable-gpu", true),
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

	var (
		mu       sync.Mutex
		problems []string
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, m.String()+" "+m.URL)
				mu.Unlock()
			}
		}
	}()
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	do("open", chromedp.EmulateViewport(1366, 900), chromedp.Navigate(e.srv.URL+"/Chime/docs"),
		chromedp.WaitVisible(chromedp.CSS(".swagger-ui .information-container")),
		chromedp.WaitVisible(chromedp.CSS(".opblock-tag")))
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}

	// Every report (and catalog route) is listed.
	paths, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('.opblock-summary-path')).map(e => e.getAttribute('data-path'))`))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, p := range paths {
		listed[p] = true
	}
	for _, r := range reports.All() {
		if !listed["/Chime/Report/"+r.Name] {
			t.Errorf("the page does not list %s", r.Name)
		}
	}
	for _, c := range reports.Categories {
		if !listed["/Chime/Report/"+c.Route] {
			t.Errorf("the page does not list %s", c.Route)
		}
	}
	if !listed["/Chime/Session/SessionDetails/{SessionID}"] {
		t.Error("the page does not list SessionDetails")
	}

	// Authorize with alice's key (Bearer), then try InboundVsAnsweredChats.
	do("authorize",
		chromedp.Click(chromedp.CSS(".auth-wrapper .btn.authorize")),
		chromedp.WaitVisible(chromedp.CSS(`input[aria-label="auth-bearer-value"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[aria-label="auth-bearer-value"]`), e.key[golden.Alice]),
		chromedp.Click(chromedp.Search(`//form[.//input[@aria-label="auth-bearer-value"]]//button[contains(@class,"authorize")]`)),
		chromedp.Click(chromedp.CSS(".btn-done")))
	op := `#operations-QueueBasic-InboundVsAnsweredChats`
	param := func(name string) chromedp.CSS {
		return chromedp.CSS(op + ` tr[data-param-name="` + name + `"] input`)
	}
	do("open the operation",
		chromedp.Click(chromedp.CSS(op+" .opblock-summary-control")),
		chromedp.WaitVisible(param("queueId")))
	// The inputs hold the description's examples; replace them the way
	// typing and leaving the field does, so that the page takes the values.
	for name, value := range map[string]string{"start": "2024-10-26", "stop": "2024-11-04", "zone": "America/New_York", "queueId": "1"} {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
			const el = document.querySelector('`+string(param(name))+`');
			el.focus();
			Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, '`+value+`');
			el.dispatchEvent(new Event('input', {bubbles: true}));
			el.blur(); // the page takes a typed value when the input loses focus
			return true;
		})()`)); err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
	}
	do("try it",
		chromedp.Click(chromedp.CSS(op+" .btn.execute")),
		chromedp.WaitVisible(chromedp.CSS(op+" .live-responses-table .response .response-col_status")))
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(op+" .live-responses-table .response .response-col_status")))
	if err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(op+" .live-responses-table .response-col_description pre")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(strings.TrimSpace(status), "200") || !strings.Contains(body, `"report": "InboundVsAnsweredChats"`) || !strings.Contains(body, `"Date": "2024-11-03"`) {
		t.Errorf("try it: %q\n%s", status, body)
	}
	mu.Lock()
	if len(problems) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
	}
	mu.Unlock()

	dir := t.TempDir()
	if *updateShots {
		dir = filepath.Join("..", "..", "docs", "api")
	}
	if err := os.WriteFile(filepath.Join(dir, "reference.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
}
