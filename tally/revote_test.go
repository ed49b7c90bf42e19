package tally

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/crypto"
)

// TestRevoteByCredential: the service applies the re-vote rule itself, by
// credential: a second ballot of a credential replaces its first, in the
// same block or a later one, also after the service resumes from its store;
// ballots of other credentials replace nothing. Before, it took the
// replaced ballot from the node's event attributes, which are not part of
// consensus: a node that left them out had the service count both ballots.
func TestRevoteByCredential(t *testing.T) {
	m := ballottest.Manifest("revote", []ballot.Rule{{Kind: ballot.Approval}}, []int{2})
	e, sk := ballottest.Election(t, m)
	table, err := crypto.NewDlogTable(10)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(v uint64) ([]crypto.Ciphertext, []byte) {
		var cts []crypto.Ciphertext
		var raw []byte
		for range 2 {
			ct, _, err := crypto.Encrypt(rand.Reader, e.Key, v)
			if err != nil {
				t.Fatal(err)
			}
			cts, raw = append(cts, ct), append(raw, ct.Encode()...)
		}
		return cts, raw
	}
	dir := filepath.Join(t.TempDir(), "st")
	st := pebbleStore(t, dir)
	ctx := context.Background()
	s := &state{totals: zeroTotals(2)}
	x, y := make([]byte, 32), make([]byte, 32)
	x[0], y[0] = 1, 2
	add := func(f *fold, code string, cred []byte, v uint64, want string) {
		t.Helper()
		cts, raw := enc(v)
		got, err := f.addBallot(ctx, code, cred, ballot.DefaultStyleID, cts, raw)
		if err != nil || got != want {
			t.Fatalf("ballot %s: replaces %q (%v), want %q", code, got, err, want)
		}
	}
	commit := func(f *fold, h int64) {
		t.Helper()
		ch, err := f.changes(s.appHash, h)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Commit(ctx, ch); err != nil {
			t.Fatal(err)
		}
		s = &state{height: h, appHash: ch.AppHash, c: f.c, totals: f.totals}
	}
	f := newFold(s, m, st)
	add(f, "A", x, 1, "")
	add(f, "B", y, 1, "")
	add(f, "C", x, 0, "A") // the same block
	commit(f, 1)
	f = newFold(s, m, st)
	add(f, "D", x, 1, "C") // a later block, from the store
	commit(f, 2)

	// Resumed from its store, the service still knows which ballot counts.
	st.Close()
	st = pebbleStore(t, dir)
	f = newFold(s, m, st)
	add(f, "E", y, 0, "B")
	if f.c.Cast != 5 || f.c.Replaced != 3 {
		t.Fatalf("%d cast, %d replaced; want 5 and 3", f.c.Cast, f.c.Replaced)
	}
	// The totals hold D (1, 1) and E (0, 0): one vote per selection.
	for i, ct := range f.totals {
		n, err := table.Solve(ct.DecryptToPoint(sk))
		if err != nil || n != 1 {
			t.Fatalf("total %d decrypts to %d (%v), want 1", i, n, err)
		}
	}
}
