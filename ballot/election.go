package ballot

import (
	"fmt"

	"github.com/evote/evote/crypto"
)

// Tags of the ballot layer's hashes (docs/spec-ballot.md).
const (
	tagElectionBase = "evote/v1/election-base"
	tagBallotCtx    = "ballot"
	tagBallot       = "evote/v1/ballot"
	tagTracking     = "evote/v1/tracking-code"
)

// Election is what encrypting and checking ballots needs: the manifest, the
// joint election public key produced by the trustees' key ceremony, and the
// election base hash that binds every proof to both.
type Election struct {
	Manifest *Manifest
	Key      crypto.Point
	// BaseHash is H("evote/v1/election-base", manifest hash, key).
	BaseHash crypto.Context

	keyEnc crypto.EncodedKey // Key with its encoding, set by NewElection
}

// encodedKey returns the election key with its encoding.
func (e *Election) encodedKey() crypto.EncodedKey {
	if e.keyEnc.Point != nil {
		return e.keyEnc
	}
	return crypto.NewEncodedKey(e.Key)
}

// NewElection binds a validated manifest to its joint public key.
func NewElection(m *Manifest, key crypto.Point) (*Election, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if key == nil || key.IsIdentity() {
		return nil, fmt.Errorf("ballot: election %q: the election key is missing or the identity", m.ElectionID)
	}
	mh := m.Hash()
	k := crypto.EncodePoint(key)
	return &Election{Manifest: m, Key: key, BaseHash: BaseHash(mh[:], k[:]),
		keyEnc: crypto.EncodedKey{Point: key, Encoded: k}}, nil
}

// BaseHash returns the election base hash H("evote/v1/election-base",
// manifest hash, encoded election key) (docs/spec-ballot.md §1).
func BaseHash(manifestHash, key []byte) crypto.Context {
	return crypto.Context(crypto.Hash(tagElectionBase, manifestHash, key))
}

// ballotContext is the context of every proof of one ballot: the base hash
// narrowed to the voter's credential and ballot style. A ciphertext and proof
// copied from another voter's ballot therefore does not verify in this one,
// which stops ballot-copying attacks on privacy.
func (e *Election) ballotContext(credential []byte, style string) crypto.Context {
	return e.BaseHash.Derive(tagBallotCtx, credential, []byte(style))
}

// selectionContext narrows a ballot's context to one selection, so that a
// selection's ciphertext and proof cannot be moved to another place on the
// ballot.
func selectionContext(ballotCtx crypto.Context, contest, selection string) crypto.Context {
	return ballotCtx.Derive("selection", []byte(contest), []byte(selection))
}

// blankContext narrows a ballot's context to the blank part of one contest
// (count_blank): the blank ciphertext's 0/1 proof and the blank range proof.
func blankContext(ballotCtx crypto.Context, contest string) crypto.Context {
	return ballotCtx.Derive("blank", []byte(contest))
}

// contestContext narrows a ballot's context to one contest's range proof.
func contestContext(ballotCtx crypto.Context, contest string) crypto.Context {
	return ballotCtx.Derive("contest", []byte(contest))
}
