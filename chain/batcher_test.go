package chain_test

import (
	"context"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/wire"
)

// TestConcurrentCheckTx: ballots checked at the same time (verified by the
// web server's App.VerifyBallot, then CheckTx, so verified in shared
// batches) get exactly the codes they get one at a time, whatever mixes of
// valid, bad-proof and forged ballots end up in a batch. Gossiped, the same
// ballots (CheckTx alone, on a node that has not verified them) are
// admitted but for the forged ones; their block then refuses the bad
// proofs with the codes above.
func TestConcurrentCheckTx(t *testing.T) {
	e := chaintest.New(t, "test-chain", "city-2026", 6, t0, t0.Add(12*time.Hour))
	setupBlocks := e.SetupBlocks(t)
	node := func() *harness {
		h := newHarness(t, e.GenesisAppState())
		for _, blk := range setupBlocks {
			h.mustBlock(blk...)
		}
		return h
	}
	h, be := node(), e.BallotElection(t)
	choices := ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID)
	var txs [][]byte
	var want []uint32
	for i := range 30 {
		voter := i % len(e.Credentials)
		switch {
		case i%5 == 3:
			_, b := e.Cast(t, be, voter, choices)
			b.Contests[0].Selections[0].Ciphertext = b.Contests[0].Selections[1].Ciphertext
			c, _ := be.Sign(e.Credentials[voter], b)
			txs, want = append(txs, wire.Encode(&wire.Ballot{ElectionID: e.Manifest.ElectionID, Cast: c.Encode()})), append(want, uint32(wire.CodeInvalidProof))
		case i%7 == 5:
			_, b := e.Cast(t, be, voter, choices)
			c, _ := be.Sign(e.Credentials[voter], b)
			c.Signature[0] ^= 1
			txs, want = append(txs, wire.Encode(&wire.Ballot{ElectionID: e.Manifest.ElectionID, Cast: c.Encode()})), append(want, uint32(wire.CodeBadSignature))
		default:
			tx, _ := e.Cast(t, be, voter, choices)
			txs, want = append(txs, tx), append(want, 0)
		}
	}
	// A fresh node (empty verify cache) checks them all at once, several
	// rounds so that batches of different compositions form.
	for round := range 3 {
		h2 := node()
		got := make([]uint32, len(txs))
		logs := make([]string, len(txs))
		var wg sync.WaitGroup
		for i, tx := range txs {
			wg.Go(func() {
				h2.app.VerifyBallot(context.Background(), tx)
				r, err := h2.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: tx, Type: abci.CHECK_TX_TYPE_CHECK})
				if err != nil {
					logs[i] = err.Error()
					got[i] = 999
					return
				}
				got[i], logs[i] = r.Code, r.Log
			})
		}
		wg.Wait()
		for i := range txs {
			if got[i] != want[i] {
				t.Errorf("round %d, ballot %d: code %d (%s), want %d", round, i, got[i], logs[i], want[i])
			}
			// The same verdict and message one at a time, on another node.
			if r := h.check(txs[i]); r.Code != got[i] || r.Log != logs[i] {
				t.Errorf("round %d, ballot %d: alone %d %q, concurrently %d %q", round, i, r.Code, r.Log, got[i], logs[i])
			}
		}
	}
	h3 := node()
	for i, tx := range txs {
		gossip := want[i]
		if gossip == uint32(wire.CodeInvalidProof) {
			gossip = 0 // left to the block
		}
		if r := h3.checkGossiped(tx); r.Code != gossip {
			t.Errorf("gossiped ballot %d: CheckTx code %d (%s), want %d", i, r.Code, r.Log, gossip)
		}
	}
	for i, r := range h3.block(txs...) {
		if r.Code != want[i] {
			t.Errorf("gossiped ballot %d: block code %d (%s), want %d", i, r.Code, r.Log, want[i])
		}
	}
}
