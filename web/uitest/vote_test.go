package uitest

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/web/webtest"
	"github.com/evote/evote/wire"
)

// TestBrowser runs the voter's page and the public pages in headless
// Chromium against a real node, in one browser, step by step.
func TestBrowser(t *testing.T) {
	h := newHarness(t)
	e := webtest.ElectionID
	var first string

	t.Run("vote-keyboard-320px", func(t *testing.T) {
		h.run(t, "narrow", chromedp.EmulateViewport(320, 720))
		defer h.run(t, "wide", chromedp.EmulateViewport(1024, 900))
		first = h.voteKeyboard(t, h.a.url+"/", h.code(0))
		h.counted(t, first, "")
	})

	t.Run("audit-then-cast", func(t *testing.T) {
		h.open(t, h.a.url+"/?election="+e)
		h.enterCode(t, h.code(1))
		h.chooseFirst(t)
		h.run(t, "encrypt", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"))
		var audited string
		h.run(t, "audit", chromedp.Text("#tracking", &audited), chromedp.Click("#audit"), chromedp.WaitVisible("#step-audit"),
			chromedp.WaitVisible("#audit-result.ok"))
		h.shot(t, "audit")
		h.axeCheck(t, "audit")
		// The command is run against real nodes by TestPausedNode
		// (shownCommands); here: it names the file the page saves.
		var explain, command string
		h.run(t, "audit text", chromedp.Text("#audit-explain", &explain), chromedp.Text("#audit-command", &command), chromedp.WaitVisible(`#audit-chain`))
		if file := "audit-" + audited + ".json"; !strings.Contains(explain, file) || command != "evote verify-audit --node "+h.a.url+" "+file {
			t.Errorf("the audit step does not explain evote verify-audit with the saved file %s: %q, %q", file, explain, command)
		}
		// The audit is published: the ballot is spoiled on the chain.
		h.run(t, "audit published", chromedp.Poll(`document.querySelector("#audit-chain").textContent.includes("block")`, nil, chromedp.WithPollingTimeout(15*time.Second)))
		if _, audited2, err := h.env.App.BallotByTrackingCode(context.Background(), e, audited); err != nil || !audited2 {
			t.Fatalf("the audited ballot %s is not recorded as audited: %v", audited, err)
		}
		h.run(t, "encrypt again", chromedp.Click("#audit-again"), chromedp.WaitVisible("#step-encrypted"))
		var fresh string
		h.run(t, "fresh code", chromedp.Text("#tracking", &fresh))
		if fresh == audited || fresh == "" {
			t.Fatalf("encrypting again gave tracking code %q (audited %q)", fresh, audited)
		}
		code := h.cast(t)
		if code != fresh {
			t.Fatalf("cast %s, shown %s", code, fresh)
		}
		h.counted(t, code, "")
	})

	t.Run("revote", func(t *testing.T) {
		h.open(t, h.a.url+"/")
		h.enterCode(t, h.code(0))
		h.chooseFirst(t)
		h.run(t, "encrypt", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"))
		second := h.cast(t)
		h.counted(t, second, "")
		h.counted(t, first, second)
		// Vote again from the receipt page, without typing the code again,
		// from an empty ballot.
		var marked int
		h.run(t, "again", chromedp.Click("#revote"), chromedp.WaitVisible("#step-choose"),
			chromedp.Evaluate(`document.querySelectorAll("#contests input:checked").length`, &marked))
		if marked != 0 {
			t.Fatalf("the re-vote starts with %d marks of the last ballot", marked)
		}
		h.chooseFirst(t)
		h.run(t, "encrypt again", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"))
		third := h.cast(t)
		h.counted(t, second, third)
	})

	t.Run("wrong-code", func(t *testing.T) {
		h.open(t, h.a.url+"/")
		good := h.code(2)
		// One symbol changed: the page names its position as the voter types.
		b := []byte(good)
		pos := 6 // "XXXX-XX": symbol index 5
		b[pos] = map[bool]byte{true: '2', false: '3'}[b[pos] != '2']
		var status string
		h.run(t, "typo", chromedp.SendKeys("#code", string(b)), chromedp.Text("#code-status", &status))
		if !strings.Contains(status, "mistake") || !strings.Contains(status, "character 6") {
			t.Fatalf("typo feedback %q", status)
		}
		h.shot(t, "typo")
		h.axeCheck(t, "code with a typo")
		var invalid string
		h.run(t, "submit typo", chromedp.KeyEvent(kb.Enter), chromedp.AttributeValue("#code", "aria-invalid", &invalid, nil))
		if invalid != "true" {
			t.Fatal("a code with a typo was accepted")
		}
		h.run(t, "bad char", clearCode(), chromedp.SendKeys("#code", "AB_D"), chromedp.Text("#code-status", &status))
		if !strings.Contains(status, "Character 3") {
			t.Fatalf("bad character feedback %q", status)
		}
		// A well-formed code that is not on the roll: the page finds it on
		// no chunk of the roll and stays at the code (TestRoll checks more).
		stranger, err := credential.NewCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		h.run(t, "clear", clearCode())
		if msg := h.refusedCode(t, stranger.Text()); msg != notOnRoll {
			t.Fatalf("a code not on the roll: %q, want %q", msg, notOnRoll)
		}
		h.shot(t, "not-on-roll")
	})

	t.Run("key-derivation-bar", func(t *testing.T) {
		// The bar shown while Argon2id blocks the main thread must move by
		// transform alone, which Chromium animates on its compositor thread
		// (a native <progress> bar, or an animated width, freezes).
		h.open(t, h.a.url+"/?election="+e)
		var props []string
		h.eval(t, `(() => {
			// What the page does when a valid code is submitted.
			document.querySelector("#derive").hidden = false;
			document.querySelector("#derive-progress").hidden = false;
			document.querySelector("#derive-status").textContent = "Deriving your voting key from the code.";
			const bar = document.querySelector("#derive-progress span");
			const anims = bar.getAnimations();
			if (anims.length !== 1) return ["animations: " + anims.length];
			const props = new Set();
			for (const k of anims[0].effect.getKeyframes())
				for (const p of Object.keys(k)) if (!["offset", "computedOffset", "easing", "composite"].includes(p)) props.add(p);
			return [...props];
		})()`, &props)
		if len(props) != 1 || props[0] != "transform" {
			t.Fatalf("the key-derivation bar animates %v, want only transform", props)
		}
		h.axeCheck(t, "key derivation")
	})

	t.Run("public-pages", func(t *testing.T) { h.publicPages(t, first) })
	t.Run("encrypt-benchmark", func(t *testing.T) { h.benchmark(t) })

	t.Run("node-killed-while-casting", func(t *testing.T) {
		h.open(t, h.a.url+"/")
		h.enterCode(t, h.code(3))
		h.chooseFirst(t)
		h.run(t, "encrypt", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"))
		// Node A dies right after it has acknowledged the ballot, before the
		// ballot is in a block: every connection drops with no close
		// message. The page must move to node B and get the committed,
		// verified receipt there; the ballot counts once.
		h.a.kill.armed.Store(true)
		code := h.cast(t)
		select {
		case <-h.a.kill.fired:
		default:
			t.Fatal("node A was not killed during the cast")
		}
		var logText string
		h.run(t, "log", chromedp.Text("#cast-log", &logText))
		ack := strings.Index(logText, "The node received your ballot")
		moved := strings.Index(logText, "was lost")
		if ack < 0 || moved < ack || !strings.Contains(logText[moved:], strings.TrimPrefix(h.b.url, "http://")) {
			t.Fatalf("the page did not get node A's acknowledgement and then move to node B: %q", logText)
		}
		h.shot(t, "moved")
		h.counted(t, code, "")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.a.srv.Shutdown(ctx)
	})

	t.Run("rejected-after-close", func(t *testing.T) {
		// A ballot encrypted while voting was open and cast after it closed:
		// the node refuses it and the page says why.
		h.open(t, h.b.url+"/")
		h.enterCode(t, h.code(4))
		h.chooseFirst(t)
		h.run(t, "encrypt", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"))
		h.env.Commit(t, wire.Encode(chain.CloseTx(h.env.ChainID, e, h.env.Election.Official)))
		var result string
		var detail struct {
			Open bool
			Text string
		}
		h.run(t, "cast", chromedp.Click("#cast"), chromedp.WaitVisible("#step-cast"),
			chromedp.Poll(`document.querySelector("#cast-result").className === "error" || document.querySelector("#cast-result").dataset.verified === "true"`, nil,
				chromedp.WithPollingTimeout(20*time.Second)),
			chromedp.Text("#cast-result", &result),
			chromedp.Evaluate(`(d => ({Open: d.open, Text: d.querySelector("code").textContent}))(document.querySelector("#cast-result details.tech"))`, &detail))
		// The sentence in plain words; the node's own reason only folded
		// away under "Technical details".
		if !strings.HasPrefix(result, "The election is not open") || strings.Contains(result, "election \""+e+"\" is closed") || detail.Open || !strings.HasPrefix(detail.Text, "code 3: ") {
			t.Fatalf("cast after close: %q, details %+v", result, detail)
		}
		var shown []string
		h.run(t, "buttons", chromedp.Evaluate(`["#receipt-save", "#revote"].filter(s => getComputedStyle(document.querySelector(s)).display !== "none")`, &shown))
		if len(shown) > 0 {
			t.Fatalf("after a refused cast the page offers %v", shown)
		}
		h.shot(t, "rejected")
		h.axeCheck(t, "rejected ballot")
	})

	t.Run("closed-election", func(t *testing.T) {
		h.open(t, h.b.url+"/")
		var phase string
		h.run(t, "closed", chromedp.WaitVisible("#phase.alert"), chromedp.Text("#phase", &phase))
		if !strings.Contains(phase, "closed") {
			t.Fatalf("closed election: %q", phase)
		}
		var hidden bool
		h.run(t, "no form", chromedp.Evaluate(`document.querySelector("#step-code").hidden`, &hidden))
		if !hidden {
			t.Fatal("the code form is shown for a closed election")
		}
		h.shot(t, "closed")
		h.axeCheck(t, "closed election")
	})

	t.Run("tally-and-results", func(t *testing.T) { h.tallyAndResults(t) })
}

// open loads a page and waits for the code step (or the phase message).
func (h *harness) open(t *testing.T, url string) {
	t.Helper()
	h.run(t, "open "+url, chromedp.Navigate(url),
		chromedp.Poll(`!document.querySelector("#step-code").hidden || document.querySelector("#phase").className === "alert" || document.querySelector("#alert").textContent !== ""`, nil,
			chromedp.WithPollingTimeout(20*time.Second)))
}

// enterCode types the code and waits for the choices.
func (h *harness) enterCode(t *testing.T, code string) {
	t.Helper()
	h.run(t, "code", chromedp.WaitVisible("#code"), chromedp.SendKeys("#code", code+kb.Enter),
		chromedp.WaitVisible("#step-choose"))
}

// chooseFirst picks the first choices the rules need and goes to review.
func (h *harness) chooseFirst(t *testing.T) {
	t.Helper()
	h.run(t, "choose", chromedp.Evaluate(`for (const fs of document.querySelectorAll("#contests fieldset[id^=contest-]")) {
		for (const i of fs.querySelectorAll("input")) i.checked = false;
		fs.querySelector("input").click();
	}`, nil), chromedp.Click("#to-review"), chromedp.WaitVisible("#step-review"))
}

// cast casts the encrypted ballot and waits for the receipt verified in
// the page; it returns the tracking code.
func (h *harness) cast(t *testing.T) string {
	t.Helper()
	var code, result string
	h.run(t, "cast", chromedp.Text("#tracking", &code), chromedp.Click("#cast"), chromedp.WaitVisible("#step-cast"),
		chromedp.Poll(`document.querySelector("#cast-result").dataset.verified === "true" || document.querySelector("#cast-result").className === "error"`, nil,
			chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text("#cast-result", &result))
	if !strings.Contains(result, "Receipt verified in your browser") {
		h.shot(t, "cast-failed")
		var log string
		h.run(t, "log", chromedp.Evaluate(`document.querySelector("#step-cast").innerText + " | alert: " + document.querySelector("#alert").innerText`, &log))
		t.Fatalf("cast: %q\n%s", result, log)
	}
	return code
}

// counted checks the ballot on the chain: recorded, and replaced by
// replacedBy (a tracking code) or by nothing.
func (h *harness) counted(t *testing.T, code, replacedBy string) {
	t.Helper()
	ctx := context.Background()
	rec, audited, err := h.env.App.BallotByTrackingCode(ctx, webtest.ElectionID, code)
	if err != nil || audited {
		t.Fatalf("ballot %s on the chain: %v (audited %v)", code, err, audited)
	}
	if replacedBy == "" && rec.ReplacedBy != nil {
		t.Fatalf("ballot %s was replaced", code)
	}
	if replacedBy != "" {
		r2, _, err := h.env.App.BallotByTrackingCode(ctx, webtest.ElectionID, replacedBy)
		if err != nil || string(rec.ReplacedBy) != string(r2.Hash) {
			t.Fatalf("ballot %s is not replaced by %s: %v", code, replacedBy, err)
		}
	}
}

// voteKeyboard votes with the keyboard alone: the code, Tab and Space to
// choose, Enter on the buttons. It returns the tracking code.
func (h *harness) voteKeyboard(t *testing.T, url, code string) string {
	t.Helper()
	h.open(t, url)
	h.shot(t, "code")
	h.axeCheck(t, "code")
	var focused bool
	h.run(t, "focus", chromedp.Evaluate(`document.activeElement.id === "code"`, &focused))
	if !focused {
		t.Fatal("the code field does not have the focus")
	}
	h.run(t, "type", chromedp.KeyEvent(strings.ToLower(code[:10])), chromedp.KeyEvent(code[10:]))
	var status string
	h.run(t, "status", chromedp.Text("#code-status", &status))
	if !strings.Contains(status, "complete") {
		t.Fatalf("code status %q", status)
	}
	h.run(t, "derive", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible("#step-choose"))
	h.shot(t, "choose-empty")
	var n int
	h.run(t, "contests", chromedp.Evaluate(`document.querySelectorAll("#contests fieldset[id^=contest-]").length`, &n))
	for i := range n {
		h.tabTo(t, "#sel-"+itoa(i)+"-0")
		h.run(t, "space", chromedp.KeyEvent(" "))
	}
	// One over-vote first: every selection of the up-to contest.
	var over string
	var boxes int
	h.run(t, "boxes", chromedp.Evaluate(`document.querySelectorAll("#contest-1 input").length`, &boxes))
	for k := 1; k < boxes; k++ {
		h.tabTo(t, "#sel-1-"+itoa(k))
		h.run(t, "space", chromedp.KeyEvent(" "))
	}
	h.run(t, "over", chromedp.Text("#count-1", &over))
	if !strings.Contains(over, "Too many") {
		t.Fatalf("over-vote not shown: %q", over)
	}
	h.tabTo(t, "#to-review")
	h.run(t, "review blocked", chromedp.KeyEvent(kb.Enter))
	var still bool
	h.run(t, "still", chromedp.Evaluate(`!document.querySelector("#step-choose").hidden && document.activeElement.id.startsWith("sel-1-")`, &still))
	if !still {
		t.Fatal("an over-vote went to review, or the focus did not go to the contest")
	}
	h.shot(t, "over-vote")
	h.axeCheck(t, "choices with an over-vote")
	for k := 1; k < boxes; k++ {
		h.tabTo(t, "#sel-1-"+itoa(k))
		h.run(t, "space", chromedp.KeyEvent(" "))
	}
	h.noSideScroll(t, "choices")
	h.tabTo(t, "#to-review")
	h.run(t, "review", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible("#step-review"))
	h.shot(t, "review")
	h.axeCheck(t, "review")
	h.tabTo(t, "#encrypt")
	h.run(t, "encrypt", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible("#step-encrypted"))
	h.shot(t, "encrypted")
	h.axeCheck(t, "tracking code")
	var tracking, result string
	h.run(t, "tracking", chromedp.Text("#tracking", &tracking))
	h.tabTo(t, "#cast")
	h.run(t, "cast", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible("#step-cast"),
		chromedp.Poll(`document.querySelector("#cast-result").dataset.verified === "true" || document.querySelector("#cast-result").className === "error"`, nil,
			chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text("#cast-result", &result))
	h.shot(t, "receipt")
	if !strings.Contains(result, "Receipt verified in your browser") || !strings.Contains(result, tracking) {
		t.Fatalf("receipt: %q", result)
	}
	h.axeCheck(t, "receipt")
	h.noSideScroll(t, "receipt")
	return tracking
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return fmtInt(i/10) + string(rune('0'+i%10))
}

// clearCode empties the code field.
func clearCode() chromedp.Action {
	return chromedp.Evaluate(`document.querySelector("#code").value = ""`, nil)
}

// noSideScroll fails if the page is wider than the window (at 320 px).
func (h *harness) noSideScroll(t *testing.T, step string) {
	t.Helper()
	var w []int
	h.run(t, "width", chromedp.Evaluate(`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`, &w))
	if len(w) == 2 && w[0] > w[1] {
		t.Errorf("%s: the page is %d px wide in a %d px window", step, w[0], w[1])
	}
}
