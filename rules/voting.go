package rules

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/wire"
)

// MaxAuditsPerCredential bounds the audits one credential can publish in an
// election (docs/spec-chain.md §4): enough for a careful voter to audit
// their device several times, few enough that a voter cannot fill every
// node's state with audits (each is about 10 KB, kept forever).
const MaxAuditsPerCredential = 10

// checkVoting checks that the election accepts ballots at the block's time.
func (x *exec) checkVoting(rec *ElectionRecord, ec *Election) error {
	m := ec.Manifest
	t := x.b.time
	switch {
	case rec.Phase == wire.PhaseClosed || rec.Phase == wire.PhaseTallied:
		return reject(wire.CodeWrongPhase, "election %q is closed", m.ElectionID)
	case rec.Phase != wire.PhaseOpen:
		return reject(wire.CodeWrongPhase, "election %q is not open yet", m.ElectionID)
	case t.Before(m.Start):
		return reject(wire.CodeOutsideWindow, "election %q opens for voting at %s", m.ElectionID, ballot.FormatTime(m.Start))
	case !t.Before(m.End):
		return reject(wire.CodeOutsideWindow, "voting in election %q ended at %s", m.ElectionID, ballot.FormatTime(m.End))
	}
	return nil
}

// voterTx runs the checks common to ballots and audits: the election accepts
// them now, and the transaction's pure checks pass.
func (x *exec) voterTx(tx wire.Tx, pure func(Checker, *ballot.Election) *Verified) (*ElectionRecord, *Election, *Verified, error) {
	rec, ec, err := x.b.r.Election(x.st, tx.Election())
	if err != nil {
		return nil, nil, nil, err
	}
	if err := x.checkVoting(rec, ec); err != nil {
		return nil, nil, nil, err
	}
	v := pure(x.b.checker(), ec.Ballot)
	if v.Err != nil {
		return nil, nil, nil, v.Err
	}
	return rec, ec, v, nil
}

// onRoll checks that the credential is on the election's roll and that the
// ballot is of the credential's ballot style, and returns the credential's
// record.
func (x *exec) onRoll(ec *Election, cred []byte, style, what string) (CredentialRecord, error) {
	id := ec.Manifest.ElectionID
	c, found, err := Credential(x.st, id, cred)
	if err != nil {
		return CredentialRecord{}, err
	}
	if !found {
		return CredentialRecord{}, reject(wire.CodeNotOnRoll, "%s: the credential is not on the credential roll of %q", what, id)
	}
	styles := ec.Manifest.BallotStyles()
	if c.Style >= len(styles) {
		return CredentialRecord{}, fmt.Errorf("rules: the stored credential's ballot style %d is not one of the %d of %q", c.Style, len(styles), id)
	}
	if want := styles[c.Style].ID; style != want {
		return CredentialRecord{}, reject(wire.CodeWrongStyle, "%s: the ballot is of style %q, the credential's ballot style is %q", what, style, want)
	}
	return c, nil
}

// ballot: docs/spec-chain.md §4, in the order of its checks. A ballot of a
// credential that already voted replaces its earlier ballot.
func (x *exec) ballot(tx *wire.Ballot) ([]Event, error) {
	rec, ec, v, err := x.voterTx(tx, func(c Checker, e *ballot.Election) *Verified { return c.CheckBallot(e, x.raw, tx.Cast) })
	if err != nil {
		return nil, err
	}
	id := tx.ElectionID
	code := ballot.TrackingCode(v.Hash)
	cred, err := x.onRoll(ec, v.Credential, v.Style, "ballot "+code)
	if err != nil {
		return nil, err
	}
	if found, err := x.has(BucketBallot, Key(id, v.Hash[:])); err != nil {
		return nil, err
	} else if found {
		return nil, reject(wire.CodeDuplicate, "ballot %s is already on the chain", code)
	}
	if found, err := x.has(BucketAudited, Key(id, v.Hash[:])); err != nil {
		return nil, err
	} else if found {
		return nil, reject(wire.CodeAudited, "ballot %s was audited and can never be cast; encrypt a fresh ballot", code)
	}
	// Accepted: nothing below rejects it. The replaced ballot (a re-vote)
	// is read before the totals change, so that a failure to read it leaves
	// the block's totals as they were.
	ev := event("ballot", "election", id, "tracking_code", code, "hash", hex.EncodeToString(v.Hash[:]))
	if x.b.check {
		return []Event{ev}, nil // Check keeps no writes
	}
	prev, found, err := x.get(BucketCurrent, Key(id, v.Credential))
	if err != nil {
		return nil, err
	}
	var old *BallotRecord
	var oldDelta delta
	if found {
		raw, ok, err := x.get(BucketBallot, Key(id, prev))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("rules: the ballot record of the replaced ballot %x is missing", prev)
		}
		if old, err = DecodeBallotRecord(raw); err != nil {
			return nil, err
		}
		style, cts, err := x.storedBallot(id, prev)
		if err != nil {
			return nil, err
		}
		if oldDelta, err = ballotDelta(ec, style, cts, nil, cred.Weight); err != nil {
			return nil, err
		}
	}
	d, err := ballotDelta(ec, v.Style, v.Ciphertexts, v.Decoded, cred.Weight)
	if err != nil {
		return nil, err
	}
	// Only a failure to read the running totals remains, which halts.
	if err := x.addToTotals(ec, d, false); err != nil {
		return nil, err
	}
	x.st.Put(BucketBallotCT, Key(id, v.Hash[:]), EncodeStoredBallot(v.Style, v.Ciphertexts))
	if old != nil {
		if err := x.addToTotals(ec, oldDelta, true); err != nil {
			return nil, err
		}
		old.ReplacedBy = v.Hash[:]
		x.st.Put(BucketBallot, Key(id, prev), old.Encode())
		rec.BallotsReplaced++
		ev.Attrs = append(ev.Attrs, [2]string{"replaces", old.TrackingCode})
	} else {
		rec.WeightCounted += cred.Weight
	}
	x.st.Put(BucketCurrent, Key(id, v.Credential), v.Hash[:])
	x.st.Put(BucketBallot, Key(id, v.Hash[:]), (&BallotRecord{Hash: v.Hash[:], TrackingCode: code, Credential: v.Credential, Height: x.b.height, Index: x.index}).Encode())
	x.st.Put(BucketTracking, Key(id, []byte(code)), v.Hash[:])
	rec.BallotsCast++
	x.putRecord(id, rec)
	return []Event{ev}, nil
}

// audit: docs/spec-chain.md §4. An audited ballot is published with its
// choices revealed and can never be cast.
func (x *exec) audit(tx *wire.Audit) ([]Event, error) {
	rec, ec, v, err := x.voterTx(tx, func(c Checker, e *ballot.Election) *Verified { return c.CheckAudit(e, x.raw, tx.File) })
	if err != nil {
		return nil, err
	}
	id := tx.ElectionID
	code := ballot.TrackingCode(v.Hash)
	if _, err := x.onRoll(ec, v.Credential, v.Style, "audit of ballot "+code); err != nil {
		return nil, err
	}
	if found, err := x.has(BucketBallot, Key(id, v.Hash[:])); err != nil {
		return nil, err
	} else if found {
		return nil, reject(wire.CodeDuplicate, "audit: ballot %s was cast; a cast ballot cannot be audited", code)
	}
	if found, err := x.has(BucketAudited, Key(id, v.Hash[:])); err != nil {
		return nil, err
	} else if found {
		return nil, reject(wire.CodeDuplicate, "audit: ballot %s is already audited", code)
	}
	n, err := AuditCount(x.st, id, v.Credential)
	if err != nil {
		return nil, err
	}
	if n >= MaxAuditsPerCredential {
		return nil, reject(wire.CodeAuditLimit, "audit of ballot %s: the credential has already audited %d ballots in %q, the most an election allows", code, n, id)
	}
	ev := event("audit", "election", id, "tracking_code", code, "hash", hex.EncodeToString(v.Hash[:]))
	if x.b.check {
		return []Event{ev}, nil // Check keeps no writes
	}
	x.st.Put(BucketAuditCount, Key(id, v.Credential), u64(n+1))
	x.st.Put(BucketAudited, Key(id, v.Hash[:]), (&AuditRecord{Hash: v.Hash[:], TrackingCode: code, Height: x.b.height, Index: x.index}).Encode())
	x.st.Put(BucketTracking, Key(id, []byte(code)), v.Hash[:])
	rec.Audited++
	x.putRecord(id, rec)
	return []Event{ev}, nil
}

// AuditCount returns the number of audits of the credential in st.
func AuditCount(st State, electionID string, cred []byte) (uint64, error) {
	v, ok, err := st.Get(BucketAuditCount, Key(electionID, cred))
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return 0, nil
	case len(v) != 8:
		return 0, fmt.Errorf("rules: stored audit count of %d bytes, want 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
