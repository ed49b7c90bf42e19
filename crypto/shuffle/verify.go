package shuffle

import (
	cryptorand "crypto/rand"
	"fmt"
	"io"

	"github.com/evote/evote/crypto"
)

// Verify checks that out is a re-encrypted permutation of the rows of in
// under pk, with the proof p made in ctx (docs/spec-shuffle.md,
// "Verification"). It checks all equations at once with random weights
// from crypto/rand and one multi-scalar multiplication; if that fails it
// checks them one by one and returns an *EquationError naming the first
// that fails. Shape errors wrap ErrShape. It is variable-time.
func Verify(ctx crypto.Context, pk crypto.Point, in, out [][]crypto.Ciphertext, p *Proof) error {
	return verify(ctx, pk, in, out, p, crypto.DefaultWorkers())
}

// VerifyUnbatched is Verify that checks each equation with its own
// multi-scalar multiplication, without random weights. It accepts exactly
// the proofs Verify accepts (but for the 2⁻¹²⁸ chance that a batch hides a
// failure) and is the reference the tests compare Verify with.
func VerifyUnbatched(ctx crypto.Context, pk crypto.Point, in, out [][]crypto.Ciphertext, p *Proof) error {
	st, err := newStatement(ctx, pk, in, out, p)
	if err != nil {
		return err
	}
	return st.unbatched(crypto.DefaultWorkers())
}

func verify(ctx crypto.Context, pk crypto.Point, in, out [][]crypto.Ciphertext, p *Proof, workers int) error {
	st, err := newStatement(ctx, pk, in, out, p)
	if err != nil {
		return err
	}
	ok, err := st.batched(cryptorand.Reader, workers)
	if err != nil || ok {
		return err
	}
	if err := st.unbatched(workers); err != nil {
		return err
	}
	return &EquationError{Name: "batch"}
}

// statement holds what verification derives before the equations: the
// generators (V1), the challenges u_j and their product U (V2), and the
// challenge c (V3).
type statement struct {
	pk      crypto.Point
	in, out [][]crypto.Ciphertext
	p       *Proof
	n, w    int
	h       crypto.Point
	hs      []crypto.Point
	u       []crypto.Scalar
	uProd   crypto.Scalar
	c       crypto.Scalar
}

func newStatement(ctx crypto.Context, pk crypto.Point, in, out [][]crypto.Ciphertext, p *Proof) (*statement, error) {
	if pk == nil {
		return nil, fmt.Errorf("%w: no public key", ErrShape)
	}
	n, w, err := rowsShape("input", in)
	if err != nil {
		return nil, err
	}
	n2, w2, err := rowsShape("output", out)
	if err != nil {
		return nil, err
	}
	if n2 != n || w2 != w {
		return nil, fmt.Errorf("%w: %d×%d inputs but %d×%d outputs", ErrShape, n, w, n2, w2)
	}
	if err := p.checkShape(n, w); err != nil {
		return nil, err
	}
	st := &statement{pk: pk, in: in, out: out, p: p, n: n, w: w}
	st.h, st.hs = Generators(ctx, n)
	d := statementDigest(ctx, pk, in, out, p.Commitments)
	st.u = permutationChallenges(d, n)
	st.uProd = crypto.ScalarFromUint64(1)
	for _, u := range st.u {
		st.uProd.Mul(st.uProd, u)
	}
	st.c = challenge(d, p)
	return st, nil
}

// equation is g·G + Σ s_i·P_i, which must be the identity.
type equation struct {
	g crypto.Scalar
	s []crypto.Scalar
	p []crypto.Point
}

func newEquation(g crypto.Scalar, size int) *equation {
	return &equation{g: g, s: make([]crypto.Scalar, 0, size), p: make([]crypto.Point, 0, size)}
}

func (e *equation) add(s crypto.Scalar, p crypto.Point) {
	e.s = append(e.s, s)
	e.p = append(e.p, p)
}

func (e *equation) holds(workers int) bool {
	sum := crypto.VarTimeMultiScalarMul(e.s, e.p, workers)
	sum.Add(sum, crypto.BaseMul(e.g))
	return sum.IsIdentity()
}

func neg(s crypto.Scalar) crypto.Scalar { return crypto.NewScalar().Neg(s) }

func mul(a, b crypto.Scalar) crypto.Scalar { return crypto.NewScalar().Mul(a, b) }

var one = crypto.ScalarFromUint64(1)

// unbatched checks equations E1 … E5 (docs/spec-shuffle.md,
// "Verification") one at a time.
func (st *statement) unbatched(workers int) error {
	p, c, n := st.p, st.c, st.n
	negC, minus1 := neg(c), neg(one)

	// E1: s1·G − T1 − c·(Σ c_j − Σ H_i) = 0.
	e := newEquation(p.S1, 2*n+1)
	e.add(minus1, p.T1)
	for j := range n {
		e.add(negC, p.Commitments[j])
		e.add(c, st.hs[j])
	}
	if !e.holds(workers) {
		return &EquationError{Name: "t1"}
	}

	// E2: s2·G − T2 − c·(ĉ_{N−1} − U·H) = 0.
	e = newEquation(p.S2, 3)
	e.add(minus1, p.T2)
	e.add(negC, p.Chain[n-1])
	e.add(mul(c, st.uProd), st.h)
	if !e.holds(workers) {
		return &EquationError{Name: "t2"}
	}

	// E3: s3·G + Σ s'_i·H_i − T3 − c·Σ u_j·c_j = 0.
	e = newEquation(p.S3, 2*n+1)
	e.add(minus1, p.T3)
	for i := range n {
		e.add(p.SPrime[i], st.hs[i])
		e.add(mul(negC, st.u[i]), p.Commitments[i])
	}
	if !e.holds(workers) {
		return &EquationError{Name: "t3"}
	}

	// E4, per column k, for α (base G) and β (base K):
	// Σ s'_i·α'_{i,k} − s4_k·G − T4α_k − c·Σ u_j·α_{j,k} = 0 and
	// Σ s'_i·β'_{i,k} − s4_k·K − T4β_k − c·Σ u_j·β_{j,k} = 0.
	cu := make([]crypto.Scalar, n)
	for j := range n {
		cu[j] = mul(negC, st.u[j])
	}
	for k := range st.w {
		e = newEquation(neg(p.S4[k]), 2*n+1)
		e.add(minus1, p.T4[k].Alpha)
		for i := range n {
			e.add(p.SPrime[i], st.out[i][k].Alpha)
			e.add(cu[i], st.in[i][k].Alpha)
		}
		if !e.holds(workers) {
			return &EquationError{Name: fmt.Sprintf("t4-alpha[%d]", k)}
		}
		e = newEquation(crypto.NewScalar(), 2*n+2)
		e.add(minus1, p.T4[k].Beta)
		e.add(neg(p.S4[k]), st.pk)
		for i := range n {
			e.add(p.SPrime[i], st.out[i][k].Beta)
			e.add(cu[i], st.in[i][k].Beta)
		}
		if !e.holds(workers) {
			return &EquationError{Name: fmt.Sprintf("t4-beta[%d]", k)}
		}
	}

	// E5, per row i: ŝ_i·G + s'_i·ĉ_{i−1} − t̂_i − c·ĉ_i = 0, ĉ_{−1} = H.
	prev := st.h
	for i := range n {
		e = newEquation(p.SChain[i], 3)
		e.add(p.SPrime[i], prev)
		e.add(minus1, p.TChain[i])
		e.add(negC, p.Chain[i])
		if !e.holds(workers) {
			return &EquationError{Name: fmt.Sprintf("chain[%d]", i)}
		}
		prev = p.Chain[i]
	}
	return nil
}

// weights returns k random scalars of 128 bits read from rand.
func weights(rand io.Reader, k int) ([]crypto.Scalar, error) {
	buf := make([]byte, 16*k)
	if _, err := io.ReadFull(rand, buf); err != nil {
		return nil, fmt.Errorf("shuffle: reading randomness: %w", err)
	}
	out := make([]crypto.Scalar, k)
	var b [crypto.ScalarSize]byte
	for i := range out {
		copy(b[:16], buf[16*i:])
		s, err := crypto.DecodeScalar(b[:])
		if err != nil {
			panic("shuffle: a 128-bit scalar is always canonical")
		}
		out[i] = s
	}
	return out, nil
}

// batched checks λ1·E1 + λ2·E2 + λ3·E3 + Σ_k (λα_k·E4α_k + λβ_k·E4β_k) +
// Σ_i μ_i·E5_i = 0 for random 128-bit weights, with every point's
// coefficients merged into one term (docs/spec-shuffle.md, "Batched
// verification").
func (st *statement) batched(rand io.Reader, workers int) (bool, error) {
	p, c, n, w := st.p, st.c, st.n, st.w
	lam, err := weights(rand, 3+2*w+n)
	if err != nil {
		return false, err
	}
	l1, l2, l3 := lam[0], lam[1], lam[2]
	la, lb, mu := lam[3:3+w], lam[3+w:3+2*w], lam[3+2*w:]
	negC := neg(c)
	e := newEquation(crypto.NewScalar(), 3+4*w+n*(4+4*w)+2)

	// G: λ1·s1 + λ2·s2 + λ3·s3 − Σ λα_k·s4_k + Σ μ_i·ŝ_i.
	e.g.Add(mul(l1, p.S1), mul(l2, p.S2))
	e.g.Add(e.g, mul(l3, p.S3))
	key := crypto.NewScalar()
	for k := range w {
		e.g.Sub(e.g, mul(la[k], p.S4[k]))
		key.Sub(key, mul(lb[k], p.S4[k]))
	}
	for i := range n {
		e.g.Add(e.g, mul(mu[i], p.SChain[i]))
	}
	// K: −Σ λβ_k·s4_k. H: λ2·c·U + μ_0·s'_0.
	e.add(key, st.pk)
	hc := mul(mul(l2, c), st.uProd)
	e.add(hc.Add(hc, mul(mu[0], p.SPrime[0])), st.h)
	// T1, T2, T3, T4: minus their weights.
	e.add(neg(l1), p.T1)
	e.add(neg(l2), p.T2)
	e.add(neg(l3), p.T3)
	for k := range w {
		e.add(neg(la[k]), p.T4[k].Alpha)
		e.add(neg(lb[k]), p.T4[k].Beta)
	}
	l1c, l3c := mul(l1, c), mul(l3, negC)
	negL1c := neg(l1c)
	cla, clb := make([]crypto.Scalar, w), make([]crypto.Scalar, w)
	for k := range w {
		cla[k], clb[k] = mul(negC, la[k]), mul(negC, lb[k])
	}
	for i := range n {
		// H_i: λ1·c + λ3·s'_i. c_j: −c·(λ1 + λ3·u_j).
		e.add(crypto.NewScalar().Add(l1c, mul(l3, p.SPrime[i])), st.hs[i])
		cj := mul(l3c, st.u[i])
		e.add(cj.Add(cj, negL1c), p.Commitments[i])
		// ĉ_i: −μ_i·c + μ_{i+1}·s'_{i+1}, and −λ2·c − μ_{N−1}·c for the last.
		ch := mul(mu[i], negC)
		if i+1 < n {
			ch.Add(ch, mul(mu[i+1], p.SPrime[i+1]))
		} else {
			ch.Sub(ch, mul(l2, c))
		}
		e.add(ch, p.Chain[i])
		// t̂_i: −μ_i.
		e.add(neg(mu[i]), p.TChain[i])
		// α'_{i,k}: λα_k·s'_i, β'_{i,k}: λβ_k·s'_i; α_{i,k}: −c·λα_k·u_i,
		// β_{i,k}: −c·λβ_k·u_i.
		for k := range w {
			e.add(mul(la[k], p.SPrime[i]), st.out[i][k].Alpha)
			e.add(mul(lb[k], p.SPrime[i]), st.out[i][k].Beta)
			e.add(mul(cla[k], st.u[i]), st.in[i][k].Alpha)
			e.add(mul(clb[k], st.u[i]), st.in[i][k].Beta)
		}
	}
	return e.holds(workers), nil
}
