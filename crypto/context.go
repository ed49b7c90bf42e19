package crypto

import "encoding/hex"

// Context is the 32-byte hash that binds a proof to its setting: the election
// base hash for ballot and decryption proofs, or a hash derived from it for
// narrower settings (a ceremony round, a trustee). A proof made for one
// context never verifies in another.
type Context [32]byte

// contextTag is the tag of derived contexts.
const contextTag = tagPrefix + "context"

// Derive returns a narrower context H(tag, c, label, parts…), for example the
// context of one trustee's coefficient proofs within a key ceremony.
func (c Context) Derive(label string, parts ...[]byte) Context {
	t := NewTranscript(contextTag).AppendBytes(c[:]).AppendString(label)
	for _, p := range parts {
		t.AppendBytes(p)
	}
	return Context(t.Sum256())
}

// String returns the context in hex.
func (c Context) String() string { return hex.EncodeToString(c[:]) }

// newChallenge starts the message of a Fiat-Shamir challenge: the
// length-prefixed context, to which the prover and verifier append the
// statement and the commitments in the order docs/spec.md gives.
func newChallenge(ctx Context) *Transcript {
	t := &Transcript{buf: make([]byte, 0, 512)}
	return t.AppendBytes(ctx[:])
}

// challenge computes the Fiat-Shamir challenge over the message: hash-to-scalar
// (expand_message_xmd with SHA-512, 64 bytes, reduced modulo ℓ as a
// little-endian integer) with the proof type's tag as the domain-separation tag.
func (t *Transcript) challenge(tag string) Scalar {
	return g.HashToScalar(t.buf, []byte(tag))
}

// appendPoints appends each point's encoding as one length-prefixed part.
func (t *Transcript) appendPoints(ps ...Point) *Transcript {
	for _, p := range ps {
		e := EncodePoint(p)
		t.AppendBytes(e[:])
	}
	return t
}
