package uitest

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	evnode "github.com/evote/evote/chain/node"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/web/client"
	"github.com/evote/evote/wire"
)

// cluster is `evote cluster start` with 4 node processes and an open
// election (chaintest's) on the chain.
type cluster struct {
	t        *testing.T
	dir      string
	bin      string // the evote binary the nodes run
	chainID  string
	election *chaintest.Election
	ballot   *ballot.Election
	nodes    []evnode.NodeInfo
	pids     []int
	rpcs     []*rpchttp.HTTP
	vals     *types.ValidatorSet
}

const pausedElection = "paused-2026"

// startCluster builds evote, runs `evote cluster start --nodes 4` as its
// own process group (so that each node is a process that can be paused),
// and sets up and opens an election with the given number of voters.
func startCluster(t *testing.T, voters int) *cluster {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "evote")
	start := time.Now()
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/evote/evote/cmd/evote").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built evote in %v", time.Since(start).Round(time.Millisecond))
	c := &cluster{t: t, dir: filepath.Join(dir, "net"), bin: bin, chainID: "evote-paused"}
	now := time.Now().UTC().Truncate(time.Second)
	c.election = chaintest.New(t, c.chainID, pausedElection, voters, now.Add(-time.Hour), now.Add(24*time.Hour))
	official := ballot.FormatEd25519Key(c.election.Official.Public().(ed25519.PublicKey))

	cmd := exec.Command(bin, "cluster", "start", "--nodes", "4", "--dir", c.dir, "--chain-id", c.chainID,
		"--official-key", official, "--idle-block-interval", "1s", "--wait", "60s", "--log-level", "error")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		for _, pid := range c.pids {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
		_ = cmd.Process.Signal(os.Interrupt) // stops every node
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	// The table: NODE PID P2P RPC HTTP LOG, then "Press Ctrl-C to stop."
	sc := bufio.NewScanner(stdout)
	var out strings.Builder
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if strings.HasPrefix(line, "Press Ctrl-C") {
			break
		}
		if f := strings.Fields(line); len(f) == 6 && strings.HasPrefix(f[0], "node") {
			pid, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("cluster start: bad table line %q", line)
			}
			c.pids = append(c.pids, pid)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if len(c.pids) != 4 {
		t.Fatalf("cluster start: %d node processes\n%s%s", len(c.pids), out.String(), stderr.String())
	}
	tn, err := evnode.LoadTestnet(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	c.nodes = tn.Nodes
	for _, n := range c.nodes {
		cl, err := rpchttp.New("tcp://" + n.RPCAddr)
		if err != nil {
			t.Fatal(err)
		}
		c.rpcs = append(c.rpcs, cl)
	}
	gen, err := types.GenesisDocFromFile(filepath.Join(c.nodes[0].Home, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vals []*types.Validator
	for _, v := range gen.Validators {
		vals = append(vals, types.NewValidator(v.PubKey, v.Power))
	}
	c.vals = types.NewValidatorSet(vals)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var last int64
	for _, blk := range c.election.SetupBlocks(t) {
		for _, tx := range blk {
			if _, err := chain.Submit(ctx, c.rpcs[1], tx, false); err != nil {
				t.Fatalf("setting up the election: %v", err)
			}
		}
		for _, tx := range blk {
			r, err := chain.WaitTx(ctx, c.rpcs[1], types.Tx(tx).Hash())
			if err != nil {
				t.Fatalf("setting up the election: %v", err)
			}
			last = max(last, r.Height)
		}
	}
	c.ballot = c.election.BallotElection(t)
	// Voters may reach any node: every node must know the election is open.
	for i := range c.nodes {
		c.waitHeight(ctx, i, last)
	}
	t.Logf("4 node processes, election open at height %d, after %v", last, time.Since(start).Round(time.Millisecond))
	return c
}

func (c *cluster) httpURL(i int) string { return "http://" + c.nodes[i].HTTPAddr }
func (c *cluster) wsURL(i int) string   { return "ws://" + c.nodes[i].HTTPAddr + "/ws" }

// waitHeight waits until node i has committed height h.
func (c *cluster) waitHeight(ctx context.Context, i int, h int64) int64 {
	c.t.Helper()
	for {
		st, err := c.rpcs[i].Status(ctx)
		if err == nil && st.SyncInfo.LatestBlockHeight >= h {
			return st.SyncInfo.LatestBlockHeight
		}
		if ctx.Err() != nil {
			c.t.Fatalf("%s did not reach height %d: %v", c.nodes[i].Name, h, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// onChain checks that node i holds the cast ballot with tracking code code.
func (c *cluster) onChain(ctx context.Context, i int, code string) {
	c.t.Helper()
	var rec rules.BallotRecord
	if err := chain.QueryJSON(ctx, c.rpcs[i], "ballot/"+pausedElection+"/"+code, &rec); err != nil || rec.TrackingCode != code {
		c.t.Fatalf("%s does not hold ballot %s: %v", c.nodes[i].Name, code, err)
	}
}

// TestPausedNode pauses (SIGSTOP) the node process that a voter's page and
// a Go client are on, in the middle of a cast: the page's ballot has just
// been sent to it, the Go client's is sent to it while it is paused. A
// paused node closes no connection and answers nothing; both notice the
// silence, move to another node, send the ballot again and get the
// receipt, verified, from there within 10 s. With the node still paused, the
// page loads from another node (the paused one listed in /api/nodes does not
// hold it up). Once resumed, the node catches up: every receipted ballot is
// on all four nodes, with the same app hash. Then, on the same cluster,
// every command the pages and help texts show runs and exits 0
// (shownCommands).
func TestPausedNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds evote and runs a 4-process cluster (about 60 s); skipped with -short")
	}
	chromium := chromiumPath(t)
	c := startCluster(t, 4)
	h := &harness{t: t}
	h.startBrowser(chromium)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	h.open(t, c.httpURL(0)+"/?election="+pausedElection)
	h.enterCode(t, c.election.Codes[0].Text())
	h.chooseFirst(t)
	h.run(t, "encrypt", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"))
	var pageCode string
	h.run(t, "tracking", chromedp.Text("#tracking", &pageCode))

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	gc, err := client.Dial(ctx, []string{c.wsURL(0), c.wsURL(1), c.wsURL(2), c.wsURL(3)},
		client.Options{ChainID: c.chainID, Validators: c.vals, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	if gc.URL() != c.wsURL(0) {
		t.Fatalf("the Go client is on %s, want node0", gc.URL())
	}
	raw, b := c.election.Cast(t, c.ballot, 1, ballottest.FirstChoices(c.election.Manifest, ballot.DefaultStyleID))
	tx, err := wire.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	goCast, goCode := tx.(*wire.Ballot).Cast, b.TrackingCode()

	// node0 stops the moment the page has sent its cast.
	var once sync.Once
	paused := make(chan time.Time, 1)
	lctx, stopListening := context.WithCancel(h.ctx)
	defer stopListening()
	chromedp.ListenTarget(lctx, func(ev any) {
		if f, ok := ev.(*network.EventWebSocketFrameSent); ok && strings.Contains(f.Response.PayloadData, `"type":"cast"`) {
			once.Do(func() {
				if err := syscall.Kill(c.pids[0], syscall.SIGSTOP); err != nil {
					t.Errorf("SIGSTOP node0: %v", err)
				}
				paused <- time.Now()
			})
		}
	})
	h.run(t, "cast", chromedp.Click("#cast"), chromedp.WaitVisible("#step-cast"))
	var pausedAt time.Time
	select {
	case pausedAt = <-paused:
	case <-time.After(20 * time.Second):
		t.Fatal("the page sent no cast")
	}
	t.Logf("node0 (pid %d) paused right after the page sent its cast", c.pids[0])

	// The Go client casts on the paused node meanwhile.
	type outcome struct {
		took time.Duration
		err  error
	}
	goDone := make(chan outcome, 1)
	go func() {
		start := time.Now()
		ack, err := gc.Cast(ctx, pausedElection, goCast)
		if err == nil {
			rec, werr := gc.WaitCommitted(ctx, ack)
			if werr == nil && rec.TrackingCode != goCode {
				werr = fmt.Errorf("receipt for %s, want %s", rec.TrackingCode, goCode)
			}
			err = werr
		}
		goDone <- outcome{time.Since(start), err}
	}()

	var result string
	h.run(t, "receipt", chromedp.Poll(`document.querySelector("#cast-result").dataset.verified === "true" || document.querySelector("#cast-result").className === "error"`, nil,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(25*time.Second)),
		chromedp.Text("#cast-result", &result))
	pageTook := time.Since(pausedAt)
	var logText string
	h.run(t, "log", chromedp.Text("#cast-log", &logText))
	h.shot(t, "paused-node")
	if !strings.Contains(result, "Receipt verified in your browser") || !strings.Contains(result, pageCode) {
		t.Fatalf("page: %q\nlog: %s", result, logText)
	}
	if !strings.Contains(logText, "is not answering") {
		t.Fatalf("the page did not say that node0 is not answering: %q", logText)
	}
	t.Logf("page: verified receipt %v after node0 was paused; log: %q", pageTook.Round(time.Millisecond), logText)
	g := <-goDone
	if g.err != nil {
		t.Fatalf("Go client: %v", g.err)
	}
	if gc.URL() == c.wsURL(0) {
		t.Fatal("the Go client is still on the paused node")
	}
	t.Logf("Go client: verified receipt %v after casting on the paused node0 (now on %s)", g.took.Round(time.Millisecond), gc.URL())
	// Without detection both waited for ever (the page has no timeout of
	// its own; the Go client's context ran out): the issue asks for 10 s.
	if pageTook > 10*time.Second || g.took > 10*time.Second {
		t.Errorf("receipts after %v (page) and %v (Go client), want at most 10 s", pageTook, g.took)
	}

	// node0 still paused: the page opens from node1, although node0 is in
	// its list of nodes and answers nothing.
	start := time.Now()
	h.open(t, c.httpURL(1)+"/?election="+pausedElection)
	var ready bool
	h.run(t, "ready", chromedp.Evaluate(`!document.querySelector("#step-code").hidden`, &ready))
	if !ready {
		var alert string
		h.run(t, "alert", chromedp.Text("#alert", &alert))
		t.Fatalf("with node0 paused, the page from node1 did not get to the code step: %q", alert)
	}
	t.Logf("page loaded from node1 with node0 paused in %v", time.Since(start).Round(time.Millisecond))

	for i := 1; i < 4; i++ {
		c.onChain(ctx, i, pageCode)
		c.onChain(ctx, i, goCode)
	}
	// Resumed, node0 catches up and holds both ballots, with the same app
	// hash as the others.
	if err := syscall.Kill(c.pids[0], syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	top := c.waitHeight(ctx, 1, 0)
	c.waitHeight(ctx, 0, top+1)
	c.onChain(ctx, 0, pageCode)
	c.onChain(ctx, 0, goCode)
	var want []byte
	for i := range c.nodes {
		hh := top + 1
		c.waitHeight(ctx, i, hh)
		blk, err := c.rpcs[i].Block(ctx, &hh)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = blk.Block.AppHash
		} else if string(want) != string(blk.Block.AppHash) {
			t.Fatalf("%s has app hash %X at height %d, node0 %X", c.nodes[i].Name, blk.Block.AppHash, hh, want)
		}
	}
	var rec rules.ElectionRecord
	if err := chain.QueryJSON(ctx, c.rpcs[0], "election/"+pausedElection, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.BallotsCast != 2 {
		t.Fatalf("%d ballots cast on the chain, want 2 (none lost, none twice)", rec.BallotsCast)
	}

	// The same cluster runs the commands the pages and help texts show.
	t.Run("shown-commands", func(t *testing.T) { c.shownCommands(t, h) })
}
