package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/internal/cluster"
)

// TestCluster treats a 4-node chain of `evote node start` processes as a
// black box, as CometBFT's e2e runner does: it kills nodes with SIGKILL,
// restarts them, and checks that every node ends with the same blocks and
// app hashes.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds evote and runs a 4-process chain (about 30 s); skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "evote")
	start := time.Now()
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built evote in %v", time.Since(start).Round(time.Millisecond))

	t.Run("KillRestart", func(t *testing.T) { testKillRestart(t, bin) })
	t.Run("ClusterCommand", func(t *testing.T) { testClusterCommand(t, bin) })
}

func testOfficialKey(t *testing.T) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

// proc is one `evote node start` process.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(t *testing.T, bin string, n node.NodeInfo) *proc {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(n.Home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "node", "start", "--home", n.Home)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: n.Name, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) kill() {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Kill() // SIGKILL
		<-p.done
	}
}

// chainView reads a node's state through its CometBFT RPC.
type chainView struct {
	t     *testing.T
	nodes []node.NodeInfo
}

func (c chainView) height(i int) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return cluster.Height(ctx, c.nodes[i].RPCAddr)
}

// waitHeight waits until each node in idx has committed height h.
func (c chainView) waitHeight(h int64, timeout time.Duration, idx ...int) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for _, i := range idx {
		for {
			got, err := c.height(i)
			if err == nil && got >= h {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("%s: height %d (%v) after %v, want %d; log:\n%s", c.nodes[i].Name, got, err, timeout, h, tail(c.nodes[i].Home))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// blockAt returns the block id and app hash of the block at height h.
func (c chainView) blockAt(i int, h int64) string {
	c.t.Helper()
	cl, err := cluster.RPCClient(c.nodes[i].RPCAddr)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := cl.Block(ctx, &h)
	if err != nil {
		c.t.Fatalf("%s: block %d: %v", c.nodes[i].Name, h, err)
	}
	return fmt.Sprintf("block %s app hash %s", b.BlockID.Hash, b.Block.AppHash)
}

// sameChain checks that every node in idx has the same block and app hash
// at the highest height they have all committed.
func (c chainView) sameChain(idx ...int) int64 {
	c.t.Helper()
	common := int64(-1)
	for _, i := range idx {
		h, err := c.height(i)
		if err != nil {
			c.t.Fatalf("%s: %v", c.nodes[i].Name, err)
		}
		if common < 0 || h < common {
			common = h
		}
	}
	want := c.blockAt(idx[0], common)
	for _, i := range idx[1:] {
		if got := c.blockAt(i, common); got != want {
			c.t.Errorf("height %d: %s has %s, %s has %s", common, c.nodes[i].Name, got, c.nodes[idx[0]].Name, want)
		}
	}
	return common
}

func tail(home string) string {
	b, _ := os.ReadFile(filepath.Join(home, "node.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func testKillRestart(t *testing.T, bin string) {
	dir := t.TempDir()
	mustEvote(t, "node", "testnet", "--nodes", "4", "--out", dir, "--official-key", testOfficialKey(t),
		"--idle-block-interval", "250ms")
	tn, err := node.LoadTestnet(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := chainView{t: t, nodes: tn.Nodes}
	all := []int{0, 1, 2, 3}
	procs := make([]*proc, 4)
	for i, n := range tn.Nodes {
		procs[i] = startProc(t, bin, n)
	}
	start := time.Now()
	c.waitHeight(3, 20*time.Second, all...)
	t.Logf("4 nodes at height 3 after %v", time.Since(start).Round(time.Millisecond))

	// One node killed: the other three keep committing.
	procs[3].kill()
	h, _ := c.height(0)
	c.waitHeight(h+3, 15*time.Second, 0, 1, 2)
	c.sameChain(0, 1, 2)

	// Restarted, it catches up with the same blocks and app hashes.
	procs[3] = startProc(t, bin, tn.Nodes[3])
	h, _ = c.height(0)
	c.waitHeight(h, 15*time.Second, 3)
	common := c.sameChain(all...)
	t.Logf("node3 caught up at height %d after %v", common, time.Since(start).Round(time.Millisecond))

	// All killed at once, all restarted: each resumes from its last height.
	before := make([]int64, 4)
	for i := range all {
		before[i], _ = c.height(i)
	}
	for _, p := range procs {
		p.kill()
	}
	for i, n := range tn.Nodes {
		procs[i] = startProc(t, bin, n)
	}
	c.waitHeight(0, 15*time.Second, all...) // RPC up
	top := int64(0)
	for i := range all {
		got, err := c.height(i)
		if err != nil || got < before[i] {
			t.Errorf("%s restarted at height %d (%v), had committed %d", tn.Nodes[i].Name, got, err, before[i])
		}
		top = max(top, before[i])
	}
	c.waitHeight(top+2, 30*time.Second, all...)
	common = c.sameChain(all...)
	t.Logf("all 4 resumed, same chain at height %d after %v", common, time.Since(start).Round(time.Millisecond))

	out, errOut, code := evote(t, "cluster", "status", "--dir", dir)
	if code != 0 || strings.Count(out, " up ") != 4 {
		t.Errorf("cluster status: exit %d\n%s%s", code, out, errOut)
	}
}

// testClusterCommand runs `evote cluster start` with two nodes, reads its
// table, and stops it with SIGINT.
func testClusterCommand(t *testing.T, bin string) {
	dir := t.TempDir()
	cmd := exec.Command(bin, "cluster", "start", "--nodes", "2", "--dir", dir,
		"--official-key", testOfficialKey(t), "--idle-block-interval", "250ms", "--wait", "20s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	for _, want := range []string{"cluster of 2 nodes running", "NODE", "node0", "node1"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("cluster start printed no %q:\n%s%s", want, out.String(), stderr.String())
		}
	}
	if out, errOut, code := evote(t, "cluster", "status", "--dir", dir); code != 0 {
		t.Errorf("cluster status: exit %d\n%s%s", code, out, errOut)
	}
	// `evote cluster start` on a testnet of another size is refused.
	if _, errOut, code := evote(t, "cluster", "start", "--dir", dir, "--nodes", "3"); code != 2 || !strings.Contains(errOut, "2-node testnet, not 3") {
		t.Errorf("cluster start --nodes 3 on a 2-node testnet: exit %d, %s", code, errOut)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cluster start after SIGINT: %v\n%s", err, stderr.String())
	}
	for _, n := range []string{"node0", "node1"} {
		if l := tail(filepath.Join(dir, n)); !strings.Contains(l, "node: stopped") {
			t.Errorf("%s did not stop gracefully:\n%s", n, l)
		}
	}
}

// TestClusterEnvironment: the variables internal/cluster passes its
// children are those `evote node start` reads.
func TestClusterEnvironment(t *testing.T) {
	if cluster.EnvPeerHTTP != envPeerHTTP || cluster.EnvDatabaseURL != envDatabaseURL {
		t.Errorf("internal/cluster passes %s and %s, evote node start reads %s and %s",
			cluster.EnvPeerHTTP, cluster.EnvDatabaseURL, envPeerHTTP, envDatabaseURL)
	}
}
