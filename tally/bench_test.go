package tally

import (
	"crypto/rand"
	mrand "math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/crypto"
)

// BenchmarkBlocks1000 applies 1,000 ballots of the mixed manifest of
// chaintest (4 contests, 17 selections) in 10 blocks of 100 as the service
// does: one batch verification of each block's ballots, the rules over
// the service's Pebble store, one commit per block. The last 50 are re-votes
// of voters of the first block, whose ballots leave the totals again. The
// ballots are encrypted before the timer starts; each round starts from a
// new store holding the election's setup.
func BenchmarkBlocks1000(b *testing.B) {
	const ballots, block, revotes = 1_000, 100, 50
	now := time.Now().Truncate(time.Second)
	e := chaintest.New(b, "evote-tally-bench", "bench", ballots-revotes, now.Add(-time.Hour), now.Add(24*time.Hour))
	setup := e.SetupBlocks(b)
	be := e.BallotElection(b)
	rng := mrand.New(mrand.NewPCG(1, 1))
	tl := newTally(e.Manifest)
	var blocks [][][]byte
	for i := range ballots / block {
		var txs [][]byte
		for j := range block {
			voter := i*block + j
			if voter >= ballots-revotes {
				voter -= ballots - revotes // a voter of the first blocks votes again
			}
			tx, _ := e.Cast(b, be, voter, tl.vote(rng, voter))
			txs = append(txs, tx)
		}
		blocks = append(blocks, txs)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		o := newOffline(b, e, pebbleStore(b, filepath.Join(b.TempDir(), "blocks")))
		for _, blk := range setup {
			o.accept(blk...)
		}
		b.StartTimer()
		start := time.Now()
		for _, txs := range blocks {
			o.accept(txs...)
		}
		d := time.Since(start)
		b.ReportMetric(d.Seconds(), "s/1000-ballots")
		b.ReportMetric(float64(d.Microseconds())/ballots, "µs/ballot")
		if rec := o.state().rec; rec.BallotsCast != ballots || rec.BallotsReplaced != revotes {
			b.Fatalf("%d cast, %d replaced; want %d and %d", rec.BallotsCast, rec.BallotsReplaced, ballots, revotes)
		}
	}
}

// BenchmarkDecryptSolve1e6 decrypts the totals of a 10-selection election
// whose counts go up to 10^6: two of three trustees' partial decryptions
// with proofs, Combine (which verifies both shares), a discrete-log table
// bounded by 10^6 and the solution of every total.
func BenchmarkDecryptSolve1e6(b *testing.B) {
	const n, bound = 10, 1_000_000
	s, _ := crypto.RandomNonZeroScalar(rand.Reader)
	a, _ := crypto.RandomNonZeroScalar(rand.Reader)
	x := func(l int) crypto.Scalar { // f(l) = s + a·l, threshold 2
		v := crypto.NewScalar().Mul(a, crypto.ScalarFromUint64(uint64(l)))
		return v.Add(v, s)
	}
	pk := crypto.BaseMul(s)
	keys := []crypto.Point{crypto.BaseMul(x(1)), crypto.BaseMul(x(2)), crypto.BaseMul(x(3))}
	var ctx crypto.Context
	_, _ = rand.Read(ctx[:])
	want := make([]uint64, n)
	cts := make([]crypto.Ciphertext, n)
	for i := range cts {
		want[i] = uint64(bound - i*99_991)
		ct, _, err := crypto.Encrypt(rand.Reader, pk, want[i])
		if err != nil {
			b.Fatal(err)
		}
		cts[i] = ct
	}
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		var shares []crypto.DecryptionShare
		for _, l := range []int{1, 3} {
			sh, err := crypto.PartialDecrypt(rand.Reader, ctx, l, x(l), keys[l-1], cts)
			if err != nil {
				b.Fatal(err)
			}
			shares = append(shares, sh)
		}
		t1 := time.Now()
		points, err := crypto.Combine(ctx, 2, keys, cts, shares)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		table, err := crypto.NewDlogTable(bound)
		if err != nil {
			b.Fatal(err)
		}
		got, err := table.SolveMany(points, 0)
		if err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		for i := range got {
			if got[i] != want[i] {
				b.Fatalf("total %d: %d, want %d", i, got[i], want[i])
			}
		}
		b.ReportMetric(float64(t1.Sub(t0).Microseconds())/1000, "ms-partial-decrypt-2")
		b.ReportMetric(float64(t2.Sub(t1).Microseconds())/1000, "ms-combine")
		b.ReportMetric(float64(t3.Sub(t2).Microseconds())/1000, "ms-table+solve")
	}
}
