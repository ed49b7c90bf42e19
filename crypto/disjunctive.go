package crypto

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// MaxRangeWidth bounds the number of values a range proof may cover, so that a
// hostile input cannot ask a verifier for unbounded work.
const MaxRangeWidth = 1024

// RangeBranchSize is the encoded size of one branch of a RangeProof.
const RangeBranchSize = 2*PointSize + 2*ScalarSize

// ZeroOneProofSize is the size of an encoded 0/1 proof (two branches).
const ZeroOneProofSize = 2 * RangeBranchSize

// ErrChallengeSum is returned when a disjunctive proof's branch challenges do
// not add up to the Fiat-Shamir challenge.
var ErrChallengeSum = fmt.Errorf("%w: branch challenges do not sum to the challenge", ErrProof)

// ErrRangeShape is returned for a range proof whose number of branches does
// not match its range, or for a range that is empty or too wide.
var ErrRangeShape = errors.New("crypto: range proof has the wrong shape")

// RangeBranch is the part of a disjunctive proof for one candidate value j:
// it shows log_G(α) = log_K(β − j·G) for challenge Challenge.
type RangeBranch struct {
	A         Point  // a_j
	B         Point  // b_j
	Challenge Scalar // c_j
	Response  Scalar // v_j
}

// RangeProof proves that a ciphertext (α, β) under K encrypts an integer m
// with lo ≤ m ≤ hi, revealing nothing else about m: a disjunctive
// (Cramer-Damgård-Schoenmakers) proof with one branch per value, in
// commitment form so that it can be batch-verified. For each j in [lo, hi]:
//
//	v_j·G = a_j + c_j·α   and   v_j·K = b_j + c_j·(β − j·G),
//
// and the c_j sum to c = H_tag(ctx, K, lo, hi, α, β, a_lo, b_lo, …, a_hi, b_hi).
// A 0/1 proof is the range proof for [0, 1] under TagZeroOne; contest
// selection limits use TagRange.
type RangeProof struct {
	Branches []RangeBranch // for lo, lo+1, …, hi
}

// RangeNonces is the randomness of one branch of a range proof: the real
// branch uses W; the simulated ones use C and V. Every branch draws all three,
// so that the work done does not depend on the secret value.
type RangeNonces struct{ W, C, V Scalar }

func checkRange(lo, hi uint64) error {
	if hi < lo || hi-lo >= MaxRangeWidth {
		return fmt.Errorf("%w: range [%d, %d] (at most %d values)", ErrRangeShape, lo, hi, MaxRangeWidth)
	}
	return nil
}

func rangeChallenge(tag string, ctx Context, pk Point, ct Ciphertext, lo, hi uint64, branches []RangeBranch) Scalar {
	t := newChallenge(ctx).appendPoints(pk).AppendUint64(lo).AppendUint64(hi).appendPoints(ct.Alpha, ct.Beta)
	for _, b := range branches {
		t.appendPoints(b.A, b.B)
	}
	return t.challenge(tag)
}

// ProveRangeWithRandomness proves that ct = Encrypt(pk, m; r) with lo ≤ m ≤ hi,
// using one RangeNonces per value of the range. The work and memory access
// pattern do not depend on m or r.
func ProveRangeWithRandomness(tag string, ctx Context, pk Point, ct Ciphertext, m uint64, r Scalar, lo, hi uint64, nonces []RangeNonces) (RangeProof, error) {
	if err := checkRange(lo, hi); err != nil {
		return RangeProof{}, err
	}
	if m < lo || m > hi {
		return RangeProof{}, fmt.Errorf("crypto: plaintext outside the range [%d, %d]", lo, hi)
	}
	n := int(hi - lo + 1)
	if len(nonces) != n {
		return RangeProof{}, fmt.Errorf("crypto: %d nonce triples for %d branches", len(nonces), n)
	}
	branches := make([]RangeBranch, n)
	real := make([]int, n)
	simSum := NewScalar()
	zero := NewScalar()
	mScalar := ScalarFromUint64(m)
	for i := range n {
		j := lo + uint64(i)
		real[i] = subtle.ConstantTimeEq(int32(j), int32(m)) & subtle.ConstantTimeEq(int32(j>>32), int32(m>>32))
		nc := nonces[i]
		// The real branch is a = w·G, b = w·K; a simulated one is
		// a = v·G − c·α, b = v·K − c·(β − j·G). The prover knows r and m,
		// with α = r·G and β − j·G = r·K + (m − j)·G, so both are
		//
		//	a = t·G,  b = t·K + u·G,  t = s − e·r,  u = e·(j − m),
		//
		// with (s, e) = (w, 0) for the real branch and (v, c) otherwise:
		// the same two fixed-base multiplications by G and one by K
		// (FixedBase) for every branch, whichever is real.
		s := NewScalar().CSelect(real[i], nc.W, nc.V)
		e := NewScalar().CSelect(real[i], zero, nc.C)
		t := NewScalar().Sub(s, NewScalar().Mul(e, r))
		u := NewScalar().Mul(e, NewScalar().Sub(ScalarFromUint64(j), mScalar))
		branches[i].A = BaseMul(t)
		b := mulKey(pk, t)
		branches[i].B = b.Add(b, BaseMul(u))
		simSum.Add(simSum, e)
	}
	c := rangeChallenge(tag, ctx, pk, ct, lo, hi, branches)
	realC := NewScalar().Sub(c, simSum)
	realV := NewScalar().Mul(realC, r)
	for i := range n {
		v := NewScalar().Add(realV, nonces[i].W)
		branches[i].Challenge = NewScalar().CSelect(real[i], realC, nonces[i].C)
		branches[i].Response = NewScalar().CSelect(real[i], v, nonces[i].V)
	}
	return RangeProof{Branches: branches}, nil
}

// ProveRange proves with fresh randomness that ct = Encrypt(pk, m; r) with
// lo ≤ m ≤ hi.
func ProveRange(rand io.Reader, tag string, ctx Context, pk Point, ct Ciphertext, m uint64, r Scalar, lo, hi uint64) (RangeProof, error) {
	if err := checkRange(lo, hi); err != nil {
		return RangeProof{}, err
	}
	nonces := make([]RangeNonces, hi-lo+1)
	for i := range nonces {
		var err error
		for _, s := range []*Scalar{&nonces[i].W, &nonces[i].C, &nonces[i].V} {
			if *s, err = RandomScalar(rand); err != nil {
				return RangeProof{}, err
			}
		}
	}
	return ProveRangeWithRandomness(tag, ctx, pk, ct, m, r, lo, hi, nonces)
}

// ProveZeroOne proves that ct = Encrypt(pk, m; r) with m ∈ {0, 1}.
func ProveZeroOne(rand io.Reader, ctx Context, pk Point, ct Ciphertext, m uint64, r Scalar) (RangeProof, error) {
	return ProveRange(rand, TagZeroOne, ctx, pk, ct, m, r, 0, 1)
}

// checkChallenges verifies the proof's shape and that its branch challenges
// add up to the Fiat-Shamir challenge. Both verifiers run it first.
func (p RangeProof) checkChallenges(tag string, ctx Context, pk Point, ct Ciphertext, lo, hi uint64) error {
	if err := checkRange(lo, hi); err != nil {
		return err
	}
	if uint64(len(p.Branches)) != hi-lo+1 {
		return fmt.Errorf("%w: %d branches for range [%d, %d]", ErrRangeShape, len(p.Branches), lo, hi)
	}
	if !p.challengeSum().IsEqual(rangeChallenge(tag, ctx, pk, ct, lo, hi, p.Branches)) {
		return ErrChallengeSum
	}
	return nil
}

// challengeSum returns the sum of the branch challenges, which a valid proof
// makes equal to its Fiat-Shamir challenge.
func (p RangeProof) challengeSum() Scalar {
	sum := NewScalar()
	for _, b := range p.Branches {
		sum.Add(sum, b.Challenge)
	}
	return sum
}

// Verify checks that the proof shows ct under pk encrypts a value in
// [lo, hi], in context ctx, for the proof type tag. It is variable-time.
func (p RangeProof) Verify(tag string, ctx Context, pk Point, ct Ciphertext, lo, hi uint64) error {
	if err := p.checkChallenges(tag, ctx, pk, ct, lo, hi); err != nil {
		return err
	}
	return p.verifyEquations(pk, ct, lo)
}

// verifyEquations checks every branch's two equations, one by one.
func (p RangeProof) verifyEquations(pk Point, ct Ciphertext, lo uint64) error {
	for i, b := range p.Branches {
		j := lo + uint64(i)
		lhs := BaseMul(b.Response)
		rhs := NewPoint().Mul(ct.Alpha, b.Challenge)
		rhs.Add(rhs, b.A)
		if !lhs.IsEqual(rhs) {
			return fmt.Errorf("%w: branch %d, equation on G", ErrProof, j)
		}
		shifted := NewPoint().Add(ct.Beta, NewPoint().Neg(BaseMul(ScalarFromUint64(j))))
		lhs.Mul(pk, b.Response)
		rhs.Mul(shifted, b.Challenge)
		rhs.Add(rhs, b.B)
		if !lhs.IsEqual(rhs) {
			return fmt.Errorf("%w: branch %d, equation on K", ErrProof, j)
		}
	}
	return nil
}

// VerifyZeroOne checks a 0/1 proof.
func (p RangeProof) VerifyZeroOne(ctx Context, pk Point, ct Ciphertext) error {
	return p.Verify(TagZeroOne, ctx, pk, ct, 0, 1)
}

// Encode returns the branches in order, each a ‖ b ‖ c ‖ v.
func (p RangeProof) Encode() []byte {
	out := make([]byte, 0, len(p.Branches)*RangeBranchSize)
	for _, b := range p.Branches {
		out = AppendPoint(out, b.A)
		out = AppendPoint(out, b.B)
		out = AppendScalar(out, b.Challenge)
		out = AppendScalar(out, b.Response)
	}
	return out
}

// DecodeRangeProof decodes a range proof over [lo, hi]; its length must be
// exactly (hi − lo + 1) branches.
func DecodeRangeProof(b []byte, lo, hi uint64) (RangeProof, error) {
	if err := checkRange(lo, hi); err != nil {
		return RangeProof{}, err
	}
	n := int(hi - lo + 1)
	if len(b) != n*RangeBranchSize {
		return RangeProof{}, fmt.Errorf("crypto: range proof: %w: %d bytes, want %d for range [%d, %d]", ErrLength, len(b), n*RangeBranchSize, lo, hi)
	}
	d := Decoder{b: b}
	p := RangeProof{Branches: make([]RangeBranch, n)}
	for i := range p.Branches {
		p.Branches[i] = RangeBranch{
			A:         d.Point("a"),
			B:         d.Point("b"),
			Challenge: d.Scalar("challenge"),
			Response:  d.Scalar("response"),
		}
		if d.err != nil {
			d.err = fmt.Errorf("branch %d (value %d): %w", i, lo+uint64(i), d.err)
			break
		}
	}
	return p, d.Finish("range proof")
}
