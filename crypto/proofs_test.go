package crypto

import (
	"crypto/rand"
	"errors"
	"slices"
	"testing"
)

func testContext(label string) Context { return Context(Hash(tagPrefix+"test", []byte(label))) }

func mustScalar(t testing.TB) Scalar {
	t.Helper()
	s, err := RandomNonZeroScalar(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keyPair(t testing.TB) (Scalar, Point) {
	sk := mustScalar(t)
	return sk, BaseMul(sk)
}

func TestElGamalHomomorphism(t *testing.T) {
	sk, pk := keyPair(t)
	for _, tc := range []struct{ a, b uint64 }{{0, 0}, {1, 0}, {3, 4}, {1000, 999}} {
		ca, _, err := Encrypt(rand.Reader, pk, tc.a)
		if err != nil {
			t.Fatal(err)
		}
		cb, _, _ := Encrypt(rand.Reader, pk, tc.b)
		sum := ca.Add(cb).DecryptToPoint(sk)
		if !sum.IsEqual(BaseMul(ScalarFromUint64(tc.a + tc.b))) {
			t.Errorf("%d+%d: sum does not decrypt", tc.a, tc.b)
		}
		diff := ca.Add(cb).Sub(cb).DecryptToPoint(sk)
		if !diff.IsEqual(BaseMul(ScalarFromUint64(tc.a))) {
			t.Errorf("%d+%d-%d: difference does not decrypt", tc.a, tc.b, tc.b)
		}
		re, _ := ca.Rerandomize(rand.Reader, pk)
		if re.Equal(ca) || !re.DecryptToPoint(sk).IsEqual(ca.DecryptToPoint(sk)) {
			t.Errorf("rerandomised ciphertext of %d is wrong", tc.a)
		}
	}
}

func TestSchnorr(t *testing.T) {
	ctx := testContext("schnorr")
	x, X := keyPair(t)
	p, err := ProveSchnorr(rand.Reader, ctx, x, X)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(ctx, X); err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(testContext("other"), X); !errors.Is(err, ErrProof) {
		t.Fatalf("wrong context: got %v", err)
	}
	q, err := DecodeSchnorrProof(p.Encode())
	if err != nil || q.Verify(ctx, X) != nil {
		t.Fatalf("round trip: %v", err)
	}
}

func TestChaumPedersen(t *testing.T) {
	ctx := testContext("cp")
	x, X := keyPair(t)
	H := BaseMul(mustScalar(t))
	Y := NewPoint().Mul(H, x)
	p, err := ProveChaumPedersen(rand.Reader, TagDecryptionPart, ctx, x, X, H, Y)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(TagDecryptionPart, ctx, X, H, Y); err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(TagChaumPedersen, ctx, X, H, Y); !errors.Is(err, ErrProof) {
		t.Fatalf("wrong tag: got %v", err)
	}
	if err := p.Verify(TagDecryptionPart, ctx, X, H, BaseMul(mustScalar(t))); !errors.Is(err, ErrProof) {
		t.Fatalf("wrong Y: got %v", err)
	}
}

func TestRangeProofs(t *testing.T) {
	ctx := testContext("range")
	_, pk := keyPair(t)
	for _, tc := range []struct{ m, lo, hi uint64 }{{0, 0, 1}, {1, 0, 1}, {0, 0, 3}, {3, 0, 3}, {2, 1, 3}, {5, 5, 5}} {
		ct, r, _ := Encrypt(rand.Reader, pk, tc.m)
		p, err := ProveRange(rand.Reader, TagRange, ctx, pk, ct, tc.m, r, tc.lo, tc.hi)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(TagRange, ctx, pk, ct, tc.lo, tc.hi); err != nil {
			t.Errorf("m=%d in [%d,%d]: %v", tc.m, tc.lo, tc.hi, err)
		}
		q, err := DecodeRangeProof(p.Encode(), tc.lo, tc.hi)
		if err != nil || q.Verify(TagRange, ctx, pk, ct, tc.lo, tc.hi) != nil {
			t.Errorf("m=%d: round trip: %v", tc.m, err)
		}
	}
	// A prover cannot prove a value outside the range, and a proof made by
	// pretending it is inside does not verify.
	ct, r, _ := Encrypt(rand.Reader, pk, 2)
	if _, err := ProveZeroOne(rand.Reader, ctx, pk, ct, 2, r); err == nil {
		t.Fatal("proved 2 ∈ {0,1}")
	}
	p, _ := ProveZeroOne(rand.Reader, ctx, pk, ct, 1, r)
	if err := p.VerifyZeroOne(ctx, pk, ct); !errors.Is(err, ErrProof) {
		t.Fatalf("false 0/1 proof of 2: got %v", err)
	}
}

func TestBatchFindsBadProof(t *testing.T) {
	ctx := testContext("batch")
	_, pk := keyPair(t)
	const n = 40
	cts := make([]Ciphertext, n)
	proofs := make([]RangeProof, n)
	for i := range n {
		m := uint64(i % 2)
		ct, r, _ := Encrypt(rand.Reader, pk, m)
		cts[i] = ct
		proofs[i], _ = ProveZeroOne(rand.Reader, ctx, pk, ct, m, r)
	}
	for _, bad := range []int{-1, 0, 17, n - 1} {
		b, _ := NewBatch(nil)
		for i := range n {
			ct := cts[i]
			if i == bad {
				ct = ct.Add(EncryptWithRandomness(pk, 1, NewScalar())) // plaintext changed
			}
			b.AddZeroOne(ctx, pk, ct, proofs[i])
		}
		got := b.Verify()
		if bad < 0 && got != nil || bad >= 0 && (len(got) != 1 || got[0] != bad) {
			t.Errorf("bad item %d: batch reported %v", bad, got)
		}
	}
}

func TestCiphertextsEncoding(t *testing.T) {
	_, pk := keyPair(t)
	var cts []Ciphertext
	for m := range uint64(3) {
		c, _, _ := Encrypt(rand.Reader, pk, m)
		cts = append(cts, c)
	}
	b := EncodeCiphertexts(cts)
	got, err := DecodeCiphertexts(b, 3)
	if err != nil || len(got) != 3 || !got[2].Equal(cts[2]) {
		t.Fatalf("round trip: %v", err)
	}
	for _, tc := range []struct {
		b []byte
		n int
	}{{b, 2}, {b[:len(b)-1], 3}, {b, -1}} {
		if _, err := DecodeCiphertexts(tc.b, tc.n); !errors.Is(err, ErrLength) {
			t.Errorf("%d bytes as %d ciphertexts: %v", len(tc.b), tc.n, err)
		}
	}
	bad := append([]byte(nil), b...)
	bad[64+31] |= 0x80 // second ciphertext's α is not canonical
	if _, err := DecodeCiphertexts(bad, 3); !errors.Is(err, ErrPointEncoding) {
		t.Errorf("bad point: %v", err)
	}
}

// TestRangeSum checks the range proof on a sum of ciphertexts written over
// its parts: it agrees with AddRange on the computed sum, in the point-based
// and the encoded batch, for a right proof and for parts that are not the
// ones proved.
func TestRangeSum(t *testing.T) {
	ctx := testContext("range-sum")
	_, pk := keyPair(t)
	key := NewEncodedKey(pk)
	var parts []Ciphertext
	var zeroOne []RangeProof
	sumR := NewScalar()
	for _, m := range []uint64{1, 0, 1} {
		ct, r, err := Encrypt(rand.Reader, pk, m)
		if err != nil {
			t.Fatal(err)
		}
		z, err := ProveZeroOne(rand.Reader, ctx, pk, ct, m, r)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, ct)
		zeroOne = append(zeroOne, z)
		sumR.Add(sumR, r)
	}
	sum := SumCiphertexts(parts)
	p, err := ProveRange(rand.Reader, TagRange, ctx, pk, sum, 2, sumR, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := Encrypt(rand.Reader, pk, 0)
	for _, tc := range []struct {
		name  string
		parts []Ciphertext
		ok    bool
	}{
		{"right parts", parts, true},
		{"one part swapped", []Ciphertext{parts[0], other, parts[2]}, false},
		{"one part missing", parts[:2], false},
	} {
		want := newTestBatch(t)
		want.AddRange(TagRange, ctx, pk, SumCiphertexts(tc.parts), 0, 3, p)
		b := newTestBatch(t)
		b.AddRangeSum(TagRange, ctx, pk, tc.parts, 0, 3, p)
		e := newTestBatch(t)
		// The parts' own 0/1 proofs share their terms in the MSM.
		for i := range tc.parts[:2] {
			e.AddZeroOne(ctx, pk, parts[i], zeroOne[i])
		}
		idx, err := e.AddRangeSumEncoded(TagRange, ctx, key, tc.parts, p.Encode(), 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		encOK := !slices.Contains(e.Verify(), idx)
		if got := (want.Verify() == nil); got != tc.ok || (b.Verify() == nil) != tc.ok || encOK != tc.ok {
			t.Errorf("%s: AddRange ok %v, AddRangeSum ok %v, encoded ok %v, want %v", tc.name, got, b.Verify() == nil, encOK, tc.ok)
		}
	}
}

func newTestBatch(t *testing.T) *Batch {
	b, err := NewBatch(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
