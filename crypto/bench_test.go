package crypto

import (
	"crypto/rand"
	"fmt"
	"testing"
)

// Group-operation baselines, measured in the same run as the proofs so that
// the proofs' costs can be read as multiples of circl's own Mul.
func BenchmarkGroupMul(b *testing.B) {
	s, p := mustScalar(b), BaseMul(mustScalar(b))
	q := NewPoint()
	for b.Loop() {
		q.Mul(p, s)
	}
}

func BenchmarkGroupMulGen(b *testing.B) {
	s := mustScalar(b)
	q := NewPoint()
	for b.Loop() {
		q.MulGen(s)
	}
}

func BenchmarkGroupAdd(b *testing.B) {
	p, q := BaseMul(mustScalar(b)), BaseMul(mustScalar(b))
	for b.Loop() {
		q.Add(q, p)
	}
}

func BenchmarkDecodePoint(b *testing.B) {
	e := EncodePoint(BaseMul(mustScalar(b)))
	for b.Loop() {
		if _, err := DecodePoint(e[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// selectionFixture is n encrypted selections with their 0/1 proofs.
type selectionFixture struct {
	ctx    Context
	pk     Point
	cts    []Ciphertext
	proofs []RangeProof
}

func newSelectionFixture(tb testing.TB, n int) selectionFixture {
	f := selectionFixture{ctx: testContext("bench")}
	_, f.pk = keyPair(tb)
	for i := range n {
		m := uint64(i % 2)
		ct, r, err := Encrypt(rand.Reader, f.pk, m)
		if err != nil {
			tb.Fatal(err)
		}
		p, err := ProveZeroOne(rand.Reader, f.ctx, f.pk, ct, m, r)
		if err != nil {
			tb.Fatal(err)
		}
		f.cts = append(f.cts, ct)
		f.proofs = append(f.proofs, p)
	}
	return f
}

// BenchmarkEncryptSelection encrypts one selection and proves it is 0 or 1.
func BenchmarkEncryptSelection(b *testing.B) {
	ctx := testContext("bench")
	_, pk := keyPair(b)
	for b.Loop() {
		ct, r, _ := Encrypt(rand.Reader, pk, 1)
		if _, err := ProveZeroOne(rand.Reader, ctx, pk, ct, 1, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySelection verifies one selection's 0/1 proof on its own.
func BenchmarkVerifySelection(b *testing.B) {
	f := newSelectionFixture(b, 1)
	for b.Loop() {
		if err := f.proofs[0].VerifyZeroOne(f.ctx, f.pk, f.cts[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySelectionBatch verifies batches of 0/1 proofs, reported per
// proof, on one core and on all cores.
func BenchmarkVerifySelectionBatch(b *testing.B) {
	f := newSelectionFixture(b, 1000)
	for _, workers := range []int{1, DefaultWorkers()} {
		b.Run(fmt.Sprintf("n=1000/workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				batch, _ := NewBatch(nil)
				batch.Workers = workers
				for i := range f.cts {
					batch.AddZeroOne(f.ctx, f.pk, f.cts[i], f.proofs[i])
				}
				if bad := batch.Verify(); bad != nil {
					b.Fatal(bad)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(f.cts)), "ns/proof")
		})
	}
}

// BenchmarkVerifySelectionDecodeBatch verifies from bytes, as a node or a
// verifier of a record does: decoding included, challenges computed from the
// received encodings.
func BenchmarkVerifySelectionDecodeBatch(b *testing.B) {
	f := newSelectionFixture(b, 1000)
	encCT := make([][]byte, len(f.cts))
	encP := make([][]byte, len(f.cts))
	for i := range f.cts {
		encCT[i], encP[i] = f.cts[i].Encode(), f.proofs[i].Encode()
	}
	key := NewEncodedKey(f.pk)
	for b.Loop() {
		batch, _ := NewBatch(nil)
		batch.Workers = 1
		for i := range encCT {
			if _, _, err := batch.AddRangeEncoded(TagZeroOne, f.ctx, key, encCT[i], encP[i], 0, 1); err != nil {
				b.Fatal(err)
			}
		}
		if bad := batch.Verify(); bad != nil {
			b.Fatal(bad)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(encCT)), "ns/proof")
}

func BenchmarkMSM(b *testing.B) {
	for _, n := range []int{8, 64, 128, 256, 512, 1024, 8192} {
		scalars := make([]Scalar, n)
		points := make([]Point, n)
		for i := range n {
			scalars[i], points[i] = mustScalar(b), BaseMul(mustScalar(b))
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				VarTimeMultiScalarMul(scalars, points, 1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/term")
		})
	}
}
