package storetest

import (
	"context"
	"errors"
	"sync"

	"github.com/evote/evote/chain/store"
)

// ErrInjected is the error a Faulty store returns for the calls it fails.
var ErrInjected = errors.New("storetest: injected I/O error")

// Faulty wraps a store and fails chosen calls with ErrInjected, as a lost
// database connection or a full disk does: the N-th Get from now, every
// Get, or the next Commits. Calls it does not fail go to the wrapped store.
type Faulty struct {
	store.Store

	mu         sync.Mutex
	gets       int // Gets since the last Reset
	failGet    int // the Get (1-based, since Reset) that fails; 0: none
	failAll    bool
	failCommit bool
	hold       chan struct{} // while non-nil, Commit waits for it to close
}

// NewFaulty wraps st.
func NewFaulty(st store.Store) *Faulty { return &Faulty{Store: st} }

// Reset counts Gets from zero and fails nothing.
func (f *Faulty) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets, f.failGet, f.failAll, f.failCommit = 0, 0, false, false
}

// FailGet makes the n-th Get after the last Reset fail (n ≥ 1).
func (f *Faulty) FailGet(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failGet = n
}

// FailGets makes every Get fail (or none, with false).
func (f *Faulty) FailGets(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAll = on
}

// FailCommits makes every Commit fail without storing anything (or none).
func (f *Faulty) FailCommits(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failCommit = on
}

// HoldCommits makes Commit wait (a disk or database that hangs) until
// ReleaseCommits.
func (f *Faulty) HoldCommits() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hold == nil {
		f.hold = make(chan struct{})
	}
}

// ReleaseCommits lets the held Commits, and later ones, go on.
func (f *Faulty) ReleaseCommits() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
}

// Gets returns the number of Gets since the last Reset.
func (f *Faulty) Gets() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets
}

// Get fails with ErrInjected when told to, else reads the wrapped store.
func (f *Faulty) Get(ctx context.Context, bucket string, key []byte) ([]byte, error) {
	f.mu.Lock()
	f.gets++
	fail := f.failAll || f.gets == f.failGet
	f.mu.Unlock()
	if fail {
		return nil, ErrInjected
	}
	return f.Store.Get(ctx, bucket, key)
}

// Commit fails with ErrInjected when told to, else commits to the wrapped
// store.
func (f *Faulty) Commit(ctx context.Context, c *store.Changes) error {
	f.mu.Lock()
	fail, hold := f.failCommit, f.hold
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail {
		return ErrInjected
	}
	return f.Store.Commit(ctx, c)
}
