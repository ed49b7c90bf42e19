package shuffle

import (
	"crypto/subtle"

	"github.com/evote/evote/crypto"
)

// fixedBase multiplies one point P by secret scalars in constant time:
// rows[i][k] = (k+1)·16^i·P, and s·P = Σ d_i·16^i·P over the signed digits
// d_i of s (recode), 64 additions and 64 look-ups that read every entry of
// a row, no doubling. The prover uses one for the public key K (the
// re-encryptions and T4) and one for H (the commitment chain), where
// variable-base multiplication would cost about four times as much.
type fixedBase struct {
	rows [64][8]crypto.Point
}

func newFixedBase(base crypto.Point) *fixedBase {
	t := &fixedBase{}
	p := crypto.NewPoint().Set(base)
	for i := range t.rows {
		t.rows[i][0] = crypto.NewPoint().Set(p)
		for j := 1; j < 8; j++ {
			t.rows[i][j] = crypto.NewPoint().Add(t.rows[i][j-1], p)
		}
		for range 4 {
			p.Dbl(p)
		}
	}
	return t
}

// mul returns s·P; the work and the memory access pattern do not depend on s.
func (t *fixedBase) mul(s crypto.Scalar) crypto.Point {
	d := recode(s)
	acc, id := crypto.NewPoint(), crypto.NewPoint()
	sel, neg := crypto.NewPoint(), crypto.NewPoint()
	for i := range t.rows {
		mask := d[i] >> 7 // −1 for a negative digit, else 0
		abs := uint8((d[i] ^ mask) - mask)
		sel.Set(id)
		for k := range t.rows[i] {
			sel.CMov(subtle.ConstantTimeByteEq(abs, uint8(k+1)), t.rows[i][k])
		}
		neg.Neg(sel)
		sel.CMov(int(mask&1), neg)
		acc.Add(acc, sel)
	}
	return acc
}
