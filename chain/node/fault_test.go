package node_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/chain/store/storetest"
)

// TestStoreFailureStopsTheNode: in a 4-validator chain, one node's store
// starts failing its commits (a full disk, a database gone). That node must
// report the failure (Failed, Err, Health) rather than linger as if healthy,
// having stored nothing of the block; the other three go on; and, restarted
// on the same store once it works again, the node executes the block again
// and catches up to the same app hash as its peers.
func TestStoreFailureStopsTheNode(t *testing.T) {
	if testing.Short() {
		t.Skip("a 4-node chain takes a few seconds; skipped with -short")
	}
	infos, nodes, f := threeAndFaulty(t)
	start := func() *node.Node {
		app, err := chain.NewApp(f, chain.AppOptions{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		n, err := node.Start(ctx, node.Config{Home: infos[0].Home, App: app, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Stop() })
		return n
	}
	n0 := start()
	waitHeight(t, 3, 20*time.Second, append(nodes, n0)...)
	if err := n0.Health(); err != nil {
		t.Fatalf("a working node is unhealthy: %v", err)
	}

	f.FailCommits(true)
	select {
	case <-n0.Failed():
	case <-time.After(20 * time.Second):
		t.Fatal("the node whose store fails its commits did not fail in 20 s")
	}
	if err := n0.Health(); err == nil || n0.Err() == nil {
		t.Fatal("a failed node reports itself healthy")
	}
	if !strings.Contains(n0.Err().Error(), storetest.ErrInjected.Error()) {
		t.Fatalf("the failure does not name its cause: %v", n0.Err())
	}
	last, err := f.LastBlock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stuck := last.Height
	// The other three go on.
	waitHeight(t, stuck+3, 20*time.Second, nodes...)
	if err := n0.Stop(); err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("stopping the failed node: %v", err)
	}

	// The store works again; the restarted node executes the block it
	// could not commit, and agrees with its peers.
	f.FailCommits(false)
	n0 = start()
	target := height(t, nodes[0]) + 2
	waitHeight(t, target, 30*time.Second, append(nodes, n0)...)
	ctx := context.Background()
	for h := stuck; h <= target; h++ {
		want, err := nodes[0].Client().Block(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		got, err := n0.Client().Block(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Block.AppHash, want.Block.AppHash) || !bytes.Equal(got.BlockID.Hash, want.BlockID.Hash) {
			t.Fatalf("height %d: the restarted node has block %X app hash %X, its peers %X %X", h, got.BlockID.Hash, got.Block.AppHash, want.BlockID.Hash, want.Block.AppHash)
		}
	}
	if err := n0.Health(); err != nil {
		t.Fatalf("the restarted node is unhealthy: %v", err)
	}
}

// TestStalledNodeIsUnhealthy: one node of four whose store hangs in its
// commit (a disk or database that stops answering) falls behind while its
// peers go on; Health must report it stalled, and healthy again once it has
// caught up.
func TestStalledNodeIsUnhealthy(t *testing.T) {
	if testing.Short() {
		t.Skip("a 4-node chain takes a few seconds; skipped with -short")
	}
	infos, nodes, f := threeAndFaulty(t)
	app, err := chain.NewApp(f, chain.AppOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n0, err := node.Start(ctx, node.Config{Home: infos[0].Home, App: app, Logger: testLogger(t), StallAfter: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.ReleaseCommits()
		n0.Stop()
	})
	waitHeight(t, 3, 20*time.Second, append(nodes, n0)...)

	f.HoldCommits()
	deadline := time.Now().Add(30 * time.Second)
	for n0.Health() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("node 0 has not committed for 30 s (its peers are at %d), yet it reports itself healthy", height(t, nodes[0]))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := n0.Health(); !strings.Contains(err.Error(), "stalled") {
		t.Fatalf("health of the stalled node: %v", err)
	}
	if n0.Err() != nil {
		t.Fatalf("a stalled node is not a failed one: %v", n0.Err())
	}

	f.ReleaseCommits()
	waitHeight(t, height(t, nodes[0])+2, 30*time.Second, n0)
	deadline = time.Now().Add(10 * time.Second)
	for n0.Health() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("node 0 caught up but is still unhealthy: %v", n0.Health())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// threeAndFaulty makes a 4-validator testnet, starts nodes 1 to 3, and
// returns node 0's store wrapped in a fault-injecting one (closed at the end
// of the test), for the test to start node 0 on.
func threeAndFaulty(t *testing.T) ([]node.NodeInfo, []*node.Node, *storetest.Faulty) {
	t.Helper()
	infos, err := node.GenerateTestnet(t.TempDir(), node.TestnetOptions{
		Nodes: 4, Officials: []string{officialKey(t)}, IdleBlockInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*node.Node
	for _, in := range infos[1:] {
		n, _ := startNode(t, in.Home)
		nodes = append(nodes, n)
	}
	st := openStore(t, infos[0].Home)
	t.Cleanup(func() { st.Close() })
	return infos, nodes, storetest.NewFaulty(st)
}

// TestNoQuorumSaysWhy: a node of a 4-node chain whose peers are not up
// makes no block; after StallAfter its Health says how many of its
// persistent peers it reaches, names the missing ones and the likely
// causes, instead of only CometBFT's "secret conn failed" in the logs.
func TestNoQuorumSaysWhy(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a node's stall detection; skipped with -short")
	}
	infos, err := node.GenerateTestnet(t.TempDir(), node.TestnetOptions{
		Nodes: 4, Officials: []string{officialKey(t)}, IdleBlockInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, infos[0].Home)
	t.Cleanup(func() { st.Close() })
	app, err := chain.NewApp(st, chain.AppOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n0, err := node.Start(ctx, node.Config{Home: infos[0].Home, App: app, Logger: testLogger(t), StallAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n0.Stop() })
	deadline := time.Now().Add(15 * time.Second)
	for n0.Health() == nil {
		if time.Now().After(deadline) {
			t.Fatal("a node with none of its peers up reports itself healthy after 15 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	msg := n0.Health().Error()
	for _, want := range []string{"connected to 0 of the 3 persistent peers", infos[1].NodeID, infos[3].NodeID, "--private-network", "2/3 of the voting power"} {
		if !strings.Contains(msg, want) {
			t.Errorf("health %q does not say %q", msg, want)
		}
	}
}
