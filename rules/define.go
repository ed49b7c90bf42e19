package rules

import (
	"crypto/ed25519"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// defineElection: docs/spec-chain.md §3, define-election.
func (x *exec) defineElection(tx *wire.DefineElection) ([]Event, error) {
	err := x.checkOfficial(tx, func(k ed25519.PublicKey) bool {
		for _, o := range x.b.r.officials {
			if o.Equal(k) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	m, err := ballot.DecodeManifestJSON(tx.Manifest)
	if err != nil {
		return nil, reject(wire.CodeMalformed, "define-election: %v", err)
	}
	if m.ElectionID != tx.ElectionID {
		return nil, reject(wire.CodeMalformed, "define-election: manifest is for %q, transaction for %q", m.ElectionID, tx.ElectionID)
	}
	listed := false
	for _, o := range m.Officials {
		listed = listed || o.PublicKey.Equal(tx.Official)
	}
	if !listed {
		return nil, reject(wire.CodeUnauthorized, "define-election: the signing official is not listed among the election's officials")
	}
	if _, err := trustee.NewCeremony(m); err != nil {
		return nil, reject(wire.CodeMalformed, "define-election: %v", err)
	}
	if found, err := x.has(BucketElection, []byte(m.ElectionID)); err != nil {
		return nil, err
	} else if found {
		return nil, reject(wire.CodeExists, "election %q is already defined on this chain", m.ElectionID)
	}
	mh := m.Hash()
	x.st.Put(BucketManifest, []byte(m.ElectionID), m.CanonicalJSON())
	x.putRecord(m.ElectionID, &ElectionRecord{ManifestHash: mh[:], Phase: wire.PhaseCeremony, DefinedHeight: x.b.height})
	return []Event{event("election", "election", m.ElectionID, "action", "defined")}, nil
}

// open: the election opens once its key exists and its roll is complete.
func (x *exec) open(tx *wire.Open) ([]Event, error) {
	rec, _, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	switch {
	case rec.Phase == wire.PhaseCeremony:
		return nil, reject(wire.CodeWrongPhase, "open: the key ceremony of %q is not finished", tx.ElectionID)
	case rec.Phase != wire.PhaseReady:
		return nil, reject(wire.CodeWrongPhase, "open: election %q is already %s", tx.ElectionID, rec.Phase)
	case !rec.RollComplete:
		return nil, reject(wire.CodeWrongPhase, "open: the credential roll of %q is incomplete (%d chunks loaded)", tx.ElectionID, rec.RollChunks)
	}
	rec.Phase, rec.OpenedHeight = wire.PhaseOpen, x.b.height
	x.putRecord(tx.ElectionID, rec)
	return []Event{event("election", "election", tx.ElectionID, "action", rec.Phase.String())}, nil
}

// close: an open election closes.
func (x *exec) close(tx *wire.Close) ([]Event, error) {
	rec, _, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	if rec.Phase != wire.PhaseOpen {
		return nil, reject(wire.CodeWrongPhase, "close: election %q is %s, not open", tx.ElectionID, rec.Phase)
	}
	rec.Phase, rec.ClosedHeight = wire.PhaseClosed, x.b.height
	x.putRecord(tx.ElectionID, rec)
	return []Event{event("election", "election", tx.ElectionID, "action", rec.Phase.String())}, nil
}
