package chain

import (
	"sync"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/crypto"
)

// ballotBatcher verifies the proofs of ballots checked at the same time
// (CheckTx runs concurrently for the transactions each peer gossips and for
// those the node's own websocket clients submit) in shared batches, which
// cost less per proof than one batch per ballot (docs/spec-chain.md §4).
//
// There is no timer: the first caller to find no batch in progress leads. It
// takes every ballot queued so far, verifies them in one batch, hands each
// caller its result, and passes the lead to a caller that queued in the
// meantime, so batches grow with the load and an idle node verifies a ballot
// at once. Each result is the one a batch of its own would give: the bisection of a
// failed batch names exactly the bad proofs, and a ballot's outcome depends
// only on its own proofs.
type ballotBatcher struct {
	mu      sync.Mutex
	queue   []*batchJob
	running bool
}

type batchJob struct {
	e    *ballot.Election
	info *ballot.CastInfo
	res  *pureResult
	wake chan bool // false: res is ready; true: lead the next batch
}

// verify checks a cast ballot's encoding, signature and proofs from its bytes
// (no point is re-encoded), batched with concurrent callers.
func (b *ballotBatcher) verify(e *ballot.Election, field []byte) *pureResult {
	info, res := inspectCast(e, field)
	if res != nil {
		return res
	}
	j := &batchJob{e: e, info: info, wake: make(chan bool, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, j)
	lead := !b.running
	b.running = true
	b.mu.Unlock()
	if !lead && !<-j.wake {
		return j.res
	}
	b.mu.Lock()
	jobs := b.queue
	b.queue = nil
	b.mu.Unlock()
	verifyBatch(jobs)
	for _, k := range jobs {
		if k != j {
			k.wake <- false
		}
	}
	b.mu.Lock()
	if len(b.queue) > 0 {
		b.queue[0].wake <- true
	} else {
		b.running = false
	}
	b.mu.Unlock()
	return j.res
}

// verifyBatch sets the result of every job from one batch verification.
func verifyBatch(jobs []*batchJob) {
	batch, err := crypto.NewBatch(nil)
	if err != nil {
		for _, j := range jobs {
			j.res = &pureResult{err: err}
		}
		return
	}
	batch.Workers = 1
	entries := make([]*ballot.BatchEntry, len(jobs))
	for i, j := range jobs {
		entry, err := j.e.AddToBatchEncoded(batch, j.info.Ballot)
		if err != nil {
			j.res = &pureResult{err: txErr(CodeMalformed, "ballot: %v", err)}
			continue
		}
		entries[i] = entry
	}
	failed := batch.Verify()
	for i, j := range jobs {
		if entries[i] == nil {
			continue
		}
		if err := entries[i].Failed(failed); err != nil {
			j.res = &pureResult{err: txErr(CodeInvalidProof, "%v", err)}
			continue
		}
		j.res = castResult(j.e, j.info, entries[i])
	}
}
