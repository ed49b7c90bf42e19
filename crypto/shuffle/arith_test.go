package shuffle

import (
	"fmt"
	"testing"

	"github.com/evote/evote/crypto"
)

// TestConstantTimeArithmetic checks the prover's constant-time
// multiplications against the variable-time ones of package crypto,
// including chunk boundaries and the scalars 0, 1 and −1.
func TestConstantTimeArithmetic(t *testing.T) {
	rnd := newStream("arith")
	special := []crypto.Scalar{crypto.NewScalar(), crypto.ScalarFromUint64(1), crypto.NewScalar().Neg(crypto.ScalarFromUint64(1))}
	for _, n := range []int{1, 2, ctChunk - 1, ctChunk, ctChunk + 1, 2*ctChunk + 5} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			ss := make([]crypto.Scalar, n)
			ps := make([]crypto.Point, n)
			ds := make([][64]int8, n)
			for i := range ss {
				if i < len(special) {
					ss[i] = special[i]
				} else {
					ss[i], _ = crypto.RandomScalar(rnd)
				}
				r, _ := crypto.RandomScalar(rnd)
				ps[i] = crypto.BaseMul(r)
				ds[i] = crypto.SignedDigits(ss[i])
			}
			if !ctMultiScalarMul(ds, ps).IsEqual(crypto.VarTimeMultiScalarMul(ss, ps, 1)) {
				t.Fatal("ctMultiScalarMul differs from VarTimeMultiScalarMul")
			}
			tab := crypto.NewFixedBase(ps[0])
			for _, s := range ss {
				if !tab.Mul(s).IsEqual(crypto.NewPoint().Mul(ps[0], s)) {
					t.Fatal("FixedBase.Mul differs from Mul")
				}
			}
		})
	}
}
