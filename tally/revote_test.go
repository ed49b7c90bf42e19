package tally

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
)

// TestRevoteByCredential: by the rules, a second ballot of a credential
// replaces its first, in the same block or a later one, also after the
// service resumes from its store; ballots of other credentials replace
// nothing. The chain's results carry no events: the service derives the
// re-vote from the ballots' credentials, never from the event attributes
// (not part of consensus), and the totals hold the ballots that count.
func TestRevoteByCredential(t *testing.T) {
	e, setup := newOfflineElection(t, 2)
	id := e.Manifest.ElectionID
	dir := t.TempDir()
	st := pebbleStore(t, dir)
	o := newOffline(t, e, st)
	for _, blk := range setup {
		o.accept(blk...)
	}
	be := e.BallotElection(t)
	tl := newTally(e.Manifest)
	rng := rand.New(rand.NewPCG(7, 8))
	cast := func(i int) ([]byte, []byte) {
		tx, b := e.Cast(t, be, i, tl.vote(rng, i))
		h := b.Hash()
		return tx, h[:]
	}
	x1, hx1 := cast(0)
	y1, hy1 := cast(1)
	x2, hx2 := cast(0)
	o.accept(x1, y1, x2) // x2 replaces x1 in the same block
	x3, hx3 := cast(0)
	o.accept(x3) // x3 replaces x2, from the store

	// Resumed from its store, the service still knows which ballot counts.
	st.Close()
	st = pebbleStore(t, dir)
	o = newOffline(t, e, st)
	y2, hy2 := cast(1)
	o.accept(y2)

	view := newStoreState(t.Context(), st)
	rec, err := rules.Record(view, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.BallotsCast != 5 || rec.BallotsReplaced != 3 || rec.Counted() != 2 {
		t.Fatalf("%d cast, %d replaced; want 5 and 3", rec.BallotsCast, rec.BallotsReplaced)
	}
	for _, c := range []struct {
		name             string
		ballot, replaced []byte
	}{{"x1", hx1, hx2}, {"x2", hx2, hx3}, {"x3", hx3, nil}, {"y1", hy1, hy2}, {"y2", hy2, nil}} {
		raw, ok, err := view.Get(rules.BucketBallot, rules.Key(id, c.ballot))
		if err != nil || !ok {
			t.Fatalf("ballot %s: %v %v", c.name, ok, err)
		}
		br, err := rules.DecodeBallotRecord(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(br.ReplacedBy, c.replaced) {
			t.Errorf("ballot %s is replaced by %x, want %x", c.name, br.ReplacedBy, c.replaced)
		}
	}
	if p := o.svc.Progress(); p.Cast != 5 || p.Replaced != 3 || p.Counted != 2 {
		t.Errorf("progress %+v", p)
	}
	// The totals hold x3 and y2 only.
	if got, want := decryptTotals(t, e, rec, o.state().totals), tl.want(); !slices.Equal(got, want) {
		t.Fatalf("the totals decrypt to %v, want %v (the choices of x3 and y2)", got, want)
	}
}

// decryptTotals decrypts totals with e's first two trustees.
func decryptTotals(t *testing.T, e *chaintest.Election, rec *rules.ElectionRecord, totals []crypto.Ciphertext) []uint64 {
	t.Helper()
	base := crypto.Context(rec.BaseHash)
	var shares []crypto.DecryptionShare
	for _, k := range e.Trustees[:2] {
		s, _, err := k.Decrypt(base, totals)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, s)
	}
	vks, err := rules.VerificationKeys(rec)
	if err != nil {
		t.Fatal(err)
	}
	points, err := crypto.Combine(base, 2, vks, totals, shares)
	if err != nil {
		t.Fatal(err)
	}
	table, err := crypto.NewDlogTable(uint64(max(rec.Counted(), 1)))
	if err != nil {
		t.Fatal(err)
	}
	counts, err := table.SolveMany(points, 0)
	if err != nil {
		t.Fatal(err)
	}
	return counts
}
