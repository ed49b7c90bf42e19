// Package cryptotest holds helpers shared by the tests of crypto and its
// sub-packages.
package cryptotest

import (
	"crypto/sha256"
	"encoding/binary"
)

// DRBG is a deterministic byte stream (SHA-256 in counter mode over a
// labelled seed). Tests draw explicit randomness from it so that their
// vectors are reproducible; it is not a secure generator.
type DRBG struct {
	seed [32]byte
	ctr  uint64
	buf  []byte
}

// NewDRBG returns the stream for label.
func NewDRBG(label string) *DRBG { return &DRBG{seed: sha256.Sum256([]byte(label))} }

// Read fills p from the stream; it never fails.
func (d *DRBG) Read(p []byte) (int, error) {
	for n := 0; n < len(p); {
		if len(d.buf) == 0 {
			var in [40]byte
			copy(in[:], d.seed[:])
			binary.BigEndian.PutUint64(in[32:], d.ctr)
			d.ctr++
			h := sha256.Sum256(in[:])
			d.buf = h[:]
		}
		c := copy(p[n:], d.buf)
		d.buf = d.buf[c:]
		n += c
	}
	return len(p), nil
}
