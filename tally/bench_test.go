package tally

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/crypto"
)

// BenchmarkFold100k folds 100,000 ballots of 10 selections into the
// running totals in blocks of 1,000: decoding each ballot's ciphertexts
// from bytes, adding them, keeping the ballot for re-votes, and one store
// commit (Pebble) per block. One ballot in 20 is a re-vote that takes a
// ballot of the previous block out again. The ciphertexts are drawn from a
// pool of 4,096 real encryptions made before the timer starts.
func BenchmarkFold100k(b *testing.B) {
	const ballots, block, selections = 100_000, 1_000, 10
	m := ballottest.Manifest("fold-bench", []ballot.Rule{{Kind: ballot.Approval}}, []int{selections})
	e, _ := ballottest.Election(b, m)
	pool := make([][]byte, 4096)
	for i := range pool {
		ct, _, err := crypto.Encrypt(rand.Reader, e.Key, uint64(i%2))
		if err != nil {
			b.Fatal(err)
		}
		pool[i] = ct.Encode()
	}
	rng := mrand.New(mrand.NewPCG(1, 1))
	raws := make([][]byte, ballots)
	for i := range raws {
		raw := make([]byte, 0, selections*crypto.CiphertextSize)
		for range selections {
			raw = append(raw, pool[rng.IntN(len(pool))]...)
		}
		raws[i] = raw
	}
	code := func(i int) string { return fmt.Sprintf("BALLOT-%07d", i) }
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		st := pebbleStore(b, filepath.Join(b.TempDir(), "fold"))
		s := &state{totals: zeroTotals(selections)}
		b.StartTimer()
		start := time.Now()
		for h := 0; h*block < ballots; h++ {
			f := newFold(s, m, st)
			for i := h * block; i < (h+1)*block; i++ {
				cts, err := crypto.DecodeCiphertexts(raws[i], selections)
				if err != nil {
					b.Fatal(err)
				}
				// Every 20th ballot after the first block is a re-vote of
				// the credential of the ballot one block before.
				j := i
				for j%20 == 19 && j >= block {
					j -= block
				}
				if _, err := f.addBallot(ctx, code(i), []byte(fmt.Sprintf("%032d", j)), ballot.DefaultStyleID, cts, raws[i]); err != nil {
					b.Fatal(err)
				}
			}
			ch, err := f.changes(s.appHash, int64(h+1))
			if err != nil {
				b.Fatal(err)
			}
			if err := st.Commit(ctx, ch); err != nil {
				b.Fatal(err)
			}
			s = &state{height: int64(h + 1), appHash: ch.AppHash, c: f.c, totals: f.totals}
		}
		d := time.Since(start)
		b.ReportMetric(d.Seconds(), "s/100k-ballots")
		b.ReportMetric(float64(d.Microseconds())/ballots, "µs/ballot")
		if want := ballots - (ballots/block-1)*block/20; s.c.Cast-s.c.Replaced != want {
			b.Fatalf("counted %d, want %d", s.c.Cast-s.c.Replaced, want)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
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
