package uitest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/wire"
)

// rpcPlaceholder is the word the help texts' commands hold for an
// authority node's RPC address; the pages name their own node instead.
const rpcPlaceholder = "RPC_URL"

// shownCommands runs, with the built evote binary and against the
// cluster's node processes, every command a page or a help text shows
// (issue 18, point 6):
//
//   - the audit step's `evote verify-audit …`, read from the page after
//     a real audit, in the folder where the page's "Save the audit file"
//     button saved the file, under the name the command gives;
//   - the results page's `evote verify …`, read from the page once the
//     election is tallied;
//   - both as shown (they name the page's own node), again against a
//     node's RPC address, and with --record DIR in place of --node and the
//     address, as the pages' hint says;
//   - every usage line of `evote verify --help`, `evote verify-audit
//     --help` and `evote record export --help`, and verify-audit with its
//     options after FILE.
//
// In the help texts RPC_URL becomes a node's RPC address; everything else
// runs as shown, and each must exit 0.
// c must hold pausedElection open with voters 0 and 1 cast (first
// choices) and voter 2 unused.
func (c *cluster) shownCommands(t *testing.T, h *harness) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	work := t.TempDir()
	downloads := filepath.Join(work, "downloads")
	if err := os.Mkdir(downloads, 0o755); err != nil {
		t.Fatal(err)
	}
	h.run(t, "downloads", browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(downloads))

	// A voter audits a ballot and saves the audit file.
	h.open(t, c.httpURL(2)+"/?election="+pausedElection)
	h.enterCode(t, c.election.Codes[2].Text())
	h.chooseFirst(t)
	var auditCmd, hint string
	h.run(t, "audit", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"),
		chromedp.Click("#audit"), chromedp.WaitVisible("#audit-result.ok"),
		chromedp.Poll(`document.querySelector("#audit-chain").textContent.includes("block")`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text("#audit-command", &auditCmd),
		chromedp.Evaluate(`document.querySelector("#step-audit .hint").textContent`, &hint),
		chromedp.Click("#audit-save"))
	h.shot(t, "audit-command")
	if !strings.Contains(hint, "this page's node") || !strings.Contains(hint, "--record DIR") {
		t.Errorf("the audit step does not say what its command's address is: %q", hint)
	}
	if want := "--node " + c.httpURL(2) + " "; !strings.Contains(auditCmd, want) {
		t.Errorf("the audit command %q does not name the page's node (%s)", auditCmd, want)
	}
	words := strings.Fields(auditCmd)
	file := words[len(words)-1]
	saved := filepath.Join(downloads, file)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(saved); err == nil {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(downloads)
			t.Fatalf("the page's command names %s, but no such file was saved (saved: %v)", file, entries)
		}
	}

	// The officials close the election, and it is tallied.
	c.tally(ctx, t, 2)
	var resultCmd string
	h.run(t, "results", chromedp.Navigate(c.httpURL(3)+"/results?election="+pausedElection),
		chromedp.WaitVisible("#result-check"), chromedp.Text("#result-command", &resultCmd))
	h.shot(t, "result-command")

	rpc := func(i int) string { return "http://" + c.nodes[i].RPCAddr }
	record := filepath.Join(work, "record")
	fill := func(cmd string, vals map[string]string) []string {
		var out []string
		for _, w := range strings.Fields(cmd) {
			if v, ok := vals[w]; ok {
				w = v
			}
			out = append(out, w)
		}
		return out
	}
	// The pages' commands as shown: they name the page's node, which
	// serves the read-only RPC an observer needs (web/publicrpc.go); and,
	// as the hint says, with a node's RPC address instead.
	pageNode := map[string]string{c.httpURL(2): rpc(1), c.httpURL(3): rpc(1)}
	for _, cmd := range []string{auditCmd, resultCmd} {
		c.runCommand(ctx, t, downloads, strings.Fields(cmd))
		c.runCommand(ctx, t, downloads, fill(cmd, pageNode))
	}
	// The help texts' usage lines, in order (record export first: the
	// record is what --record DIR reads).
	vals := map[string]string{rpcPlaceholder: rpc(0), "DIR": record, "ID": pausedElection, "FILE": file}
	for _, name := range [][]string{{"record", "export"}, {"verify"}, {"verify-audit"}} {
		lines := c.usageLines(ctx, t, name)
		for _, line := range lines {
			if !strings.HasPrefix(line, "evote "+strings.Join(name, " ")+" ") {
				t.Errorf("evote %s --help: usage line %q is not a command", strings.Join(name, " "), line)
				continue
			}
			// A second --node names another node.
			args := fill(line, vals)
			seen := 0
			for k := range args {
				if args[k] == rpc(0) {
					args[k] = rpc(seen % len(c.nodes))
					seen++
				}
			}
			c.runCommand(ctx, t, downloads, args)
		}
	}
	for _, cmd := range []string{auditCmd, resultCmd} {
		for _, u := range []string{c.httpURL(2), c.httpURL(3)} {
			cmd = strings.Replace(cmd, "--node "+u, "--record DIR", 1)
		}
		c.runCommand(ctx, t, downloads, fill(cmd, vals))
	}
	// The README's download of the whole record from a node's public
	// address, literally: curl -O, tar xf, evote verify --record.
	if _, err := exec.LookPath("curl"); err != nil {
		t.Log("no curl on this machine: the record download is checked by web's TestRecordArchive only")
	} else {
		dl := t.TempDir()
		for _, sh := range [][]string{
			{"curl", "-sSfO", c.httpURL(3) + "/api/elections/" + pausedElection + "/record.tar"},
			{"tar", "xf", "record.tar"},
		} {
			cmd := exec.CommandContext(ctx, sh[0], sh[1:]...)
			cmd.Dir = dl
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(sh, " "), err, out)
			}
			t.Logf("%s: exit 0", strings.Join(sh, " "))
		}
		c.runCommand(ctx, t, dl, []string{"evote", "verify", "--record", "record"})
	}
	// urfave/cli stops at the first argument; verify-audit takes its
	// options after FILE too.
	c.runCommand(ctx, t, downloads, []string{"evote", "verify-audit", file, "--node", rpc(3)})
	c.runCommand(ctx, t, downloads, []string{"evote", "verify-audit", file, "--record", record, "--json"})
}

// usageLines returns the lines of the USAGE section of `evote NAME --help`.
func (c *cluster) usageLines(ctx context.Context, t *testing.T, name []string) []string {
	t.Helper()
	out, err := exec.CommandContext(ctx, c.bin, append(name, "--help")...).CombinedOutput()
	if err != nil {
		t.Fatalf("evote %s --help: %v\n%s", strings.Join(name, " "), err, out)
	}
	var lines []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l == "USAGE:":
			in = true
		case in && strings.TrimSpace(l) == "":
			in = false
		case in:
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) == 0 {
		t.Fatalf("evote %s --help has no usage lines:\n%s", strings.Join(name, " "), out)
	}
	return lines
}

// runCommand runs args (args[0] is "evote") in dir and fails the test
// unless it exits 0.
func (c *cluster) runCommand(ctx context.Context, t *testing.T, dir string, args []string) {
	t.Helper()
	if len(args) < 2 || args[0] != "evote" {
		t.Fatalf("not an evote command: %q", args)
	}
	cmd := exec.CommandContext(ctx, c.bin, args[1:]...)
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		return
	}
	t.Logf("%s: exit 0 in %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
}

// tally closes pausedElection and publishes its tally (the encrypted
// totals, a threshold of the trustees' shares, and the counts, which the
// chain checks against the shares): counted ballots all chose the first
// selection of every contest.
func (c *cluster) tally(ctx context.Context, t *testing.T, counted uint64) {
	t.Helper()
	id := pausedElection
	c.commit(ctx, wire.Encode(chain.CloseTx(c.chainID, id, c.election.Official)))
	var q struct{ Totals []byte }
	if err := chain.QueryJSON(ctx, c.rpcs[1], "totals/"+id, &q); err != nil {
		t.Fatal(err)
	}
	totals, err := crypto.DecodeCiphertexts(q.Totals, len(q.Totals)/crypto.CiphertextSize)
	if err != nil {
		t.Fatal(err)
	}
	c.commit(ctx, wire.Encode(&wire.Totals{ElectionID: id, Ciphertexts: q.Totals}))
	m := c.election.Manifest
	for i := range m.Trustees.Threshold {
		s, sig, err := c.election.Trustees[i].Decrypt(c.ballot.BaseHash, totals)
		if err != nil {
			t.Fatal(err)
		}
		c.commit(ctx, wire.Encode(&wire.Share{ElectionID: id, Trustee: uint64(s.Trustee), Share: s.Encode(), Signature: sig.Encode()}))
	}
	var counts []uint64
	for _, ct := range m.Contests {
		for k := range ct.Selections {
			counts = append(counts, map[bool]uint64{true: counted, false: 0}[k == 0])
		}
	}
	top := c.commit(ctx, wire.Encode(&wire.Result{ElectionID: id, Counts: counts}))
	for i := range c.nodes {
		c.waitHeight(ctx, i, top)
	}
}

// commit submits txs to node1 and waits for each in a block with code 0;
// it returns the last height.
func (c *cluster) commit(ctx context.Context, txs ...[]byte) int64 {
	c.t.Helper()
	var last int64
	for _, tx := range txs {
		if _, err := chain.Submit(ctx, c.rpcs[1], tx, false); err != nil {
			c.t.Fatal(err)
		}
		r, err := chain.WaitTx(ctx, c.rpcs[1], types.Tx(tx).Hash())
		if err != nil {
			c.t.Fatal(err)
		}
		if r.TxResult.Code != 0 {
			c.t.Fatalf("transaction rejected: code %d: %s", r.TxResult.Code, r.TxResult.Log)
		}
		last = max(last, r.Height)
	}
	return last
}
