package chain

import (
	"sync"

	"github.com/evote/evote/crypto"
)

// pureResult is the outcome of the checks of a ballot or audit transaction
// that depend on nothing but its bytes and the election: its error, or the
// ballot's hash and credential.
type pureResult struct {
	err        error
	hash       [32]byte
	credential []byte
	style      string
	cts        []byte              // the ballot's selection ciphertexts (CiphertextBytes)
	decoded    []crypto.Ciphertext // the same, decoded, when verification decoded them
}

// verifyCache remembers the outcome of the pure checks of transactions
// (decoding, signatures, proofs) by a hash of the election's base hash and
// the transaction, so a ballot checked in CheckTx is not checked again when
// its block is finalised. The outcome of a pure check is the same whenever it
// is computed, so the cache never changes a result. Oldest entries are
// evicted first.
type verifyCache struct {
	mu    sync.Mutex
	max   int
	m     map[[32]byte]*pureResult
	order [][32]byte
}

func newVerifyCache(max int) *verifyCache {
	return &verifyCache{max: max, m: make(map[[32]byte]*pureResult, max)}
}

func (c *verifyCache) get(k [32]byte) (*pureResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[k]
	return r, ok
}

func (c *verifyCache) put(k [32]byte, r *pureResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[k] = r
	c.order = append(c.order, k)
}

// forgetDecoded drops the decoded ciphertexts of k's result once its block
// has used them, so that the cache holds bytes only. The result is replaced,
// not changed: others may be reading it.
func (c *verifyCache) forgetDecoded(k [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.m[k]; ok && r.decoded != nil {
		r2 := *r
		r2.decoded = nil
		c.m[k] = &r2
	}
}
