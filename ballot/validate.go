package ballot

import (
	"errors"
	"fmt"

	"github.com/evote/evote/crypto"
)

// ProofError names the part of a ballot whose proof failed.
type ProofError struct {
	Contest string
	// Selection is empty for a contest's range proof, BlankSelection for
	// the blank ciphertext (count_blank) and BlankRangeSelection for the
	// blank range proof.
	Selection string
	Err       error
}

func (e *ProofError) Error() string {
	switch e.Selection {
	case "":
		return fmt.Sprintf("ballot: contest %q: range proof: %v", e.Contest, e.Err)
	case BlankSelection:
		return fmt.Sprintf("ballot: contest %q: blank ciphertext: 0/1 proof: %v", e.Contest, e.Err)
	case BlankRangeSelection:
		return fmt.Sprintf("ballot: contest %q: blank range proof: %v", e.Contest, e.Err)
	}
	return fmt.Sprintf("ballot: contest %q, selection %q: 0/1 proof: %v", e.Contest, e.Selection, e.Err)
}

func (e *ProofError) Unwrap() []error { return []error{ErrInvalidProof, e.Err} }

// CheckStructure checks that a ballot matches the election: election id,
// ballot style, contests and selections in manifest order, the range of each
// range proof, and no selection ciphertext with α = O (which would reveal
// the mark). Decode already guarantees this for decoded ballots; CheckStructure
// guards ballots built in memory.
func (e *Election) CheckStructure(b *Ballot) error {
	if b.ElectionID != e.Manifest.ElectionID {
		return fmt.Errorf("%w: ballot is for election %q, not %q", ErrMalformed, b.ElectionID, e.Manifest.ElectionID)
	}
	if len(b.Credential) != CredentialSize {
		return fmt.Errorf("%w: credential is %d bytes, want %d", ErrMalformed, len(b.Credential), CredentialSize)
	}
	contests, err := e.Manifest.StyleContests(b.StyleID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(b.Contests) != len(contests) {
		return fmt.Errorf("%w: style %q has %d contests, ballot has %d", ErrMalformed, b.StyleID, len(contests), len(b.Contests))
	}
	for i, c := range contests {
		ec := &b.Contests[i]
		if ec.ContestID != c.ID {
			return fmt.Errorf("%w: contest %d is %q, want %q", ErrMalformed, i, ec.ContestID, c.ID)
		}
		if len(ec.Selections) != len(c.Selections) {
			return fmt.Errorf("%w: contest %q has %d selections, ballot has %d", ErrMalformed, c.ID, len(c.Selections), len(ec.Selections))
		}
		for k, s := range c.Selections {
			es := &ec.Selections[k]
			if es.SelectionID != s.ID {
				return fmt.Errorf("%w: contest %q: selection %d is %q, want %q", ErrMalformed, c.ID, k, es.SelectionID, s.ID)
			}
			if es.Ciphertext.Alpha == nil || es.Ciphertext.Beta == nil || es.Ciphertext.Alpha.IsIdentity() {
				return fmt.Errorf("%w: contest %q, selection %q: ciphertext with α = O", ErrMalformed, c.ID, s.ID)
			}
			if len(es.Proof.Branches) != 2 {
				return fmt.Errorf("%w: contest %q, selection %q: 0/1 proof has %d branches", ErrMalformed, c.ID, s.ID, len(es.Proof.Branches))
			}
		}
		if want := c.MaxSelections() - c.MinSelections() + 1; len(ec.Range.Branches) != want {
			return fmt.Errorf("%w: contest %q: range proof has %d branches, want %d", ErrMalformed, c.ID, len(ec.Range.Branches), want)
		}
		if err := checkBlankStructure(c, ec.Blank); err != nil {
			return err
		}
	}
	return nil
}

// checkBlankStructure checks that an encrypted contest has a blank part iff
// its contest counts blank ballots, and the part's shape.
func checkBlankStructure(c *Contest, b *EncryptedBlank) error {
	switch {
	case b == nil && !c.CountBlank:
		return nil
	case b == nil:
		return fmt.Errorf("%w: contest %q counts blank ballots, but the ballot has no blank ciphertext", ErrMalformed, c.ID)
	case !c.CountBlank:
		return fmt.Errorf("%w: contest %q does not count blank ballots, but the ballot has a blank ciphertext", ErrMalformed, c.ID)
	case b.Ciphertext.Alpha == nil || b.Ciphertext.Beta == nil || b.Ciphertext.Alpha.IsIdentity():
		return fmt.Errorf("%w: contest %q: blank ciphertext with α = O", ErrMalformed, c.ID)
	case len(b.Proof.Branches) != 2:
		return fmt.Errorf("%w: contest %q: blank 0/1 proof has %d branches", ErrMalformed, c.ID, len(b.Proof.Branches))
	}
	if lo, hi := blankRange(c); len(b.Range.Branches) != int(hi-lo+1) {
		return fmt.Errorf("%w: contest %q: blank range proof has %d branches, want %d", ErrMalformed, c.ID, len(b.Range.Branches), hi-lo+1)
	}
	return nil
}

// proofRef names one proof of a ballot in a batch.
type proofRef struct {
	contest, selection string // selection "" for the contest's range proof
}

// BatchEntry records where a ballot's proofs sit in a crypto.Batch.
type BatchEntry struct {
	first int // index of the ballot's first proof in the batch
	refs  []proofRef
	cts   []crypto.Ciphertext
}

// Ciphertexts returns the ballot's selection ciphertexts, decoded while they
// were added (AddToBatchEncoded only), in ballot order, the order of
// CiphertextBytes. They are valid points whatever the proofs' outcome.
func (be *BatchEntry) Ciphertexts() []crypto.Ciphertext { return be.cts }

func (be *BatchEntry) add(index int, contest, selection string) {
	if len(be.refs) == 0 {
		be.first = index
	}
	be.refs = append(be.refs, proofRef{contest, selection})
}

// AddToBatch checks the ballot's structure and adds all its proofs to batch,
// so that a whole block of ballots can be verified with one multi-scalar
// multiplication. Use Failed on the entry after batch.Verify.
func (e *Election) AddToBatch(batch *crypto.Batch, b *Ballot) (*BatchEntry, error) {
	if err := e.CheckStructure(b); err != nil {
		return nil, err
	}
	contests, _ := e.Manifest.StyleContests(b.StyleID)
	ctx := e.ballotContext(b.Credential, b.StyleID)
	entry := &BatchEntry{}
	for i, c := range contests {
		ec := &b.Contests[i]
		parts := make([]crypto.Ciphertext, len(ec.Selections))
		for k := range ec.Selections {
			s := &ec.Selections[k]
			entry.add(batch.AddZeroOne(selectionContext(ctx, c.ID, s.SelectionID), e.Key, s.Ciphertext, s.Proof), c.ID, s.SelectionID)
			parts[k] = s.Ciphertext
		}
		if ec.Blank != nil {
			entry.add(batch.AddZeroOne(blankContext(ctx, c.ID), e.Key, ec.Blank.Ciphertext, ec.Blank.Proof), c.ID, BlankSelection)
		}
		entry.add(batch.AddRangeSum(crypto.TagRange, contestContext(ctx, c.ID), e.Key, parts, uint64(c.MinSelections()), uint64(c.MaxSelections()), ec.Range), c.ID, "")
		if ec.Blank != nil {
			lo, hi := blankRange(c)
			entry.add(batch.AddRangeSum(TagBlankRange, blankContext(ctx, c.ID), e.Key, blankSum(c, parts, ec.Blank.Ciphertext), lo, hi, ec.Blank.Range), c.ID, BlankRangeSelection)
		}
	}
	return entry, nil
}

// AddToBatchEncoded is AddToBatch for a ballot's canonical encoding: it
// decodes as it goes and computes the proofs' challenges from the received
// bytes, without re-encoding any point. It accepts and rejects exactly what
// Decode followed by AddToBatch would.
func (e *Election) AddToBatchEncoded(batch *crypto.Batch, encoding []byte) (*BatchEntry, error) {
	h, err := e.parseHeader(encoding)
	if err != nil {
		return nil, err
	}
	key := e.encodedKey()
	ctx := e.ballotContext(h.credential, h.style)
	rest := h.rest
	entry := &BatchEntry{}
	for _, c := range h.contests {
		first := len(entry.cts)
		for _, s := range c.Selections {
			ct, idx, err := batch.AddRangeEncoded(crypto.TagZeroOne, selectionContext(ctx, c.ID, s.ID), key,
				rest[:crypto.CiphertextSize], rest[crypto.CiphertextSize:crypto.CiphertextSize+crypto.ZeroOneProofSize], 0, 1)
			if err != nil {
				return nil, &ProofError{Contest: c.ID, Selection: s.ID, Err: err}
			}
			if ct.Alpha.IsIdentity() {
				return nil, fmt.Errorf("%w: contest %q, selection %q: ciphertext with α = O", ErrMalformed, c.ID, s.ID)
			}
			entry.add(idx, c.ID, s.ID)
			entry.cts = append(entry.cts, ct)
			rest = rest[crypto.CiphertextSize+crypto.ZeroOneProofSize:]
		}
		sels := entry.cts[first:len(entry.cts):len(entry.cts)]
		var blank crypto.Ciphertext
		if c.CountBlank {
			ct, idx, err := batch.AddRangeEncoded(crypto.TagZeroOne, blankContext(ctx, c.ID), key,
				rest[:crypto.CiphertextSize], rest[crypto.CiphertextSize:crypto.CiphertextSize+crypto.ZeroOneProofSize], 0, 1)
			if err != nil {
				return nil, &ProofError{Contest: c.ID, Selection: BlankSelection, Err: err}
			}
			if ct.Alpha.IsIdentity() {
				return nil, fmt.Errorf("%w: contest %q: blank ciphertext with α = O", ErrMalformed, c.ID)
			}
			entry.add(idx, c.ID, BlankSelection)
			entry.cts = append(entry.cts, ct)
			blank = ct
			rest = rest[crypto.CiphertextSize+crypto.ZeroOneProofSize:]
		}
		lo, hi := uint64(c.MinSelections()), uint64(c.MaxSelections())
		n := int(hi-lo+1) * crypto.RangeBranchSize
		idx, err := batch.AddRangeSumEncoded(crypto.TagRange, contestContext(ctx, c.ID), key, sels, rest[:n], lo, hi)
		if err != nil {
			return nil, &ProofError{Contest: c.ID, Err: err}
		}
		entry.add(idx, c.ID, "")
		rest = rest[n:]
		if c.CountBlank {
			lo, hi := blankRange(c)
			n := int(hi-lo+1) * crypto.RangeBranchSize
			idx, err := batch.AddRangeSumEncoded(TagBlankRange, blankContext(ctx, c.ID), key, blankSum(c, sels, blank), rest[:n], lo, hi)
			if err != nil {
				return nil, &ProofError{Contest: c.ID, Selection: BlankRangeSelection, Err: err}
			}
			entry.add(idx, c.ID, BlankRangeSelection)
			rest = rest[n:]
		}
	}
	return entry, nil
}

// Failed returns the error for the first of the entry's proofs among the
// batch's failed indices, or nil if none of its proofs failed. failed must be
// sorted, as crypto.Batch.Verify returns it.
func (be *BatchEntry) Failed(failed []int) error {
	for _, f := range failed {
		if f < be.first || f >= be.first+len(be.refs) {
			continue
		}
		ref := be.refs[f-be.first]
		return &ProofError{Contest: ref.contest, Selection: ref.selection, Err: crypto.ErrProof}
	}
	return nil
}

// Validate checks a ballot completely: structure, then every proof with one
// batch verification. The error names the first failing contest and
// selection.
func (e *Election) Validate(b *Ballot) error {
	batch, err := crypto.NewBatch(nil)
	if err != nil {
		return err
	}
	batch.Workers = 1
	entry, err := e.AddToBatch(batch, b)
	if err != nil {
		return err
	}
	return entry.Failed(batch.Verify())
}

// ValidateEach checks a ballot like Validate but verifies each proof on its
// own, without batching; it returns the first failure with its exact reason.
// It is the reference against which Validate is tested, and what a verifier
// uses to explain a failure.
func (e *Election) ValidateEach(b *Ballot) error {
	if err := e.CheckStructure(b); err != nil {
		return err
	}
	contests, _ := e.Manifest.StyleContests(b.StyleID)
	ctx := e.ballotContext(b.Credential, b.StyleID)
	for i, c := range contests {
		ec := &b.Contests[i]
		sum := crypto.ZeroCiphertext()
		for k := range ec.Selections {
			s := &ec.Selections[k]
			if err := s.Proof.VerifyZeroOne(selectionContext(ctx, c.ID, s.SelectionID), e.Key, s.Ciphertext); err != nil {
				return &ProofError{Contest: c.ID, Selection: s.SelectionID, Err: err}
			}
			sum = sum.Add(s.Ciphertext)
		}
		if ec.Blank != nil {
			if err := ec.Blank.Proof.VerifyZeroOne(blankContext(ctx, c.ID), e.Key, ec.Blank.Ciphertext); err != nil {
				return &ProofError{Contest: c.ID, Selection: BlankSelection, Err: err}
			}
		}
		if err := ec.Range.Verify(crypto.TagRange, contestContext(ctx, c.ID), e.Key, sum, uint64(c.MinSelections()), uint64(c.MaxSelections())); err != nil {
			return &ProofError{Contest: c.ID, Err: err}
		}
		if ec.Blank != nil {
			lo, hi := blankRange(c)
			if err := ec.Blank.Range.Verify(TagBlankRange, blankContext(ctx, c.ID), e.Key, crypto.SumCiphertexts(blankSum(c, nil, ec.Blank.Ciphertext)).Add(sum), lo, hi); err != nil {
				return &ProofError{Contest: c.ID, Selection: BlankRangeSelection, Err: err}
			}
		}
	}
	return nil
}

// IsProofError reports whether err is a proof failure (as opposed to a
// malformed ballot).
func IsProofError(err error) bool { return errors.Is(err, ErrInvalidProof) }
