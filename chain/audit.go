package chain

import (
	"encoding/binary"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain/store"
)

// MaxAuditsPerCredential bounds the audits one credential can publish in an
// election (docs/spec-chain.md §4): enough for a careful voter to audit
// their device several times, few enough that a voter cannot fill every
// node's state with audits (each is about 10 KB, kept forever).
const MaxAuditsPerCredential = 10

// bucketAuditCount holds the number of accepted audits of each credential:
// election id ‖ 0 ‖ credential key → u64(count).
const bucketAuditCount = "auditcount"

// pureAudit decodes an audited ballot and checks its signature and that it
// matches its revealed choices: the checks that depend only on the
// transaction and the election.
func pureAudit(e *ballot.Election, field []byte) *pureResult {
	a, err := e.DecodeAudit(field)
	if ballot.IsProofError(err) { // a ciphertext or proof that does not decode
		return &pureResult{err: txErr(CodeInvalidAudit, "audit: %v", err)}
	}
	if err != nil {
		return &pureResult{err: txErr(CodeMalformed, "audit: %v", err)}
	}
	if _, err := e.VerifyAudit(a); err != nil {
		if errors.Is(err, ballot.ErrAuditSignature) {
			return &pureResult{err: txErr(CodeBadSignature, "%v", err)}
		}
		return &pureResult{err: txErr(CodeInvalidAudit, "audit: %v", err)}
	}
	return &pureResult{hash: a.Ballot.Hash(), credential: a.Ballot.Credential}
}

func (x *execution) audit(tx *Tx) ([]abci.Event, error) {
	rec, _, pr, err := x.voterTx(tx, pureAudit)
	if err != nil {
		return nil, err
	}
	id := tx.ElectionID
	code := ballot.TrackingCode(pr.hash)
	if found, err := x.o.has(x.ctx, bucketCred, key(id, pr.credential)); err != nil {
		return nil, err
	} else if !found {
		return nil, txErr(CodeNotOnRoll, "audit of ballot %s: the credential is not on the credential roll of %q", code, id)
	}
	if found, err := x.o.has(x.ctx, bucketBallot, key(id, pr.hash[:])); err != nil {
		return nil, err
	} else if found {
		return nil, txErr(CodeDuplicate, "audit: ballot %s was cast; a cast ballot cannot be audited", code)
	}
	if found, err := x.o.has(x.ctx, bucketAudited, key(id, pr.hash[:])); err != nil {
		return nil, err
	} else if found {
		return nil, txErr(CodeDuplicate, "audit: ballot %s is already audited", code)
	}
	n, err := x.auditCount(id, pr.credential)
	if err != nil {
		return nil, err
	}
	if n >= MaxAuditsPerCredential {
		return nil, txErr(CodeAuditLimit, "audit of ballot %s: the credential has already audited %d ballots in %q, the most an election allows", code, n, id)
	}
	x.o.put(bucketAuditCount, key(id, pr.credential), u64(n+1))
	x.o.putJSON(bucketAudited, key(id, pr.hash[:]), &AuditRecord{Hash: pr.hash[:], TrackingCode: code, Height: x.height, Index: x.index})
	x.o.put(bucketTracking, key(id, []byte(code)), pr.hash[:])
	rec.Audited++
	x.o.putRecord(id, rec)
	return []abci.Event{event("audit", "election", id, "tracking_code", code, "hash", hexHash(pr.hash[:]))}, nil
}

// auditCount returns the number of audits of the credential on the chain:
// 0 if the store says there is none, an error if it cannot be read.
func (x *execution) auditCount(electionID string, cred []byte) (uint64, error) {
	v, err := x.o.get(x.ctx, bucketAuditCount, key(electionID, cred))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, err
	case len(v) != 8:
		return 0, fmt.Errorf("chain: stored audit count of %d bytes, want 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
