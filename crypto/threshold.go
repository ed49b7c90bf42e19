package crypto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// MaxTrustees is the largest number of trustees; indices are encoded in one
// byte.
const MaxTrustees = 255

var (
	// ErrParams is returned for invalid (n, k) or trustee indices.
	ErrParams = errors.New("crypto: invalid threshold parameters")
	// ErrShareMismatch: a trustee's secret share does not match its
	// verification key.
	ErrShareMismatch = errors.New("crypto: secret share does not match the verification key")
)

// Threshold decryption: each trustee l publishes M_l = x_l·α for every
// ciphertext (α, β) with a Chaum-Pedersen proof that log_G(K_l) = log_α(M_l);
// any k valid shares give m·G = β − Σ λ_l·M_l with Lagrange coefficients at
// zero, without anyone reconstructing the election's secret key
// (docs/spec-threshold.md, "Threshold decryption").

// DecryptionPartSize is the size of one encoded DecryptionPart: M ‖ a ‖ b ‖ v.
const DecryptionPartSize = PointSize + ChaumPedersenProofSize

// decryptionShareHeaderSize is u8(trustee) ‖ u32(count).
const decryptionShareHeaderSize = 1 + 4

// Errors of threshold decryption. Errors about one trustee's share are
// *TrusteeError values wrapping one of these.
var (
	// ErrNotEnoughShares: fewer than k decryption shares.
	ErrNotEnoughShares = errors.New("crypto: not enough decryption shares")
	// ErrDuplicateTrustee: two decryption shares from the same trustee.
	ErrDuplicateTrustee = errors.New("crypto: duplicate trustee")
	// ErrUnknownTrustee: a share from a trustee without a verification key.
	ErrUnknownTrustee = errors.New("crypto: unknown trustee")
	// ErrShareShape: a share for a different number of ciphertexts.
	ErrShareShape = errors.New("crypto: decryption share has the wrong number of ciphertexts")
	// ErrBadShare: a decryption share's proof does not verify.
	ErrBadShare = fmt.Errorf("%w: decryption share", ErrProof)
)

// TrusteeError is an error caused by one trustee's message. Detail says what
// was wrong (for example "decryption share for ciphertext 5: proof does not
// verify"); Err is the sentinel to branch on with errors.Is.
type TrusteeError struct {
	Trustee int
	Detail  string
	Err     error
}

func (e *TrusteeError) Error() string {
	return fmt.Sprintf("crypto: trustee %d: %s", e.Trustee, e.Detail)
}

// Unwrap returns the sentinel error.
func (e *TrusteeError) Unwrap() error { return e.Err }

// DecryptionPart is one trustee's partial decryption of one ciphertext.
type DecryptionPart struct {
	M     Point              // M_l = x_l·α
	Proof ChaumPedersenProof // log_G(K_l) = log_α(M_l), tag TagDecryptionPart
}

// DecryptionShare is trustee Trustee's partial decryption of a list of
// ciphertexts (for a tally, one per selection), Parts[c] for ciphertext c.
type DecryptionShare struct {
	Trustee int
	Parts   []DecryptionPart
}

// PartialDecrypt computes trustee l's decryption share of cts with its secret
// key share x (x·G must equal its verification key kl), with a proof for each
// ciphertext. It is constant-time in x.
func PartialDecrypt(rand io.Reader, ctx Context, l int, x Scalar, kl Point, cts []Ciphertext) (DecryptionShare, error) {
	nonces := make([]Scalar, len(cts))
	for i := range nonces {
		w, err := RandomScalar(rand)
		if err != nil {
			return DecryptionShare{}, err
		}
		nonces[i] = w
	}
	return PartialDecryptWithRandomness(ctx, l, x, kl, cts, nonces)
}

// PartialDecryptWithRandomness is PartialDecrypt with the proof nonces given,
// one per ciphertext.
func PartialDecryptWithRandomness(ctx Context, l int, x Scalar, kl Point, cts []Ciphertext, nonces []Scalar) (DecryptionShare, error) {
	if l < 1 || l > MaxTrustees {
		return DecryptionShare{}, fmt.Errorf("%w: trustee index %d out of range 1..%d", ErrParams, l, MaxTrustees)
	}
	if len(cts) == 0 {
		return DecryptionShare{}, fmt.Errorf("crypto: trustee %d: no ciphertexts to decrypt", l)
	}
	if len(nonces) != len(cts) {
		return DecryptionShare{}, fmt.Errorf("crypto: trustee %d: %d nonces for %d ciphertexts", l, len(nonces), len(cts))
	}
	if x == nil || kl == nil || !BaseMul(x).IsEqual(kl) {
		return DecryptionShare{}, &TrusteeError{Trustee: l, Detail: "secret share does not match the verification key", Err: ErrShareMismatch}
	}
	share := DecryptionShare{Trustee: l, Parts: make([]DecryptionPart, len(cts))}
	for c, ct := range cts {
		if ct.Alpha == nil || ct.Beta == nil {
			return DecryptionShare{}, fmt.Errorf("crypto: trustee %d: ciphertext %d is missing", l, c)
		}
		m := NewPoint().Mul(ct.Alpha, x)
		share.Parts[c] = DecryptionPart{
			M:     m,
			Proof: ProveChaumPedersenWithRandomness(TagDecryptionPart, ctx, x, kl, ct.Alpha, m, nonces[c]),
		}
	}
	return share, nil
}

// verificationKey returns K_l, or a *TrusteeError.
func verificationKey(keys []Point, l int) (Point, error) {
	if l < 1 || l > len(keys) || keys[l-1] == nil {
		return nil, &TrusteeError{Trustee: l, Detail: "no verification key for this trustee", Err: ErrUnknownTrustee}
	}
	return keys[l-1], nil
}

// checkShareShape checks a share's trustee and size against keys and cts.
func checkShareShape(keys []Point, cts []Ciphertext, s DecryptionShare) error {
	if _, err := verificationKey(keys, s.Trustee); err != nil {
		return err
	}
	if len(s.Parts) != len(cts) {
		return &TrusteeError{Trustee: s.Trustee, Detail: fmt.Sprintf("decryption share covers %d ciphertexts, want %d", len(s.Parts), len(cts)), Err: ErrShareShape}
	}
	for c, p := range s.Parts {
		if p.M == nil || p.Proof.CommitmentG == nil || p.Proof.CommitmentH == nil || p.Proof.Response == nil {
			return &TrusteeError{Trustee: s.Trustee, Detail: fmt.Sprintf("decryption share for ciphertext %d is incomplete", c), Err: ErrShareShape}
		}
	}
	for c, ct := range cts {
		if ct.Alpha == nil || ct.Beta == nil {
			return fmt.Errorf("crypto: ciphertext %d is missing", c)
		}
	}
	return nil
}

// VerifyShare checks a trustee's decryption share of cts against the
// verification keys (keys[l−1] = K_l), batch-verifying its proofs. A bad
// share gives a *TrusteeError naming the trustee and the first bad
// ciphertext. It is variable-time.
func VerifyShare(ctx Context, keys []Point, cts []Ciphertext, share DecryptionShare) error {
	return VerifyShares(ctx, keys, cts, []DecryptionShare{share})
}

// VerifyShares checks many trustees' decryption shares of cts with one batch
// verification. It returns nil if all are valid, or the errors.Join of one
// *TrusteeError per bad share, in the order of shares. It does not check
// for duplicate trustees (Combine does). It is variable-time.
func VerifyShares(ctx Context, keys []Point, cts []Ciphertext, shares []DecryptionShare) error {
	b, err := NewBatch(nil)
	if err != nil {
		return err
	}
	type origin struct{ share, ct int }
	var origins []origin
	errAt := make([]error, len(shares))
	for si, s := range shares {
		if err := checkShareShape(keys, cts, s); err != nil {
			errAt[si] = err
			continue
		}
		kl := keys[s.Trustee-1]
		for c, p := range s.Parts {
			b.AddChaumPedersen(TagDecryptionPart, ctx, kl, cts[c].Alpha, p.M, p.Proof)
			origins = append(origins, origin{si, c})
		}
	}
	for _, idx := range b.Verify() { // in increasing order
		o := origins[idx]
		if errAt[o.share] == nil {
			errAt[o.share] = &TrusteeError{
				Trustee: shares[o.share].Trustee,
				Detail:  fmt.Sprintf("decryption share for ciphertext %d: proof does not verify", o.ct),
				Err:     ErrBadShare,
			}
		}
	}
	return errors.Join(errAt...)
}

// lagrangeAtZero returns λ_l = Π_{j∈S, j≠l} j/(j−l) mod ℓ for each l in S
// (distinct indices in 1..MaxTrustees). The indices are public.
func lagrangeAtZero(set []int) []Scalar {
	out := make([]Scalar, len(set))
	for a, l := range set {
		num, den := ScalarFromUint64(1), ScalarFromUint64(1)
		sl := ScalarFromUint64(uint64(l))
		for _, j := range set {
			if j == l {
				continue
			}
			sj := ScalarFromUint64(uint64(j))
			num.Mul(num, sj)
			den.Mul(den, NewScalar().Sub(sj, sl))
		}
		out[a] = num.Mul(num, NewScalar().Inv(den))
	}
	return out
}

// Combine checks every decryption share (one batch verification) and
// combines k of them, those of the k lowest trustee indices, into the
// plaintext points m_c·G = β_c − Σ λ_l·M_{l,c}, one per ciphertext; the
// discrete logarithm is then the caller's. Any k valid shares give the same
// points. keys[l−1] is trustee l's verification key K_l.
//
// Errors: ErrUnknownTrustee, ErrDuplicateTrustee, ErrShareShape and ErrBadShare
// as *TrusteeError naming the trustee; ErrNotEnoughShares if fewer than k
// shares remain. Combine is strict: one bad share fails the whole call, so
// that a caller who wants to go on without it must drop it explicitly
// (VerifyShares names every bad share). It is variable-time (public data).
func Combine(ctx Context, k int, keys []Point, cts []Ciphertext, shares []DecryptionShare) ([]Point, error) {
	if k < 1 || k > len(keys) || len(keys) > MaxTrustees {
		return nil, fmt.Errorf("%w: threshold %d with %d verification keys", ErrParams, k, len(keys))
	}
	seen := make(map[int]bool, len(shares))
	for _, s := range shares {
		if _, err := verificationKey(keys, s.Trustee); err != nil {
			return nil, err
		}
		if seen[s.Trustee] {
			return nil, &TrusteeError{Trustee: s.Trustee, Detail: "more than one decryption share", Err: ErrDuplicateTrustee}
		}
		seen[s.Trustee] = true
		if err := checkShareShape(keys, cts, s); err != nil {
			return nil, err
		}
	}
	if len(shares) < k {
		noun := "shares"
		if len(shares) == 1 {
			noun = "share"
		}
		return nil, fmt.Errorf("%w: have %d %s, need %d", ErrNotEnoughShares, len(shares), noun, k)
	}
	if err := VerifyShares(ctx, keys, cts, shares); err != nil {
		return nil, err
	}
	use := make([]DecryptionShare, len(shares))
	copy(use, shares)
	sort.Slice(use, func(a, b int) bool { return use[a].Trustee < use[b].Trustee })
	use = use[:k]
	set := make([]int, k)
	for a, s := range use {
		set[a] = s.Trustee
	}
	lambda := lagrangeAtZero(set)
	scalars := make([]Scalar, k+1)
	scalars[0] = ScalarFromUint64(1)
	for a := range lambda {
		scalars[a+1] = NewScalar().Neg(lambda[a])
	}
	points := make([]Point, k+1)
	out := make([]Point, len(cts))
	for c, ct := range cts {
		points[0] = ct.Beta
		for a, s := range use {
			points[a+1] = s.Parts[c].M
		}
		out[c] = VarTimeMultiScalarMul(scalars, points, 1)
	}
	return out, nil
}

// Encode returns u8(trustee) ‖ u32(count) ‖ (M ‖ a ‖ b ‖ v) per ciphertext,
// 5 + 128·count bytes.
func (s DecryptionShare) Encode() []byte {
	out := make([]byte, 0, decryptionShareHeaderSize+len(s.Parts)*DecryptionPartSize)
	out = append(out, byte(s.Trustee))
	out = binary.BigEndian.AppendUint32(out, uint32(len(s.Parts)))
	for _, p := range s.Parts {
		out = AppendPoint(out, p.M)
		out = append(out, p.Proof.Encode()...)
	}
	return out
}

// DecodeDecryptionShare decodes a decryption share. The trustee index must be
// in 1..MaxTrustees, the count at least 1 and the length exactly
// 5 + 128·count; every point and scalar must be canonical (M may be the
// identity, as for the zero ciphertext).
func DecodeDecryptionShare(b []byte) (DecryptionShare, error) {
	if len(b) < decryptionShareHeaderSize {
		return DecryptionShare{}, fmt.Errorf("crypto: decryption share: %w: %d bytes", ErrLength, len(b))
	}
	l := int(b[0])
	if l < 1 {
		return DecryptionShare{}, fmt.Errorf("crypto: decryption share: %w: trustee index 0", ErrDecode)
	}
	count := uint64(binary.BigEndian.Uint32(b[1:5]))
	if count == 0 {
		return DecryptionShare{}, fmt.Errorf("crypto: decryption share of trustee %d: %w: no ciphertexts", l, ErrDecode)
	}
	if want := decryptionShareHeaderSize + count*DecryptionPartSize; uint64(len(b)) != want {
		return DecryptionShare{}, fmt.Errorf("crypto: decryption share of trustee %d: %w: %d bytes, want %d for %d ciphertexts", l, ErrLength, len(b), want, count)
	}
	d := Decoder{b: b[decryptionShareHeaderSize:]}
	s := DecryptionShare{Trustee: l, Parts: make([]DecryptionPart, count)}
	for c := range s.Parts {
		s.Parts[c] = DecryptionPart{
			M: d.Point("M"),
			Proof: ChaumPedersenProof{
				CommitmentG: d.Point("commitment G"),
				CommitmentH: d.Point("commitment H"),
				Response:    d.Scalar("response"),
			},
		}
		if d.err != nil {
			d.err = fmt.Errorf("ciphertext %d: %w", c, d.err)
			break
		}
	}
	if err := d.Finish(fmt.Sprintf("decryption share of trustee %d", l)); err != nil {
		return DecryptionShare{}, err
	}
	return s, nil
}
