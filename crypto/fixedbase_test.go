package crypto

import (
	"crypto/rand"
	"testing"
)

// TestFixedBase: the table's product equals variable-base multiplication
// for random scalars, for 0, 1, ℓ−1, and the scalars whose signed digits
// carry through every window (all nibbles 8 or 15).
func TestFixedBase(t *testing.T) {
	k := BaseMul(ScalarFromUint64(0xdecafbad))
	table := NewFixedBase(k)
	minusOne := NewScalar().Neg(ScalarFromUint64(1))
	scalars := []Scalar{NewScalar(), ScalarFromUint64(1), ScalarFromUint64(8), ScalarFromUint64(15), ScalarFromUint64(16), minusOne}
	for _, nib := range []byte{0x88, 0xff, 0x78} {
		var b [ScalarSize]byte
		for i := range b {
			b[i] = nib
		}
		b[31] &= 0x0f // below ℓ
		s, err := DecodeScalar(b[:])
		if err != nil {
			t.Fatal(err)
		}
		scalars = append(scalars, s)
	}
	for range 200 {
		s, err := RandomScalar(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		scalars = append(scalars, s)
	}
	for _, s := range scalars {
		if got, want := table.Mul(s), NewPoint().Mul(k, s); !got.IsEqual(want) {
			t.Fatalf("fixed-base %x·K differs from variable-base", EncodeScalar(s))
		}
		if got := mulKey(k, s); !got.IsEqual(NewPoint().Mul(k, s)) {
			t.Fatalf("mulKey %x·K differs", EncodeScalar(s))
		}
	}
	// A key changed in place gets a new table.
	k.Add(k, Generator())
	s := ScalarFromUint64(12345)
	if !mulKey(k, s).IsEqual(NewPoint().Mul(k, s)) {
		t.Fatal("mulKey used the table of the key before it changed")
	}
}

// BenchmarkFixedBaseMul: s·K with K's table, beside variable-base s·K
// (BenchmarkGroupMul) and s·G (BenchmarkGroupMulGen) in the same run.
func BenchmarkFixedBaseMul(b *testing.B) {
	k := BaseMul(ScalarFromUint64(7))
	s, _ := RandomScalar(rand.Reader)
	mulKey(k, s)
	for b.Loop() {
		mulKey(k, s)
	}
}

// BenchmarkFixedBaseTable builds the table of one key.
func BenchmarkFixedBaseTable(b *testing.B) {
	k := BaseMul(ScalarFromUint64(7))
	for b.Loop() {
		NewFixedBase(k)
	}
}
