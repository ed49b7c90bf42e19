package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// LP appends the length-prefixed encoding of b to dst: an 8-byte big-endian
// length, then the bytes. Every field of a transaction, and every part of
// every hash and signature of evote, is framed this way
// (docs/spec.md §1.2).
func LP(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(len(b)))
	return append(dst, b...)
}

// U64 returns the 8-byte big-endian encoding of v.
func U64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// ErrTruncated is the error of a Reader that ran out of bytes.
var ErrTruncated = errors.New("truncated")

// Reader reads length-prefixed parts from a byte slice. Its methods never
// read past the end and never allocate more than the input holds; the first
// error sticks, and every later read returns zero values.
type Reader struct {
	b   []byte
	n   int // parts read
	err error
}

// NewReader returns a Reader of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Bytes reads one length-prefixed part. The result aliases the input.
func (r *Reader) Bytes() []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < 8 {
		r.err = fmt.Errorf("field %d: %w", r.n, ErrTruncated)
		return nil
	}
	l := binary.BigEndian.Uint64(r.b)
	if l > uint64(len(r.b)-8) {
		r.err = fmt.Errorf("field %d: length %d past the end", r.n, l)
		return nil
	}
	out := r.b[8 : 8+l : 8+l]
	r.b = r.b[8+l:]
	r.n++
	return out
}

// Uint64 reads a length-prefixed part that must hold exactly 8 bytes, a
// big-endian integer.
func (r *Reader) Uint64() uint64 {
	b := r.Bytes()
	if r.err != nil {
		return 0
	}
	if len(b) != 8 {
		r.err = fmt.Errorf("field %d: %d bytes, want an 8-byte integer", r.n-1, len(b))
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Fixed reads n raw bytes (no length prefix).
func (r *Reader) Fixed(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.err = fmt.Errorf("field %d: %w", r.n, ErrTruncated)
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	r.n++
	return out
}

// Remaining returns the number of bytes not read yet.
func (r *Reader) Remaining() int { return len(r.b) }

// Err returns the first error of the reader.
func (r *Reader) Err() error { return r.err }

// Done returns the first error, or an error if bytes are left over.
func (r *Reader) Done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return r.err
}
