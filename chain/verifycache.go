package chain

import (
	"sync"

	"github.com/evote/evote/rules"
)

// verifyCache remembers the outcome of the pure checks of transactions
// (decoding, signatures, proofs) by a hash of the election's base hash and
// the transaction, so a ballot checked in CheckTx is not checked again when
// its block is finalised. The outcome of a pure check is the same whenever it
// is computed, so the cache never changes a result. Oldest entries are
// evicted first.
type verifyCache struct {
	mu    sync.Mutex
	max   int
	m     map[[32]byte]*rules.Verified
	order [][32]byte
}

func newVerifyCache(max int) *verifyCache {
	return &verifyCache{max: max, m: make(map[[32]byte]*rules.Verified, max)}
}

func (c *verifyCache) get(k [32]byte) (*rules.Verified, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[k]
	return r, ok
}

func (c *verifyCache) put(k [32]byte, r *rules.Verified) {
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
	if r, ok := c.m[k]; ok && r.Decoded != nil {
		r2 := *r
		r2.Decoded = nil
		c.m[k] = &r2
	}
}
