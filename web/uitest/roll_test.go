package uitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/web/webtest"
	"github.com/evote/evote/wire"
)

// notOnRoll is what the page says of a code that is not on the roll.
const notOnRoll = "This code is not on the roll of this election"

// TestRoll runs the page's check of the code against the roll, in an
// election of two ballot styles ("north" and "south", ballottest.Districts)
// whose roll has three chunks and gives some voters weight 12: a code not
// on the roll is refused at the code step, a voter gets the contests of the
// style the roll gives their key (no picker) and casts, a weighted voter is
// told their weight, and a roll that cannot be fetched or does not check
// out gets its own message, never a ballot.
func TestRoll(t *testing.T) {
	voters := make([]credential.Entry, 2*credential.ChunkSize+50)
	for i := range voters {
		voters[i] = credential.Entry{Style: []string{"south", "north"}[i%2], Weight: 1}
		if i%50 == 1 {
			voters[i].Weight = 12
		}
	}
	m := ballottest.Districts()
	m.Voters.RollSize = len(voters)
	start := time.Now()
	h := newHarnessWith(t, webtest.Options{BlockTime: 200 * time.Millisecond, Base: m, Entries: voters})
	t.Logf("node with an election of %d voters in %v", len(voters), time.Since(start).Round(time.Millisecond))
	roll := h.env.Election.Roll
	if n := roll.Header().Chunks(); n != 3 {
		t.Fatalf("the roll has %d chunks, want 3", n)
	}
	chunkOf := func(i int) int {
		k, ok := roll.Index(h.env.Election.Credentials[i].PublicKey())
		if !ok {
			t.Fatalf("voter %d is not on the roll", i)
		}
		return k / credential.ChunkSize
	}
	// Voters whose key is past the first chunk, so that the page must find
	// the right chunk.
	pick := func(ok func(i int) bool) int {
		for i := range voters {
			if ok(i) && chunkOf(i) > 0 {
				return i
			}
		}
		t.Fatal("no such voter")
		return 0
	}
	south := pick(func(i int) bool { return voters[i].Style == "south" && voters[i].Weight == 1 })
	heavy := pick(func(i int) bool { return voters[i].Weight == 12 })
	t.Logf("voter %d (south) is in chunk %d, voter %d (north, weight 12) in chunk %d", south, chunkOf(south), heavy, chunkOf(heavy))

	t.Run("not-on-roll-320px", func(t *testing.T) {
		h.run(t, "narrow", chromedp.EmulateViewport(320, 720))
		defer h.run(t, "wide", chromedp.EmulateViewport(1024, 900))
		h.open(t, h.a.url+"/")
		h.watchRoll(t)
		// A valid code, of no voter: freshly made, as another election's
		// generation would make it.
		stranger, err := credential.NewCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if msg := h.refusedCode(t, stranger.Text()); msg != notOnRoll {
			t.Fatalf("a code not on the roll: %q, want exactly %q", msg, notOnRoll)
		}
		var state struct {
			Focus, Invalid, Value string
		}
		h.eval(t, `({Focus: document.activeElement.id, Invalid: document.querySelector("#code").getAttribute("aria-invalid"), Value: document.querySelector("#code").value})`, &state)
		if state.Focus != "code" || state.Invalid != "true" || state.Value != "" {
			t.Fatalf("after a code not on the roll: focus on %q, aria-invalid %q, the field holds %q; want the empty code field, focused and invalid", state.Focus, state.Invalid, state.Value)
		}
		h.fetchedOneChunk(t)
		h.shot(t, "not-on-roll")
		h.axeCheck(t, "code not on the roll")
		h.noSideScroll(t, "code not on the roll")
		// The voter types their own code again.
		h.enterCode(t, h.code(south))
		h.fetchedOneChunk(t)
	})

	t.Run("south-ballot-320px", func(t *testing.T) {
		h.run(t, "narrow", chromedp.EmulateViewport(320, 720))
		defer h.run(t, "wide", chromedp.EmulateViewport(1024, 900))
		h.open(t, h.a.url+"/")
		h.enterCode(t, h.code(south))
		cs, err := h.env.Election.Manifest.StyleContests("south")
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, c := range cs {
			want = append(want, c.Title)
		}
		var page struct {
			Legends          []string
			Pickers          int
			Style            string
			WeightShown      bool
			StyleShownHidden bool
		}
		h.eval(t, `({Legends: [...document.querySelectorAll("#contests fieldset > legend")].map(l => l.textContent),
			Pickers: document.querySelectorAll("#style-choice, input[name=style]").length,
			Style: document.querySelector("#style-shown").textContent,
			StyleShownHidden: document.querySelector("#style-shown").hidden,
			WeightShown: [...document.querySelectorAll(".weight")].some(n => !n.hidden)})`, &page)
		if !slices.Equal(page.Legends, want) {
			t.Fatalf("a south voter's ballot has the contests %q, want %q", page.Legends, want)
		}
		if page.Pickers != 0 {
			t.Fatalf("the ballot has %d style pickers", page.Pickers)
		}
		if page.StyleShownHidden || !strings.Contains(page.Style, "\u201csouth\u201d") {
			t.Fatalf("the ballot names the style as %q (hidden %v)", page.Style, page.StyleShownHidden)
		}
		if page.WeightShown {
			t.Fatal("a voter of weight 1 is shown a weight")
		}
		h.shot(t, "south")
		h.axeCheck(t, "south ballot")
		h.noSideScroll(t, "south ballot")
		h.chooseFirst(t)
		h.run(t, "encrypt", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"))
		code := h.cast(t)
		h.counted(t, code, "")
		rec, _, err := h.env.App.BallotByTrackingCode(context.Background(), webtest.ElectionID, code)
		if err != nil || !bytes.Equal(rec.Credential, h.env.Election.Credentials[south].PublicKey()) {
			t.Fatalf("ballot %s is not the south voter's: %v", code, err)
		}
	})

	t.Run("weight-12", func(t *testing.T) {
		const want = "Your vote counts 12 times (weight 12)."
		h.open(t, h.a.url+"/")
		h.enterCode(t, h.code(heavy))
		weight := func(step string) string {
			var s struct {
				Text   string
				Hidden bool
			}
			h.eval(t, fmt.Sprintf(`(n => ({Text: n.textContent, Hidden: n.hidden || n.closest("section").hidden}))(document.querySelector("#weight-%s"))`, step), &s)
			if s.Hidden {
				return "(hidden)"
			}
			return s.Text
		}
		if got := weight("choose"); got != want {
			t.Fatalf("the ballot says %q of the weight, want %q", got, want)
		}
		var n int
		h.eval(t, `document.querySelectorAll("#contests fieldset[id^=contest-]").length`, &n)
		if cs, _ := h.env.Election.Manifest.StyleContests("north"); n != len(cs) {
			t.Fatalf("a north voter's ballot has %d contests, want %d", n, len(cs))
		}
		h.shot(t, "weight")
		h.axeCheck(t, "weighted ballot")
		h.chooseFirst(t)
		if got := weight("review"); got != want {
			t.Fatalf("the review says %q of the weight, want %q", got, want)
		}
		h.run(t, "encrypt", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"))
		code := h.cast(t)
		if got := weight("cast"); got != want {
			t.Fatalf("the receipt step says %q of the weight, want %q", got, want)
		}
		h.shot(t, "weight-receipt")
		h.counted(t, code, "")
	})

	t.Run("roll-errors", func(t *testing.T) {
		h.open(t, h.a.url+"/")
		h.watchRoll(t)
		good := h.code(south)
		// Each failure in a plain sentence; what the module or the node
		// said exactly only under the folded "Technical details".
		const badChunk = "The part of the roll of voters that holds your code does not match the roll's hash. Do not vote"
		cases := []struct {
			fault, want, detail string
		}{
			{"chunk-bit", badChunk, "rollcheck: credential: chunk "},
			{"chunk-short", badChunk, "rollcheck: credential: chunk "},
			{"chunk-404", "Part " + fmt.Sprint(chunkOf(south)+1) + " of 3 of the roll of voters, the one your code is in, is not on the election node.", "not loaded"},
			{"index-404", "The election node has no roll of voters for this election yet", "not loaded"},
			{"index-hash", "The roll of voters the election node sent does not check out. Do not vote", "rollcheck: the roll index's header and chunk hashes give the roll hash"},
			{"index-incomplete", "The roll of voters of this election is not all on the ballot chain yet (1 of 3 parts)", ""},
			{"index-500", "The election node refused to send the roll of voters (HTTP 500).", "web: internal error"},
			{"network", "The roll of voters could not be fetched: no election node can be reached.", "Failed to fetch"},
		}
		for _, tc := range cases {
			h.eval(t, fmt.Sprintf(`window.rollFault = %q`, tc.fault), nil)
			h.run(t, "clear", clearCode())
			msg := h.refusedCode(t, good)
			var detail string
			h.eval(t, `(d => d && !d.open ? d.querySelector("code").textContent : "")(document.querySelector("#code-status details.tech"))`, &detail)
			if !strings.HasPrefix(msg, tc.want) || !strings.HasPrefix(detail, tc.detail) || strings.Contains(msg, "rollcheck") {
				t.Errorf("%s: the page says %q (details %q), want %q… (details %q…)", tc.fault, msg, detail, tc.want, tc.detail)
			}
			// The code is not at fault: it stays in the field, to try again.
			var value string
			h.eval(t, `document.querySelector("#code").value`, &value)
			if value != good {
				t.Errorf("%s: the code field holds %q after the failure", tc.fault, value)
			}
		}
		h.shot(t, "roll-error")
		h.axeCheck(t, "roll error")
		// Without the fault, Continue takes the same code to the ballot.
		h.eval(t, `window.rollFault = ""; window.rollURLs = []`, nil)
		h.run(t, "continue", chromedp.Click("#code-submit"), chromedp.WaitVisible("#step-choose"))
		h.fetchedOneChunk(t)
	})

	t.Run("weighted-results", func(t *testing.T) {
		h.weightedResults(t)
	})
}

// weightedResults closes the election, tallies it on the chain (totals, two
// trustees' shares, the counts solved from them) and reads the results
// page: two ballots count, the south voter's (weight 1) and the heavy
// voter's (weight 12), and the page says the counts are weighted and how
// many ballots there are.
func (h *harness) weightedResults(t *testing.T) {
	ctx := context.Background()
	env, id := h.env, webtest.ElectionID
	e := env.Election
	env.Commit(t, wire.Encode(chain.CloseTx(env.ChainID, id, e.Official)))
	totals, err := env.App.Totals(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	env.Commit(t, wire.Encode(&wire.Totals{ElectionID: id, Ciphertexts: crypto.EncodeCiphertexts(totals)}))
	rec, err := env.App.ElectionRecord(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Counted() != 2 || rec.WeightCounted != 13 {
		t.Fatalf("%d ballots counted of weight %d, want 2 of 13", rec.Counted(), rec.WeightCounted)
	}
	shareTxs, counts := e.Decrypt(t, env.Ballot, rec, totals)
	env.Commit(t, shareTxs...)
	if counts[0] != 13 { // contest 1, in both styles: both voters chose its first selection
		t.Fatalf("contest 1, selection 1: %d weighted votes, want 13", counts[0])
	}
	env.Commit(t, wire.Encode(&wire.Result{ElectionID: id, Counts: counts}))
	var summary, cell string
	h.run(t, "results", chromedp.Navigate(h.b.url+"/results"),
		chromedp.Poll(`document.body.dataset.ready === "true"`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text("#result-ballots", &summary), chromedp.Text("#charts table td", &cell))
	h.shot(t, "weighted-results")
	if want := "2 ballots counted, of total weight 13: each ballot counts as many times as its voter's weight"; !strings.HasPrefix(summary, want) {
		t.Fatalf("the results page says %q, want %q…", summary, want)
	}
	if cell != "13 weighted votes" {
		t.Fatalf("the first count reads %q, want %q", cell, "13 weighted votes")
	}
	h.axeCheck(t, "weighted results")
}

// watchRoll makes the page's fetch record the roll URLs it asks for
// (window.rollURLs) and, while window.rollFault names one, answer them as
// a faulty or lying node would: a chunk with a bit flipped or an entry
// short, a chunk or index not found, an internal error, an index whose
// chunk hashes do not give its roll hash, an index of a roll not all
// loaded, no network.
func (h *harness) watchRoll(t *testing.T) {
	t.Helper()
	h.eval(t, `(() => {
		const real = window.fetch;
		window.rollURLs = [];
		window.rollFault = "";
		window.fetch = async (url, opts) => {
			const u = String(url), chunk = /\/roll\/\d+$/.test(u), index = /\/roll$/.test(u);
			if (!chunk && !index) return real(url, opts);
			window.rollURLs.push(u.replace(/^.*\/api\//, "/api/"));
			const f = window.rollFault;
			if (f === "network") throw new TypeError("Failed to fetch");
			if ((f === "chunk-404" && chunk) || (f === "index-404" && index))
				return new Response(JSON.stringify({error: "not loaded", status: 404}), {status: 404, headers: {"Content-Type": "application/json"}});
			if (f === "index-500" && index)
				return new Response(JSON.stringify({error: "web: internal error", status: 500}), {status: 500, headers: {"Content-Type": "application/json"}});
			const r = await real(url, opts);
			if (chunk && (f === "chunk-bit" || f === "chunk-short")) {
				const b = new Uint8Array(await r.arrayBuffer());
				if (f === "chunk-bit") b[100] ^= 1;
				return new Response(f === "chunk-bit" ? b : b.slice(0, b.length - 42), {status: 200});
			}
			if (index && (f === "index-hash" || f === "index-incomplete")) {
				const x = await r.json();
				if (f === "index-hash") x.chunks[1].hash = x.chunks[0].hash;
				else { x.complete = false; delete x.roll_hash; x.chunks = x.chunks.slice(0, 1); }
				return new Response(JSON.stringify(x), {status: 200, headers: {"Content-Type": "application/json"}});
			}
			return r;
		};
	})()`, nil)
}

// fetchedOneChunk checks that the page's last roll check read the index
// and one chunk, and nothing else of the roll, and resets the record.
func (h *harness) fetchedOneChunk(t *testing.T) {
	t.Helper()
	var urls []string
	h.eval(t, `(() => { const u = window.rollURLs; window.rollURLs = []; return u; })()`, &urls)
	if len(urls) != 2 || !strings.HasSuffix(urls[0], "/roll") || !strings.Contains(urls[1], "/roll/") {
		t.Fatalf("the roll check fetched %q, want the index and one chunk", urls)
	}
}

// refusedCode types code and Enter, waits until the page is back at the
// code with a message, checks that no ballot is shown, and returns the
// message.
func (h *harness) refusedCode(t *testing.T, code string) string {
	t.Helper()
	var msg string
	h.run(t, "refused code", chromedp.WaitVisible("#code"), chromedp.Evaluate(`document.querySelector("#code-status").className = ""`, nil),
		chromedp.SendKeys("#code", code+kb.Enter),
		chromedp.Poll(`document.querySelector("#code-status").className === "error" && !document.querySelector("#code-form").hidden && document.querySelector("#derive").hidden`, nil,
			chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text("#code-status", &msg))
	var ballot struct {
		Shown     bool
		Fieldsets int
	}
	h.eval(t, `({Shown: !document.querySelector("#step-choose").hidden, Fieldsets: document.querySelectorAll("#contests fieldset").length})`, &ballot)
	if ballot.Shown {
		t.Fatalf("the ballot is shown after the page said %q", msg)
	}
	if ballot.Fieldsets != 0 {
		t.Fatalf("the page built %d contests after it said %q", ballot.Fieldsets, msg)
	}
	return msg
}
