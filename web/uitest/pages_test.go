package uitest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/evote/evote/web/webtest"
)

// pagePaths are the voting page and the public pages.
var pagePaths = []string{"/", "/status", "/lookup", "/board", "/results", "/explorer"}

// ready waits until the page at path has loaded its election: the code
// step or a phase message on the voting page, data-ready on the others.
func ready(path string) chromedp.Action {
	if path == "/" {
		return chromedp.Poll(`!document.querySelector("#step-code").hidden || document.querySelector("#phase").className === "alert" || document.querySelector("#alert").textContent !== "" || document.querySelector("#election-list") !== null`, nil,
			chromedp.WithPollingTimeout(20*time.Second))
	}
	return chromedp.Poll(`document.body.dataset.ready === "true"`, nil, chromedp.WithPollingTimeout(20*time.Second))
}

// before returns s up to its first {placeholder}.
func before(s string) string {
	if i := strings.Index(s, "{"); i >= 0 {
		return s[:i]
	}
	return s
}

// TestLanguages: the language picker on every page (French, German,
// Spanish: the texts change and <html lang> is set), the choice kept on
// the next page, the browser's language taken when none was chosen, times
// shown with their time zone, and axe-core finding no serious or critical
// violation on any page in any language.
func TestLanguages(t *testing.T) {
	h := newHarness(t)
	tables := readStrings(t)
	pageText := func(t *testing.T, path string) (lang, nav, body string) {
		t.Helper()
		h.run(t, "read "+path, chromedp.Evaluate(`document.documentElement.lang`, &lang),
			chromedp.Text(`header.site nav ul li a`, &nav), chromedp.Text("main", &body))
		return
	}

	t.Run("picker", func(t *testing.T) {
		h.run(t, "open", chromedp.Navigate(h.a.url+"/"), ready("/"))
		for _, l := range []string{"fr", "de", "es"} {
			tb := tables[l]
			h.run(t, "pick "+l, chromedp.Click(`#lang-picker a[lang="`+l+`"]`), chromedp.WaitVisible("#step-code"), ready("/"))
			lang, nav, body := pageText(t, "/")
			if lang != l || nav != tb["nav.vote"] || !strings.Contains(body, tb["code.title"]) || !strings.Contains(body, before(tb["phase.open"])) {
				t.Fatalf("%s: <html lang=%q>, first link %q, page %.300q", l, lang, nav, body)
			}
			var current string
			h.run(t, "current", chromedp.Text(`#lang-picker a[aria-current]`, &current))
			if current != tb["lang.name"] {
				t.Errorf("%s: the picker marks %q", l, current)
			}
			// Kept on the next page, without ?lang=.
			h.run(t, "status "+l, chromedp.Click(`header.site nav ul li:nth-child(2) a`), chromedp.WaitVisible("#nodes-table"), ready("/status"))
			lang, nav, body = pageText(t, "/status")
			if lang != l || nav != tb["nav.vote"] || !strings.Contains(body, tb["status.title"]) || !strings.Contains(body, tb["phase.name.open"]) {
				t.Fatalf("%s on /status: <html lang=%q>, first link %q, page %.300q", l, lang, nav, body)
			}
			h.shot(t, "status-"+l)
			h.run(t, "back", chromedp.Navigate(h.a.url+"/"), ready("/"))
		}
	})

	t.Run("browser-language", func(t *testing.T) {
		// No language chosen: the browser's (navigator.languages).
		h.run(t, "forget", chromedp.Evaluate(`localStorage.removeItem("evote.lang")`, nil),
			emulation.SetUserAgentOverride("Mozilla/5.0 evote-uitest").WithAcceptLanguage("de-CH,de;q=0.9,en;q=0.5"),
			chromedp.Navigate(h.a.url+"/"), ready("/"))
		lang, nav, _ := pageText(t, "/")
		if lang != "de" || nav != tables["de"]["nav.vote"] {
			t.Fatalf("a browser in de-CH gets <html lang=%q>, first link %q", lang, nav)
		}
		h.run(t, "english browser", emulation.SetUserAgentOverride("Mozilla/5.0 evote-uitest").WithAcceptLanguage("en-US,en"))
	})

	t.Run("time-zones", func(t *testing.T) {
		cases := []struct{ zone, lang, want string }{
			{"America/New_York", "en", `(EST|EDT) \(UTC−[45]\)\.$`},
			{"Europe/Berlin", "de", `(MEZ|MESZ) \(UTC\+[12]\)\.$`},
			{"Asia/Kolkata", "fr", `UTC\+5:30\)?\.$`},
			{"UTC", "es", `UTC\.$`},
		}
		for _, c := range cases {
			var phase string
			h.run(t, c.zone, emulation.SetTimezoneOverride(c.zone), chromedp.Navigate(h.a.url+"/?lang="+c.lang), ready("/"),
				chromedp.Text("#phase", &phase))
			if !regexp.MustCompile(c.want).MatchString(phase) || !strings.HasPrefix(phase, before(tables[c.lang]["phase.open"])) {
				t.Errorf("%s in %s: %q, want a time matching %s", c.lang, c.zone, phase, c.want)
			}
		}
		h.run(t, "reset", emulation.SetTimezoneOverride("UTC"), chromedp.Navigate(h.a.url+"/?lang=en"), ready("/"))
	})

	t.Run("axe-every-page-every-language", func(t *testing.T) {
		for _, l := range languages {
			for _, p := range pagePaths {
				h.run(t, l+p, chromedp.Navigate(h.a.url+p+"?lang="+l), ready(p))
				var lang string
				h.run(t, "lang", chromedp.Evaluate(`document.documentElement.lang`, &lang))
				if lang != l {
					t.Errorf("%s?lang=%s: <html lang=%q>", p, l, lang)
				}
				h.axeCheck(t, p+" in "+l)
			}
		}
		h.run(t, "english", chromedp.Navigate(h.a.url+"/?lang=en"), ready("/"))
	})
}

// TestCastAt320px votes at 320 px wide in English and in French: the
// whole code typed with its dashes fits in its field, the tracking code
// fits, and once the receipt checks out the headline says the ballot has
// been cast and recorded, with the tracking code under it.
func TestCastAt320px(t *testing.T) {
	h := newHarness(t)
	tables := readStrings(t)
	h.run(t, "narrow", chromedp.EmulateViewport(320, 720))
	fits := func(t *testing.T, sel string) {
		t.Helper()
		var w []int
		h.eval(t, fmt.Sprintf(`(n => [n.scrollWidth, n.clientWidth, document.documentElement.scrollWidth, document.documentElement.clientWidth])(document.querySelector(%q))`, sel), &w)
		if len(w) != 4 || w[0] > w[1] || w[2] > w[3] {
			h.shot(t, "overflow")
			t.Errorf("%s at 320 px: %d px of content in %d px; the page %d px in %d px", sel, w[0], w[1], w[2], w[3])
		}
	}
	for i, l := range []string{"en", "fr"} {
		t.Run(l, func(t *testing.T) {
			tb := tables[l]
			h.open(t, h.a.url+"/?lang="+l)
			h.run(t, "type", chromedp.SendKeys("#code", h.code(i)))
			fits(t, "#code")
			fits(t, "#code-status")
			h.run(t, "derive", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible("#step-choose"))
			h.chooseFirst(t)
			h.run(t, "encrypt", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"))
			fits(t, "#tracking")
			var tracking, headline, result, under string
			var focused bool
			h.run(t, "cast", chromedp.Text("#tracking", &tracking), chromedp.Click("#cast"), chromedp.WaitVisible("#step-cast"),
				chromedp.Poll(`document.querySelector("#cast-result").dataset.verified === "true" || document.querySelector("#cast-result").className === "error"`, nil,
					chromedp.WithPollingTimeout(20*time.Second)),
				chromedp.Text("#cast-result", &result), chromedp.Text("#cast-title", &headline),
				chromedp.Evaluate(`document.activeElement.id === "cast-title"`, &focused),
				// The tracking code is the next thing the page shows under the headline.
				chromedp.Evaluate(`(() => { let n = document.querySelector("#cast-title").nextElementSibling; while (n && !n.classList.contains("tracking")) n = n.nextElementSibling; return n ? n.id + " " + n.textContent : ""; })()`, &under))
			h.shot(t, "cast-"+l)
			if !strings.HasPrefix(result, before(tb["cast.verified"])) || headline != tb["cast.done"] || !focused || under != "cast-tracking "+tracking {
				t.Fatalf("after the cast: headline %q (focused %v), then %q, result %q", headline, focused, under, result)
			}
			fits(t, "#cast-tracking")
			fits(t, "#cast-title")
			h.counted(t, tracking, "")
			h.axeCheck(t, "cast at 320 px in "+l)
		})
	}
}

// TestElectionList: with three elections on one chain (one open, one
// opening in two days, one whose opening time has passed but that the
// chain has not opened), every page lists them, each with its phase and
// window and a link with ?election=ID, instead of taking the newest; each
// link leads to its election, and the voting page says plainly when voting
// opens, never a time in the past.
func TestElectionList(t *testing.T) {
	h := newHarness(t)
	tables := readStrings(t)
	now := time.Now().UTC().Truncate(time.Second)
	h.env.AddElection(t, "later-2027", 2, now.Add(48*time.Hour), now.Add(72*time.Hour), false)
	h.env.AddElection(t, "late-2026", 2, now.Add(-time.Hour), now.Add(24*time.Hour), false)
	ids := []string{"late-2026", "later-2027", webtest.ElectionID} // most recent first

	// The explorer is the chain's, not an election's: it lists no elections.
	for _, p := range pagePaths[:len(pagePaths)-1] {
		var list struct {
			Links  []string
			Text   string
			Hidden bool
		}
		h.run(t, "list "+p, chromedp.Navigate(h.a.url+p), ready(p), chromedp.WaitVisible("#election-list"))
		h.eval(t, `({Links: [...document.querySelectorAll("#election-list a")].map(a => a.getAttribute("href")), Text: document.querySelector("#election-list").innerText,
			Hidden: [...document.querySelectorAll("main > *")].filter(n => !n.hidden).every(n => ["H1", "SECTION"].includes(n.tagName) || n.id === "alert")})`, &list)
		if len(list.Links) != len(ids) || !list.Hidden {
			t.Fatalf("%s: links %v, only the list shown: %v", p, list.Links, list.Hidden)
		}
		for i, id := range ids {
			if want := p + "?election=" + id; list.Links[i] != want {
				t.Errorf("%s: link %d is %q, want %q", p, i, list.Links[i], want)
			}
		}
		for _, want := range []string{tables["en"]["phase.name.open"], tables["en"]["phase.name.ready"], before(tables["en"]["elections.window"])} {
			if !strings.Contains(list.Text, want) {
				t.Errorf("%s: the list %q does not say %q", p, list.Text, want)
			}
		}
		if p == "/" {
			h.shot(t, "list")
		}
		h.axeCheck(t, "list of elections on "+p)
	}

	// In French too.
	var text string
	h.run(t, "list fr", chromedp.Navigate(h.a.url+"/?lang=fr"), chromedp.WaitVisible("#election-list"), chromedp.Text("main", &text))
	if !strings.Contains(text, tables["fr"]["elections.title"]) || !strings.Contains(text, tables["fr"]["phase.name.ready"]) {
		t.Fatalf("the list in French: %q", text)
	}
	h.axeCheck(t, "list of elections in fr")

	phase := func(t *testing.T, link string) (string, bool) {
		t.Helper()
		var p, href string
		var form bool
		h.run(t, "list", chromedp.Navigate(h.a.url+"/?lang=en"), chromedp.WaitVisible("#election-list"),
			chromedp.Evaluate(`document.querySelector('#election-list a[href$="election=`+link+`"]').href`, &href))
		h.run(t, "follow "+href, chromedp.Navigate(href), ready("/"),
			chromedp.Text("#phase", &p), chromedp.Evaluate(`!document.querySelector("#step-code").hidden`, &form))
		return p, form
	}
	en := tables["en"]
	if p, form := phase(t, "later-2027"); !strings.HasPrefix(p, before(en["phase.notYet"])) || form || !strings.Contains(p, fmt.Sprint(now.Add(48*time.Hour).Year())) {
		t.Errorf("an election opening in two days: %q (code form shown: %v)", p, form)
	}
	h.shot(t, "not-yet")
	h.axeCheck(t, "not open yet")
	if p, form := phase(t, "late-2026"); !strings.HasPrefix(p, before(en["phase.late"])) || !strings.Contains(p, "Reload in a moment") || form {
		t.Errorf("an election past its opening time, not open on the chain: %q (code form shown: %v)", p, form)
	}
	h.shot(t, "late")
	if p, form := phase(t, webtest.ElectionID); !strings.HasPrefix(p, before(en["phase.open"])) || !form {
		t.Errorf("the open election: %q (code form shown: %v)", p, form)
	}
	// The navigation keeps the election.
	var href string
	h.run(t, "nav", chromedp.AttributeValue(`header.site nav ul li:nth-child(2) a`, "href", &href, nil))
	if !strings.Contains(href, "election="+webtest.ElectionID) {
		t.Errorf("the navigation does not keep the election: %q", href)
	}
}
