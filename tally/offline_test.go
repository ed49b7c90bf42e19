package tally

import (
	"bytes"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/wire"
)

// noNode stands for the node in tests that give the service its blocks
// directly: any call panics.
type noNode struct{ rpcclient.Client }

// offline is a service that is given blocks directly (processBlock), with
// the rules of e's chain and no node. e's key ceremony must be done
// (SetupBlocks) for the binding.
type offline struct {
	t   testing.TB
	e   *chaintest.Election
	svc *Service
}

func newOffline(t testing.TB, e *chaintest.Election, st store.Store) *offline {
	t.Helper()
	id := e.Manifest.ElectionID
	svc, err := New(t.Context(), Config{Client: noNode{}, ElectionID: id, Store: st, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if svc.bound() == nil {
		h := e.Manifest.Hash()
		b := &binding{ChainID: e.ChainID, ElectionID: id, ManifestHash: h[:], JointKey: e.Trustees[0].Ceremonies[id].JointKey}
		if err := svc.setBinding(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.useGenesis(t.Context(), e.ChainID, e.GenesisAppState()); err != nil {
		t.Fatal(err)
	}
	return &offline{t: t, e: e, svc: svc}
}

// block gives the service the next block, holding txs whose results on
// the chain have the given codes (code 0 for those not given). The results
// carry no events: the service reads none.
func (o *offline) block(txs [][]byte, codes ...wire.Code) error {
	o.svc.mu.Lock()
	cur := o.svc.s
	o.svc.mu.Unlock()
	hash := make([]byte, 32)
	_, _ = rand.Read(hash)
	b := &chainBlock{height: cur.height + 1, hash: hash, parent: cur.p.BlockHash, time: time.Now(), txs: txs}
	for i := range txs {
		code := wire.OK
		if i < len(codes) {
			code = codes[i]
		}
		b.results = append(b.results, &abci.ExecTxResult{Code: uint32(code)})
	}
	return o.svc.processBlock(o.t.Context(), b)
}

// accept gives the service a block whose transactions the chain accepted.
func (o *offline) accept(txs ...[]byte) {
	o.t.Helper()
	if err := o.block(txs); err != nil {
		o.t.Fatal(err)
	}
}

// state returns the service's committed state.
func (o *offline) state() *state {
	o.svc.mu.Lock()
	defer o.svc.mu.Unlock()
	return o.svc.s
}

func newOfflineElection(t *testing.T, voters int) (*chaintest.Election, [][][]byte) {
	now := time.Now().Truncate(time.Second)
	e := chaintest.New(t, "evote-tally-offline", "offline", voters, now.Add(-time.Hour), now.Add(time.Hour))
	return e, e.SetupBlocks(t)
}

// TestOutcomeDiffers: every transaction of the election whose outcome by
// the rules is not the chain's result is an alarm naming the height, the
// transaction and both outcomes, and nothing of its block is stored; an
// outcome on which both agree is kept, a rejection counted; transactions of
// other elections are not the service's to judge.
func TestOutcomeDiffers(t *testing.T) {
	e, setup := newOfflineElection(t, 2)
	o := newOffline(t, e, pebbleStore(t, t.TempDir()))
	for _, blk := range setup {
		o.accept(blk...)
	}
	be := e.BallotElection(t)
	good, b := e.Cast(t, be, 0, newTally(e.Manifest).vote(mrand.New(mrand.NewPCG(1, 1)), 0))
	code := b.TrackingCode()
	bad := bytes.Clone(good)
	bad[len(bad)-10] ^= 1 // in the signature
	h := o.state().height + 1
	for _, c := range []struct {
		tx          []byte
		chain       wire.Code
		want, wantC string
	}{
		{bad, wire.OK, "code 5 (bad-signature: ", "code 0 (accepted)"},
		{good, wire.CodeNotOnRoll, "code 0 (accepted)", "code 6 (not-on-roll: )"},
		{good, wire.CodeInvalidProof, "code 0 (accepted)", "code 7 (invalid-proof: )"},
	} {
		err := o.block([][]byte{c.tx}, c.chain)
		var a *AlarmError
		if !errors.As(err, &a) || !errors.Is(err, ErrAlarm) {
			t.Fatalf("chain code %d: %v, want an alarm", c.chain, err)
		}
		if a.Height != h || a.Item != "ballot transaction 0 (ballot "+code+")" ||
			!strings.Contains(a.Detail, "the rules give "+c.want) || !strings.Contains(a.Detail, "the chain's result is "+c.wantC) {
			t.Errorf("chain code %d: alarm %+v", c.chain, a)
		}
		if s := o.state(); s.height != h-1 || s.rec.BallotsCast != 0 {
			t.Fatalf("after an alarm: height %d, %d ballots", s.height, s.rec.BallotsCast)
		}
	}
	if err := o.block([][]byte{{0xff, 0}}); err == nil || !strings.Contains(err.Error(), "accepted by the chain but does not decode") {
		t.Fatalf("an undecodable transaction the chain accepted: %v", err)
	}

	// Agreed: the bad ballot rejected, the good one accepted; a ballot of
	// another election, whatever the chain made of it, is skipped.
	other := wire.Encode(&wire.Ballot{ElectionID: "another-election", Cast: []byte{1, 2, 3}})
	if err := o.block([][]byte{bad, other, good}, wire.CodeBadSignature, wire.OK); err != nil {
		t.Fatal(err)
	}
	if p := o.svc.Progress(); p.Height != h || p.Rejected != 1 || p.Cast != 1 || p.Counted != 1 {
		t.Fatalf("progress %+v", p)
	}
}
