package crypto

import (
	"crypto/rand"
	mathrand "math/rand/v2"
	"slices"
	"testing"
)

// TestBatchAgreesWithSingleRandom builds random mixed batches (Schnorr,
// Chaum-Pedersen, 0/1 and range proofs), spoils one or two items at random
// positions in ways that keep their challenges consistent (so that only the
// equations catch them), and checks that the batch verifier reports exactly
// the items the single verifier rejects.
func TestBatchAgreesWithSingleRandom(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	ctx := testContext("property")
	_, pk := keyPair(t)
	for round := range rounds {
		n := 5 + rng.IntN(40)
		type item struct {
			add    func(*Batch) int
			single func() error
			spoil  func()
		}
		items := make([]item, n)
		for i := range items {
			switch rng.IntN(4) {
			case 0:
				x, X := keyPair(t)
				p, _ := ProveSchnorr(rand.Reader, ctx, x, X)
				items[i] = item{
					add:    func(b *Batch) int { return b.AddSchnorr(ctx, X, p) },
					single: func() error { return p.Verify(ctx, X) },
					spoil:  func() { p.Response = NewScalar().Add(p.Response, ScalarFromUint64(1)) },
				}
			case 1:
				x, X := keyPair(t)
				H := BaseMul(mustScalar(t))
				Y := NewPoint().Mul(H, x)
				p, _ := ProveChaumPedersen(rand.Reader, TagDecryptionPart, ctx, x, X, H, Y)
				items[i] = item{
					add:    func(b *Batch) int { return b.AddChaumPedersen(TagDecryptionPart, ctx, X, H, Y, p) },
					single: func() error { return p.Verify(TagDecryptionPart, ctx, X, H, Y) },
					spoil:  func() { p.Response = NewScalar().Add(p.Response, ScalarFromUint64(7)) },
				}
			default:
				lo := uint64(rng.IntN(3))
				hi := lo + uint64(rng.IntN(4))
				m := lo + uint64(rng.IntN(int(hi-lo+1)))
				ct, r, _ := Encrypt(rand.Reader, pk, m)
				p, _ := ProveRange(rand.Reader, TagRange, ctx, pk, ct, m, r, lo, hi)
				branch := rng.IntN(len(p.Branches))
				items[i] = item{
					add:    func(b *Batch) int { return b.AddRange(TagRange, ctx, pk, ct, lo, hi, p) },
					single: func() error { return p.Verify(TagRange, ctx, pk, ct, lo, hi) },
					spoil: func() {
						br := &p.Branches[branch]
						br.Response = NewScalar().Add(br.Response, ScalarFromUint64(1))
					},
				}
			}
		}
		var spoiled []int
		for range 1 + rng.IntN(2) {
			k := rng.IntN(n)
			if !slices.Contains(spoiled, k) {
				items[k].spoil()
				spoiled = append(spoiled, k)
			}
		}
		slices.Sort(spoiled)
		b, _ := NewBatch(nil)
		b.Workers = 1 + round%2
		var singleBad []int
		for i, it := range items {
			if it.add(b) != i {
				t.Fatal("batch index mismatch")
			}
			if it.single() != nil {
				singleBad = append(singleBad, i)
			}
		}
		got := b.Verify()
		if !slices.Equal(got, spoiled) || !slices.Equal(singleBad, spoiled) {
			t.Fatalf("round %d (n=%d): spoiled %v, batch reports %v, single verifier rejects %v", round, n, spoiled, got, singleBad)
		}
	}
}

// TestHomomorphismRandom: the sum of encryptions of random values decrypts to
// the sum of the values.
func TestHomomorphismRandom(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(3, 4))
	sk, pk := keyPair(t)
	for range 20 {
		total := ZeroCiphertext()
		var want uint64
		for range 1 + rng.IntN(10) {
			m := uint64(rng.IntN(1000))
			ct, _, _ := Encrypt(rand.Reader, pk, m)
			if rng.IntN(4) == 0 { // a re-vote: add, then take out again
				total = total.Add(ct).Sub(ct)
				continue
			}
			total = total.Add(ct)
			want += m
		}
		if !total.DecryptToPoint(sk).IsEqual(BaseMul(ScalarFromUint64(want))) {
			t.Fatalf("sum does not decrypt to %d", want)
		}
	}
}

// TestMSMMatchesNaive checks Pippenger against term-by-term multiplication
// for sizes on both sides of the threshold, with zero, negative-digit, small
// and 128-bit scalars (windows and buckets left empty).
func TestMSMMatchesNaive(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 15, 16, 17, 100, 191, 192, 193, 1100} {
		scalars := make([]Scalar, n)
		points := make([]Point, n)
		want := NewPoint()
		for i := range n {
			switch i % 7 {
			case 0:
				scalars[i] = NewScalar()
			case 1:
				scalars[i] = NewScalar().Neg(ScalarFromUint64(1))
			case 2:
				scalars[i] = ScalarFromUint64(uint64(i%3 + 1)) // few, low buckets
			case 3:
				b := EncodeScalar(mustScalar(t)) // a 128-bit batch weight: empty high windows
				clear(b[16:])
				scalars[i], _ = DecodeScalar(b[:])
			default:
				scalars[i] = mustScalar(t)
			}
			points[i] = BaseMul(mustScalar(t))
			want.Add(want, NewPoint().Mul(points[i], scalars[i]))
		}
		for _, w := range []int{1, 2, 3} {
			if got := VarTimeMultiScalarMul(scalars, points, w); !got.IsEqual(want) {
				t.Errorf("n=%d workers=%d: MSM differs from the naive sum", n, w)
			}
		}
	}
}

// TestEncodedPathAgrees checks the byte-based batch and single verifiers
// against the point-based verifier on valid proofs and on every single-byte
// corruption of a proof's first branch.
func TestEncodedPathAgrees(t *testing.T) {
	ctx := testContext("encoded")
	_, pk := keyPair(t)
	key := NewEncodedKey(pk)
	ct, r, _ := Encrypt(rand.Reader, pk, 1)
	p, _ := ProveZeroOne(rand.Reader, ctx, pk, ct, 1, r)
	enc, ctEnc := p.Encode(), ct.Encode()
	for i := -1; i < RangeBranchSize; i++ {
		mut := slices.Clone(enc)
		if i >= 0 {
			mut[i] ^= 0x04
		}
		var want error
		if q, err := DecodeRangeProof(mut, 0, 1); err != nil {
			want = err
		} else {
			want = q.VerifyZeroOne(ctx, pk, ct)
		}
		_, single := VerifyRangeEncoded(TagZeroOne, ctx, key, ctEnc, mut, 0, 1)
		b, _ := NewBatch(nil)
		_, _, berr := b.AddRangeEncoded(TagZeroOne, ctx, key, ctEnc, mut, 0, 1)
		batchOK := berr == nil && b.Verify() == nil
		if (want == nil) != (single == nil) || (want == nil) != batchOK {
			t.Fatalf("byte %d: point-based %v, encoded single %v, encoded batch ok %v", i, want, single, batchOK)
		}
	}
}

// TestMSMSparse checks Pippenger when every term falls in one bucket of one
// window, and when all scalars are zero.
func TestMSMSparse(t *testing.T) {
	const n = 300
	for _, v := range []uint64{0, 1, 5} {
		scalars := make([]Scalar, n)
		points := make([]Point, n)
		want := NewPoint()
		for i := range n {
			scalars[i] = ScalarFromUint64(v)
			points[i] = BaseMul(mustScalar(t))
			want.Add(want, NewPoint().Mul(points[i], scalars[i]))
		}
		if got := VarTimeMultiScalarMul(scalars, points, 1); !got.IsEqual(want) {
			t.Errorf("all scalars %d: MSM differs from the naive sum", v)
		}
	}
}

// TestScale: w·c by double-and-add equals the scalar multiplication of both
// points by w, and decrypts to w times the plaintext.
func TestScale(t *testing.T) {
	sk, err := RandomNonZeroScalar(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk := BaseMul(sk)
	for _, m := range []uint64{0, 1, 5} {
		c, _, err := Encrypt(rand.Reader, pk, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []uint64{0, 1, 2, 3, 12, 250, 1<<40 - 1, 1 << 40, 1<<64 - 1} {
			got := c.Scale(w)
			s := ScalarFromUint64(w)
			want := Ciphertext{NewPoint().Mul(c.Alpha, s), NewPoint().Mul(c.Beta, s)}
			if !got.Equal(want) {
				t.Fatalf("Scale(%d) differs from the scalar multiplication", w)
			}
			if w < 1<<20 && !got.DecryptToPoint(sk).IsEqual(BaseMul(ScalarFromUint64(w*m))) {
				t.Fatalf("Scale(%d) of an encryption of %d does not decrypt to %d", w, m, w*m)
			}
		}
	}
	if got := ScaleCiphertexts([]Ciphertext{ZeroCiphertext()}, 7); len(got) != 1 || !got[0].Equal(ZeroCiphertext()) {
		t.Fatal("ScaleCiphertexts of zero")
	}
}
