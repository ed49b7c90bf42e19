package rules

import (
	"errors"
	"fmt"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/wire"
)

// Scanner reads a bucket of the state in key order: the keys with a prefix
// that are not before start (all of them for a nil start), until fn returns
// an error, which it returns.
type Scanner interface {
	ScanFrom(bucket string, prefix, start []byte, fn func(key, value []byte) error) error
}

// Ballot board statuses.
const (
	StatusCounted  = "counted"  // the credential's last ballot: it counts
	StatusReplaced = "replaced" // a later ballot of the same credential replaced it
	StatusAudited  = "audited"  // spoiled by its voter: never counted
)

// BoardEntry is one ballot of an election's public ballot board.
type BoardEntry struct {
	TrackingCode string `json:"tracking_code"`
	Status       string `json:"status"`
	Height       int64  `json:"height"`
	Index        int    `json:"index"`
	// ReplacedBy is the tracking code of the ballot that replaced it.
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// BoardPage is one page of the ballot board: entries in tracking-code
// order, and Next, the tracking code to ask for the next page after, empty
// on the last page.
type BoardPage struct {
	Entries []BoardEntry `json:"ballots"`
	Next    string       `json:"next,omitempty"`
}

// MaxBoardPage is the largest page of the ballot board.
const MaxBoardPage = 500

var errPageFull = errors.New("page full")

// Board returns a page of the ballot board of an election: every ballot
// cast or audited on the chain, in tracking-code order, with its status.
// query, if not empty, is the start of a tracking code (as
// ballot.NormalizeTrackingPrefix reads it) and keeps the ballots whose code
// starts so; after, if not empty, is the tracking code the page starts
// after (a page's Next). limit is at most MaxBoardPage. The work is that of
// the page: the scan starts at after.
func Board(st State, sc Scanner, electionID, query, after string, limit int) (*BoardPage, error) {
	if limit < 1 || limit > MaxBoardPage {
		return nil, reject(wire.CodeMalformed, "ballot board: a page holds 1 to %d ballots, not %d", MaxBoardPage, limit)
	}
	q, err := ballot.NormalizeTrackingPrefix(query)
	if err != nil {
		return nil, reject(wire.CodeMalformed, "ballot board: %v", err)
	}
	prefix := Key(electionID, []byte(q))
	var start []byte
	if after != "" {
		a, err := ballot.NormalizeTrackingCode(after)
		if err != nil {
			return nil, reject(wire.CodeMalformed, "ballot board: after: %v", err)
		}
		start = append(Key(electionID, []byte(a)), 0) // the first key after a
	}
	page := &BoardPage{Entries: []BoardEntry{}}
	var readErr error
	err = sc.ScanFrom(BucketTracking, prefix, start, func(k, hash []byte) error {
		code := string(k[len(electionID)+1:])
		if len(page.Entries) == limit {
			page.Next = page.Entries[limit-1].TrackingCode
			return errPageFull
		}
		e, err := boardEntry(st, electionID, code, hash)
		if err != nil {
			readErr = err
			return err
		}
		page.Entries = append(page.Entries, e)
		return nil
	})
	switch {
	case readErr != nil:
		return nil, readErr
	case err != nil && !errors.Is(err, errPageFull):
		return nil, err
	}
	return page, nil
}

// boardEntry reads the record of the ballot with the given hash, cast or
// audited.
func boardEntry(st State, electionID, code string, hash []byte) (BoardEntry, error) {
	if raw, ok, err := st.Get(BucketBallot, Key(electionID, hash)); err != nil {
		return BoardEntry{}, err
	} else if ok {
		b, err := DecodeBallotRecord(raw)
		if err != nil {
			return BoardEntry{}, err
		}
		e := BoardEntry{TrackingCode: code, Status: StatusCounted, Height: b.Height, Index: b.Index}
		if b.ReplacedBy != nil {
			if len(b.ReplacedBy) != 32 {
				return BoardEntry{}, fmt.Errorf("rules: ballot %s: replaced_by of %d bytes", code, len(b.ReplacedBy))
			}
			e.Status, e.ReplacedBy = StatusReplaced, ballot.TrackingCode([32]byte(b.ReplacedBy))
		}
		return e, nil
	}
	raw, ok, err := st.Get(BucketAudited, Key(electionID, hash))
	if err != nil {
		return BoardEntry{}, err
	}
	if !ok {
		return BoardEntry{}, fmt.Errorf("rules: tracking code %s names ballot %x, which has no record", code, hash)
	}
	a, err := DecodeAuditRecord(raw)
	if err != nil {
		return BoardEntry{}, err
	}
	return BoardEntry{TrackingCode: code, Status: StatusAudited, Height: a.Height, Index: a.Index}, nil
}
