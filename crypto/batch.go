package crypto

import (
	cryptorand "crypto/rand"
	"io"
	mathrand "math/rand/v2"
	"sort"
)

// Batch verifies many proofs at once. Each proof's verification equations
// have the form Σ sᵢ·Pᵢ = 0; the batch multiplies every equation by an
// independent random 128-bit weight, adds them all, and checks the sum with
// one multi-scalar multiplication. If any equation fails, the sum is non-zero
// except with probability 2⁻¹²⁸; the batch then bisects to find exactly the
// failing proofs, so that one bad proof never hides among good ones.
//
// Fiat-Shamir challenges and proof shapes are checked when a proof is added.
// A Batch is not safe for concurrent use.
type Batch struct {
	// Workers is the number of goroutines the multi-scalar multiplications
	// use; it defaults to DefaultWorkers().
	Workers int

	rng   *mathrand.ChaCha8
	items []batchItem
}

// batchItem is one proof's weighted equations: gCoef·G + Σ terms = 0.
type batchItem struct {
	gCoef Scalar
	terms []term
	bad   bool // failed a check that is not part of the equations
}

type term struct {
	s Scalar
	p Point
}

// NewBatch returns an empty batch whose weights are drawn from a ChaCha8
// stream seeded with 32 bytes from rand (crypto/rand if rand is nil).
func NewBatch(rand io.Reader) (*Batch, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	var seed [32]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, err
	}
	return &Batch{Workers: DefaultWorkers(), rng: mathrand.NewChaCha8(seed)}, nil
}

// Len returns the number of proofs added.
func (b *Batch) Len() int { return len(b.items) }

// weight returns a fresh random 128-bit scalar.
func (b *Batch) weight() Scalar {
	var buf [ScalarSize]byte
	b.rng.Read(buf[:16])
	s, err := DecodeScalar(buf[:])
	if err != nil {
		panic("crypto: a 128-bit scalar is always canonical")
	}
	return s
}

func (b *Batch) add(it batchItem) int {
	b.items = append(b.items, it)
	return len(b.items) - 1
}

// mulNeg returns −(x·y).
func mulNeg(x, y Scalar) Scalar {
	s := NewScalar().Mul(x, y)
	return s.Neg(s)
}

// AddSchnorr adds a Schnorr proof for X in ctx and returns its index.
// Equation: h + c·X − v·G = 0.
func (b *Batch) AddSchnorr(ctx Context, X Point, p SchnorrProof) int {
	c := schnorrChallenge(ctx, X, p.Commitment)
	rho := b.weight()
	return b.add(batchItem{
		gCoef: mulNeg(rho, p.Response),
		terms: []term{{rho, p.Commitment}, {NewScalar().Mul(rho, c), X}},
	})
}

// AddChaumPedersen adds a proof that log_G(X) = log_H(Y) and returns its
// index. Equations: a + c·X − v·G = 0 and b + c·Y − v·H = 0.
func (b *Batch) AddChaumPedersen(tag string, ctx Context, X, H, Y Point, p ChaumPedersenProof) int {
	c := chaumPedersenChallenge(tag, ctx, X, H, Y, p.CommitmentG, p.CommitmentH)
	r1, r2 := b.weight(), b.weight()
	return b.add(batchItem{
		gCoef: mulNeg(r1, p.Response),
		terms: []term{
			{r1, p.CommitmentG}, {NewScalar().Mul(r1, c), X},
			{r2, p.CommitmentH}, {NewScalar().Mul(r2, c), Y}, {mulNeg(r2, p.Response), H},
		},
	})
}

// AddRange adds a range proof that ct under pk encrypts a value in [lo, hi]
// and returns its index. A proof whose shape or challenge sum is wrong is
// recorded as failed at once. For each branch j the equations are
// a_j + c_j·α − v_j·G = 0 and b_j + c_j·β − c_j·j·G − v_j·K = 0.
func (b *Batch) AddRange(tag string, ctx Context, pk Point, ct Ciphertext, lo, hi uint64, p RangeProof) int {
	if err := p.checkChallenges(tag, ctx, pk, ct, lo, hi); err != nil {
		return b.add(batchItem{bad: true})
	}
	return b.addRangeEquations(pk, []Ciphertext{ct}, lo, p)
}

// AddRangeSum is AddRange for the sum of the ciphertexts parts (a contest's
// selections). The equations are written over the parts themselves rather
// than over their sum: Σ_k c·α_k in place of c·(Σ_k α_k). When the parts are
// also the ciphertexts of proofs in the same batch, as a ballot's are, the
// multi-scalar multiplication then merges these terms into theirs and the sum
// adds no term of its own.
func (b *Batch) AddRangeSum(tag string, ctx Context, pk Point, parts []Ciphertext, lo, hi uint64, p RangeProof) int {
	if err := p.checkChallenges(tag, ctx, pk, SumCiphertexts(parts), lo, hi); err != nil {
		return b.add(batchItem{bad: true})
	}
	return b.addRangeEquations(pk, parts, lo, p)
}

// SumCiphertexts returns the homomorphic sum of cts (the encryption of 0 with
// randomness 0 if there are none).
func SumCiphertexts(cts []Ciphertext) Ciphertext {
	sum := ZeroCiphertext()
	for _, ct := range cts {
		sum.Alpha.Add(sum.Alpha, ct.Alpha)
		sum.Beta.Add(sum.Beta, ct.Beta)
	}
	return sum
}

// addRangeEquations adds the weighted equations of a range proof on the sum
// of parts, once its challenges are known to be right.
func (b *Batch) addRangeEquations(pk Point, parts []Ciphertext, lo uint64, p RangeProof) int {
	it := batchItem{gCoef: NewScalar(), terms: make([]term, 0, 2*len(p.Branches)+2*len(parts)+1)}
	alpha, beta, key := NewScalar(), NewScalar(), NewScalar()
	for i, br := range p.Branches {
		r1, r2 := b.weight(), b.weight()
		it.terms = append(it.terms, term{r1, br.A}, term{r2, br.B})
		alpha.Add(alpha, NewScalar().Mul(r1, br.Challenge))
		rc := NewScalar().Mul(r2, br.Challenge)
		beta.Add(beta, rc)
		key.Add(key, mulNeg(r2, br.Response))
		it.gCoef.Add(it.gCoef, mulNeg(r1, br.Response))
		it.gCoef.Add(it.gCoef, mulNeg(rc, ScalarFromUint64(lo+uint64(i))))
	}
	for _, ct := range parts {
		it.terms = append(it.terms, term{alpha, ct.Alpha}, term{beta, ct.Beta})
	}
	it.terms = append(it.terms, term{key, pk})
	return b.add(it)
}

// AddZeroOne adds a 0/1 proof and returns its index.
func (b *Batch) AddZeroOne(ctx Context, pk Point, ct Ciphertext, p RangeProof) int {
	return b.AddRange(TagZeroOne, ctx, pk, ct, 0, 1, p)
}

// Verify checks every proof added and returns the indices of those that fail,
// in increasing order; nil means all passed. It is variable-time.
func (b *Batch) Verify() []int {
	var failed, ok []int
	for i, it := range b.items {
		if it.bad {
			failed = append(failed, i)
		} else {
			ok = append(ok, i)
		}
	}
	b.bisect(ok, false, &failed)
	sort.Ints(failed)
	return failed
}

// bisect appends to failed the items of idx whose equations fail. If
// knownBad, the combined check of idx is already known to fail.
func (b *Batch) bisect(idx []int, knownBad bool, failed *[]int) {
	if len(idx) == 0 || (!knownBad && b.check(idx)) {
		return
	}
	if len(idx) == 1 {
		*failed = append(*failed, idx[0])
		return
	}
	left, right := idx[:len(idx)/2], idx[len(idx)/2:]
	if b.check(left) {
		b.bisect(right, true, failed) // the failure is on the right
		return
	}
	b.bisect(left, true, failed)
	b.bisect(right, false, failed)
}

// check reports whether the weighted sum of the equations of items idx is
// zero, merging the coefficients of points shared by several items (the
// election key, the generator) into one term.
func (b *Batch) check(idx []int) bool {
	gSum := NewScalar()
	var scalars []Scalar
	var points []Point
	shared := make(map[Point]int)
	for _, i := range idx {
		it := &b.items[i]
		gSum.Add(gSum, it.gCoef)
		for _, t := range it.terms {
			if k, ok := shared[t.p]; ok {
				scalars[k] = NewScalar().Add(scalars[k], t.s)
				continue
			}
			shared[t.p] = len(points)
			scalars = append(scalars, t.s)
			points = append(points, t.p)
		}
	}
	sum := VarTimeMultiScalarMul(scalars, points, b.Workers)
	sum.Add(sum, BaseMul(gSum))
	return sum.IsIdentity()
}
