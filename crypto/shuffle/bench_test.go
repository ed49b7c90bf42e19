package shuffle

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/evote/evote/crypto"
)

// Benchmarks of one shuffle of N rows of width 5 on one core (the prover is
// single-threaded; the verifier runs with workers = 1). ns/ciphertext is the
// time divided by N·w.
//
//	go test ./crypto/shuffle -run x -bench . -benchtime=1x -cpu 1

var benchShapes = []int{1000, 10000}

const benchWidth = 5

func benchFixture(b *testing.B, n int) fixture {
	return newFixture(b, newStream(fmt.Sprintf("bench %d", n)), n, benchWidth)
}

func BenchmarkShuffleProve(b *testing.B) {
	for _, n := range benchShapes {
		b.Run(fmt.Sprintf("N=%d/w=%d", n, benchWidth), func(b *testing.B) {
			f := benchFixture(b, n)
			ctx := testContext("bench")
			b.ResetTimer()
			cpu := cpuTime()
			for b.Loop() {
				if _, _, err := Shuffle(rand.Reader, ctx, f.pk, f.in); err != nil {
					b.Fatal(err)
				}
			}
			report(b, n, cpuTime()-cpu)
		})
	}
}

func BenchmarkShuffleVerify(b *testing.B) {
	for _, n := range benchShapes {
		b.Run(fmt.Sprintf("N=%d/w=%d", n, benchWidth), func(b *testing.B) {
			f := benchFixture(b, n)
			ctx := testContext("bench")
			out, p, err := Shuffle(rand.Reader, ctx, f.pk, f.in)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu := cpuTime()
			for b.Loop() {
				if err := verify(ctx, f.pk, f.in, out, p, 1); err != nil {
					b.Fatal(err)
				}
			}
			report(b, n, cpuTime()-cpu)
		})
	}
}

// report adds ns/ciphertext (wall time) and cpu-ns/ciphertext (the
// process's CPU time, all threads, garbage collection included) for n rows.
func report(b *testing.B, n int, cpu time.Duration) {
	k := float64(b.N * n * benchWidth)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/k, "ns/ciphertext")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/k, "cpu-ns/ciphertext")
	}
}

// BenchmarkVerifyParts splits the verifier's time: the statement
// (generators, hashing), and the batched check.
func BenchmarkVerifyParts(b *testing.B) {
	const n = 1000
	f := benchFixture(b, n)
	ctx := testContext("bench")
	out, p, err := Shuffle(rand.Reader, ctx, f.pk, f.in)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("generators", func(b *testing.B) {
		for b.Loop() {
			Generators(ctx, n)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*benchWidth), "ns/ciphertext")
	})
	b.Run("statement", func(b *testing.B) {
		for b.Loop() {
			if _, err := newStatement(ctx, f.pk, f.in, out, p); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*benchWidth), "ns/ciphertext")
	})
	st, _ := newStatement(ctx, f.pk, f.in, out, p)
	b.Run("batched", func(b *testing.B) {
		for b.Loop() {
			if ok, _ := st.batched(rand.Reader, 1); !ok {
				b.Fatal("rejected")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*benchWidth), "ns/ciphertext")
	})
	_ = crypto.DefaultWorkers
}
