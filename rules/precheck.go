package rules

import (
	"sync"
	"unsafe"

	"github.com/evote/evote/ballot"
)

// Prechecked is a Checker for those who apply blocks they already hold (the
// verifier, the tally service): the pure checks of a block's ballots are
// run ahead, in batches (Verify), and the rules find each result by the
// transaction's bytes, the very slice they are handed again (its address:
// no ballot is hashed to find it). A ballot that was not checked ahead (its
// election got its key within the same blocks) is checked when the rules
// ask. Results are dropped once used, or by Clear.
type Prechecked struct {
	// Checked, if set, is called with every result the checker computes,
	// ahead or when asked (for statistics); it may be called concurrently.
	Checked func(e *ballot.Election, v *Verified)

	mu sync.Mutex
	m  map[*byte]*Verified
}

// Verify checks the casts of election e (raws[i] is the transaction that
// holds casts[i]) with one batch verification on workers goroutines (all
// cores if 0), and keeps the results for CheckBallot. It is safe to call
// concurrently for different ballots.
func (p *Prechecked) Verify(e *ballot.Election, raws, casts [][]byte, workers int) {
	vs := VerifyBatch(e, casts, workers)
	p.mu.Lock()
	if p.m == nil {
		p.m = map[*byte]*Verified{}
	}
	for i, v := range vs {
		p.m[unsafe.SliceData(raws[i])] = v
	}
	p.mu.Unlock()
	if p.Checked != nil {
		for _, v := range vs {
			p.Checked(e, v)
		}
	}
}

// Clear drops the results not used (of ballots the rules refused before
// their pure checks).
func (p *Prechecked) Clear() {
	p.mu.Lock()
	clear(p.m)
	p.mu.Unlock()
}

// CheckBallot implements Checker.
func (p *Prechecked) CheckBallot(e *ballot.Election, raw, cast []byte) *Verified {
	k := unsafe.SliceData(raw)
	p.mu.Lock()
	v, ok := p.m[k]
	delete(p.m, k)
	p.mu.Unlock()
	if !ok {
		v = CheckBallot(e, cast)
		if p.Checked != nil {
			p.Checked(e, v)
		}
	}
	return v
}

// CheckAudit implements Checker.
func (p *Prechecked) CheckAudit(e *ballot.Election, _, file []byte) *Verified {
	return CheckAudit(e, file)
}
