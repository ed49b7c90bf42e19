package chain

import (
	"runtime"
	"sync"
	"time"

	"github.com/evote/evote/ballot"
)

// backgroundVerifier verifies the proofs of the ballots CheckTx admitted
// unverified (those a peer gossiped) while the node waits for their block,
// and puts the outcome in the cache, so that FinalizeBlock finds most of a
// block's ballots verified already: admission stays cheap (gossip is not
// held up by proofs) and the proofs are not on the path of consensus either.
// It changes no outcome: a pure check gives the same result whenever it is
// computed, and FinalizeBlock verifies itself every ballot of its block it
// finds neither cached nor being verified (claim).
//
// Work and memory are bounded: at most maxQueued ballots wait (more are left
// to their block), and one goroutine runs, only while there is work.
type backgroundVerifier struct {
	cache *verifyCache

	mu       sync.Mutex
	queue    []*bgJob
	queued   map[[32]byte]*bgJob // waiting, not claimed
	inflight map[[32]byte]chan struct{}
	running  bool
}

type bgJob struct {
	key [32]byte
	batchJob
}

const (
	// bgMaxQueued bounds the ballots waiting for background verification.
	bgMaxQueued = 20_000
	// bgBatch is the largest background batch (about 70 multi-scalar
	// multiplication terms a ten-selection ballot: Pippenger's range).
	bgBatch = 64
	// bgGather is how long the worker lets a small batch fill.
	bgGather = 20 * time.Millisecond
)

func newBackgroundVerifier(c *verifyCache) *backgroundVerifier {
	return &backgroundVerifier{cache: c, queued: map[[32]byte]*bgJob{}, inflight: map[[32]byte]chan struct{}{}}
}

// add queues an admitted ballot whose encoding and signature were checked
// (info) for the verification of its proofs; the caller found no verdict
// for it in the cache.
func (v *backgroundVerifier) add(key [32]byte, e *ballot.Election, info *ballot.CastInfo) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.queued[key]; ok {
		return
	}
	if _, ok := v.inflight[key]; ok || len(v.queued) >= bgMaxQueued {
		return
	}
	j := &bgJob{key: key, batchJob: batchJob{e: e, info: info, arrived: time.Now()}}
	v.queue = append(v.queue, j)
	v.queued[key] = j
	if !v.running {
		v.running = true
		go v.run()
	}
}

// claim takes keys out of the queue for a caller that will verify them
// itself, and returns a channel to wait on for each key a background batch
// is verifying now (its result is in the cache once the channel is closed).
func (v *backgroundVerifier) claim(keys [][32]byte) []chan struct{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	var wait []chan struct{}
	for _, k := range keys {
		delete(v.queued, k)
		if ch, ok := v.inflight[k]; ok {
			wait = append(wait, ch) // one batch's channel may come more than once
		}
	}
	return wait
}

func (v *backgroundVerifier) run() {
	for {
		runtime.Gosched()
		v.mu.Lock()
		if len(v.queued) == 0 {
			v.queue = nil // what is left was claimed
			v.running = false
			v.mu.Unlock()
			return
		}
		if len(v.queued) < bgBatch {
			if wait := time.Until(v.queue[0].arrived.Add(bgGather)); wait > 0 {
				v.mu.Unlock()
				time.Sleep(wait)
				v.mu.Lock()
			}
		}
		var jobs []*batchJob
		var keys [][32]byte
		rest := v.queue[:0]
		for _, j := range v.queue {
			if v.queued[j.key] != j {
				continue // claimed, or queued again since
			}
			if len(jobs) < bgBatch {
				jobs, keys = append(jobs, &j.batchJob), append(keys, j.key)
				delete(v.queued, j.key)
			} else {
				rest = append(rest, j)
			}
		}
		for i := len(rest); i < len(v.queue); i++ {
			v.queue[i] = nil
		}
		v.queue = rest
		done := make(chan struct{})
		for _, k := range keys {
			v.inflight[k] = done
		}
		v.mu.Unlock()

		verifyBatch(jobs)
		for i, j := range jobs {
			v.cache.put(keys[i], j.res)
		}
		v.mu.Lock()
		for _, k := range keys {
			delete(v.inflight, k)
		}
		v.mu.Unlock()
		close(done)
	}
}
