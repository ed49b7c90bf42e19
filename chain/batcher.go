package chain

import (
	"runtime"
	"sync"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/rules"
)

// ballotBatcher verifies the proofs of ballots checked at the same time
// (CheckTx runs concurrently for the transactions each peer gossips and for
// those the node's own websocket clients submit) in shared batches, which
// cost less per proof than one batch per ballot (docs/spec-chain.md §4).
//
// The first caller to find no batch in progress leads. If the node is busy
// (in the last second, a ballot came while another was being verified), it
// lets the batch gather until it holds batchFull ballots
// or its oldest ballot has waited batchWindow. It takes every ballot queued
// by then, verifies them in one batch, hands each caller its result, and
// passes the lead to a caller that queued in the meantime. Under load,
// batches are large enough for Pippenger's method (a ballot of ten
// selections gives about 70 terms; below 192 terms the multi-scalar
// multiplication costs about twice as much per term, BenchmarkMSM); an idle
// node, or one caller checking ballots one after the other, verifies each
// ballot at once. Each result is the one a batch of its own would give: the
// bisection of a failed batch names exactly the bad proofs, and a ballot's
// outcome depends only on its own proofs.
type ballotBatcher struct {
	mu      sync.Mutex
	queue   []*batchJob
	running bool
	busy    time.Time     // until when the node counts as busy
	full    chan struct{} // closed when the gathering batch is full
}

const (
	// batchWindow bounds how long a ballot waits for others to join its
	// batch (CheckTx only; FinalizeBlock verifies a block's uncached
	// ballots at once).
	batchWindow = 50 * time.Millisecond
	// batchFull is the number of ballots at which a batch stops gathering.
	batchFull = 32
	// busyFor is how long a node counts as busy after a ballot came while
	// another was being verified.
	busyFor = time.Second
)

type batchJob struct {
	e       *ballot.Election
	info    *ballot.CastInfo
	res     *rules.Verified
	arrived time.Time
	wake    chan bool // false: res is ready; true: lead the next batch
}

// verify checks a cast ballot's encoding, signature and proofs from its bytes
// (no point is re-encoded), batched with concurrent callers.
func (b *ballotBatcher) verify(e *ballot.Election, cast []byte) *rules.Verified {
	info, v := rules.InspectCast(e, cast)
	if v != nil {
		return v // malformed or badly signed: no proof to batch
	}
	j := &batchJob{e: e, info: info, arrived: time.Now(), wake: make(chan bool, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, j)
	if b.full != nil && len(b.queue) >= batchFull {
		close(b.full)
		b.full = nil
	}
	lead := !b.running
	if !lead {
		b.busy = j.arrived.Add(busyFor)
	}
	b.running = true
	b.mu.Unlock()
	if !lead && !<-j.wake {
		return j.res
	}
	jobs := b.gather()
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

// gather takes the queue. It first yields, so that callers ready to run
// join (a node's process may have a single core, where they would otherwise
// run only after this batch); when the node is busy it then waits until the
// queue holds batchFull ballots or its oldest ballot has waited batchWindow.
func (b *ballotBatcher) gather() []*batchJob {
	runtime.Gosched()
	b.mu.Lock()
	if wait := time.Until(b.queue[0].arrived.Add(batchWindow)); time.Now().Before(b.busy) && wait > 0 && len(b.queue) < batchFull {
		full := make(chan struct{})
		b.full = full
		b.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-full:
		case <-timer.C:
		}
		timer.Stop()
		b.mu.Lock()
		b.full = nil
	}
	jobs := b.queue
	b.queue = nil
	b.mu.Unlock()
	return jobs
}

// verifyBatch sets the result of every job, with one batch verification
// per election.
func verifyBatch(jobs []*batchJob) {
	for len(jobs) > 0 {
		e := jobs[0].e
		var same, rest []*batchJob
		for _, j := range jobs {
			if j.e == e {
				same = append(same, j)
			} else {
				rest = append(rest, j)
			}
		}
		infos := make([]*ballot.CastInfo, len(same))
		for i, j := range same {
			infos[i] = j.info
		}
		for i, v := range rules.VerifyInspected(e, infos, 1) {
			same[i].res = v
		}
		jobs = rest
	}
}
