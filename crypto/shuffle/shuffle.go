// Package shuffle is a verifiable re-encryption mix-net step on evote's
// exponential ElGamal over ristretto255: Shuffle re-encrypts N rows of w
// ciphertexts each and permutes the rows with a uniformly random
// permutation, and proves with a Terelius–Wikström proof of a shuffle (the
// commitment-consistent variant of Wikström used by Verificatum) that the
// output rows are a re-encrypted permutation of the input rows, without
// revealing the permutation or the randomness. Verify checks the proof.
//
// docs/spec-shuffle.md defines the statement, the generators, the
// Fiat-Shamir transcript, the prover's and verifier's equations, the batched
// check and the proof's encoding; each function below names the step it
// implements.
//
// # Threat model
//
// The prover's arithmetic on secrets (re-encryption randomness, commitment
// randomness, nonces, the permuted challenges) is constant-time: fixed-base
// multiplication by G and the public key, circl's constant-time
// variable-base multiplication, and a constant-time multi-scalar
// multiplication (Straus's method with table look-ups that read every
// entry). Applying the permutation to the rows indexes memory by the secret
// permutation, as every mix-net does; a prover that must hide it from a
// co-resident attacker needs more than this package. Verification works
// only on public data and runs in variable time.
//
// # Compatibility
//
// The tags carry "/v1/": a change to any hash input or encoding gets a new
// tag. The proof format is not Verificatum's byte format (different group,
// encodings and hashing), only its protocol.
package shuffle

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cloudflare/circl/group"
	"github.com/evote/evote/crypto"
)

// Domain-separation tags (docs/spec-shuffle.md, "Tags").
const (
	TagGenerators = "evote/v1/shuffle/generators"
	TagStatement  = "evote/v1/shuffle/statement"
	TagPermChal   = "evote/v1/shuffle/permutation-challenge"
	TagCommitted  = "evote/v1/shuffle/commitments"
	TagChallenge  = "evote/v1/shuffle/challenge"
)

// Limits on the shape of a shuffle, so that a decoder given N and w by its
// caller can never be made to allocate without bound.
const (
	MaxRows  = 1 << 24
	MaxWidth = 1 << 10
)

// Errors. Callers branch on them with errors.Is.
var (
	// ErrShape is returned when the inputs, outputs and proof do not have
	// the shape (N rows of w ciphertexts) the statement requires.
	ErrShape = errors.New("shuffle: wrong shape")
	// ErrProof is returned when a verification equation fails; the error is
	// an *EquationError naming the equation.
	ErrProof = fmt.Errorf("shuffle: %w", crypto.ErrProof)
)

// EquationError names the verification equation that failed
// (docs/spec-shuffle.md, "Verification"): "t1", "t2", "t3",
// "t4-alpha[k]", "t4-beta[k]", "chain[i]", or "batch" when the batched
// check failed and no single equation did (probability about 2⁻¹²⁸).
type EquationError struct {
	Name string
}

func (e *EquationError) Error() string {
	return fmt.Sprintf("shuffle: equation %s does not hold", e.Name)
}

// Unwrap returns ErrProof.
func (e *EquationError) Unwrap() error { return ErrProof }

// Proof is a Terelius–Wikström proof of a shuffle of N rows of w
// ciphertexts, in commitment form (docs/spec-shuffle.md, "Proof").
type Proof struct {
	Commitments []crypto.Point      // c_j = r_j·G + H_{π⁻¹(j)}, j < N: the permutation commitment
	Chain       []crypto.Point      // ĉ_i = r̂_i·G + u'_i·ĉ_{i−1}, i < N (ĉ_{−1} = H)
	T1, T2, T3  crypto.Point        // ω1·G, ω2·G, ω3·G + Σ ω'_i·H_i
	T4          []crypto.Ciphertext // Σ_i ω'_i·e'_{i,k} − ω4_k·(G, K), k < w
	TChain      []crypto.Point      // t̂_i = ω̂_i·G + ω'_i·ĉ_{i−1}, i < N
	S1, S2, S3  crypto.Scalar
	S4          []crypto.Scalar // k < w
	SChain      []crypto.Scalar // ŝ_i, i < N
	SPrime      []crypto.Scalar // s'_i, i < N
}

// Size returns the length of an encoded proof for N rows of width w:
// 32·(5N + 3w + 6) bytes.
func Size(n, w int) int { return crypto.PointSize * (5*n + 3*w + 6) }

// checkShape verifies 1 ≤ N ≤ MaxRows and 1 ≤ w ≤ MaxWidth.
func checkShape(n, w int) error {
	if n < 1 || n > MaxRows {
		return fmt.Errorf("%w: %d rows, want 1 to %d", ErrShape, n, MaxRows)
	}
	if w < 1 || w > MaxWidth {
		return fmt.Errorf("%w: width %d, want 1 to %d", ErrShape, w, MaxWidth)
	}
	return nil
}

// rowsShape returns N and w of a list of rows, which must be rectangular.
func rowsShape(what string, rows [][]crypto.Ciphertext) (int, int, error) {
	if len(rows) == 0 {
		return 0, 0, fmt.Errorf("%w: no %s rows", ErrShape, what)
	}
	w := len(rows[0])
	for i, r := range rows {
		if len(r) != w {
			return 0, 0, fmt.Errorf("%w: %s row %d has %d ciphertexts, row 0 has %d", ErrShape, what, i, len(r), w)
		}
		for k, c := range r {
			if c.Alpha == nil || c.Beta == nil {
				return 0, 0, fmt.Errorf("%w: %s row %d ciphertext %d is unset", ErrShape, what, i, k)
			}
		}
	}
	if err := checkShape(len(rows), w); err != nil {
		return 0, 0, err
	}
	return len(rows), w, nil
}

// checkProofShape verifies that every vector of p has the length N or w.
func (p *Proof) checkShape(n, w int) error {
	if p == nil {
		return fmt.Errorf("%w: no proof", ErrShape)
	}
	for _, v := range []struct {
		name string
		got  int
		want int
	}{
		{"commitments", len(p.Commitments), n}, {"chain", len(p.Chain), n},
		{"t4", len(p.T4), w}, {"t-chain", len(p.TChain), n}, {"s4", len(p.S4), w},
		{"s-chain", len(p.SChain), n}, {"s-prime", len(p.SPrime), n},
	} {
		if v.got != v.want {
			return fmt.Errorf("%w: proof %s has %d elements, want %d", ErrShape, v.name, v.got, v.want)
		}
	}
	if p.T1 == nil || p.T2 == nil || p.T3 == nil || p.S1 == nil || p.S2 == nil || p.S3 == nil {
		return fmt.Errorf("%w: proof has unset fields", ErrShape)
	}
	for _, ps := range [][]crypto.Point{p.Commitments, p.Chain, p.TChain} {
		for _, x := range ps {
			if x == nil {
				return fmt.Errorf("%w: proof has unset points", ErrShape)
			}
		}
	}
	for _, ss := range [][]crypto.Scalar{p.S4, p.SChain, p.SPrime} {
		for _, x := range ss {
			if x == nil {
				return fmt.Errorf("%w: proof has unset scalars", ErrShape)
			}
		}
	}
	for _, c := range p.T4 {
		if c.Alpha == nil || c.Beta == nil {
			return fmt.Errorf("%w: proof has unset points", ErrShape)
		}
	}
	return nil
}

// Generators returns H and H_0 … H_{n−1} for ctx (docs/spec-shuffle.md,
// "Generators"): H_x = HashToElement(ctx ‖ BE64(x), TagGenerators) with
// x = 0 for H and x = i+1 for H_i, circl's ristretto255 hash-to-group
// (expand_message_xmd with SHA-512, RFC 9380 and RFC 9496 §4.3.4). Nobody
// knows a discrete-log relation among them or with G.
func Generators(ctx crypto.Context, n int) (h crypto.Point, hs []crypto.Point) {
	msg := make([]byte, len(ctx)+8)
	copy(msg, ctx[:])
	at := func(x uint64) crypto.Point {
		binary.BigEndian.PutUint64(msg[len(ctx):], x)
		return group.Ristretto255.HashToElement(msg, []byte(TagGenerators))
	}
	h = at(0)
	hs = make([]crypto.Point, n)
	for i := range hs {
		hs[i] = at(uint64(i) + 1)
	}
	return h, hs
}

// statementDigest is step 1 of the transcript (docs/spec-shuffle.md,
// "Transcript"): SHA-256 over TagStatement, ctx, pk, N, w, every input
// ciphertext, every output ciphertext and every permutation commitment.
func statementDigest(ctx crypto.Context, pk crypto.Point, in, out [][]crypto.Ciphertext, comms []crypto.Point) [32]byte {
	n, w := len(in), len(in[0])
	t := crypto.NewTranscript(TagStatement)
	t.AppendBytes(ctx[:])
	appendPoint(t, pk)
	t.AppendUint64(uint64(n)).AppendUint64(uint64(w))
	for _, rows := range [][][]crypto.Ciphertext{in, out} {
		for _, r := range rows {
			for _, c := range r {
				t.AppendBytes(c.Encode())
			}
		}
	}
	for _, c := range comms {
		appendPoint(t, c)
	}
	return t.Sum256()
}

// permutationChallenges is step 2: u_j = HashToScalar(d ‖ BE64(j),
// TagPermChal) for j < N.
func permutationChallenges(d [32]byte, n int) []crypto.Scalar {
	msg := make([]byte, 40)
	copy(msg, d[:])
	u := make([]crypto.Scalar, n)
	for j := range u {
		binary.BigEndian.PutUint64(msg[32:], uint64(j))
		u[j] = group.Ristretto255.HashToScalar(msg, []byte(TagPermChal))
	}
	return u
}

// challenge is step 3: c = HashToScalar(T(TagCommitted, d, ĉ…, T1, T2,
// T3, T4…, t̂…), TagChallenge), the transcript itself (not its hash) being
// the message.
func challenge(d [32]byte, p *Proof) crypto.Scalar {
	t := crypto.NewTranscript(TagCommitted)
	t.AppendBytes(d[:])
	for _, c := range p.Chain {
		appendPoint(t, c)
	}
	appendPoint(t, p.T1)
	appendPoint(t, p.T2)
	appendPoint(t, p.T3)
	for _, c := range p.T4 {
		t.AppendBytes(c.Encode())
	}
	for _, c := range p.TChain {
		appendPoint(t, c)
	}
	return group.Ristretto255.HashToScalar(t.Bytes(), []byte(TagChallenge))
}

func appendPoint(t *crypto.Transcript, p crypto.Point) {
	e := crypto.EncodePoint(p)
	t.AppendBytes(e[:])
}
