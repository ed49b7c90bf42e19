package chain_test

import (
	"context"
	"strings"
	"testing"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/wire"
)

// TestTallyOnChain runs an election to its result: re-votes and audits
// change nothing that should not change, the chain checks the published
// totals, every trustee's decryption share and the counts.
func TestTallyOnChain(t *testing.T) {
	h, e, be := setup(t)
	ctx := context.Background()
	m := e.Manifest
	vote := func(c1, c2 string, c3 []string, c4 []string) *ballot.Plaintext {
		return &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{
			"contest-1": {c1}, "contest-2": {c2}, "contest-3": c3, "contest-4": c4}}
	}
	// Voter 0 votes, then changes their mind; voter 1 and 2 vote once.
	first, _ := e.Cast(t, be, 0, vote("option-1", "option-1", []string{"option-1"}, nil))
	h.mustBlock(first)
	second, _ := e.Cast(t, be, 0, vote("option-2", "option-3", []string{"option-2", "option-3"}, []string{"option-1"}))
	v1, _ := e.Cast(t, be, 1, vote("option-2", "option-7", []string{"option-1"}, []string{"option-1", "option-3"}))
	v2, _ := e.Cast(t, be, 2, vote("option-4", "option-3", []string{"option-3"}, nil))
	h.mustBlock(second, v1, v2)
	want := map[string][]uint64{
		"contest-1": {0, 2, 0, 1},
		"contest-2": {0, 0, 2, 0, 0, 0, 1},
		"contest-3": {1, 1, 2},
		"contest-4": {2, 0, 1},
	}
	totals, err := h.app.Totals(ctx, m.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	var enc []byte
	for _, c := range totals {
		enc = append(enc, c.Encode()...)
	}
	totalsTx := wire.Encode(&wire.Totals{ElectionID: m.ElectionID, Ciphertexts: enc})
	if r := h.check(totalsTx); r.Code != uint32(wire.CodeWrongPhase) {
		t.Fatalf("totals before close: %d %s", r.Code, r.Log)
	}
	h.mustBlock(wire.Encode(chain.CloseTx("test-chain", m.ElectionID, e.Official)))
	wrong := append([]byte(nil), enc...)
	copy(wrong[64:128], enc[0:64])
	if r := h.check(wire.Encode(&wire.Totals{ElectionID: m.ElectionID, Ciphertexts: wrong})); r.Code != uint32(wire.CodeWrongTotals) {
		t.Fatalf("wrong totals: %d %s", r.Code, r.Log)
	}
	h.mustBlock(totalsTx)

	// Trustees 1 and 3 decrypt; a share for other ciphertexts is rejected
	// naming the trustee.
	base := be.BaseHash
	var shareTxs [][]byte
	for _, i := range []int{0, 2} {
		s, sig, err := e.Trustees[i].Decrypt(base, totals)
		if err != nil {
			t.Fatal(err)
		}
		shareTxs = append(shareTxs, wire.Encode(&wire.Share{ElectionID: m.ElectionID, Trustee: uint64(s.Trustee), Share: s.Encode(), Signature: sig.Encode()}))
	}
	bogus := append([]crypto.Ciphertext(nil), totals...)
	bogus[0], bogus[1] = totals[1], totals[0]
	bs, bsig, _ := e.Trustees[1].Decrypt(base, bogus)
	if r := h.check(wire.Encode(&wire.Share{ElectionID: m.ElectionID, Trustee: uint64(2), Share: bs.Encode(), Signature: bsig.Encode()})); r.Code != uint32(wire.CodeInvalidProof) {
		t.Fatalf("share of other ciphertexts: %d %s", r.Code, r.Log)
	}
	// A share sent under another trustee's index is refused naming both
	// trustees (it said "…: <nil>"), and so is one that does not decode.
	s0, sig0, _ := e.Trustees[0].Decrypt(base, totals)
	if r := h.check(wire.Encode(&wire.Share{ElectionID: m.ElectionID, Trustee: uint64(2), Share: s0.Encode(), Signature: sig0.Encode()})); r.Code != uint32(wire.CodeMalformed) ||
		!strings.Contains(r.Log, "the transaction is trustee 2 (") || !strings.Contains(r.Log, "the share it carries is trustee 1 (") || strings.Contains(r.Log, "<nil>") {
		t.Errorf("share under a swapped index: code %d %q", r.Code, r.Log)
	}
	if r := h.check(wire.Encode(&wire.Share{ElectionID: m.ElectionID, Trustee: uint64(1), Share: s0.Encode()[:20], Signature: sig0.Encode()})); r.Code != uint32(wire.CodeMalformed) ||
		!strings.Contains(r.Log, "trustee 1 (") || !strings.Contains(r.Log, "does not decode") || strings.Contains(r.Log, "<nil>") {
		t.Errorf("truncated share: code %d %q", r.Code, r.Log)
	}
	var counts []uint64
	for _, c := range m.Contests {
		counts = append(counts, want[c.ID]...)
	}
	resultTx := wire.Encode(&wire.Result{ElectionID: m.ElectionID, Counts: counts})
	h.mustBlock(shareTxs[0])
	if r := h.check(resultTx); r.Code != uint32(wire.CodeWrongPhase) {
		t.Fatalf("result with one share of two: %d %s", r.Code, r.Log)
	}
	h.mustBlock(shareTxs[1])
	bad := append([]uint64(nil), counts...)
	bad[1]++
	if r := h.check(wire.Encode(&wire.Result{ElectionID: m.ElectionID, Counts: bad})); r.Code != uint32(wire.CodeWrongResult) {
		t.Fatalf("wrong count: %d %s", r.Code, r.Log)
	}
	h.mustBlock(resultTx)
	rec, _ := h.app.ElectionRecord(ctx, m.ElectionID)
	if rec.Phase != wire.PhaseTallied {
		t.Fatalf("phase %s", rec.Phase)
	}
	for _, cr := range rec.Result {
		for k, n := range cr.Counts {
			if n != want[cr.Contest][k] {
				t.Fatalf("%s: %v, want %v", cr.Contest, cr.Counts, want[cr.Contest])
			}
		}
	}
}
