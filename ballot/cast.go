package ballot

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/crypto"
)

// ErrNotOnRoll is returned for a ballot cast with a credential that is not on
// the election's credential roll.
var ErrNotOnRoll = errors.New("ballot: the credential is not on the credential roll")

// Cast is a ballot as a voter casts it: signed with the credential whose
// public key the ballot carries. An audit is signed by that credential too,
// but over another message (its own tag, spec-ballot.md §5.1), so nobody who
// sees an audit can cast its ballot.
type Cast struct {
	Ballot    *Ballot
	Signature []byte // Ed25519 over credential.BallotMessage(base hash, ballot hash)
}

// Sign signs b for casting with the voter's credential. The ballot must have
// been encrypted for that credential.
func (e *Election) Sign(c *credential.Credential, b *Ballot) (*Cast, error) {
	if !ed25519.PublicKey(b.Credential).Equal(c.PublicKey()) {
		return nil, fmt.Errorf("ballot: the ballot was encrypted for another credential")
	}
	return &Cast{Ballot: b, Signature: c.SignBallot(e.BaseHash, b.Hash())}, nil
}

// VerifyCast checks a cast ballot's signature and that its credential is on
// the roll (onRoll reports membership). It does not check the proofs: see
// Validate, or AddToBatch for many ballots at once.
func (e *Election) VerifyCast(c *Cast, onRoll func(ed25519.PublicKey) bool) error {
	if c == nil || c.Ballot == nil {
		return fmt.Errorf("%w: empty cast", ErrMalformed)
	}
	pub := ed25519.PublicKey(c.Ballot.Credential)
	if err := credential.VerifyBallot(pub, e.BaseHash, c.Ballot.Hash(), c.Signature); err != nil {
		return fmt.Errorf("ballot: signature: %w", err)
	}
	if !onRoll(pub) {
		return ErrNotOnRoll
	}
	return nil
}

// Encode returns LP(ballot encoding) ‖ LP(signature).
func (c *Cast) Encode() []byte {
	t := &crypto.Transcript{}
	return t.AppendBytes(c.Ballot.Encode()).AppendBytes(c.Signature).Bytes()
}

// DecodeCast decodes a cast ballot for this election (structure only).
func (e *Election) DecodeCast(data []byte) (*Cast, error) {
	parts, err := splitLP(data, 2)
	if err != nil {
		return nil, fmt.Errorf("%w: cast: %w", ErrMalformed, err)
	}
	b, err := e.Decode(parts[0])
	if err != nil {
		return nil, err
	}
	if len(parts[1]) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, len(parts[1]), ed25519.SignatureSize)
	}
	return &Cast{Ballot: b, Signature: parts[1]}, nil
}

// splitLP splits exactly n length-prefixed parts (8-byte big-endian lengths).
func splitLP(b []byte, n int) ([][]byte, error) {
	var out [][]byte
	for range n {
		if len(b) < 8 {
			return nil, errors.New("truncated")
		}
		l := binary.BigEndian.Uint64(b)
		b = b[8:]
		if l > uint64(len(b)) {
			return nil, errors.New("length prefix past the end")
		}
		out = append(out, b[:l])
		b = b[l:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(b))
	}
	return out, nil
}

// CastInfo is what InspectCast learns about a cast ballot without decoding
// its ciphertexts and proofs.
type CastInfo struct {
	Ballot     []byte   // the ballot's canonical encoding
	Hash       [32]byte // the ballot hash
	Credential []byte
	Style      string
}

// CastHash returns the hash of the ballot in a cast (its tracking code is
// TrackingCode of it) after checking only the framing and the header: no
// point is decoded and the signature is not checked.
func (e *Election) CastHash(cast []byte) ([32]byte, error) {
	parts, err := splitLP(cast, 2)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w: cast: %w", ErrMalformed, err)
	}
	if _, err := e.parseHeader(parts[0]); err != nil {
		return [32]byte{}, err
	}
	return HashEncoding(parts[0]), nil
}

// InspectCast splits a cast ballot's encoding, checks the ballot's header
// and size against the election, and verifies the credential's signature. It
// does not check the proofs (see AddToBatchEncoded) nor the roll.
func (e *Election) InspectCast(cast []byte) (*CastInfo, error) {
	parts, err := splitLP(cast, 2)
	if err != nil {
		return nil, fmt.Errorf("%w: cast: %w", ErrMalformed, err)
	}
	h, err := e.parseHeader(parts[0])
	if err != nil {
		return nil, err
	}
	if len(parts[1]) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, len(parts[1]), ed25519.SignatureSize)
	}
	info := &CastInfo{Ballot: parts[0], Hash: HashEncoding(parts[0]), Credential: h.credential, Style: h.style}
	if err := credential.VerifyBallot(h.credential, e.BaseHash, info.Hash, parts[1]); err != nil {
		return nil, fmt.Errorf("ballot: signature: %w", err)
	}
	return info, nil
}
