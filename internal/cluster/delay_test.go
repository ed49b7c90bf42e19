package cluster

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/chain/store/pebblestore"
)

// configValue returns the value of the first line "key = value" of the
// node's config.toml, its quotes removed.
func configValue(t *testing.T, home, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "config", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + ` = (.*)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s has no %s", home, key)
	}
	return strings.Trim(string(m[1]), `"`)
}

// TestDelayP2P: every node's persistent peers are the other nodes' relays,
// each relay forwards to its node's p2p port, peer exchange is off and the
// timeouts are a deployment's; the four nodes, run in this process, make
// blocks with every connection between them through a relay, and a
// round of consensus takes at least the delay.
func TestDelayP2P(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 4-node chain")
	}
	const delay, idle = 50 * time.Millisecond, 300 * time.Millisecond
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := node.GenerateTestnet(t.TempDir(), node.TestnetOptions{Nodes: 4, IdleBlockInterval: idle,
		Officials: []string{ballot.FormatEd25519Key(pub)}})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := DelayP2P(nodes, delay)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for i, n := range nodes {
		if rs[i].Target() != n.P2PAddr {
			t.Errorf("%s's relay forwards to %s, not its p2p address %s", n.Name, rs[i].Target(), n.P2PAddr)
		}
		var want []string
		for j, m := range nodes {
			if j != i {
				want = append(want, m.NodeID+"@"+rs[j].Addr())
			}
		}
		if got := strings.Split(configValue(t, n.Home, "persistent_peers"), ","); !slices.Equal(got, want) {
			t.Errorf("%s's persistent peers: %v, want %v", n.Name, got, want)
		}
		for key, want := range map[string]string{"pex": "false", "timeout_commit": node.WANTimeoutCommit.String(), "create_empty_blocks_interval": "300ms"} {
			if got := configValue(t, n.Home, key); got != want {
				t.Errorf("%s's %s = %s, want %s", n.Name, key, got, want)
			}
		}
	}

	var running []*node.Node
	for _, n := range nodes {
		st, err := pebblestore.New(context.Background(), pebblestore.Config{Dir: filepath.Join(n.Home, node.StateDir)})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		app, err := chain.NewApp(st, chain.AppOptions{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		nd, err := node.Start(ctx, node.Config{Home: n.Home, App: app, Logger: slog.New(slog.DiscardHandler)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		defer nd.Stop()
		running = append(running, nd)
	}
	deadline := time.Now().Add(30 * time.Second)
	for i, nd := range running {
		for {
			st, err := nd.Client().Status(context.Background())
			if err == nil && st.SyncInfo.LatestBlockHeight >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s made no block 3 in 30 s through the relays (%v)", nodes[i].Name, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Four nodes, each pair connected once, every connection through a
	// relay: six (a duplicate being refused may still be open). A pair may
	// be between a refused duplicate and its next dial for a moment.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		open := 0
		for _, r := range rs {
			open += r.Open()
		}
		var peers []int
		for _, nd := range running {
			ni, err := nd.Client().NetInfo(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			peers = append(peers, ni.NPeers)
		}
		if open >= 6 && slices.Equal(peers, []int{3, 3, 3, 3}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the nodes have %v peers and the relays carry %d connections; want 3 each, through 6", peers, open)
		}
	}
	// A height takes the commit timeout, then a proposal, prevotes and
	// precommits across the links (a block's time is the median of the
	// precommit times for the one before).
	c := running[0].Client()
	h2, h3 := int64(2), int64(3)
	b2, err := c.Block(context.Background(), &h2)
	if err != nil {
		t.Fatal(err)
	}
	b3, err := c.Block(context.Background(), &h3)
	if err != nil {
		t.Fatal(err)
	}
	gap := b3.Block.Time.Sub(b2.Block.Time)
	if least := node.WANTimeoutCommit + 3*delay; gap < least {
		t.Errorf("blocks 2 and 3 are %v apart, less than the commit timeout %v and three delays of %v", gap, node.WANTimeoutCommit, delay)
	}
	t.Logf("blocks 2 and 3 are %v apart", gap)
}

// TestDelayP2PError: a node that is no testnet's is refused, and the
// relays already started are closed.
func TestDelayP2PError(t *testing.T) {
	nodes := fakeNodes(t)
	for i := range nodes {
		nodes[i].NodeID = strings.Repeat("ab", 20)
	}
	rs, err := DelayP2P(nodes, time.Millisecond)
	if err == nil || rs != nil || !strings.Contains(err.Error(), "node0") {
		t.Errorf("DelayP2P of nodes without homes: %v, %v", rs, err)
	}
}
