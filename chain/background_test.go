package chain_test

import (
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/wire"
)

// TestBackgroundVerification: ballots a peer gossiped are admitted on their
// signature, then their proofs are verified in the background while the node
// waits for their block: a CheckTx again (a recheck) then refuses a bad proof
// (code 7, as its block would) and still admits the good ones, and their
// block gives each the code it gets when verified at once, whether the
// background verifier has finished (here), or not (TestConcurrentCheckTx).
func TestBackgroundVerification(t *testing.T) {
	h, e, be := setup(t)
	choices := ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID)
	var txs [][]byte
	var want []uint32
	for voter := range len(e.Credentials) {
		_, b := e.Cast(t, be, voter, choices)
		code := uint32(0)
		if voter%2 == 1 {
			b.Contests[0].Selections[0].Ciphertext = b.Contests[0].Selections[1].Ciphertext
			code = uint32(wire.CodeInvalidProof)
		}
		c, _ := be.Sign(e.Credentials[voter], b)
		txs, want = append(txs, wire.Encode(&wire.Ballot{ElectionID: e.Manifest.ElectionID, Cast: c.Encode()})), append(want, code)
	}
	for i, tx := range txs {
		if r := h.checkGossiped(tx); r.Code != 0 {
			t.Fatalf("gossiped ballot %d: CheckTx code %d (%s), want 0 (proofs are not verified at admission)", i, r.Code, r.Log)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		done := true
		for i, tx := range txs {
			r := h.checkGossiped(tx)
			switch {
			case r.Code == want[i]:
			case r.Code == 0 && want[i] != 0:
				done = false // not verified yet
			default:
				t.Fatalf("ballot %d rechecked: code %d (%s), want %d", i, r.Code, r.Log, want[i])
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the gossiped ballots' proofs were not verified in the background within 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, r := range h.block(txs...) {
		if r.Code != want[i] {
			t.Errorf("ballot %d: block code %d (%s), want %d", i, r.Code, r.Log, want[i])
		}
	}
}
