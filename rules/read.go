package rules

import (
	"github.com/evote/evote/ballot"
	"github.com/evote/evote/wire"
)

// BallotByTrackingCode returns the record of the ballot with the given
// tracking code in st; audited reports an audited ballot (whose record has
// no credential). A code on no ballot is a rejection with CodeNotFound.
func BallotByTrackingCode(st State, electionID, code string) (*BallotRecord, bool, error) {
	norm, err := ballot.NormalizeTrackingCode(code)
	if err != nil {
		return nil, false, reject(wire.CodeMalformed, "%v", err)
	}
	notFound := reject(wire.CodeNotFound, "no ballot with tracking code %s in election %q", norm, electionID)
	h, ok, err := st.Get(BucketTracking, Key(electionID, []byte(norm)))
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, notFound
	}
	if raw, ok, err := st.Get(BucketBallot, Key(electionID, h)); err != nil {
		return nil, false, err
	} else if ok {
		b, err := DecodeBallotRecord(raw)
		return b, false, err
	}
	if raw, ok, err := st.Get(BucketAudited, Key(electionID, h)); err != nil {
		return nil, false, err
	} else if ok {
		a, err := DecodeAuditRecord(raw)
		if err != nil {
			return nil, false, err
		}
		return &BallotRecord{Hash: a.Hash, TrackingCode: a.TrackingCode, Height: a.Height, Index: a.Index}, true, nil
	}
	return nil, false, notFound
}
