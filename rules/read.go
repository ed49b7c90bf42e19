package rules

import (
	"fmt"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
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

// RollChunkInfo describes one loaded chunk of an election's roll: its
// index, its first and last key and its hash (docs/credentials.md §4.3).
type RollChunkInfo struct {
	Index uint64
	First []byte
	Last  []byte
	Hash  []byte
}

// RollIndex returns the loaded chunks of an election's roll, in order of
// their index, from the record rec of the election.
func RollIndex(st State, electionID string, rec *ElectionRecord) ([]RollChunkInfo, error) {
	if rec.RollHeader == nil {
		return nil, nil
	}
	hdr, err := credential.DecodeHeader(rec.RollHeader)
	if err != nil {
		return nil, fmt.Errorf("rules: stored roll header: %w", err)
	}
	var out []RollChunkInfo
	for i := range uint64(hdr.Chunks()) {
		h, ok, err := st.Get(BucketRollChunk, Key(electionID, u64(i)))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		b, ok, err := st.Get(BucketRollBounds, Key(electionID, u64(i)))
		if err != nil {
			return nil, err
		}
		const n = credential.PublicKeySize
		if !ok || len(b) != 2*n || len(h) != 32 {
			return nil, fmt.Errorf("rules: stored bounds or hash of roll chunk %d are missing or malformed", i)
		}
		out = append(out, RollChunkInfo{Index: i, First: b[:n], Last: b[n:], Hash: h})
	}
	return out, nil
}
