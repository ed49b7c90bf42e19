package crypto

import (
	"fmt"
	"io"
	"math/bits"
)

// CiphertextSize is the size of an encoded Ciphertext.
const CiphertextSize = 2 * PointSize

// Ciphertext is an exponential ElGamal ciphertext (α, β) = (r·G, m·G + r·K)
// of a small integer m under the public key K. Ciphertexts add: the sum of
// encryptions of m1 and m2 is an encryption of m1+m2.
type Ciphertext struct {
	Alpha Point // r·G
	Beta  Point // m·G + r·K
}

// ZeroCiphertext returns (identity, identity): the encryption of 0 with
// randomness 0, the neutral element of homomorphic addition.
func ZeroCiphertext() Ciphertext { return Ciphertext{NewPoint(), NewPoint()} }

// EncryptWithRandomness encrypts m under pk with the given randomness r.
// It is constant-time in m and r. Ordinary callers use Encrypt; this form is
// for known-answer tests and for Benaloh audits, which reveal r.
func EncryptWithRandomness(pk Point, m uint64, r Scalar) Ciphertext {
	alpha := BaseMul(r)
	beta := mulKey(pk, r)
	beta.Add(beta, BaseMul(ScalarFromUint64(m)))
	return Ciphertext{Alpha: alpha, Beta: beta}
}

// Encrypt encrypts m under pk with fresh randomness from rand and returns the
// ciphertext and the randomness (needed for proofs and audits; keep it secret
// otherwise).
func Encrypt(rand io.Reader, pk Point, m uint64) (Ciphertext, Scalar, error) {
	r, err := RandomNonZeroScalar(rand)
	if err != nil {
		return Ciphertext{}, nil, err
	}
	return EncryptWithRandomness(pk, m, r), r, nil
}

// Add returns the homomorphic sum a+b, an encryption of the sum of the
// plaintexts.
func (a Ciphertext) Add(b Ciphertext) Ciphertext {
	return Ciphertext{NewPoint().Add(a.Alpha, b.Alpha), NewPoint().Add(a.Beta, b.Beta)}
}

// Sub returns the homomorphic difference a−b, an encryption of the difference
// of the plaintexts (used to take a replaced ballot out of a running total).
func (a Ciphertext) Sub(b Ciphertext) Ciphertext {
	return Ciphertext{
		NewPoint().Add(a.Alpha, NewPoint().Neg(b.Alpha)),
		NewPoint().Add(a.Beta, NewPoint().Neg(b.Beta)),
	}
}

// RerandomizeWithRandomness returns (α + r·G, β + r·K), an encryption of the
// same plaintext that cannot be linked to c without r.
func (a Ciphertext) RerandomizeWithRandomness(pk Point, r Scalar) Ciphertext {
	return a.Add(EncryptWithRandomness(pk, 0, r))
}

// Rerandomize is RerandomizeWithRandomness with fresh randomness.
func (a Ciphertext) Rerandomize(rand io.Reader, pk Point) (Ciphertext, error) {
	r, err := RandomNonZeroScalar(rand)
	if err != nil {
		return Ciphertext{}, err
	}
	return a.RerandomizeWithRandomness(pk, r), nil
}

// Equal reports whether a and b are the same ciphertext.
func (a Ciphertext) Equal(b Ciphertext) bool {
	return a.Alpha.IsEqual(b.Alpha) && a.Beta.IsEqual(b.Beta)
}

// DecryptToPoint returns β − sk·α = m·G for a ciphertext under the public key
// sk·G. The integer m is then found with a bounded discrete logarithm. Only
// tests and single-key tools use this: evote's election keys are shared
// among trustees and decrypted with PartialDecrypt and Combine.
func (a Ciphertext) DecryptToPoint(sk Scalar) Point {
	s := NewPoint().Mul(a.Alpha, sk)
	return s.Neg(s).Add(s, a.Beta)
}

// Encode returns the 64-byte encoding α ‖ β.
func (a Ciphertext) Encode() []byte {
	return AppendPoint(AppendPoint(make([]byte, 0, CiphertextSize), a.Alpha), a.Beta)
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (a Ciphertext) MarshalBinary() ([]byte, error) { return a.Encode(), nil }

// UnmarshalBinary implements encoding.BinaryUnmarshaler with DecodeCiphertext.
func (a *Ciphertext) UnmarshalBinary(b []byte) error {
	c, err := DecodeCiphertext(b)
	if err != nil {
		return err
	}
	*a = c
	return nil
}

// DecodeCiphertext decodes α ‖ β. Both may be the identity (an encrypted total
// of no ballots is the zero ciphertext); a fresh ballot ciphertext with α the
// identity is rejected by ballot validation, not here.
func DecodeCiphertext(b []byte) (Ciphertext, error) {
	if len(b) != CiphertextSize {
		return Ciphertext{}, fmt.Errorf("crypto: ciphertext: %w: %d bytes, want %d", ErrLength, len(b), CiphertextSize)
	}
	d := Decoder{b: b}
	c := Ciphertext{Alpha: d.Point("alpha"), Beta: d.Point("beta")}
	if err := d.Finish("ciphertext"); err != nil {
		return Ciphertext{}, err
	}
	return c, nil
}

// EncodeCiphertexts concatenates the encodings of cts (64 bytes each), the
// layout of encrypted totals.
func EncodeCiphertexts(cts []Ciphertext) []byte {
	out := make([]byte, 0, len(cts)*CiphertextSize)
	for _, c := range cts {
		out = append(out, c.Encode()...)
	}
	return out
}

// DecodeCiphertexts decodes exactly n concatenated ciphertexts.
func DecodeCiphertexts(b []byte, n int) ([]Ciphertext, error) {
	if n < 0 || len(b) != n*CiphertextSize {
		return nil, fmt.Errorf("crypto: %w: %d bytes for %d ciphertexts", ErrLength, len(b), n)
	}
	out := make([]Ciphertext, n)
	for i := range out {
		c, err := DecodeCiphertext(b[i*CiphertextSize : (i+1)*CiphertextSize])
		if err != nil {
			return nil, fmt.Errorf("ciphertext %d: %w", i, err)
		}
		out[i] = c
	}
	return out, nil
}

// Scale returns w·a, an encryption of w times the plaintext: the
// contribution of a ballot whose voter's weight is w. w is public: the
// multiplication is by double-and-add over its bits, in variable time
// (about 40 doublings for the largest weight a roll allows), not the
// constant-time 253-bit scalar multiplication.
func (a Ciphertext) Scale(w uint64) Ciphertext {
	return Ciphertext{mulSmall(a.Alpha, w), mulSmall(a.Beta, w)}
}

// ScaleCiphertexts returns w·c for each ciphertext c of cts, in a new slice.
func ScaleCiphertexts(cts []Ciphertext, w uint64) []Ciphertext {
	out := make([]Ciphertext, len(cts))
	for i, c := range cts {
		out[i] = c.Scale(w)
	}
	return out
}

// mulSmall returns w·p for a public w, by left-to-right double-and-add
// from w's highest bit.
func mulSmall(p Point, w uint64) Point {
	r := NewPoint()
	if w == 0 {
		return r
	}
	r.Set(p)
	for i := bits.Len64(w) - 2; i >= 0; i-- {
		r.Dbl(r)
		if w>>uint(i)&1 == 1 {
			r.Add(r, p)
		}
	}
	return r
}
