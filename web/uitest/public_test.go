package uitest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/web"
	"github.com/evote/evote/web/webtest"
	"github.com/evote/evote/wire"
)

// publicPages checks the status, lookup, results and explorer pages, each
// with an axe audit.
func (h *harness) publicPages(t *testing.T, code string) {
	ready := chromedp.Poll(`document.body.dataset.ready === "true"`, nil, chromedp.WithPollingTimeout(20*time.Second))

	var nodes, election string
	h.run(t, "status", chromedp.Navigate(h.a.url+"/status"), ready,
		chromedp.Text("#nodes-table", &nodes), chromedp.Text("#election-table", &election))
	h.shot(t, "status")
	if strings.Count(nodes, "up") != 2 || !strings.Contains(election, "open") {
		t.Fatalf("status: nodes %q, election %q", nodes, election)
	}
	h.axeCheck(t, "status")

	var verified string
	h.run(t, "lookup", chromedp.Navigate(h.a.url+"/lookup?code="+strings.ToLower(code)),
		chromedp.WaitVisible(`#lookup-verified`), chromedp.Text("#lookup-result", &verified))
	h.shot(t, "lookup")
	if !strings.Contains(verified, "Receipt verified in your browser") || !strings.Contains(verified, "replaced") && !strings.Contains(verified, "counts") {
		t.Fatalf("lookup: %q", verified)
	}
	h.axeCheck(t, "lookup")
	var missing string
	h.run(t, "lookup unknown", chromedp.Navigate(h.a.url+"/lookup?code=0000-0000-0000-0000"),
		chromedp.WaitVisible(`#lookup-result p`), chromedp.Text("#lookup-result", &missing))
	if !strings.Contains(missing, "No ballot") {
		t.Fatalf("lookup of an unknown code: %q", missing)
	}

	// The ballot board: every ballot of the chain, searchable by the start
	// of a tracking code, each linked to the lookup and its block.
	ctx := context.Background()
	want, err := h.env.App.Board(ctx, webtest.ElectionID, "", "", 500)
	if err != nil {
		t.Fatal(err)
	}
	var boardRows int
	var boardStatus string
	h.run(t, "board", chromedp.Navigate(h.a.url+"/board"), ready, chromedp.Text("#board-status", &boardStatus),
		chromedp.Evaluate(`document.querySelectorAll("#board-table tbody tr").length`, &boardRows))
	if boardRows != len(want.Entries) || boardRows < 2 {
		t.Fatalf("board: %d rows (%q), the chain has %d ballots", boardRows, boardStatus, len(want.Entries))
	}
	h.axeCheck(t, "board")
	h.run(t, "narrow", chromedp.EmulateViewport(320, 720))
	var found, href string
	var scroll bool
	h.run(t, "board search", chromedp.Navigate(h.a.url+"/board?q="+strings.ToLower(code[:6])), ready,
		chromedp.Text("#board-table tbody", &found),
		chromedp.AttributeValue("#board-table tbody tr th a", "href", &href, nil),
		chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &scroll))
	h.shot(t, "board-search")
	if !strings.Contains(found, code) || !strings.Contains(href, "/lookup?code=") || scroll {
		t.Fatalf("board search for %q: %q, link %q, horizontal scroll %v", code[:6], found, href, scroll)
	}
	h.axeCheck(t, "board search")
	h.run(t, "wide", chromedp.EmulateViewport(1024, 900))
	var bad string
	h.run(t, "board bad query", chromedp.Navigate(h.a.url+"/board?q=%3Cb%3E%26"), ready, chromedp.Text("#board-status", &bad))
	if !strings.Contains(bad, "That is not the start of a tracking code") {
		t.Fatalf("board with a bad query: %q", bad)
	}

	// The explorer names each transaction's kind, and a ballot's tracking
	// code links to the board.
	rec, _, err := h.env.App.BallotByTrackingCode(ctx, webtest.ElectionID, code)
	if err != nil {
		t.Fatal(err)
	}
	var txs string
	h.run(t, "explorer ballot", chromedp.Navigate(fmt.Sprintf("%s/explorer?height=%d", h.a.url, rec.Height)), ready,
		chromedp.WaitVisible("#block-txs"), chromedp.Text("#block-txs", &txs))
	if !strings.Contains(txs, "ballot") || !strings.Contains(txs, "tracking code "+code) {
		t.Fatalf("explorer of block %d: %q", rec.Height, txs)
	}

	var res string
	h.run(t, "results", chromedp.Navigate(h.a.url+"/results"), ready, chromedp.Text("#result-status", &res))
	if !strings.Contains(res, "no result yet") {
		t.Fatalf("results before the tally: %q", res)
	}
	h.axeCheck(t, "results")

	var rows int
	h.run(t, "explorer", chromedp.Navigate(h.a.url+"/explorer?height=2"), ready,
		chromedp.WaitVisible("#block-title"), chromedp.Evaluate(`document.querySelectorAll("#blocks-table tr").length`, &rows))
	h.shot(t, "explorer")
	if rows == 0 {
		t.Fatal("explorer: no blocks listed")
	}
	h.axeCheck(t, "explorer")
}

// benchmark measures, in the page's WebAssembly module, the time to
// encrypt, prove and sign a 10-selection ballot (two contests: up to 3 of
// 7, exactly 1 of 3, as election-configs/benchmark-10-selections.yaml), and
// reports the module's gzip size.
func (h *harness) benchmark(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join("..", "ui", "static", "evote.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = w.Write(wasm)
	_ = w.Close()
	t.Logf("evote.wasm: %d bytes, %d gzipped (gzip -9)", len(wasm), gz.Len())

	m := ballottest.Manifest("bench-10", []ballot.Rule{{Kind: ballot.UpTo, Max: 3}, {Kind: ballot.Exactly, Count: 1}}, []int{7, 3})
	manifest, _ := json.Marshal(string(m.CanonicalJSON()))
	code, _ := json.Marshal(h.code(5))
	h.open(t, h.a.url+"/")
	const runs = 10
	script := fmt.Sprintf(`(async () => {
		const ev = await EV.wasm;
		const info = await (await fetch("/api/elections/%s")).json();
		const e = ev.loadElection(%s, info.record.joint_key);
		if (e.error) throw new Error(e.error);
		const c = ev.deriveCredential(%s, %q, info.record.roll_header);
		if (c.error) throw new Error(c.error);
		const choices = JSON.stringify({choices: {"contest-1": ["option-1", "option-4", "option-7"], "contest-2": ["option-2"]}});
		ev.forgetBallot(ev.encryptBallot(e.handle, c.handle, choices).handle); // warm-up
		const ms = [];
		for (let i = 0; i < %d; i++) {
			const t0 = performance.now();
			const b = ev.encryptBallot(e.handle, c.handle, choices);
			ms.push(performance.now() - t0);
			if (b.error) throw new Error(b.error);
			ev.forgetBallot(b.handle);
		}
		return ms;
	})()`, webtest.ElectionID, manifest, code, webtest.ElectionID, runs)
	var ms []float64
	h.eval(t, script, &ms)
	var sum, worst float64
	for _, x := range ms {
		sum += x
		worst = max(worst, x)
	}
	mean := sum / float64(len(ms))
	t.Logf("encrypt+prove+sign a 10-selection ballot in headless Chromium: mean %.1f ms, worst %.1f ms over %d runs", mean, worst, len(ms))

	// The key derivation with the default KDF (Argon2id, 19 MiB, t=2).
	hdr, err := credential.Header{ElectionID: webtest.ElectionID, KDF: credential.DefaultKDF, Count: 1, Styles: []string{credential.DefaultStyle}, TotalWeight: 1}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var derive map[string]any
	h.eval(t, fmt.Sprintf(`EV.wasm.then(ev => ev.deriveCredential(%s, %q, %q))`, code, webtest.ElectionID, base64.StdEncoding.EncodeToString(hdr)), &derive)
	if derive["error"] != nil {
		t.Fatal(derive["error"])
	}
	t.Logf("derive the credential key with the default KDF (%v) in headless Chromium: %.0f ms", derive["kdf"], derive["ms"])
	if mean > 1000 {
		t.Errorf("encrypting a 10-selection ballot takes %.0f ms in the browser", mean)
	}
}

// tallyAndResults publishes the tally of the closed election on the chain
// (encrypted totals, the trustees' shares, the counts, which the chain
// checks against the shares) and reads the results page. Every ballot cast
// through the page chose the first selection of every contest, and three
// voters' ballots count (voter 0 re-voted twice, voters 1 and 3).
func (h *harness) tallyAndResults(t *testing.T) {
	ctx := context.Background()
	env, id := h.env, webtest.ElectionID
	m := env.Election.Manifest
	totals, err := env.App.Totals(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var enc []byte
	for _, c := range totals {
		enc = append(enc, c.Encode()...)
	}
	env.Commit(t, wire.Encode(&wire.Totals{ElectionID: id, Ciphertexts: enc}))
	for i := range m.Trustees.Threshold {
		s, sig, err := env.Election.Trustees[i].Decrypt(env.Ballot.BaseHash, totals)
		if err != nil {
			t.Fatal(err)
		}
		env.Commit(t, wire.Encode(&wire.Share{ElectionID: id, Trustee: uint64(s.Trustee), Share: s.Encode(), Signature: sig.Encode()}))
	}
	var counts []uint64
	for _, c := range m.Contests {
		for k := range c.Selections {
			counts = append(counts, map[bool]uint64{true: 3, false: 0}[k == 0])
		}
	}
	env.Commit(t, wire.Encode(&wire.Result{ElectionID: id, Counts: counts}))

	var status, command, ballots string
	var bars int
	h.run(t, "results", chromedp.Navigate(h.b.url+"/results"),
		chromedp.Poll(`document.body.dataset.ready === "true"`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text("#result-status", &status), chromedp.Text("#result-command", &command), chromedp.Text("#result-ballots", &ballots),
		chromedp.Evaluate(`document.querySelectorAll("svg.chart rect.bar").length`, &bars))
	h.shot(t, "results")
	want := 0
	for _, c := range m.Contests {
		want += len(c.Selections)
	}
	// The command is run against real nodes by TestPausedNode
	// (shownCommands).
	if !strings.Contains(status, "checked the decryption proofs of trustees") || command != "evote verify --node "+h.b.url+" --election-id "+id || bars != want || ballots != "3 ballots counted." {
		t.Fatalf("results: %q, %q, command %q, %d bars, want %d", status, ballots, command, bars, want)
	}
	h.axeCheck(t, "results")
	// Every contest says its blank ballots as rules.Blanks counts them
	// (here every counted ballot chose the first selection of every
	// contest: no blank where blanks are counted).
	var blanks []map[string]string
	h.eval(t, `[...document.querySelectorAll("#charts section")].map((s) => { const p = s.querySelector("p.blank"); return p ? {kind: p.dataset.kind, text: p.textContent} : {}; })`, &blanks)
	if len(blanks) != len(m.Contests) {
		t.Fatalf("%d contests on the results page, want %d", len(blanks), len(m.Contests))
	}
	for i, b := range blanks {
		switch b["kind"] {
		case "derived", "encrypted":
			if !strings.HasPrefix(b["text"], "Blank ballots in this contest: 0 (") {
				t.Errorf("contest %d: blank line %q", i+1, b["text"])
			}
		case "impossible":
			if !strings.Contains(b["text"], "asks for at least one mark") {
				t.Errorf("contest %d: blank line %q", i+1, b["text"])
			}
		case "not-counted":
			if !strings.Contains(b["text"], "not counted apart") {
				t.Errorf("contest %d: blank line %q", i+1, b["text"])
			}
		default:
			t.Errorf("contest %d: no blank line (%v)", i+1, b)
		}
	}

	// Readable by people: turnout against the roll, the trustees by name,
	// percentages that add up to 100 in every contest, and at 320 px no
	// sideways scrolling.
	var turnout string
	var sums []float64
	var scroll bool
	h.run(t, "narrow", chromedp.EmulateViewport(320, 720))
	h.run(t, "results narrow", chromedp.Navigate(h.b.url+"/results"),
		chromedp.Poll(`document.body.dataset.ready === "true"`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text("#result-turnout", &turnout),
		chromedp.Evaluate(`[...document.querySelectorAll("#charts table")].map((tb) => [...tb.querySelectorAll("td.pct")].reduce((a, td) => a + (parseFloat(td.textContent) || 0), 0))`, &sums),
		chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &scroll))
	h.shot(t, "results-320px")
	h.run(t, "wide", chromedp.EmulateViewport(1024, 900))
	if want := fmt.Sprintf("Turnout: 3 of the %d voters on the roll (", len(env.Election.Credentials)); !strings.HasPrefix(turnout, want) || scroll {
		t.Fatalf("results at 320 px: turnout %q (want %q…), horizontal scroll %v", turnout, want, scroll)
	}
	for i, sum := range sums {
		if sum < 99.95 || sum > 100.05 {
			t.Fatalf("contest %d: the percentages add up to %.1f", i+1, sum)
		}
	}
	if len(sums) != len(m.Contests) || !strings.Contains(status, m.Trustees.Members[0].Name+" (1)") {
		t.Fatalf("results: %d contests with percentages, status %q does not name trustee %q", len(sums), status, m.Trustees.Members[0].Name)
	}
}

// TestNodesEndpoint checks /api/nodes, /api/elections and the pages'
// headers without a browser.
func TestNodesEndpoint(t *testing.T) {
	env := webtest.Start(t, 2, 0)
	s := web.New(web.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, env.App, env.Client, env.ChainID)
	s.SetNodes([]string{"https://node2.example.org/", "ftp://bad.example", "https://evil.example; script-src *", "http://127.0.0.1:9/x"})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	get := func(path string) (*http.Response, []byte) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	_, b := get("/api/nodes")
	var nodes struct {
		ChainID string   `json:"chain_id"`
		Nodes   []string `json:"nodes"`
	}
	if err := json.Unmarshal(b, &nodes); err != nil || nodes.ChainID != env.ChainID ||
		strings.Join(nodes.Nodes, " ") != "https://node2.example.org http://127.0.0.1:9" {
		t.Fatalf("/api/nodes: %s", b)
	}
	_, b = get("/api/elections")
	if !strings.Contains(string(b), `"election":"`+webtest.ElectionID+`"`) || !strings.Contains(string(b), `"phase":"open"`) {
		t.Fatalf("/api/elections: %s", b)
	}
	for _, p := range []string{"/", "/status", "/lookup", "/results", "/explorer"} {
		resp, b := get(p)
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.Contains(string(b), "<main") || !strings.Contains(csp, "connect-src 'self' https://node2.example.org wss://node2.example.org http://127.0.0.1:9 ws://127.0.0.1:9;") {
			t.Fatalf("%s: %d, CSP %q", p, resp.StatusCode, csp)
		}
	}
	if resp, _ := get("/static/evote.wasm"); resp.Header.Get("Content-Type") != "application/wasm" {
		t.Fatalf("evote.wasm served as %q", resp.Header.Get("Content-Type"))
	}
	if resp, _ := get("/nope"); resp.StatusCode != 404 {
		t.Fatalf("/nope: %d", resp.StatusCode)
	}
}
