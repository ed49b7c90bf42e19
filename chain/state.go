package chain

import (
	"context"
	"errors"

	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/rules"
)

// Buckets of the application state are those of the rules
// (docs/spec-chain.md §6).
const (
	bucketMeta     = rules.BucketMeta
	bucketElection = rules.BucketElection
)

// overlay buffers one block's writes on top of the committed store, so that
// nothing reaches the store before Commit and a crash in between loses the
// block cleanly (CometBFT replays it).
type overlay struct {
	st     store.Store
	parent *overlay // reads fall through to it before the store
	writes []store.Write
	index  map[string]int // bucket ‖ 0 ‖ key → position in writes
	// committedView marks CheckTx's overlays: reads of the last committed
	// state only, which may use caches keyed by the committed height.
	committedView bool
	// pre holds the values read ahead of the block's execution (prefetch),
	// in the root overlay only; reads find them before the store.
	pre map[string]prefetched
	// fault is the first failure of the store under this overlay (shared by
	// an overlay and its children). Once set, the block being executed has
	// no defined outcome on this node and must not be committed, whatever a
	// transaction's code did with the error.
	fault *storageFault
}

// storageFault records the first read of an execution that failed.
type storageFault struct{ err *StorageError }

// indexKey is the key of a write in an overlay's index: bucket ‖ 0 ‖ key.
func indexKey(bucket string, k []byte) string { return bucket + "\x00" + string(k) }

func newOverlay(st store.Store) *overlay {
	return &overlay{st: st, index: map[string]int{}, fault: &storageFault{}}
}

// child returns an overlay on top of o whose writes reach o only through
// merge: one transaction's changes, dropped whole if it is rejected.
func (o *overlay) child() *overlay {
	return &overlay{st: o.st, parent: o, index: map[string]int{}, fault: o.fault}
}

// read reads the store under the overlay. A failure other than
// store.ErrNotFound is a StorageError, and is remembered: an absent key and a
// key that could not be read must never be confused.
func (o *overlay) read(ctx context.Context, bucket string, k []byte) ([]byte, error) {
	if v, found, ok := o.readAhead(bucket, k); ok {
		if !found {
			return nil, store.ErrNotFound
		}
		return v, nil
	}
	v, err := o.st.Get(ctx, bucket, k)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		se := &StorageError{Op: "read " + bucket, Err: err}
		if o.fault.err == nil {
			o.fault.err = se
		}
		return nil, se
	}
	return v, err
}

// failed returns the first storage failure of the overlay's execution.
func (o *overlay) failed() error {
	if o.fault.err == nil {
		return nil
	}
	return o.fault.err
}

// merge applies a child's writes to o, in order.
func (o *overlay) merge(c *overlay) {
	for _, w := range c.writes {
		ik := indexKey(w.Bucket, w.Key)
		if i, ok := o.index[ik]; ok {
			o.writes[i] = w
			continue
		}
		o.index[ik] = len(o.writes)
		o.writes = append(o.writes, w)
	}
}

func (o *overlay) get(ctx context.Context, bucket string, k []byte) ([]byte, error) {
	if i, ok := o.index[indexKey(bucket, k)]; ok {
		if o.writes[i].Delete {
			return nil, store.ErrNotFound
		}
		return o.writes[i].Value, nil
	}
	if o.parent != nil {
		return o.parent.get(ctx, bucket, k)
	}
	return o.read(ctx, bucket, k)
}

// written reports whether o or one of its parents holds a write (or a
// deletion) of the key, that is, whether get would not read the store.
func (o *overlay) written(bucket string, k []byte) bool {
	for ; o != nil; o = o.parent {
		if _, ok := o.index[indexKey(bucket, k)]; ok {
			return true
		}
	}
	return false
}

func (o *overlay) put(bucket string, k, v []byte) {
	ik := indexKey(bucket, k)
	if i, ok := o.index[ik]; ok {
		o.writes[i] = store.Write{Bucket: bucket, Key: k, Value: v}
		return
	}
	o.index[ik] = len(o.writes)
	o.writes = append(o.writes, store.Write{Bucket: bucket, Key: k, Value: v})
}

// changes returns the overlay's writes as the rules hash them.
func (o *overlay) changes() []rules.Write {
	out := make([]rules.Write, len(o.writes))
	for i, w := range o.writes {
		out[i] = rules.Write{Bucket: w.Bucket, Key: w.Key, Value: w.Value, Delete: w.Delete}
	}
	return out
}

// view is the overlay as the rules' State, read under ctx.
type view struct {
	ctx context.Context
	o   *overlay
}

// Get implements rules.State: absent is (nil, false, nil), any other
// failure of the store a *StorageError.
func (v view) Get(bucket string, k []byte) ([]byte, bool, error) {
	b, err := v.o.get(v.ctx, bucket, k)
	switch {
	case err == nil:
		return b, true, nil
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	}
	return nil, false, err
}

// Put implements rules.State.
func (v view) Put(bucket string, k, val []byte) { v.o.put(bucket, k, val) }
