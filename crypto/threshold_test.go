package crypto

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"strings"
	"testing"
)

// thresholdFixture is the outcome of an honest ceremony: the result and every
// trustee's secret share xs[l].
type thresholdFixture struct {
	ctx  Context
	k    int
	keys []Point
	pk   Point
	xs   []Scalar
}

// newThresholdFixture shares a random key k of n with a trusted dealer: the
// key ceremony itself (crypto/dkg) is tested there, and produces shares of the
// same form.
func newThresholdFixture(t testing.TB, n, k int) *thresholdFixture {
	t.Helper()
	coeffs := make([]Scalar, k)
	for j := range coeffs {
		coeffs[j] = mustScalar(t)
	}
	f := &thresholdFixture{ctx: testContext(fmt.Sprintf("threshold %d of %d", k, n)), k: k, pk: BaseMul(coeffs[0]), xs: make([]Scalar, n+1)}
	for l := 1; l <= n; l++ {
		f.xs[l] = evalPoly(coeffs, l)
		f.keys = append(f.keys, BaseMul(f.xs[l]))
	}
	return f
}

// evalPoly returns f(x) for the polynomial with the given coefficients.
func evalPoly(coeffs []Scalar, x int) Scalar {
	xs := ScalarFromUint64(uint64(x))
	acc := NewScalar()
	for j := len(coeffs) - 1; j >= 0; j-- {
		acc.Mul(acc, xs)
		acc.Add(acc, coeffs[j])
	}
	return acc
}

func (f *thresholdFixture) encrypt(t testing.TB, ms ...uint64) []Ciphertext {
	t.Helper()
	cts := make([]Ciphertext, len(ms))
	for i, m := range ms {
		ct, _, err := Encrypt(rand.Reader, f.pk, m)
		if err != nil {
			t.Fatal(err)
		}
		cts[i] = ct
	}
	return cts
}

func (f *thresholdFixture) share(t testing.TB, l int, cts []Ciphertext) DecryptionShare {
	t.Helper()
	s, err := PartialDecrypt(rand.Reader, f.ctx, l, f.xs[l], f.keys[l-1], cts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLagrangeAtZero(t *testing.T) {
	coeffs := []Scalar{mustScalar(t), mustScalar(t), mustScalar(t)}
	for _, set := range [][]int{{1, 2, 3}, {2, 5, 9}, {255, 1, 100}} {
		lambda := lagrangeAtZero(set)
		sum := NewScalar()
		for a, l := range set {
			sum.Add(sum, NewScalar().Mul(lambda[a], evalPoly(coeffs, l)))
		}
		if !sum.IsEqual(coeffs[0]) {
			t.Errorf("set %v: interpolation at 0 is not f(0)", set)
		}
	}
}

func TestCombineErrors(t *testing.T) {
	f := newThresholdFixture(t, 3, 2)
	cts := f.encrypt(t, 3, 5)
	s1, s2, s3 := f.share(t, 1, cts), f.share(t, 2, cts), f.share(t, 3, cts)

	_, err := Combine(f.ctx, 2, f.keys, cts, []DecryptionShare{s1, s2, s1})
	wantTrusteeError(t, err, 1, ErrDuplicateTrustee, "more than one decryption share")

	unknown := s3
	unknown.Trustee = 4
	_, err = Combine(f.ctx, 2, f.keys, cts, []DecryptionShare{s1, unknown})
	wantTrusteeError(t, err, 4, ErrUnknownTrustee, "no verification key")
	unknown.Trustee = 0
	_, err = Combine(f.ctx, 2, f.keys, cts, []DecryptionShare{unknown, s1})
	wantTrusteeError(t, err, 0, ErrUnknownTrustee, "no verification key")
	_, err = Combine(f.ctx, 2, []Point{f.keys[0], nil, f.keys[2]}, cts, []DecryptionShare{s1, s2})
	wantTrusteeError(t, err, 2, ErrUnknownTrustee, "no verification key")

	short := s2
	short.Parts = short.Parts[:1]
	_, err = Combine(f.ctx, 2, f.keys, cts, []DecryptionShare{s1, short})
	wantTrusteeError(t, err, 2, ErrShareShape, "covers 1 ciphertexts, want 2")

	_, err = Combine(f.ctx, 2, f.keys, cts, []DecryptionShare{s3})
	if !errors.Is(err, ErrNotEnoughShares) || err.Error() != "crypto: not enough decryption shares: have 1 share, need 2" {
		t.Errorf("one share: %v", err)
	}
	_, err = Combine(f.ctx, 2, f.keys, cts, nil)
	if !errors.Is(err, ErrNotEnoughShares) {
		t.Errorf("no shares: %v", err)
	}
	for _, k := range []int{0, 4} {
		if _, err := Combine(f.ctx, k, f.keys, cts, []DecryptionShare{s1, s2, s3}); !errors.Is(err, ErrParams) {
			t.Errorf("k=%d: %v", k, err)
		}
	}
	// Another context: every proof fails; the error names the first share.
	_, err = Combine(testContext("other election"), 2, f.keys, cts, []DecryptionShare{s2, s3})
	wantTrusteeError(t, err, 2, ErrBadShare, "ciphertext 0: proof does not verify")
	if !errors.Is(err, ErrProof) {
		t.Error("ErrBadShare does not wrap ErrProof")
	}
	// VerifyShares names every bad share.
	err = VerifyShares(testContext("other election"), f.keys, cts, []DecryptionShare{s2, s3})
	var te *TrusteeError
	if !errors.As(err, &te) || err.Error() != "crypto: trustee 2: decryption share for ciphertext 0: proof does not verify\n"+
		"crypto: trustee 3: decryption share for ciphertext 0: proof does not verify" {
		t.Errorf("VerifyShares: %v", err)
	}
	// The wrong trustee's key share.
	if _, err := PartialDecrypt(rand.Reader, f.ctx, 1, f.xs[2], f.keys[0], cts); !errors.Is(err, ErrShareMismatch) {
		t.Errorf("wrong key share: %v", err)
	}
	// A share claimed for another trustee does not verify.
	swapped := s1
	swapped.Trustee = 3
	_, err = Combine(f.ctx, 2, f.keys, cts, []DecryptionShare{s2, swapped})
	wantTrusteeError(t, err, 3, ErrBadShare, "ciphertext 0")
}

// TestZeroCiphertext: an empty total (identity, identity) decrypts to 0.
func TestZeroCiphertext(t *testing.T) {
	f := newThresholdFixture(t, 3, 2)
	cts := []Ciphertext{ZeroCiphertext()}
	got, err := Combine(f.ctx, 2, f.keys, cts, []DecryptionShare{f.share(t, 3, cts), f.share(t, 1, cts)})
	if err != nil || !got[0].IsIdentity() {
		t.Fatalf("zero ciphertext: %v", err)
	}
	b := f.share(t, 2, cts).Encode()
	if s, err := DecodeDecryptionShare(b); err != nil || !bytes.Equal(s.Encode(), b) {
		t.Fatalf("share of the zero ciphertext does not round trip: %v", err)
	}
}

// TestVerifySharesAgreesWithSingle: the batch verdict equals the single
// Chaum-Pedersen verifier's on random batches with bad parts hidden in them.
func TestVerifySharesAgreesWithSingle(t *testing.T) {
	f := newThresholdFixture(t, 4, 2)
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	for it := 0; it < 20; it++ {
		cts := f.encrypt(t, 1, 2, 3, 4, 5)
		var shares []DecryptionShare
		for l := 1; l <= 4; l++ {
			s := f.share(t, l, cts)
			if rng.IntN(3) == 0 {
				c := rng.IntN(len(cts))
				switch rng.IntN(3) {
				case 0:
					s.Parts[c].M = NewPoint().Add(s.Parts[c].M, Generator())
				case 1:
					s.Parts[c].Proof.Response = NewScalar().Add(s.Parts[c].Proof.Response, ScalarFromUint64(1))
				case 2:
					s.Parts[c].Proof.CommitmentH = NewPoint().Add(s.Parts[c].Proof.CommitmentH, Generator())
				}
			}
			shares = append(shares, s)
		}
		batchErr := VerifyShares(f.ctx, f.keys, cts, shares)
		for _, s := range shares {
			var single error
			for c, p := range s.Parts {
				if err := p.Proof.Verify(TagDecryptionPart, f.ctx, f.keys[s.Trustee-1], cts[c].Alpha, p.M); err != nil {
					single = err
					break
				}
			}
			one := VerifyShare(f.ctx, f.keys, cts, s)
			if (single == nil) != (one == nil) {
				t.Fatalf("trustee %d: single %v, VerifyShare %v", s.Trustee, single, one)
			}
			named := false
			for _, e := range unwrapJoin(batchErr) {
				var te *TrusteeError
				if errors.As(e, &te) && te.Trustee == s.Trustee {
					named = true
				}
			}
			if named != (single != nil) {
				t.Fatalf("trustee %d: single %v, batch names it: %v", s.Trustee, single, named)
			}
		}
	}
}

func unwrapJoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func TestPartialDecryptKnownAnswer(t *testing.T) {
	x := newDRBG("x").scalar()
	kl := BaseMul(x)
	ct := EncryptWithRandomness(BaseMul(newDRBG("pk").scalar()), 9, newDRBG("r").scalar())
	nonces := []Scalar{newDRBG("w").scalar()}
	a, err := PartialDecryptWithRandomness(testContext("kat"), 2, x, kl, []Ciphertext{ct}, nonces)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := PartialDecryptWithRandomness(testContext("kat"), 2, x, kl, []Ciphertext{ct}, nonces)
	if !bytes.Equal(a.Encode(), b.Encode()) {
		t.Fatal("same randomness, different shares")
	}
	if !a.Parts[0].M.IsEqual(NewPoint().Mul(ct.Alpha, x)) {
		t.Fatal("M ≠ x·α")
	}
	if _, err := PartialDecryptWithRandomness(testContext("kat"), 2, x, kl, []Ciphertext{ct}, nil); err == nil {
		t.Fatal("missing nonces accepted")
	}
	if _, err := PartialDecryptWithRandomness(testContext("kat"), 0, x, kl, []Ciphertext{ct}, nonces); !errors.Is(err, ErrParams) {
		t.Fatal("trustee 0 accepted")
	}
}

func TestDecryptionShareEncoding(t *testing.T) {
	f := newThresholdFixture(t, 3, 2)
	cts := f.encrypt(t, 0, 1)
	s := f.share(t, 2, cts)
	b := s.Encode()
	if len(b) != 5+2*DecryptionPartSize {
		t.Fatalf("%d bytes", len(b))
	}
	got, err := DecodeDecryptionShare(b)
	if err != nil || !bytes.Equal(got.Encode(), b) {
		t.Fatalf("round trip: %v", err)
	}
	for pos := range b {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			m := bytes.Clone(b)
			m[pos] ^= x
			ms, err := DecodeDecryptionShare(m)
			if err != nil {
				continue
			}
			if err := VerifyShare(f.ctx, f.keys, cts, ms); err == nil {
				t.Fatalf("byte %d ^ %#x: mutated share accepted", pos, x)
			}
		}
	}
	for name, m := range map[string][]byte{
		"empty":       {},
		"trustee 0":   append([]byte{0}, b[1:]...),
		"count 0":     {2, 0, 0, 0, 0},
		"count 3":     append([]byte{2, 0, 0, 0, 3}, b[5:]...),
		"truncated":   b[:len(b)-1],
		"huge count":  {2, 0xff, 0xff, 0xff, 0xff},
		"trailing":    append(bytes.Clone(b), 0),
		"scalar ≥ ℓ":  append(bytes.Clone(b[:len(b)-32]), bytes.Repeat([]byte{0xff}, 32)...),
		"bad M point": append(append(bytes.Clone(b[:5]), bytes.Repeat([]byte{0xff}, 32)...), b[37:]...),
	} {
		if _, err := DecodeDecryptionShare(m); !errors.Is(err, ErrDecode) {
			t.Errorf("%s: got %v, want a decoding error", name, err)
		}
	}
}

func FuzzDecodeDecryptionShare(f *testing.F) {
	fx := newThresholdFixture(f, 3, 2)
	cts := fx.encrypt(f, 0, 1, 2)
	f.Add(fx.share(f, 1, cts).Encode())
	f.Add(fx.share(f, 3, cts[:1]).Encode())
	f.Add([]byte{1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeDecryptionShare(b)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Encode(), b) {
			t.Fatal("decode→encode is not the identity")
		}
		if len(s.Parts) == len(cts) {
			_ = VerifyShare(fx.ctx, fx.keys, cts, s)
		}
	})
}

const benchCiphertexts = 64

// BenchmarkPartialDecrypt reports the cost per ciphertext.
func BenchmarkPartialDecrypt(b *testing.B) {
	f := newThresholdFixture(b, 3, 2)
	cts := f.encrypt(b, make([]uint64, benchCiphertexts)...)
	b.ResetTimer()
	for b.Loop() {
		if _, err := PartialDecrypt(rand.Reader, f.ctx, 1, f.xs[1], f.keys[0], cts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchCiphertexts), "ns/ciphertext")
}

// BenchmarkCombine reports the cost per ciphertext of verifying two shares
// (k = 2 of 3) and combining them.
func BenchmarkCombine(b *testing.B) {
	f := newThresholdFixture(b, 3, 2)
	cts := f.encrypt(b, make([]uint64, benchCiphertexts)...)
	shares := []DecryptionShare{f.share(b, 1, cts), f.share(b, 3, cts)}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Combine(f.ctx, 2, f.keys, cts, shares); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchCiphertexts), "ns/ciphertext")
}

// wantTrusteeError fails unless err is a TrusteeError for trustee wrapping
// sentinel whose message names the trustee and detail.
func wantTrusteeError(t *testing.T, err error, trustee int, sentinel error, detail string) {
	t.Helper()
	var te *TrusteeError
	if !errors.As(err, &te) || te.Trustee != trustee || !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want a TrusteeError for trustee %d wrapping %v", err, trustee, sentinel)
	}
	if !strings.Contains(err.Error(), detail) || !strings.HasPrefix(err.Error(), fmt.Sprintf("crypto: trustee %d: ", trustee)) {
		t.Fatalf("error %q does not name trustee %d and %q", err, trustee, detail)
	}
}
