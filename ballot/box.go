package ballot

import (
	"errors"
	"fmt"
)

// Errors of the ballot box rules.
var (
	// ErrAudited is returned when a ballot that was audited is cast: its
	// randomness is public, so it could no longer be secret.
	ErrAudited = errors.New("ballot: this ballot was audited and can never be cast; encrypt a fresh one")
	// ErrAlreadyCast is returned when a cast ballot is cast again or audited.
	ErrAlreadyCast = errors.New("ballot: this ballot was already cast")
)

// Box applies the ballot box rules to ballots that have passed validation:
// the last ballot cast with a credential counts (a re-vote replaces the
// earlier one), a ballot is cast at most once, and an audited ballot is never
// cast. The authority nodes apply the same rules to their replicated state;
// Box is the reference implementation, kept in memory.
type Box struct {
	current map[string]*Ballot // credential → ballot that counts
	cast    map[[32]byte]bool  // hashes of every ballot ever cast
	audited map[[32]byte]bool
}

// NewBox returns an empty ballot box.
func NewBox() *Box {
	return &Box{current: map[string]*Ballot{}, cast: map[[32]byte]bool{}, audited: map[[32]byte]bool{}}
}

// Cast records b as its credential's ballot and returns the ballot it
// replaces, if any.
func (x *Box) Cast(b *Ballot) (replaced *Ballot, err error) {
	h := b.Hash()
	switch {
	case x.audited[h]:
		return nil, fmt.Errorf("%w (tracking code %s)", ErrAudited, TrackingCode(h))
	case x.cast[h]:
		return nil, fmt.Errorf("%w (tracking code %s)", ErrAlreadyCast, TrackingCode(h))
	}
	x.cast[h] = true
	replaced = x.current[string(b.Credential)]
	x.current[string(b.Credential)] = b
	return replaced, nil
}

// Audit records that the audited ballot is spoiled.
func (x *Box) Audit(a *Audit) error {
	h := a.Ballot.Hash()
	if x.cast[h] {
		return fmt.Errorf("%w (tracking code %s)", ErrAlreadyCast, TrackingCode(h))
	}
	x.audited[h] = true
	return nil
}

// Counted returns the ballots that count, one per credential.
func (x *Box) Counted() []*Ballot {
	out := make([]*Ballot, 0, len(x.current))
	for _, b := range x.current {
		out = append(out, b)
	}
	return out
}
