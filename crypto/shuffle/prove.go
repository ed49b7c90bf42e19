package shuffle

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/evote/evote/crypto"
)

// Shuffle re-encrypts every ciphertext of in under pk with fresh randomness,
// permutes the rows with a uniformly random permutation π (output row i is
// input row π(i) re-encrypted) and proves it in ctx, which also seeds the
// generators. All randomness is read from rand (crypto/rand.Reader in
// production; a seeded stream gives known-answer tests).
func Shuffle(rand io.Reader, ctx crypto.Context, pk crypto.Point, in [][]crypto.Ciphertext) ([][]crypto.Ciphertext, *Proof, error) {
	n, w, err := rowsShape("input", in)
	if err != nil {
		return nil, nil, err
	}
	perm, err := randomPermutation(rand, n)
	if err != nil {
		return nil, nil, err
	}
	rho := make([][]crypto.Scalar, n)
	for i := range rho {
		rho[i] = make([]crypto.Scalar, w)
		for k := range rho[i] {
			if rho[i][k], err = crypto.RandomScalar(rand); err != nil {
				return nil, nil, err
			}
		}
	}
	return prove(rand, ctx, pk, in, perm, rho)
}

// randomPermutation returns a uniformly random permutation of 0 … n−1
// (Fisher–Yates, with indices drawn by rejection sampling from rand).
func randomPermutation(rand io.Reader, n int) ([]int, error) {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	var buf [8]byte
	for i := n - 1; i > 0; i-- {
		bound := uint64(i + 1)
		limit := ^uint64(0) - (^uint64(0) % bound) // multiple of bound
		for {
			if _, err := io.ReadFull(rand, buf[:]); err != nil {
				return nil, fmt.Errorf("shuffle: reading randomness: %w", err)
			}
			if v := binary.BigEndian.Uint64(buf[:]); v < limit {
				j := int(v % bound)
				perm[i], perm[j] = perm[j], perm[i]
				break
			}
		}
	}
	return perm, nil
}

// prove implements docs/spec-shuffle.md, "Prover", for the permutation perm
// (output row i is input row perm[i]) and the re-encryption randomness rho.
func prove(rand io.Reader, ctx crypto.Context, pk crypto.Point, in [][]crypto.Ciphertext, perm []int, rho [][]crypto.Scalar) ([][]crypto.Ciphertext, *Proof, error) {
	n, w := len(in), len(in[0])
	rnd := func(k int) ([]crypto.Scalar, error) {
		out := make([]crypto.Scalar, k)
		for i := range out {
			var err error
			if out[i], err = crypto.RandomScalar(rand); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	// P1. Re-encrypt and permute: e'_{i,k} = e_{π(i),k} + ρ_{i,k}·(G, K).
	kTab := crypto.NewFixedBase(pk)
	out := make([][]crypto.Ciphertext, n)
	for i := range out {
		out[i] = make([]crypto.Ciphertext, w)
		for k := range out[i] {
			e := in[perm[i]][k]
			a, b := crypto.BaseMul(rho[i][k]), kTab.Mul(rho[i][k])
			out[i][k] = crypto.Ciphertext{Alpha: a.Add(a, e.Alpha), Beta: b.Add(b, e.Beta)}
		}
	}
	h, hs := Generators(ctx, n)

	// P2. Permutation commitment c_{π(i)} = r_{π(i)}·G + H_i.
	r, err := rnd(n)
	if err != nil {
		return nil, nil, err
	}
	p := &Proof{Commitments: make([]crypto.Point, n)}
	for i, j := range perm {
		c := crypto.BaseMul(r[j])
		p.Commitments[j] = c.Add(c, hs[i])
	}

	// P3. Challenges u_j and their permutation u'_i = u_{π(i)}.
	d := statementDigest(ctx, pk, in, out, p.Commitments)
	u := permutationChallenges(d, n)
	up := make([]crypto.Scalar, n)
	for i, j := range perm {
		up[i] = u[j]
	}

	// P4. Commitment chain ĉ_i = r̂_i·G + u'_i·ĉ_{i−1}, ĉ_{−1} = H. With
	// R_i = r̂_i + u'_i·R_{i−1} and P_i = u'_i·P_{i−1} (R_{−1} = 0,
	// P_{−1} = 1), ĉ_i = R_i·G + P_i·H: two fixed-base multiplications.
	rh, err := rnd(n)
	if err != nil {
		return nil, nil, err
	}
	hTab := crypto.NewFixedBase(h)
	p.Chain = make([]crypto.Point, n)
	accR := make([]crypto.Scalar, n+1) // accR[i+1] = R_i
	accP := make([]crypto.Scalar, n+1) // accP[i+1] = P_i
	accR[0], accP[0] = crypto.NewScalar(), crypto.ScalarFromUint64(1)
	for i := range n {
		accR[i+1] = crypto.NewScalar().Mul(accR[i], up[i])
		accR[i+1].Add(accR[i+1], rh[i])
		accP[i+1] = crypto.NewScalar().Mul(accP[i], up[i])
		c := crypto.BaseMul(accR[i+1])
		p.Chain[i] = c.Add(c, hTab.Mul(accP[i+1]))
	}
	rhat := accR[n]

	// P5. The witnesses r̄ = Σ r_j, r̃ = Σ r_j·u_j, ρ'_k = Σ_i ρ_{i,k}·u'_i.
	rbar, rtil := crypto.NewScalar(), crypto.NewScalar()
	tmp := crypto.NewScalar()
	for j := range n {
		rbar.Add(rbar, r[j])
		rtil.Add(rtil, tmp.Mul(r[j], u[j]))
	}
	rhop := make([]crypto.Scalar, w)
	for k := range rhop {
		rhop[k] = crypto.NewScalar()
		for i := range n {
			rhop[k].Add(rhop[k], tmp.Mul(rho[i][k], up[i]))
		}
	}

	// P6. Nonces and commitments of the sigma protocol.
	om, err := rnd(3 + w)
	if err != nil {
		return nil, nil, err
	}
	omh, err := rnd(n)
	if err != nil {
		return nil, nil, err
	}
	omp, err := rnd(n)
	if err != nil {
		return nil, nil, err
	}
	digits := make([][64]int8, n)
	for i := range omp {
		digits[i] = crypto.SignedDigits(omp[i])
	}
	p.T1 = crypto.BaseMul(om[0])
	p.T2 = crypto.BaseMul(om[1])
	p.T3 = ctMultiScalarMul(digits, hs)
	p.T3.Add(p.T3, crypto.BaseMul(om[2]))
	p.T4 = make([]crypto.Ciphertext, w)
	col := make([]crypto.Point, n)
	for k := range w {
		neg := crypto.NewScalar().Neg(om[3+k])
		enc := crypto.Ciphertext{Alpha: crypto.BaseMul(neg), Beta: kTab.Mul(neg)} // −ω4_k·(G, K)
		for i := range n {
			col[i] = out[i][k].Alpha
		}
		a := ctMultiScalarMul(digits, col)
		for i := range n {
			col[i] = out[i][k].Beta
		}
		b := ctMultiScalarMul(digits, col)
		p.T4[k] = crypto.Ciphertext{Alpha: a.Add(a, enc.Alpha), Beta: b.Add(b, enc.Beta)}
	}
	// t̂_i = ω̂_i·G + ω'_i·ĉ_{i−1} = (ω̂_i + ω'_i·R_{i−1})·G + (ω'_i·P_{i−1})·H.
	p.TChain = make([]crypto.Point, n)
	for i := range n {
		g := crypto.NewScalar().Mul(omp[i], accR[i])
		t := crypto.BaseMul(g.Add(g, omh[i]))
		p.TChain[i] = t.Add(t, hTab.Mul(tmp.Mul(omp[i], accP[i])))
	}

	// P7. Challenge and responses s = ω + c·witness.
	c := challenge(d, p)
	resp := func(nonce, wit crypto.Scalar) crypto.Scalar {
		s := crypto.NewScalar().Mul(c, wit)
		return s.Add(s, nonce)
	}
	p.S1, p.S2, p.S3 = resp(om[0], rbar), resp(om[1], rhat), resp(om[2], rtil)
	p.S4 = make([]crypto.Scalar, w)
	for k := range w {
		p.S4[k] = resp(om[3+k], rhop[k])
	}
	p.SChain = make([]crypto.Scalar, n)
	p.SPrime = make([]crypto.Scalar, n)
	for i := range n {
		p.SChain[i] = resp(omh[i], rh[i])
		p.SPrime[i] = resp(omp[i], up[i])
	}
	return out, p, nil
}

// ctChunk is the number of terms ctMultiScalarMul handles with one chain of
// doublings: their tables (about 200 KiB) stay in cache, and the extra
// doublings cost about 2% of the work.
const ctChunk = 128

// ctMultiScalarMul returns Σ s_i·P_i for the scalars given by their digits
// (crypto.SignedDigits), in constant time in the scalars: Straus's method, over chunks
// of ctChunk terms, with one chain of doublings per chunk and, per point, a
// table of P, 2P, …, 8P from which every window reads all eight entries
// with conditional moves.
func ctMultiScalarMul(digits [][64]int8, points []crypto.Point) crypto.Point {
	var tables [ctChunk][8]crypto.Point
	for i := range tables {
		for k := range tables[i] {
			tables[i][k] = crypto.NewPoint()
		}
	}
	sum := crypto.NewPoint()
	for lo := 0; lo < len(points); lo += ctChunk {
		hi := min(lo+ctChunk, len(points))
		sum.Add(sum, ctStraus(digits[lo:hi], points[lo:hi], tables[:hi-lo]))
	}
	return sum
}

func ctStraus(digits [][64]int8, points []crypto.Point, tables [][8]crypto.Point) crypto.Point {
	for i, p := range points {
		tables[i][0].Set(p)
		for k := 1; k < 8; k++ {
			tables[i][k].Add(tables[i][k-1], p)
		}
	}
	acc, id := crypto.NewPoint(), crypto.NewPoint()
	sel, neg := crypto.NewPoint(), crypto.NewPoint()
	for win := 63; win >= 0; win-- {
		if win != 63 {
			for range 4 {
				acc.Dbl(acc)
			}
		}
		for i := range points {
			dig := digits[i][win]
			mask := dig >> 7 // −1 for a negative digit, else 0
			abs := uint8((dig ^ mask) - mask)
			sel.Set(id)
			for k := range tables[i] {
				sel.CMov(subtle.ConstantTimeByteEq(abs, uint8(k+1)), tables[i][k])
			}
			neg.Neg(sel)
			sel.CMov(int(mask&1), neg)
			acc.Add(acc, sel)
		}
	}
	return acc
}
