package uitest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/evote/evote/web"
	"github.com/evote/evote/web/webtest"
)

// chromiumPath is the browser the tests run (Debian's chromium package;
// EVOTE_CHROMIUM overrides it).
func chromiumPath(t *testing.T) string {
	p := os.Getenv("EVOTE_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		if testing.Short() {
			t.Skipf("no Chromium at %s (skipped under -short)", p)
		}
		t.Fatalf("uitest: the browser tests need Chromium at %s (apt-get install chromium, as .ci/run does; or set EVOTE_CHROMIUM): %v", p, err)
	}
	return p
}

// axeSource is axe-core, installed by .ci/run with npm into web/ui/node_modules.
func axeSource(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "ui", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if testing.Short() {
			t.Skip("no axe-core (skipped under -short)")
		}
		t.Fatalf("uitest: the browser tests need axe-core in web/ui/node_modules (cd web/ui && npm ci, as .ci/run does): %v", err)
	}
	return string(b)
}

// node is one web server of the test node.
type node struct {
	srv  *web.Server
	ts   *httptest.Server
	kill *killSwitch
	url  string
}

// harness is a node with two web servers (A and B, so a page can move from
// one to the other) and one browser.
type harness struct {
	t       *testing.T
	env     *webtest.Env
	a, b    *node
	ctx     context.Context // the browser tab
	axe     string
	shots   string
	shotNum int
}

func newHarness(t *testing.T) *harness {
	return newHarnessWith(t, webtest.Options{Voters: 8, BlockTime: 200 * time.Millisecond})
}

// newHarnessWith is newHarness with the node's election set by opts.
func newHarnessWith(t *testing.T, opts webtest.Options) *harness {
	chromium := chromiumPath(t)
	axe := axeSource(t)
	env := webtest.StartWith(t, opts)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tsA, tsB := httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)
	urlA, urlB := "http://"+tsA.Listener.Addr().String(), "http://"+tsB.Listener.Addr().String()
	mk := func(ts *httptest.Server, self, other string) *node {
		s := web.New(web.Config{Logger: quiet, AllowedOrigins: []string{other}, ShutdownGrace: time.Second}, env.App, env.Client, env.ChainID)
		s.SetNodes([]string{other})
		ts.Config.Handler = s.Handler()
		kill := newKillSwitch(ts.Listener)
		ts.Listener = kill
		ts.Start()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
			ts.Close()
		})
		return &node{srv: s, ts: ts, kill: kill, url: self}
	}
	h := &harness{t: t, env: env, a: mk(tsA, urlA, urlB), b: mk(tsB, urlB, urlA), axe: axe}
	h.startBrowser(chromium)
	return h
}

// startBrowser starts headless Chromium for h, stopped when the test ends.
func (h *harness) startBrowser(chromium string) {
	t := h.t
	h.shots = os.Getenv("EVOTE_SCREENSHOTS")
	if h.shots == "" {
		h.shots = filepath.Join(os.TempDir(), "evote-ui-screenshots")
	}
	if err := os.MkdirAll(h.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", h.shots)

	// Chromium's profile folder is removed after the browser is stopped,
	// retrying: its helper processes may still be writing for a moment
	// (t.TempDir would fail the test on "directory not empty").
	profile, err := os.MkdirTemp("", "evote-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1024, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelB()
		cancelA()
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("uitest: could not remove %s", profile)
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("uitest: starting Chromium: %v", err)
	}
	h.ctx = ctx
}

// run runs actions with a deadline, failing the test with a screenshot.
func (h *harness) run(t *testing.T, what string, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		h.shot(t, "FAILED-"+what)
		var msg string
		_ = chromedp.Run(h.ctx, chromedp.Evaluate(`(document.querySelector("#alert")||{}).textContent + " | " + document.body.innerText.slice(0, 1500)`, &msg))
		t.Fatalf("%s: %v\npage: %s", what, err, msg)
	}
}

// shot saves a screenshot of the whole page.
func (h *harness) shot(t *testing.T, name string) {
	var buf []byte
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&buf, 100)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	h.shotNum++
	name = strings.NewReplacer("/", "-", " ", "-").Replace(t.Name() + "-" + name)
	_ = os.WriteFile(filepath.Join(h.shots, fmt.Sprintf("%02d-%s.png", h.shotNum, name)), buf, 0o644)
}

// axeCheck injects axe-core and fails on serious or critical violations.
func (h *harness) axeCheck(t *testing.T, page string) {
	t.Helper()
	var violations []string
	h.run(t, "axe "+page,
		chromedp.Evaluate(h.axe, nil),
		chromedp.Evaluate(`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
			.filter(v => v.impact === "serious" || v.impact === "critical")
			.map(v => v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")))`,
			&violations, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	)
	for _, v := range violations {
		t.Errorf("axe, %s: %s", page, v)
	}
	if len(violations) == 0 {
		t.Logf("axe, %s: no serious or critical violations", page)
	}
}

// eval evaluates a JS expression (promises are awaited).
func (h *harness) eval(t *testing.T, expr string, out any) {
	t.Helper()
	h.run(t, "eval", chromedp.Evaluate(expr, out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
}

// tabTo presses Tab until the focused element matches sel.
func (h *harness) tabTo(t *testing.T, sel string) {
	t.Helper()
	for range 60 {
		var ok bool
		h.run(t, "focus "+sel, chromedp.Evaluate(fmt.Sprintf(`document.activeElement && document.activeElement.matches(%q)`, sel), &ok))
		if ok {
			return
		}
		h.run(t, "tab", chromedp.KeyEvent(kb.Tab))
	}
	h.shot(t, "tab-"+sel)
	t.Fatalf("Tab never reached %s", sel)
}

// code returns voter i's credential code.
func (h *harness) code(i int) string { return h.env.Election.Codes[i].Text() }
