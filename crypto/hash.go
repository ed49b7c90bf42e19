package crypto

import (
	"crypto/sha256"
	"encoding/binary"
)

// Domain-separation tags. Every hash the project computes carries exactly one
// of these, so that no hash input of one kind can be read as another kind.
// The "/v1/" part versions the encoding: a change of any input layout gets a
// new tag. docs/spec.md lists every tag with its inputs.
const (
	tagPrefix = "evote/v1/"
)

// Transcript accumulates the length-prefixed inputs of one hash. It is the only
// way the project joins values for hashing: each part is preceded by its
// length as an 8-byte big-endian integer, so that no two different lists of
// parts give the same byte string (docs/spec.md, "Hashing").
type Transcript struct {
	buf []byte
}

// NewTranscript starts a transcript whose first part is the domain-separation
// tag.
func NewTranscript(tag string) *Transcript {
	t := &Transcript{buf: make([]byte, 0, 256)}
	t.AppendBytes([]byte(tag))
	return t
}

// AppendBytes adds one length-prefixed part.
func (t *Transcript) AppendBytes(p []byte) *Transcript {
	t.buf = binary.BigEndian.AppendUint64(t.buf, uint64(len(p)))
	t.buf = append(t.buf, p...)
	return t
}

// AppendString adds one length-prefixed part holding the UTF-8 bytes of s.
func (t *Transcript) AppendString(s string) *Transcript { return t.AppendBytes([]byte(s)) }

// AppendUint64 adds one part holding v as 8 big-endian bytes (itself
// length-prefixed, like every part).
func (t *Transcript) AppendUint64(v uint64) *Transcript {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return t.AppendBytes(b[:])
}

// Bytes returns the encoded transcript.
func (t *Transcript) Bytes() []byte { return t.buf }

// Sum256 returns SHA-256 of the encoded transcript.
func (t *Transcript) Sum256() [32]byte { return sha256.Sum256(t.buf) }

// Hash returns SHA-256 over the tag and the parts, each length-prefixed:
// SHA-256(len(tag) ‖ tag ‖ len(p1) ‖ p1 ‖ …) with 8-byte big-endian lengths.
func Hash(tag string, parts ...[]byte) [32]byte {
	t := NewTranscript(tag)
	for _, p := range parts {
		t.AppendBytes(p)
	}
	return t.Sum256()
}
