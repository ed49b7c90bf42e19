package crypto

import (
	"runtime"
	"sync"
)

// naiveMSMThreshold is the number of terms below which a multi-scalar
// multiplication is done term by term (a single term); from it up to
// strausThreshold Straus's method is used, above that Pippenger's buckets
// (see BenchmarkMSM).
const naiveMSMThreshold = 2

// VarTimeMultiScalarMul returns Σ scalars[i]·points[i] using Straus's method
// for small inputs and Pippenger's bucket method for large ones, both with
// signed digits over circl's group operations, split over up to workers
// goroutines. It is variable-time: use it on public data only
// (verification). It panics if the slices differ in length.
func VarTimeMultiScalarMul(scalars []Scalar, points []Point, workers int) Point {
	if len(scalars) != len(points) {
		panic("crypto: VarTimeMultiScalarMul: length mismatch")
	}
	n := len(scalars)
	if workers < 1 {
		workers = 1
	}
	// Each worker needs enough terms to amortise its buckets.
	if maxW := n / 512; workers > maxW {
		workers = max(maxW, 1)
	}
	if workers == 1 {
		return msmSerial(scalars, points)
	}
	parts := make([]Point, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[w] = msmSerial(scalars[lo:hi], points[lo:hi])
		}()
	}
	wg.Wait()
	sum := NewPoint()
	for _, p := range parts {
		sum.Add(sum, p)
	}
	return sum
}

// DefaultWorkers is the number of goroutines batch verification uses by
// default: one per available core.
func DefaultWorkers() int { return runtime.GOMAXPROCS(0) }

func msmSerial(scalars []Scalar, points []Point) Point {
	n := len(scalars)
	sum := NewPoint()
	if n < naiveMSMThreshold {
		t := NewPoint()
		for i := range scalars {
			sum.Add(sum, t.Mul(points[i], scalars[i]))
		}
		return sum
	}
	if n < strausThreshold {
		return msmStraus(scalars, points)
	}
	c := pippengerWindow(n)
	nw := (254+int(c)-1)/int(c) + 1 // windows, with room for the last carry
	digits := make([]int32, n*nw)
	neg := make([]Point, n)
	for i, s := range scalars {
		b := EncodeScalar(s)
		signedDigits(&b, c, digits[i*nw:(i+1)*nw])
		neg[i] = NewPoint().Neg(points[i])
	}
	buckets := make([]Point, 1<<(c-1))
	for k := range buckets {
		buckets[k] = NewPoint()
	}
	// filled[k] says whether bucket k holds a point in this window: the
	// first point into a bucket is copied, not added to the identity, and
	// empty buckets cost no addition in the running sums.
	filled := make([]bool, len(buckets))
	running, windowSum := NewPoint(), NewPoint()
	for w := nw - 1; w >= 0; w-- {
		if w != nw-1 {
			for range c {
				sum.Dbl(sum)
			}
		}
		used := -1
		clear(filled)
		for i := range n {
			d := digits[i*nw+w]
			var k int
			var p Point
			switch {
			case d > 0:
				k, p = int(d-1), points[i]
			case d < 0:
				k, p = int(-d-1), neg[i]
			default:
				continue
			}
			if filled[k] {
				buckets[k].Add(buckets[k], p)
			} else {
				buckets[k].Set(p)
				filled[k] = true
			}
			used = max(used, k)
		}
		if used < 0 {
			continue
		}
		// Σ_k (k+1)·bucket[k] with at most two additions per bucket: running
		// is the sum of the buckets from the top down to k.
		running.Set(buckets[used])
		windowSum.Set(running)
		for k := used - 1; k >= 0; k-- {
			if filled[k] {
				running.Add(running, buckets[k])
			}
			windowSum.Add(windowSum, running)
		}
		sum.Add(sum, windowSum)
	}
	return sum
}

// strausThreshold is the number of terms below which Straus's interleaved
// method beats Pippenger's buckets (see BenchmarkMSM).
const strausThreshold = 192

// strausWindow is the signed window width of msmStraus: digits in [−8, 8),
// eight precomputed multiples per point.
const strausWindow = 4

// msmStraus computes Σ sᵢ·Pᵢ with one shared chain of doublings and, per
// point, a table of its multiples 1..8 (Straus's method with signed
// fixed-window digits). Scalars with zero high digits (the 128-bit batch
// weights) cost proportionally fewer additions.
func msmStraus(scalars []Scalar, points []Point) Point {
	n := len(scalars)
	const nw = 256/strausWindow + 1
	half := 1 << (strausWindow - 1)
	digits := make([]int32, n*nw)
	tables := make([][]Point, n)
	top := 0
	for i, s := range scalars {
		b := EncodeScalar(s)
		d := digits[i*nw : (i+1)*nw]
		signedDigits(&b, strausWindow, d)
		for w := nw - 1; w > top; w-- {
			if d[w] != 0 {
				top = w
				break
			}
		}
		t := make([]Point, half)
		t[0] = NewPoint().Set(points[i])
		for k := 1; k < half; k++ {
			t[k] = NewPoint().Add(t[k-1], points[i])
		}
		tables[i] = t
	}
	sum := NewPoint()
	neg := NewPoint()
	for w := top; w >= 0; w-- {
		if w != top {
			for range strausWindow {
				sum.Dbl(sum)
			}
		}
		for i := range n {
			switch d := digits[i*nw+w]; {
			case d > 0:
				sum.Add(sum, tables[i][d-1])
			case d < 0:
				sum.Add(sum, neg.Neg(tables[i][-d-1]))
			}
		}
	}
	return sum
}

// pippengerWindow picks the window width c for n terms, minimising about
// (254/c)·(n + 2^c) additions.
func pippengerWindow(n int) uint {
	best, bestCost := uint(4), int(^uint(0)>>1)
	for c := uint(4); c <= 16; c++ {
		cost := (254/int(c) + 1) * (n + (1 << c))
		if cost < bestCost {
			best, bestCost = c, cost
		}
	}
	return best
}

// signedDigits writes the radix-2^c signed digits of the little-endian scalar
// b, each in [−2^(c−1), 2^(c−1)), least significant first.
func signedDigits(b *[ScalarSize]byte, c uint, out []int32) {
	half, full := int32(1)<<(c-1), int32(1)<<c
	carry := int32(0)
	for w := range out {
		bit := uint(w) * c
		var v uint64
		for k := uint(0); k < 8 && bit/8+k < ScalarSize; k++ {
			v |= uint64(b[bit/8+k]) << (8 * k)
		}
		d := int32((v>>(bit%8))&uint64(full-1)) + carry
		carry = 0
		if d >= half {
			d -= full
			carry = 1
		}
		out[w] = d
	}
}
