package crypto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/bwesterb/go-ristretto/edwards25519"
)

// MaxDlogBound is the largest bound NewDlogTable accepts: 2^40, about
// 1.1·10^12. It keeps every Solve to at most about 2^19 giant steps (a
// fraction of a second) and the table to at most 32 MiB.
const MaxDlogBound = 1 << 40

// ErrDlogOutOfRange is returned by Solve for a point that is not m·G for any
// m in [0, max]: a total larger than the bound, a negative total, or a point
// that is not a small multiple of G at all (a wrong decryption).
var ErrDlogOutOfRange = errors.New("crypto: discrete log: value is not in [0, max]")

const (
	// dlogBabyFactor scales the baby-step radius B above √(max+1). Solve
	// costs about (max+1)/(2B) steps and building the table B steps, so a
	// tally that solves many totals with one table wants B well above the
	// balanced √max; past 16 the fixed cost of a Solve (decoding the point,
	// confirming the answer, about 40 µs) dominates anyway.
	dlogBabyFactor = 16
	// dlogMaxBaby caps B, and so the table at 2^22 slots of 8 bytes.
	dlogMaxBaby = 1 << 20
	// dlogIndexBits low bits of a slot hold j+1 (1 ≤ j+1 ≤ dlogMaxBaby+1);
	// the other 43 hold the top bits of the key.
	dlogIndexBits = 21
	dlogIndexMask = 1<<dlogIndexBits - 1
	// dlogBatch is the number of points normalized with one field inversion.
	dlogBatch = 64
)

// DlogTable solves bounded discrete logarithms: given P = m·G with
// 0 ≤ m ≤ max, it finds m. A tally builds one table for the number of voters
// and solves every decrypted total with it. A DlogTable is safe for
// concurrent use. Everything it handles is public (decrypted totals), and it
// runs in variable time.
//
// # Algorithm
//
// Baby-step giant-step, folded by sign. The table holds a key for each of the
// B+1 baby steps j·G, 0 ≤ j ≤ B, with B = 16·⌈√(max+1)⌉ (at most max/2 and
// 2^20). The key of a point is the first 8 bytes of the canonical encoding of
// (x·y)², where (x, y) are the affine Edwards coordinates of any of its
// internal representatives: x·y changes sign under the 4-torsion points that
// ristretto255 quotients out, and under negation, so the key depends only on
// the group element up to sign, and j·G and −j·G share one entry. The giant
// step is W·G with W = 2B+1: Solve computes Q_i = P − (B + i·W)·G for
// i = 0, 1, …, n−1 with n = ⌈(max+1)/W⌉, and if m = B + i·W ± j then Q_i = ±j·G
// has the key of baby step j. Every key match is confirmed with a full
// comparison of m·G and P (circl's constant-time base multiplication and
// ristretto255 equality) for both signs, and m ≤ max is checked, so a key
// collision costs time but can never give a wrong answer.
//
// Baby steps are built by additions (P += G), giant steps by subtractions
// of W·G. The keys need affine coordinates, that is a field inversion per
// point; they are computed 64 points at a time with one inversion (Montgomery's
// trick), which costs three multiplications per point instead of the inverse
// square root of a ristretto255 encoding: a step (addition and key) takes
// about 0.3 µs, where adding and encoding with circl would take about 4 µs.
//
// # Cost
//
// Slots are 8 bytes (43 bits of key and the index j+1); the table has a power
// of two of them, at least twice the number of entries, and is probed
// linearly.
//
//	max     B          slots   memory    giant steps (worst case)
//	10^6    16 016     2^15    256 KiB   32
//	10^7    50 608     2^17    1 MiB     99
//	2^32    2^20       2^22    32 MiB    2 048
//	2^40    2^20       2^22    32 MiB    524 288
//
// A Solve performs at most n = ⌈(max+1)/(2B+1)⌉ giant steps, then returns
// ErrDlogOutOfRange; it never runs longer than that, whatever the point.
type DlogTable struct {
	max   uint64
	baby  uint64 // B
	width uint64 // W = 2B+1
	steps uint64 // n = ⌈(max+1)/W⌉

	slots   []uint64 // key&^dlogIndexMask | j+1, or 0 if empty
	shift   uint     // a key's home slot is key>>shift
	keyMask uint64   // all ones; tests clear it to make every key collide

	offset edwards25519.NielsPoint // B·G
	stride edwards25519.NielsPoint // W·G
}

// NewDlogTable precomputes a table that solves m·G for 0 ≤ m ≤ max. max may
// be at most MaxDlogBound. Building the table for max = 10^7 takes about
// 50 000 group additions (tens of milliseconds).
func NewDlogTable(max uint64) (*DlogTable, error) {
	if max > MaxDlogBound {
		return nil, fmt.Errorf("crypto: discrete log: bound %d exceeds the maximum %d", max, uint64(MaxDlogBound))
	}
	return newDlogTable(max, dlogBabySteps(max), ^uint64(0))
}

// dlogBabySteps returns the radius B that NewDlogTable uses for max.
func dlogBabySteps(max uint64) uint64 {
	b := dlogBabyFactor * ceilSqrt(max+1)
	return min(b, (max+1)/2, dlogMaxBaby)
}

// ceilSqrt returns ⌈√x⌉ for x ≤ 2^52.
func ceilSqrt(x uint64) uint64 {
	r := uint64(math.Sqrt(float64(x)))
	for r*r > x {
		r--
	}
	for r*r < x {
		r++
	}
	return r
}

// newDlogTable builds a table for max with baby steps 0..baby. keyMask is
// applied to every key; NewDlogTable passes all ones.
func newDlogTable(max, baby, keyMask uint64) (*DlogTable, error) {
	if max > MaxDlogBound || baby > dlogMaxBaby {
		return nil, fmt.Errorf("crypto: discrete log: bound %d, %d baby steps: out of range", max, baby)
	}
	t := &DlogTable{max: max, baby: baby, width: 2*baby + 1, keyMask: keyMask}
	t.steps = (max + t.width) / t.width // ⌈(max+1)/W⌉, no overflow for max ≤ 2^40

	logSlots := bits.Len64(2*(baby+1) - 1) // 2^logSlots ≥ 2(B+1)
	t.slots = make([]uint64, 1<<logSlots)
	t.shift = uint(64 - logSlots)

	var (
		gen, p, last edwards25519.ExtendedPoint
		genN         edwards25519.NielsPoint
		c            edwards25519.CompletedPoint
		pts          [dlogBatch]edwards25519.ExtendedPoint
		keys         [dlogBatch]uint64
		scratch      [dlogBatch]edwards25519.FieldElement
	)
	gen.SetBase()
	genN.SetExtended(&gen)
	p.SetZero()
	for j := uint64(0); j <= baby; {
		n := min(dlogBatch, baby+1-j)
		for k := range n {
			pts[k] = p // j+k
			c.AddExtendedNiels(&p, &genN)
			p.SetCompleted(&c)
		}
		dlogKeys(keys[:n], pts[:n], scratch[:n])
		for k := range n {
			t.insert(keys[k], j+k)
		}
		last = pts[n-1]
		j += n
	}

	// last = B·G; the stride is W·G = 2·(B·G) + G.
	var stride edwards25519.ExtendedPoint
	stride.Double(&last)
	stride.Add(&stride, &gen)
	t.offset.SetExtended(&last)
	t.stride.SetExtended(&stride)

	// The table is built with go-ristretto's Edwards arithmetic (circl's
	// ristretto255 backend) and checked with circl: a disagreement would make
	// Solve miss values, never return wrong ones, but it would be a bug.
	var lastEnc, strideEnc [PointSize]byte
	last.RistrettoInto(&lastEnc)
	stride.RistrettoInto(&strideEnc)
	if lastEnc != EncodePoint(BaseMul(ScalarFromUint64(baby))) ||
		strideEnc != EncodePoint(BaseMul(ScalarFromUint64(t.width))) {
		return nil, errors.New("crypto: discrete log: internal error: baby steps disagree with the group")
	}
	return t, nil
}

// dlogKeys sets keys[k] to the key of pts[k]: the first 8 bytes, little
// endian, of the canonical encoding of (x·y)² = (T/Z)². The 1/Z are computed
// with one inversion for the batch (Montgomery's trick); scratch has the
// length of pts.
func dlogKeys(keys []uint64, pts []edwards25519.ExtendedPoint, scratch []edwards25519.FieldElement) {
	var acc, inv, zInv, u edwards25519.FieldElement
	var buf [32]byte
	acc.SetOne()
	for k := range pts {
		acc.Mul(&acc, &pts[k].Z)
		scratch[k] = acc // Z_0⋯Z_k
	}
	inv.Inverse(&acc) // Z ≠ 0 for every point in extended coordinates
	for k := len(pts) - 1; k >= 0; k-- {
		// inv = (Z_0⋯Z_k)⁻¹
		if k > 0 {
			zInv.Mul(&inv, &scratch[k-1])
			inv.Mul(&inv, &pts[k].Z)
		} else {
			zInv = inv
		}
		u.Mul(&pts[k].T, &zInv)
		u.Square(&u)
		u.BytesInto(&buf)
		keys[k] = binary.LittleEndian.Uint64(buf[:8])
	}
}

// insert adds baby step j with the given key.
func (t *DlogTable) insert(key, j uint64) {
	key &= t.keyMask
	mask := uint64(len(t.slots) - 1)
	i := key >> t.shift
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = key&^dlogIndexMask | (j + 1)
}

// Max returns the bound the table was built for.
func (t *DlogTable) Max() uint64 { return t.max }

// Solve returns m such that p = m·G and 0 ≤ m ≤ t.Max(), or an error wrapping
// ErrDlogOutOfRange if there is none. It performs at most
// ⌈(max+1)/(2B+1)⌉ giant steps (see DlogTable) and runs in variable time: use
// it only on public values such as decrypted totals.
func (t *DlogTable) Solve(p Point) (uint64, error) {
	if t == nil || t.slots == nil {
		return 0, errors.New("crypto: discrete log: nil or empty table")
	}
	if p == nil {
		return 0, errors.New("crypto: discrete log: nil point")
	}
	b, err := p.MarshalBinary()
	if err != nil || len(b) != PointSize {
		return 0, errors.New("crypto: discrete log: point is not a ristretto255 element")
	}
	var q edwards25519.ExtendedPoint
	if !q.SetRistretto((*[PointSize]byte)(b)) {
		return 0, fmt.Errorf("crypto: discrete log: %w", ErrPointEncoding)
	}

	var (
		c       edwards25519.CompletedPoint
		pts     [dlogBatch]edwards25519.ExtendedPoint
		keys    [dlogBatch]uint64
		scratch [dlogBatch]edwards25519.FieldElement
	)
	c.SubExtendedNiels(&q, &t.offset) // Q_0 = P − B·G
	q.SetCompleted(&c)
	for i := uint64(0); i < t.steps; {
		n := min(dlogBatch, t.steps-i)
		for k := range n {
			pts[k] = q // Q_{i+k}
			c.SubExtendedNiels(&q, &t.stride)
			q.SetCompleted(&c)
		}
		dlogKeys(keys[:n], pts[:n], scratch[:n])
		for k := range n {
			if m, ok := t.lookup(keys[k], i+k, p); ok {
				return m, nil
			}
		}
		i += n
	}
	return 0, fmt.Errorf("%w (max is %d)", ErrDlogOutOfRange, t.max)
}

// lookup finds the baby steps whose key matches the key of Q_i and returns
// m if one of them confirms p = m·G.
func (t *DlogTable) lookup(key, i uint64, p Point) (uint64, bool) {
	key &= t.keyMask
	tag := key &^ dlogIndexMask
	mask := uint64(len(t.slots) - 1)
	for s := key >> t.shift; t.slots[s] != 0; s = (s + 1) & mask {
		if t.slots[s]&^dlogIndexMask != tag {
			continue
		}
		j := t.slots[s]&dlogIndexMask - 1
		if m, ok := t.confirm(i, j, p); ok {
			return m, true
		}
	}
	return 0, false
}

// confirm checks the candidates m = B + i·W ± j against p with a full
// comparison.
func (t *DlogTable) confirm(i, j uint64, p Point) (uint64, bool) {
	center := t.baby + i*t.width
	if m := center + j; m <= t.max && BaseMul(ScalarFromUint64(m)).IsEqual(p) {
		return m, true
	}
	if j == 0 || j > center {
		return 0, false
	}
	if m := center - j; m <= t.max && BaseMul(ScalarFromUint64(m)).IsEqual(p) {
		return m, true
	}
	return 0, false
}

// SolveMany solves every point with Solve, on the given number of goroutines
// (all available cores if workers ≤ 0). It returns the values in order, or
// the error of the first point, by index, that has none.
func (t *DlogTable) SolveMany(points []Point, workers int) ([]uint64, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(points))
	out := make([]uint64, len(points))
	errs := make([]error, len(points))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(points) {
					return
				}
				out[k], errs[k] = t.Solve(points[k])
			}
		})
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%w (point %d of %d)", err, k, len(points))
		}
	}
	return out, nil
}
