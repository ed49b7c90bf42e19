package chain_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/wire"
)

// fuzzChain is a chain holding one election in each phase a received
// transaction can meet, and valid transactions of every kind for it.
type fuzzChain struct {
	h     *harness
	hash  []byte   // the committed app hash
	seeds [][]byte // valid (or nearly valid) transactions of every kind
	// share and result are the valid third share and the result of
	// "closed-2026"; badShare is that share, signed, of other ciphertexts.
	share, result, badShare []byte
}

// newFuzzChain builds, on one chain:
//   - "keying-2026", defined and registered, waiting for dealings (seeds:
//     the dealings, complaints, justifications and roll chunks);
//   - "open-2026", open with one ballot cast (seeds: a ballot, a re-vote,
//     a signed audit, close, and totals too early);
//   - "closed-2026", closed, its totals and two shares of three published
//     (seeds: the third share and the result);
//   - and the definition of "new-2026", not yet on the chain.
func newFuzzChain(tb testing.TB) *fuzzChain {
	const chainID = "test-chain"
	window := func(id string, voters int) *chaintest.Election {
		return chaintest.New(tb, chainID, id, voters, t0, t0.Add(12*time.Hour))
	}
	keying, open, closed, fresh := window("keying-2026", 3), window("open-2026", 4), window("closed-2026", 2), window("new-2026", 1)
	var officials []string
	for _, e := range []*chaintest.Election{keying, open, closed, fresh} {
		officials = append(officials, ballot.FormatEd25519Key(e.Official.Public().(ed25519.PublicKey)))
	}
	genesis, _ := json.Marshal(chain.GenesisState{Officials: officials})
	h := newHarnessB(tb, genesis)
	fc := &fuzzChain{h: h}
	seed := func(txs ...[]byte) { fc.seeds = append(fc.seeds, txs...) }

	kb := keying.SetupBlocks(tb)
	h.mustBlock(kb[0]...) // define
	h.mustBlock(kb[1]...) // register
	for _, blk := range kb[2:] {
		seed(blk...) // dealings, complaints, justifications, roll, open
	}

	for _, blk := range open.SetupBlocks(tb) {
		h.mustBlock(blk...)
	}
	obe := open.BallotElection(tb)
	choices := ballottest.FirstChoices(open.Manifest, ballot.DefaultStyleID)
	cast0, _ := open.Cast(tb, obe, 0, choices)
	h.mustBlock(cast0)
	cast1, _ := open.Cast(tb, obe, 1, choices)
	revote, _ := open.Cast(tb, obe, 0, choices)
	b, sec, err := obe.Encrypt(rand.Reader, open.Credentials[2].PublicKey(), choices)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := obe.SignAudit(open.Credentials[2], b, sec)
	if err != nil {
		tb.Fatal(err)
	}
	audit, _ := a.MarshalJSON()
	seed(cast1, revote, wire.Encode(&wire.Audit{ElectionID: open.Manifest.ElectionID, File: audit}),
		wire.Encode(chain.CloseTx(chainID, open.Manifest.ElectionID, open.Official)))

	for _, blk := range closed.SetupBlocks(tb) {
		h.mustBlock(blk...)
	}
	cbe := closed.BallotElection(tb)
	c0, _ := closed.Cast(tb, cbe, 0, ballottest.FirstChoices(closed.Manifest, ballot.DefaultStyleID))
	c1, _ := closed.Cast(tb, cbe, 1, ballottest.FirstChoices(closed.Manifest, ballot.DefaultStyleID))
	h.mustBlock(c0, c1)
	id := closed.Manifest.ElectionID
	h.mustBlock(wire.Encode(chain.CloseTx(chainID, id, closed.Official)))
	totals, err := h.app.Totals(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	var enc []byte
	for _, c := range totals {
		enc = append(enc, c.Encode()...)
	}
	h.mustBlock(wire.Encode(&wire.Totals{ElectionID: id, Ciphertexts: enc}))
	seed(wire.Encode(&wire.Totals{ElectionID: open.Manifest.ElectionID, Ciphertexts: enc})) // too early, and not its totals
	var shares []crypto.DecryptionShare
	for i, k := range closed.Trustees {
		s, sig, err := k.Decrypt(cbe.BaseHash, totals)
		if err != nil {
			tb.Fatal(err)
		}
		tx := wire.Encode(&wire.Share{ElectionID: id, Trustee: uint64(s.Trustee), Share: s.Encode(), Signature: sig.Encode()})
		if i == 1 {
			fc.share = tx
			bogus := append([]crypto.Ciphertext(nil), totals...)
			bogus[0], bogus[1] = totals[1], totals[0]
			bs, bsig, err := k.Decrypt(cbe.BaseHash, bogus)
			if err != nil {
				tb.Fatal(err)
			}
			fc.badShare = wire.Encode(&wire.Share{ElectionID: id, Trustee: uint64(bs.Trustee), Share: bs.Encode(), Signature: bsig.Encode()})
			seed(tx, fc.badShare) // the third share, still accepted; and a wrong one
			continue
		}
		shares = append(shares, s)
		h.mustBlock(tx)
	}
	var vks []crypto.Point
	for _, raw := range closed.Trustees[0].Ceremonies[id].VerificationKeys {
		p, err := crypto.DecodeNonIdentityPoint(raw)
		if err != nil {
			tb.Fatal(err)
		}
		vks = append(vks, p)
	}
	points, err := crypto.Combine(cbe.BaseHash, closed.Manifest.Trustees.Threshold, vks, totals, shares)
	if err != nil {
		tb.Fatal(err)
	}
	table, err := crypto.NewDlogTable(2)
	if err != nil {
		tb.Fatal(err)
	}
	counts, err := table.SolveMany(points, 1)
	if err != nil {
		tb.Fatal(err)
	}
	fc.result = wire.Encode(&wire.Result{ElectionID: id, Counts: counts})
	seed(fc.result)

	seed(wire.Encode(chain.DefineElectionTx(chainID, fresh.Manifest, fresh.Official)))
	fc.hash = []byte(h.hashes[len(h.hashes)-1])
	return fc
}

// FuzzTx runs arbitrary bytes through wire.Decode and, twice in one
// block, through the application's FinalizeBlock over a chain with an
// election in every phase. What decodes encodes back to the same bytes;
// every transaction gets a result with a code, never a panic, an error or
// CodeInternal (the store is sound, so nothing a client sends is the node's
// own fault); what does not decode is rejected as malformed; a rejected
// block leaves the app hash as it was and an accepted transaction changes
// it; and the second copy of an accepted transaction is refused (no
// replay). The block is never committed, so every input meets the same
// state.
func FuzzTx(f *testing.F) {
	fc := newFuzzChain(f)
	for _, s := range fc.seeds {
		f.Add(s)
		// A flipped byte in the middle, and a truncation: mutations the
		// fuzzer then works from.
		m := bytes.Clone(s)
		m[len(m)/2] ^= 0x40
		f.Add(m)
		f.Add(s[:len(s)-1])
	}
	f.Add([]byte{})
	f.Add([]byte{wire.Version, byte(wire.KindOpen)})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, decErr := wire.Decode(raw)
		if decErr == nil {
			if enc := wire.Encode(tx); !bytes.Equal(enc, raw) {
				t.Fatalf("DecodeTx then Encode: %x, want %x", enc, raw)
			}
		}
		res, err := fc.h.app.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{
			Height: fc.h.height + 1, Time: fc.h.clock, Txs: [][]byte{raw, raw}})
		if err != nil {
			t.Fatalf("FinalizeBlock: %v", err)
		}
		if len(res.TxResults) != 2 || res.TxResults[0] == nil || res.TxResults[1] == nil {
			t.Fatalf("FinalizeBlock of 2 transactions: results %v", res.TxResults)
		}
		accepted := 0
		for i, r := range res.TxResults {
			switch {
			case r.Code == uint32(wire.CodeInternal):
				t.Fatalf("tx %d: an internal error for a client's bytes: %s", i, r.Log)
			case decErr != nil && r.Code != uint32(wire.CodeMalformed):
				t.Fatalf("tx %d does not decode (%v) but got code %d: %s", i, decErr, r.Code, r.Log)
			case r.Code != 0 && r.Log == "":
				t.Fatalf("tx %d: code %d without a message", i, r.Code)
			case r.Code == 0:
				accepted++
			}
		}
		if res.TxResults[0].Code == 0 && res.TxResults[1].Code == 0 {
			t.Fatalf("a %s transaction accepted twice in one block", tx.Kind())
		}
		if changed := !bytes.Equal(res.AppHash, fc.hash); changed != (accepted > 0) {
			t.Fatalf("%d transactions accepted, app hash changed: %v (%d %s; %d %s)", accepted, changed, res.TxResults[0].Code, res.TxResults[0].Log, res.TxResults[1].Code, res.TxResults[1].Log)
		}
	})
}

// finalize runs a block of txs on the committed state without committing it.
func (fc *fuzzChain) finalize(tb testing.TB, txs ...[]byte) *abci.FinalizeBlockResponse {
	tb.Helper()
	res, err := fc.h.app.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{
		Height: fc.h.height + 1, Time: fc.h.clock, Txs: txs})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// TestRejectedTallyTxKeepsAppHash: a share or a result that is rejected
// after the node read the running totals changes nothing, so a block of
// only such transactions keeps the app hash. (The totals a block had only
// read were written back at its end, so the block's app hash changed: an
// implementation that follows docs/spec-chain.md §6, where a rejected
// transaction writes nothing, would have computed another one. FuzzTx
// found it.) The valid share and result are still accepted.
func TestRejectedTallyTxKeepsAppHash(t *testing.T) {
	fc := newFuzzChain(t)
	wrongCount := bytes.Clone(fc.result)
	wrongCount[len(wrongCount)-1] ^= 1
	for _, c := range []struct {
		name string
		tx   []byte
		code wire.Code
	}{{"wrong count", wrongCount, wire.CodeWrongResult}, {"share of other ciphertexts", fc.badShare, wire.CodeInvalidProof}} {
		res := fc.finalize(t, c.tx)
		if r := res.TxResults[0]; wire.Code(r.Code) != c.code {
			t.Errorf("%s: code %d (%s), want %d", c.name, r.Code, r.Log, c.code)
		}
		if !bytes.Equal(res.AppHash, fc.hash) {
			t.Errorf("%s: rejected, but the app hash changed from %x to %x", c.name, fc.hash, res.AppHash)
		}
	}
	for _, c := range []struct {
		name string
		tx   []byte
	}{{"share", fc.share}, {"result", fc.result}} {
		res := fc.finalize(t, c.tx)
		if r := res.TxResults[0]; r.Code != 0 || bytes.Equal(res.AppHash, fc.hash) {
			t.Errorf("valid %s: code %d (%s), app hash changed: %v", c.name, r.Code, r.Log, !bytes.Equal(res.AppHash, fc.hash))
		}
	}
}
