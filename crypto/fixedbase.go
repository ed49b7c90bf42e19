package crypto

import (
	"crypto/subtle"
	"sync"
)

// FixedBase is a table for constant-time multiplication of one point K by
// secret scalars: rows[i][k] = (k+1)·16^i·K for the 64 windows i of 4 bits
// and k = 0 … 7. A scalar is recoded in signed digits d_i ∈ [−8, 8], and
// s·K = Σ d_i·16^i·K costs 64 additions and 64 table lookups that read
// every entry of the row, with no doubling. The election key K is the base
// of every encryption and every range proof of a ballot, so a voter's
// device builds its table once and then multiplies by K about three times
// faster than variable-base multiplication (docs/benchmarks.md).
type FixedBase struct {
	base Point
	rows [64][8]Point
}

// NewFixedBase builds the table of k (512 points, about 80 KiB).
func NewFixedBase(k Point) *FixedBase {
	t := &FixedBase{base: NewPoint().Set(k)}
	p := NewPoint().Set(k)
	for i := range t.rows {
		t.rows[i][0] = NewPoint().Set(p)
		for j := 1; j < 8; j++ {
			t.rows[i][j] = NewPoint().Add(t.rows[i][j-1], p)
		}
		for range 4 {
			p.Dbl(p)
		}
	}
	return t
}

// SignedDigits returns the 64 signed radix-16 digits of s, each in
// [−8, 8), in constant time: s = Σ d_i·16^i.
func SignedDigits(s Scalar) [64]int8 {
	b := EncodeScalar(s)
	var d [64]int8
	for i := range 32 {
		d[2*i] = int8(b[i] & 15)
		d[2*i+1] = int8(b[i] >> 4)
	}
	// Carry the excess of each digit to the next. s < ℓ < 2^253, so the
	// top digit stays below 8.
	for i := range 63 {
		carry := (d[i] + 8) >> 4
		d[i] -= carry << 4
		d[i+1] += carry
	}
	return d
}

// Mul returns s·K in constant time: the work and the memory access pattern
// do not depend on s.
func (t *FixedBase) Mul(s Scalar) Point {
	d := SignedDigits(s)
	acc, id := NewPoint(), NewPoint()
	sel, neg := NewPoint(), NewPoint()
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

// keyTables caches the fixed-base tables of the public keys the prover
// multiplies by, keyed by the point value a caller holds (an election's key
// is one value for the whole ballot); each use checks that the point still
// equals the table's base.
var keyTables = struct {
	sync.Mutex
	m map[Point]*FixedBase
}{m: map[Point]*FixedBase{}}

// maxKeyTables bounds keyTables: a process holds the keys of a few
// elections at most; beyond this the cache starts over.
const maxKeyTables = 16

// mulKey returns s·K in constant time in s, with K's fixed-base table.
func mulKey(k Point, s Scalar) Point {
	keyTables.Lock()
	t := keyTables.m[k]
	keyTables.Unlock()
	if t == nil || !t.base.IsEqual(k) {
		t = NewFixedBase(k)
		keyTables.Lock()
		if len(keyTables.m) >= maxKeyTables {
			clear(keyTables.m)
		}
		keyTables.m[k] = t
		keyTables.Unlock()
	}
	return t.Mul(s)
}
