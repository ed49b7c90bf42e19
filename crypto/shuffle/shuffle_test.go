package shuffle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/evote/evote/crypto"
)

// stream is a deterministic reader: SHA-256(seed ‖ BE64(counter)) blocks.
type stream struct {
	seed []byte
	ctr  uint64
	buf  []byte
}

func newStream(seed string) *stream { return &stream{seed: []byte(seed)} }

func (s *stream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.buf) == 0 {
			h := sha256.New()
			h.Write(s.seed)
			h.Write(binary.BigEndian.AppendUint64(nil, s.ctr))
			s.ctr++
			s.buf = h.Sum(nil)
		}
		k := copy(p[n:], s.buf)
		s.buf = s.buf[k:]
		n += k
	}
	return n, nil
}

func testContext(label string) crypto.Context {
	return crypto.Context(crypto.Hash("evote/v1/test", []byte(label)))
}

// fixture is an election key and n rows of width w; the plaintext of row i
// column k is i·w + k.
type fixture struct {
	sk crypto.Scalar
	pk crypto.Point
	in [][]crypto.Ciphertext
}

func newFixture(t testing.TB, rnd *stream, n, w int) fixture {
	t.Helper()
	sk, err := crypto.RandomNonZeroScalar(rnd)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{sk: sk, pk: crypto.BaseMul(sk), in: make([][]crypto.Ciphertext, n)}
	for i := range f.in {
		f.in[i] = make([]crypto.Ciphertext, w)
		for k := range f.in[i] {
			r, err := crypto.RandomScalar(rnd)
			if err != nil {
				t.Fatal(err)
			}
			f.in[i][k] = crypto.EncryptWithRandomness(f.pk, uint64(i*w+k), r)
		}
	}
	return f
}

// verifyAll runs the batched check alone, the unbatched check and Verify,
// and fails the test unless they agree; it returns Verify's error.
func verifyAll(t *testing.T, ctx crypto.Context, pk crypto.Point, in, out [][]crypto.Ciphertext, p *Proof) error {
	t.Helper()
	errV := Verify(ctx, pk, in, out, p)
	errU := VerifyUnbatched(ctx, pk, in, out, p)
	st, err := newStatement(ctx, pk, in, out, p)
	if err != nil {
		if errV == nil || errU == nil {
			t.Fatalf("statement error %v, but Verify %v and VerifyUnbatched %v", err, errV, errU)
		}
		return errV
	}
	ok, err := st.batched(newStream("weights"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if ok != (errU == nil) || ok != (errV == nil) {
		t.Fatalf("batched %v, unbatched %v, Verify %v disagree", ok, errU, errV)
	}
	if errV != nil && errU != nil && errV.Error() != errU.Error() {
		t.Fatalf("Verify says %v, VerifyUnbatched %v", errV, errU)
	}
	return errV
}

func TestCompleteness(t *testing.T) {
	for _, w := range []int{1, 5} {
		for _, n := range []int{1, 2, 3, 10, 100} {
			t.Run(fmt.Sprintf("N=%d/w=%d", n, w), func(t *testing.T) {
				rnd := newStream(fmt.Sprintf("completeness %d %d", n, w))
				f := newFixture(t, rnd, n, w)
				ctx := testContext("completeness")
				perm, err := randomPermutation(rnd, n)
				if err != nil {
					t.Fatal(err)
				}
				rho := make([][]crypto.Scalar, n)
				for i := range rho {
					rho[i] = make([]crypto.Scalar, w)
					for k := range rho[i] {
						rho[i][k], _ = crypto.RandomScalar(rnd)
					}
				}
				out, p, err := prove(rnd, ctx, f.pk, f.in, perm, rho)
				if err != nil {
					t.Fatal(err)
				}
				if err := verifyAll(t, ctx, f.pk, f.in, out, p); err != nil {
					t.Fatalf("valid shuffle rejected: %v", err)
				}
				// Property: output row i decrypts to the plaintexts of input row π(i).
				for i := range out {
					for k := range out[i] {
						want := crypto.BaseMul(crypto.ScalarFromUint64(uint64(perm[i]*w + k)))
						if !out[i][k].DecryptToPoint(f.sk).IsEqual(want) {
							t.Fatalf("output [%d][%d] does not decrypt to input row %d", i, k, perm[i])
						}
						if out[i][k].Equal(f.in[perm[i]][k]) {
							t.Fatalf("output [%d][%d] not re-encrypted", i, k)
						}
					}
				}
				// Encoding round trip.
				enc := p.Encode()
				if len(enc) != Size(n, w) {
					t.Fatalf("encoding is %d bytes, Size says %d", len(enc), Size(n, w))
				}
				q, err := Decode(enc, n, w)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(q.Encode(), enc) {
					t.Fatal("decode∘encode is not the identity")
				}
				if err := Verify(ctx, f.pk, f.in, out, q); err != nil {
					t.Fatalf("decoded proof rejected: %v", err)
				}
			})
		}
	}
}

func TestShuffleIsPermutation(t *testing.T) {
	rnd := newStream("shuffle")
	f := newFixture(t, rnd, 10, 2)
	out, p, err := Shuffle(rnd, testContext("s"), f.pk, f.in)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(testContext("s"), f.pk, f.in, out, p); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i := range out {
		found := -1
		for j := range f.in {
			if out[i][0].DecryptToPoint(f.sk).IsEqual(crypto.BaseMul(crypto.ScalarFromUint64(uint64(2 * j)))) {
				found = j
			}
		}
		if found < 0 || seen[found] {
			t.Fatalf("output row %d is not a fresh input row (%d)", i, found)
		}
		seen[found] = true
		if !out[i][1].DecryptToPoint(f.sk).IsEqual(crypto.BaseMul(crypto.ScalarFromUint64(uint64(2*found + 1)))) {
			t.Fatalf("output row %d mixes columns of different rows", i)
		}
	}
}

func TestRandomPermutationUniform(t *testing.T) {
	rnd := newStream("perm")
	counts := map[[3]int]int{}
	const trials = 6000
	for range trials {
		p, err := randomPermutation(rnd, 3)
		if err != nil {
			t.Fatal(err)
		}
		counts[[3]int(p)]++
	}
	if len(counts) != 6 {
		t.Fatalf("%d distinct permutations of 3, want 6", len(counts))
	}
	for p, c := range counts {
		if c < trials/6-200 || c > trials/6+200 {
			t.Errorf("permutation %v drawn %d times of %d", p, c, trials)
		}
	}
}

func TestShapeErrors(t *testing.T) {
	rnd := newStream("shape")
	f := newFixture(t, rnd, 2, 2)
	if _, _, err := Shuffle(rnd, testContext("x"), f.pk, nil); !errors.Is(err, ErrShape) {
		t.Fatalf("no rows: %v", err)
	}
	ragged := [][]crypto.Ciphertext{f.in[0], f.in[1][:1]}
	if _, _, err := Shuffle(rnd, testContext("x"), f.pk, ragged); !errors.Is(err, ErrShape) {
		t.Fatalf("ragged rows: %v", err)
	}
	if _, _, err := Shuffle(rnd, testContext("x"), f.pk, [][]crypto.Ciphertext{{}}); !errors.Is(err, ErrShape) {
		t.Fatalf("width 0: %v", err)
	}
	if err := Verify(testContext("x"), f.pk, f.in, f.in, nil); !errors.Is(err, ErrShape) {
		t.Fatalf("nil proof: %v", err)
	}
}
