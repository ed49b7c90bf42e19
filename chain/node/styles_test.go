package node_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/wire"
)

// TestWrongStyleRefusedOnEveryNode: on a 4-node chain, a voter of district
// "north" with a valid credential and valid proofs cannot cast a "south"
// ballot, re-vote in "south" after a "north" ballot, or audit a "south"
// ballot: every node refuses each with code 19 (wrong-style), and the nodes
// still agree on the app hash.
func TestWrongStyleRefusedOnEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("a 4-node chain takes a few seconds; skipped with -short")
	}
	const chainID = "evote-styles"
	now := time.Now().UTC().Truncate(time.Second)
	voters := []credential.Entry{{Style: "north", Weight: 1}, {Style: "south", Weight: 5}}
	e := chaintest.NewWith(t, chainID, "styles-2026", ballottest.Districts(), voters, now.Add(-time.Hour), now.Add(24*time.Hour))
	infos, err := node.GenerateTestnet(t.TempDir(), node.TestnetOptions{
		Nodes: 4, ChainID: chainID, IdleBlockInterval: 200 * time.Millisecond,
		Officials: []string{ballot.FormatEd25519Key(e.Official.Public().(ed25519.PublicKey))},
	})
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*node.Node
	for _, in := range infos {
		n, _ := startNode(t, in.Home)
		nodes = append(nodes, n)
	}
	waitHeight(t, 2, 30*time.Second, nodes...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	commit := func(txs ...[]byte) int64 {
		t.Helper()
		var h int64
		for _, tx := range txs {
			res, err := chain.Submit(ctx, nodes[0].Client(), tx, true)
			if err != nil {
				t.Fatal(err)
			}
			if res.TxResult.Code != 0 {
				t.Fatalf("code %d: %s", res.TxResult.Code, res.TxResult.Log)
			}
			h = max(h, res.Height)
		}
		return h
	}
	for _, blk := range e.SetupBlocks(t) {
		commit(blk...)
	}
	be := e.BallotElection(t)
	m := e.Manifest
	north, south := ballottest.FirstChoices(m, "north"), ballottest.FirstChoices(m, "south")
	refusedEverywhere := func(what string, tx []byte) {
		t.Helper()
		for _, n := range nodes {
			// CometBFT reports a transaction CheckTx refuses as an error
			// naming its code and log.
			_, err := n.Client().BroadcastTxSync(ctx, tx)
			if err == nil || !strings.Contains(err.Error(), "code=19,") || !strings.Contains(err.Error(), `the ballot is of style "south", the credential's ballot style is "north"`) {
				t.Errorf("%s: %s answered %v, want code %d (wrong-style)", what, n.Moniker(), err, wire.CodeWrongStyle)
			}
		}
	}
	other, _ := e.Cast(t, be, 0, south)
	refusedEverywhere("a south ballot of a north voter", other)

	mine, _ := e.Cast(t, be, 0, north)
	h := commit(mine)
	revote, _ := e.Cast(t, be, 0, south)
	refusedEverywhere("a re-vote in south", revote)

	b, sec, err := be.Encrypt(rand.Reader, e.Credentials[0].PublicKey(), south)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := be.SignAudit(e.Credentials[0], b, sec)
	if err != nil {
		t.Fatal(err)
	}
	file, err := signed.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	refusedEverywhere("an audit in south", wire.Encode(&wire.Audit{ElectionID: m.ElectionID, File: file}))

	// The south voter's own ballot counts, five times.
	theirs, _ := e.Cast(t, be, 1, south)
	h = max(h, commit(theirs))
	waitHeight(t, h+1, 20*time.Second, nodes...)
	var want string
	for _, n := range nodes {
		blk, err := n.Client().Block(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := n.App().(*chain.App).ElectionRecord(ctx, m.ElectionID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Counted() != 2 || rec.WeightCounted != 6 {
			t.Errorf("%s: %d ballots counted of weight %d, want 2 of weight 6", n.Moniker(), rec.Counted(), rec.WeightCounted)
		}
		next := h + 1
		nb, err := n.Client().Block(ctx, &next)
		if err != nil {
			t.Fatal(err)
		}
		got := blk.BlockID.Hash.String() + "/" + nb.Block.AppHash.String()
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("%s: block %d and app hash %s, node0's %s", n.Moniker(), h, got, want)
		}
	}
}
