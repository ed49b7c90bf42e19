package crypto

import (
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/group"
)

// Point is an element of the ristretto255 group (RFC 9496).
type Point = group.Element

// Scalar is an integer modulo the order ℓ of the ristretto255 group.
type Scalar = group.Scalar

// Sizes of the canonical encodings.
const (
	PointSize  = 32
	ScalarSize = 32
)

var g = group.Ristretto255

// Errors returned by the decoders. Callers branch on these with errors.Is.
var (
	// ErrDecode is the root of every decoding error.
	ErrDecode = errors.New("crypto: invalid encoding")
	// ErrLength is returned for an input of the wrong length.
	ErrLength = fmt.Errorf("%w: wrong length", ErrDecode)
	// ErrPointEncoding is returned for 32 bytes that are not the canonical
	// encoding of a ristretto255 element.
	ErrPointEncoding = fmt.Errorf("%w: not a canonical ristretto255 element", ErrDecode)
	// ErrScalarEncoding is returned for 32 bytes that are not a scalar
	// reduced modulo ℓ.
	ErrScalarEncoding = fmt.Errorf("%w: not a canonical scalar", ErrDecode)
	// ErrIdentity is returned where the identity element is not a valid value
	// (public keys, coefficient commitments).
	ErrIdentity = fmt.Errorf("%w: identity element not allowed", ErrDecode)
)

// NewScalar returns a new scalar set to zero.
func NewScalar() Scalar { return g.NewScalar() }

// NewPoint returns a new point set to the identity.
func NewPoint() Point { return g.NewElement() }

// Generator returns a new copy of the standard generator G of ristretto255.
func Generator() Point { return g.Generator() }

// ScalarFromUint64 returns v as a scalar.
func ScalarFromUint64(v uint64) Scalar { return g.NewScalar().SetUint64(v) }

// BaseMul returns s·G. It is constant-time in s.
func BaseMul(s Scalar) Point { return g.NewElement().MulGen(s) }

// randomScalarTag separates scalars derived from random bytes from every other
// use of hash-to-scalar in the project.
const randomScalarTag = tagPrefix + "random-scalar"

// RandomScalar reads 64 bytes from rand and maps them to a uniformly
// distributed scalar with hash-to-scalar (expand_message_xmd with SHA-512,
// reduced modulo ℓ, in constant time). Unlike circl's RandomScalar it honours
// rand, so that known-answer tests can replay the randomness they used.
func RandomScalar(rand io.Reader) (Scalar, error) {
	var buf [64]byte
	if _, err := io.ReadFull(rand, buf[:]); err != nil {
		return nil, fmt.Errorf("crypto: reading randomness: %w", err)
	}
	return g.HashToScalar(buf[:], []byte(randomScalarTag)), nil
}

// RandomNonZeroScalar is RandomScalar that never returns zero.
func RandomNonZeroScalar(rand io.Reader) (Scalar, error) {
	for {
		s, err := RandomScalar(rand)
		if err != nil || !s.IsZero() {
			return s, err
		}
	}
}

// EncodePoint returns the canonical 32-byte encoding of p.
func EncodePoint(p Point) [PointSize]byte {
	b, err := p.MarshalBinary()
	if err != nil || len(b) != PointSize {
		// circl never fails to encode a ristretto255 element.
		panic("crypto: encoding a ristretto255 element failed")
	}
	return [PointSize]byte(b)
}

// AppendPoint appends the canonical encoding of p to dst.
func AppendPoint(dst []byte, p Point) []byte {
	e := EncodePoint(p)
	return append(dst, e[:]...)
}

// EncodeScalar returns the canonical 32-byte little-endian encoding of s.
func EncodeScalar(s Scalar) [ScalarSize]byte {
	b, err := s.MarshalBinary()
	if err != nil || len(b) != ScalarSize {
		panic("crypto: encoding a ristretto255 scalar failed")
	}
	return [ScalarSize]byte(b)
}

// AppendScalar appends the canonical encoding of s to dst.
func AppendScalar(dst []byte, s Scalar) []byte {
	e := EncodeScalar(s)
	return append(dst, e[:]...)
}

// DecodePoint decodes a canonical ristretto255 encoding (RFC 9496 §4.3.1).
// The identity is accepted; use DecodeNonIdentityPoint where it is invalid.
func DecodePoint(b []byte) (Point, error) {
	if len(b) != PointSize {
		return nil, fmt.Errorf("%w: point is %d bytes, want %d", ErrLength, len(b), PointSize)
	}
	p := g.NewElement()
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, ErrPointEncoding
	}
	return p, nil
}

// DecodeNonIdentityPoint is DecodePoint that also rejects the identity.
func DecodeNonIdentityPoint(b []byte) (Point, error) {
	p, err := DecodePoint(b)
	if err != nil {
		return nil, err
	}
	if p.IsIdentity() {
		return nil, ErrIdentity
	}
	return p, nil
}

// DecodeScalar decodes a canonical scalar: 32 little-endian bytes of an
// integer strictly less than ℓ (RFC 9496 §4.4).
func DecodeScalar(b []byte) (Scalar, error) {
	if len(b) != ScalarSize {
		return nil, fmt.Errorf("%w: scalar is %d bytes, want %d", ErrLength, len(b), ScalarSize)
	}
	s := g.NewScalar()
	if err := s.UnmarshalBinary(b); err != nil {
		return nil, ErrScalarEncoding
	}
	return s, nil
}

// Decoder reads consecutive fixed-size fields from a byte string and keeps
// the first error, so that decoders of composite values stay linear.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a Decoder reading b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Bytes reads the next n raw bytes.
func (d *Decoder) Bytes(n int, field string) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = fmt.Errorf("%s: %w", field, ErrLength)
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

// Fail records err for field unless an earlier error is already recorded,
// for checks a caller makes on what it read.
func (d *Decoder) Fail(field string, err error) {
	if d.err == nil && err != nil {
		d.err = fmt.Errorf("%s: %w", field, err)
	}
}

// Err returns the first error so far.
func (d *Decoder) Err() error { return d.err }

// Point reads a canonical group element.
func (d *Decoder) Point(field string) Point {
	if d.err != nil {
		return nil
	}
	if len(d.b) < PointSize {
		d.err = fmt.Errorf("%s: %w", field, ErrLength)
		return nil
	}
	p, err := DecodePoint(d.b[:PointSize])
	d.b = d.b[PointSize:]
	if err != nil {
		d.err = fmt.Errorf("%s: %w", field, err)
	}
	return p
}

// NonIdentityPoint reads a canonical group element other than the identity.
func (d *Decoder) NonIdentityPoint(field string) Point {
	p := d.Point(field)
	if d.err == nil && p.IsIdentity() {
		d.err = fmt.Errorf("%s: %w", field, ErrIdentity)
	}
	return p
}

// Scalar reads a canonical scalar.
func (d *Decoder) Scalar(field string) Scalar {
	if d.err != nil {
		return nil
	}
	if len(d.b) < ScalarSize {
		d.err = fmt.Errorf("%s: %w", field, ErrLength)
		return nil
	}
	s, err := DecodeScalar(d.b[:ScalarSize])
	d.b = d.b[ScalarSize:]
	if err != nil {
		d.err = fmt.Errorf("%s: %w", field, err)
	}
	return s
}

// Finish returns the first error, or an error if bytes are left over.
func (d *Decoder) Finish(what string) error {
	if d.err != nil {
		return fmt.Errorf("crypto: %s: %w", what, d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("crypto: %s: %w: %d trailing bytes", what, ErrLength, len(d.b))
	}
	return nil
}
