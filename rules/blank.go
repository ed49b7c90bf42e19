package rules

import (
	"fmt"

	"github.com/evote/evote/ballot"
)

// BlankKind says how a contest's blank ballots (no selection marked) are
// counted in its result (docs/spec-chain.md §5).
type BlankKind string

// The ways of counting blank ballots.
const (
	// BlankEncrypted: the contest has count_blank; every ballot carries an
	// encrypted blank mark, and the blank count is their decrypted,
	// weighted total, checked by the chain like the counts.
	BlankEncrypted BlankKind = "encrypted"
	// BlankDerived: the rule allows at most one mark and a blank ballot
	// (min 0), and every counted ballot carries the contest: the blank
	// count is the weight counted less the sum of the contest's counts.
	BlankDerived BlankKind = "derived"
	// BlankImpossible: the rule asks for at least one mark, so no ballot is
	// blank: the count is 0.
	BlankImpossible BlankKind = "impossible"
	// BlankNotCounted: blank ballots are not told apart from the others
	// (more than one mark allowed without count_blank, or a contest of one
	// mark not on every ballot style without count_blank).
	BlankNotCounted BlankKind = "not-counted"
)

// BlankCount is one contest's count of blank ballots, weighted as the
// counts are.
type BlankCount struct {
	Contest string
	Kind    BlankKind
	// Count is nil for BlankNotCounted.
	Count *uint64
}

// BlankKindOf returns how the blank ballots of contest c of m are counted.
func BlankKindOf(m *ballot.Manifest, c *ballot.Contest) BlankKind {
	switch {
	case c.CountBlank:
		return BlankEncrypted
	case c.MinSelections() > 0:
		return BlankImpossible
	case m.BlankDerivable(c):
		return BlankDerived
	}
	return BlankNotCounted
}

// Blanks returns the blank count of every contest of a tallied record, in
// manifest order: the one definition of the blank counts, which the tally
// service publishes and a verifier recomputes. The record is one Record or
// Rules.Election returns (its count_blank results split). An error means
// the record's result does not fit the manifest or its counts exceed the
// weight counted, which a result the rules accepted never does.
func Blanks(m *ballot.Manifest, rec *ElectionRecord) ([]BlankCount, error) {
	if len(rec.Result) != len(m.Contests) {
		return nil, fmt.Errorf("rules: the result has %d contests, the manifest %d", len(rec.Result), len(m.Contests))
	}
	out := make([]BlankCount, len(m.Contests))
	for i := range m.Contests {
		c, cr := &m.Contests[i], &rec.Result[i]
		b := BlankCount{Contest: c.ID, Kind: BlankKindOf(m, c)}
		if cr.Contest != c.ID || len(cr.Counts) != len(c.Selections) || (cr.Blank != nil) != c.CountBlank {
			return nil, fmt.Errorf("rules: the result of contest %d (%q) does not fit the manifest's %q", i+1, cr.Contest, c.ID)
		}
		switch b.Kind {
		case BlankEncrypted:
			n := *cr.Blank
			b.Count = &n
		case BlankImpossible:
			b.Count = new(uint64)
		case BlankDerived:
			var sum uint64
			for _, n := range cr.Counts {
				sum += n
			}
			if sum > rec.WeightCounted {
				return nil, fmt.Errorf("rules: contest %q: the counts add up to %d, more than the weight counted %d", c.ID, sum, rec.WeightCounted)
			}
			n := rec.WeightCounted - sum
			b.Count = &n
		}
		out[i] = b
	}
	return out, nil
}
