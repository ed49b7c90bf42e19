package crypto

import (
	"errors"
	"fmt"
	"io"
)

// Domain-separation tags of the proof types (docs/spec.md, "Proofs").
const (
	TagSchnorr        = tagPrefix + "proof/schnorr"
	TagChaumPedersen  = tagPrefix + "proof/chaum-pedersen"
	TagZeroOne        = tagPrefix + "proof/zero-one"
	TagRange          = tagPrefix + "proof/range"
	TagDecryptionPart = tagPrefix + "proof/partial-decryption"
)

// ErrProof is returned when a proof's verification equations do not hold.
var ErrProof = errors.New("crypto: proof does not verify")

// SchnorrProofSize is the size of an encoded SchnorrProof.
const SchnorrProofSize = PointSize + ScalarSize

// SchnorrProof proves knowledge of x with X = x·G (Schnorr, in commitment
// form so that it can be batch-verified):
//
//	h = w·G,  c = H_schnorr(ctx, X, h),  v = w + c·x;  check v·G = h + c·X.
type SchnorrProof struct {
	Commitment Point  // h
	Response   Scalar // v
}

func schnorrChallenge(ctx Context, x, h Point) Scalar {
	return newChallenge(ctx).appendPoints(x, h).challenge(TagSchnorr)
}

// ProveSchnorrWithRandomness proves knowledge of x for X = x·G with the nonce w.
func ProveSchnorrWithRandomness(ctx Context, x Scalar, X Point, w Scalar) SchnorrProof {
	h := BaseMul(w)
	c := schnorrChallenge(ctx, X, h)
	v := NewScalar().Mul(c, x)
	v.Add(v, w)
	return SchnorrProof{Commitment: h, Response: v}
}

// ProveSchnorr proves knowledge of x for X = x·G.
func ProveSchnorr(rand io.Reader, ctx Context, x Scalar, X Point) (SchnorrProof, error) {
	w, err := RandomScalar(rand)
	if err != nil {
		return SchnorrProof{}, err
	}
	return ProveSchnorrWithRandomness(ctx, x, X, w), nil
}

// Verify checks the proof for X in ctx. It is variable-time.
func (p SchnorrProof) Verify(ctx Context, X Point) error {
	c := schnorrChallenge(ctx, X, p.Commitment)
	lhs := BaseMul(p.Response)
	rhs := NewPoint().Mul(X, c)
	rhs.Add(rhs, p.Commitment)
	if !lhs.IsEqual(rhs) {
		return fmt.Errorf("%w: schnorr", ErrProof)
	}
	return nil
}

// Encode returns h ‖ v.
func (p SchnorrProof) Encode() []byte {
	return AppendScalar(AppendPoint(make([]byte, 0, SchnorrProofSize), p.Commitment), p.Response)
}

// DecodeSchnorrProof decodes h ‖ v.
func DecodeSchnorrProof(b []byte) (SchnorrProof, error) {
	d := Decoder{b: b}
	p := SchnorrProof{Commitment: d.Point("commitment"), Response: d.Scalar("response")}
	return p, d.Finish("schnorr proof")
}

// ChaumPedersenProofSize is the size of an encoded ChaumPedersenProof.
const ChaumPedersenProofSize = 2*PointSize + ScalarSize

// ChaumPedersenProof proves that log_G(X) = log_H(Y) without revealing the
// logarithm x (Chaum-Pedersen, in commitment form):
//
//	a = w·G,  b = w·H,  c = H_tag(ctx, X, H, Y, a, b),  v = w + c·x;
//	check v·G = a + c·X and v·H = b + c·Y.
//
// The tag distinguishes uses: TagChaumPedersen in general and
// TagDecryptionPart for trustees' partial decryptions.
type ChaumPedersenProof struct {
	CommitmentG Point  // a = w·G
	CommitmentH Point  // b = w·H
	Response    Scalar // v
}

func chaumPedersenChallenge(tag string, ctx Context, x, h, y, a, b Point) Scalar {
	return newChallenge(ctx).appendPoints(x, h, y, a, b).challenge(tag)
}

// ProveChaumPedersenWithRandomness proves log_G(X) = log_H(Y) = x with nonce w.
func ProveChaumPedersenWithRandomness(tag string, ctx Context, x Scalar, X, H, Y Point, w Scalar) ChaumPedersenProof {
	a := BaseMul(w)
	b := NewPoint().Mul(H, w)
	c := chaumPedersenChallenge(tag, ctx, X, H, Y, a, b)
	v := NewScalar().Mul(c, x)
	v.Add(v, w)
	return ChaumPedersenProof{CommitmentG: a, CommitmentH: b, Response: v}
}

// ProveChaumPedersen proves log_G(X) = log_H(Y) = x.
func ProveChaumPedersen(rand io.Reader, tag string, ctx Context, x Scalar, X, H, Y Point) (ChaumPedersenProof, error) {
	w, err := RandomScalar(rand)
	if err != nil {
		return ChaumPedersenProof{}, err
	}
	return ProveChaumPedersenWithRandomness(tag, ctx, x, X, H, Y, w), nil
}

// Verify checks the proof that log_G(X) = log_H(Y). It is variable-time.
func (p ChaumPedersenProof) Verify(tag string, ctx Context, X, H, Y Point) error {
	c := chaumPedersenChallenge(tag, ctx, X, H, Y, p.CommitmentG, p.CommitmentH)
	lhs := BaseMul(p.Response)
	rhs := NewPoint().Mul(X, c)
	rhs.Add(rhs, p.CommitmentG)
	if !lhs.IsEqual(rhs) {
		return fmt.Errorf("%w: chaum-pedersen (base G)", ErrProof)
	}
	lhs.Mul(H, p.Response)
	rhs.Mul(Y, c)
	rhs.Add(rhs, p.CommitmentH)
	if !lhs.IsEqual(rhs) {
		return fmt.Errorf("%w: chaum-pedersen (base H)", ErrProof)
	}
	return nil
}

// Encode returns a ‖ b ‖ v.
func (p ChaumPedersenProof) Encode() []byte {
	out := make([]byte, 0, ChaumPedersenProofSize)
	out = AppendPoint(out, p.CommitmentG)
	out = AppendPoint(out, p.CommitmentH)
	return AppendScalar(out, p.Response)
}

// DecodeChaumPedersenProof decodes a ‖ b ‖ v.
func DecodeChaumPedersenProof(b []byte) (ChaumPedersenProof, error) {
	d := Decoder{b: b}
	p := ChaumPedersenProof{
		CommitmentG: d.Point("commitment G"),
		CommitmentH: d.Point("commitment H"),
		Response:    d.Scalar("response"),
	}
	return p, d.Finish("chaum-pedersen proof")
}
