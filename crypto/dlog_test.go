package crypto

import (
	"errors"
	mrand "math/rand/v2"
	"sync"
	"testing"
)

func mustDlogTable(tb testing.TB, max uint64) *DlogTable {
	tb.Helper()
	t, err := NewDlogTable(max)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func mulG(m uint64) Point { return BaseMul(ScalarFromUint64(m)) }

// negG returns −m·G.
func negG(m uint64) Point { return NewPoint().Neg(mulG(m)) }

func wantDlog(t *testing.T, tab *DlogTable, p Point, want uint64) {
	t.Helper()
	got, err := tab.Solve(p)
	if err != nil || got != want {
		t.Fatalf("Solve(%d·G) = %d, %v; want %d (max %d, B %d)", want, got, err, want, tab.max, tab.baby)
	}
}

func wantDlogOutOfRange(t *testing.T, tab *DlogTable, p Point, what string) {
	t.Helper()
	got, err := tab.Solve(p)
	if !errors.Is(err, ErrDlogOutOfRange) {
		t.Fatalf("Solve(%s) = %d, %v; want ErrDlogOutOfRange (max %d, B %d)", what, got, err, tab.max, tab.baby)
	}
}

// TestDlogSmallExhaustive solves every m in [0, 2000], walking m·G by
// additions, with the default table and with tables whose baby steps are
// tiny, so that many giant steps and every window edge are crossed.
func TestDlogSmallExhaustive(t *testing.T) {
	const max = 2000
	tables := []*DlogTable{mustDlogTable(t, max)}
	for _, baby := range []uint64{0, 1, 3, 7, 64} {
		tab, err := newDlogTable(max, baby, ^uint64(0))
		if err != nil {
			t.Fatal(err)
		}
		tables = append(tables, tab)
	}
	g := Generator()
	for _, tab := range tables {
		p := NewPoint()
		for m := uint64(0); m <= max; m++ {
			wantDlog(t, tab, p, m)
			p.Add(p, g)
		}
		wantDlogOutOfRange(t, tab, p, "(max+1)·G")
		for m := uint64(1); m <= 5; m++ {
			wantDlogOutOfRange(t, tab, negG(m), "negative")
		}
	}
}

// TestDlogCollisions builds a table in which every key collides: the full
// comparison alone must then give every answer, and never a wrong one.
func TestDlogCollisions(t *testing.T) {
	const max = 60
	for _, baby := range []uint64{0, 3, 30} {
		tab, err := newDlogTable(max, baby, 0)
		if err != nil {
			t.Fatal(err)
		}
		for m := uint64(0); m <= max; m++ {
			wantDlog(t, tab, mulG(m), m)
		}
		wantDlogOutOfRange(t, tab, mulG(max+1), "max+1")
		wantDlogOutOfRange(t, tab, negG(1), "−G")
		wantDlogOutOfRange(t, tab, mulG(1000), "1000·G")
	}
}

// TestDlogBounds checks 0, max, max+1, values near the top of the range and
// negative values for bounds from 0 to 10^7.
func TestDlogBounds(t *testing.T) {
	for _, max := range []uint64{0, 1, 2, 3, 1000, 1 << 20, 10_000_000} {
		tab := mustDlogTable(t, max)
		if tab.Max() != max {
			t.Fatalf("Max() = %d, want %d", tab.Max(), max)
		}
		wantDlog(t, tab, NewPoint(), 0)
		wantDlog(t, tab, mulG(max), max)
		wantDlogOutOfRange(t, tab, mulG(max+1), "(max+1)·G")
		wantDlogOutOfRange(t, tab, mulG(max+2), "(max+2)·G")
		wantDlogOutOfRange(t, tab, negG(1), "−G")
		wantDlogOutOfRange(t, tab, negG(max+1), "−(max+1)·G")
		for range 10 {
			m := max - mrand.Uint64N(min(max, 1000)+1)
			wantDlog(t, tab, mulG(m), m)
			m = mrand.Uint64N(max + 1)
			wantDlog(t, tab, mulG(m), m)
		}
	}
}

// TestDlog1e6 checks that a table for 10^6 solves 10^6 exactly, and a
// random element of the group (not a small multiple of G) gives an error.
func TestDlog1e6(t *testing.T) {
	tab := mustDlogTable(t, 1_000_000)
	wantDlog(t, tab, mulG(1_000_000), 1_000_000)
	wantDlog(t, tab, mulG(999_999), 999_999)
	wantDlogOutOfRange(t, tab, mulG(1_000_001), "(10^6+1)·G")
	for range 3 {
		wantDlogOutOfRange(t, tab, BaseMul(mustScalar(t)), "random point")
	}
}

func TestDlogErrors(t *testing.T) {
	if _, err := NewDlogTable(MaxDlogBound + 1); err == nil {
		t.Fatal("NewDlogTable(MaxDlogBound+1) succeeded")
	}
	if _, err := NewDlogTable(^uint64(0)); err == nil {
		t.Fatal("NewDlogTable(2^64−1) succeeded")
	}
	tab := mustDlogTable(t, 10)
	if _, err := tab.Solve(nil); err == nil {
		t.Fatal("Solve(nil) succeeded")
	}
	var nilTable *DlogTable
	if _, err := nilTable.Solve(Generator()); err == nil {
		t.Fatal("Solve on a nil table succeeded")
	}
	_, err := tab.Solve(mulG(11))
	if err == nil || err.Error() != "crypto: discrete log: value is not in [0, max] (max is 10)" {
		t.Fatalf("Solve(11·G) error = %v", err)
	}
}

// TestDlogMaxBound builds nothing large: it checks the parameters that
// NewDlogTable would choose at the largest bound.
func TestDlogMaxBound(t *testing.T) {
	for _, tc := range []struct{ max, baby uint64 }{
		{0, 0}, {1, 1}, {2000, 720}, {1_000_000, 16_016}, {10_000_000, 50_608},
		{1 << 32, dlogMaxBaby}, {MaxDlogBound, dlogMaxBaby},
	} {
		if got := dlogBabySteps(tc.max); got != tc.baby {
			t.Errorf("dlogBabySteps(%d) = %d, want %d", tc.max, got, tc.baby)
		}
	}
	for _, x := range []uint64{0, 1, 2, 3, 4, 5, 15, 16, 17, 1<<40 - 1, 1 << 40, 1<<40 + 1} {
		r := ceilSqrt(x)
		if r*r < x || (r > 0 && (r-1)*(r-1) >= x) {
			t.Errorf("ceilSqrt(%d) = %d", x, r)
		}
	}
}

func TestDlogSolveManyConcurrent(t *testing.T) {
	const max = 100_000
	tab := mustDlogTable(t, max)
	want := make([]uint64, 64)
	points := make([]Point, len(want))
	for k := range want {
		want[k] = mrand.Uint64N(max + 1)
		points[k] = mulG(want[k])
	}
	for _, workers := range []int{0, 1, 3, 100} {
		got, err := tab.SolveMany(points, workers)
		if err != nil {
			t.Fatal(err)
		}
		for k := range want {
			if got[k] != want[k] {
				t.Fatalf("workers %d: point %d: got %d, want %d", workers, k, got[k], want[k])
			}
		}
	}
	if got, err := tab.SolveMany(nil, 4); err != nil || len(got) != 0 {
		t.Fatalf("SolveMany(nil) = %v, %v", got, err)
	}

	// One bad point among good ones: the error names it.
	bad := append([]Point(nil), points...)
	bad[17] = mulG(max + 1)
	bad[40] = negG(3)
	_, err := tab.SolveMany(bad, 4)
	if !errors.Is(err, ErrDlogOutOfRange) || err.Error() != "crypto: discrete log: value is not in [0, max] (max is 100000) (point 17 of 64)" {
		t.Fatalf("SolveMany with bad points: %v", err)
	}

	// Solve called directly from several goroutines at once.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := g; k < len(points); k += 4 {
				if m, err := tab.Solve(points[k]); err != nil || m != want[k] {
					t.Errorf("goroutine %d: point %d: got %d, %v; want %d", g, k, m, err, want[k])
				}
			}
		})
	}
	wg.Wait()
}

func benchmarkDlogTable(b *testing.B, max uint64) {
	for b.Loop() {
		if _, err := NewDlogTable(max); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDlogTable1e6(b *testing.B) { benchmarkDlogTable(b, 1_000_000) }
func BenchmarkDlogTable1e7(b *testing.B) { benchmarkDlogTable(b, 10_000_000) }

func benchmarkDlogSolve(b *testing.B, max uint64) {
	tab := mustDlogTable(b, max)
	want := make([]uint64, 16)
	points := make([]Point, len(want))
	for k := range want {
		want[k] = mrand.Uint64N(max + 1)
		points[k] = mulG(want[k])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(points)
		if m, err := tab.Solve(points[k]); err != nil || m != want[k] {
			b.Fatalf("got %d, %v; want %d", m, err, want[k])
		}
	}
}

func BenchmarkDlogSolve1e6(b *testing.B) { benchmarkDlogSolve(b, 1_000_000) }
func BenchmarkDlogSolve1e7(b *testing.B) { benchmarkDlogSolve(b, 10_000_000) }

// BenchmarkDlogSolveWorst1e7 solves max·G, the last giant step.
func BenchmarkDlogSolveWorst1e7(b *testing.B) {
	tab := mustDlogTable(b, 10_000_000)
	p := mulG(10_000_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tab.Solve(p); err != nil {
			b.Fatal(err)
		}
	}
}
