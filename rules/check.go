package rules

import (
	"errors"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/wire"
)

// Verified is the outcome of the checks of a ballot or audit transaction
// that depend on nothing but its bytes and the election: its rejection, or
// what applying it needs.
type Verified struct {
	Err        *Rejection
	Hash       [32]byte // the ballot hash
	Credential []byte
	Style      string
	// Ciphertexts are a cast ballot's selection ciphertexts
	// (ballot.Election.CiphertextBytes); Decoded the same, decoded, when
	// verification decoded them (nil otherwise).
	Ciphertexts []byte
	Decoded     []crypto.Ciphertext
}

// Checker runs the pure checks of ballots and audits. Its results must be
// those of CheckBallot and CheckAudit: a node caches and batches them, the
// verifier verifies many ballots in parallel batches ahead of applying them.
type Checker interface {
	CheckBallot(e *ballot.Election, raw []byte, cast []byte) *Verified
	CheckAudit(e *ballot.Election, raw []byte, file []byte) *Verified
}

// InspectCast checks a cast's structure and signature; a non-nil Verified
// is its rejection.
func InspectCast(e *ballot.Election, cast []byte) (*ballot.CastInfo, *Verified) {
	info, err := e.InspectCast(cast)
	switch {
	case errors.Is(err, ballot.ErrMalformed):
		return nil, &Verified{Err: reject(wire.CodeMalformed, "ballot: %v", err)}
	case err != nil:
		return nil, &Verified{Err: reject(wire.CodeBadSignature, "%v", err)}
	}
	return info, nil
}

// VerifyBatch checks casts of election e with one batch verification of
// all their proofs (bisected on failure, so that each result is what a
// batch of its own gives), its multi-scalar multiplications on workers
// goroutines (all cores if 0).
func VerifyBatch(e *ballot.Election, casts [][]byte, workers int) []*Verified {
	out := make([]*Verified, len(casts))
	infos := make([]*ballot.CastInfo, len(casts))
	for i, c := range casts {
		infos[i], out[i] = InspectCast(e, c)
	}
	for i, v := range VerifyInspected(e, infos, workers) {
		if out[i] == nil {
			out[i] = v
		}
	}
	return out
}

// VerifyInspected is VerifyBatch for casts that InspectCast has passed (a nil
// info is skipped and gets a nil result).
func VerifyInspected(e *ballot.Election, infos []*ballot.CastInfo, workers int) []*Verified {
	out := make([]*Verified, len(infos))
	batch, err := crypto.NewBatch(nil)
	if err != nil {
		for i := range out {
			out[i] = &Verified{Err: reject(wire.CodeInternal, "internal error: no randomness for the batch: %v", err)}
		}
		return out
	}
	if workers > 0 {
		batch.Workers = workers
	}
	entries := make([]*ballot.BatchEntry, len(infos))
	for i, info := range infos {
		if info == nil {
			continue
		}
		entry, err := e.AddToBatchEncoded(batch, info.Ballot)
		if err != nil {
			// A ciphertext or proof that does not decode is an invalid proof
			// of its contest (7), as when two contests' data are swapped;
			// anything else is malformed (1).
			if ballot.IsProofError(err) {
				out[i] = &Verified{Err: withProof(reject(wire.CodeInvalidProof, "%v", err), err)}
			} else {
				out[i] = &Verified{Err: reject(wire.CodeMalformed, "ballot: %v", err)}
			}
			continue
		}
		entries[i] = entry
	}
	failed := batch.Verify()
	for i, entry := range entries {
		if entry == nil {
			continue
		}
		if err := entry.Failed(failed); err != nil {
			out[i] = &Verified{Err: withProof(reject(wire.CodeInvalidProof, "%v", err), err)}
			continue
		}
		cts, _ := e.CiphertextBytes(infos[i].Ballot) // the header was checked already
		out[i] = &Verified{Hash: infos[i].Hash, Credential: infos[i].Credential, Style: infos[i].Style, Ciphertexts: cts, Decoded: entry.Ciphertexts()}
	}
	return out
}

// CheckBallot runs the pure checks of one cast ballot.
func CheckBallot(e *ballot.Election, cast []byte) *Verified {
	return VerifyBatch(e, [][]byte{cast}, 1)[0]
}

// CheckAudit decodes an audited ballot and checks its signature and that it
// matches its revealed choices.
func CheckAudit(e *ballot.Election, file []byte) *Verified {
	a, err := e.DecodeAudit(file)
	if ballot.IsProofError(err) { // a ciphertext or proof that does not decode
		return &Verified{Err: withProof(reject(wire.CodeInvalidAudit, "audit: %v", err), err)}
	}
	if err != nil {
		return &Verified{Err: reject(wire.CodeMalformed, "audit: %v", err)}
	}
	if _, err := e.VerifyAudit(a); err != nil {
		if errors.Is(err, ballot.ErrAuditSignature) {
			return &Verified{Err: reject(wire.CodeBadSignature, "%v", err)}
		}
		return &Verified{Err: withProof(reject(wire.CodeInvalidAudit, "audit: %v", err), err)}
	}
	return &Verified{Hash: a.Ballot.Hash(), Credential: a.Ballot.Credential, Style: a.Ballot.StyleID}
}

// direct is the Checker that runs every check when asked.
type direct struct{}

func (direct) CheckBallot(e *ballot.Election, _ []byte, cast []byte) *Verified {
	return CheckBallot(e, cast)
}
func (direct) CheckAudit(e *ballot.Election, _ []byte, file []byte) *Verified {
	return CheckAudit(e, file)
}

// Unverified is the result of a ballot's decoding and signature check
// (InspectCast) without its proofs: what a node's admission of a ballot it
// did not verify itself (CheckTx of a gossiped ballot) uses for the state's
// checks. The proofs are verified when the ballot is in a block; block
// execution never uses an Unverified result.
func Unverified(e *ballot.Election, info *ballot.CastInfo) *Verified {
	cts, _ := e.CiphertextBytes(info.Ballot) // the header was checked already
	return &Verified{Hash: info.Hash, Credential: info.Credential, Style: info.Style, Ciphertexts: cts}
}

// WithChecker makes the block's ballots and audits use c for their pure
// checks instead of the rules' Checker. Only for Check (CheckTx's
// admission, which may leave the proofs to the block).
func (b *Block) WithChecker(c Checker) *Block {
	if !b.check {
		panic("rules: WithChecker on the execution of a block: a block verifies every proof")
	}
	b.chk = c
	return b
}

func (b *Block) checker() Checker {
	if b.chk != nil {
		return b.chk
	}
	return b.r.checker()
}

func (r *Rules) checker() Checker {
	if r.Checks != nil {
		return r.Checks
	}
	return direct{}
}
