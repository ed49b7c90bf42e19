// Package store defines the interface behind which an authority node keeps
// its application state, and the errors its backends return.
//
// The state is an ordered key-value map split into named buckets. It changes
// only block by block: Commit applies all writes of one block and records the
// block's height and app hash in one atomic step, so that a node that crashes
// at any moment restarts with the state of its last committed block, which
// CometBFT then replays from.
//
// Backends: package pebblestore (embedded, the default) and package pgstore
// (PostgreSQL through pgx). Both pass the conformance suite in package
// storetest, which every backend runs from its own tests.
package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
)

// Errors returned by every backend. Callers branch on them with errors.Is.
var (
	// ErrNotFound is returned by Get when the key is absent.
	ErrNotFound = errors.New("store: not found")
	// ErrHeight is returned by Commit for a height that is not the next one
	// (or the last one again with a different app hash).
	ErrHeight = errors.New("store: block height out of order")
	// ErrBucket is returned for a bucket name that is not 1 to 32 characters
	// of a-z, 0-9, '_' and '-'.
	ErrBucket = errors.New("store: invalid bucket name")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("store: closed")
)

// Block identifies a committed block of the application.
type Block struct {
	Height  int64
	AppHash []byte
}

// Write is one change of a block: Value stored under Key in Bucket, or the
// key removed when Delete is set.
type Write struct {
	Bucket string
	Key    []byte
	Value  []byte
	Delete bool
}

// Changes are all writes of one block, in order (a later write to the same
// key wins), with the block's height and app hash.
type Changes struct {
	Height  int64
	AppHash []byte
	Writes  []Write
}

// Store is the application state of an authority node.
//
// Contract, checked by storetest:
//   - LastBlock of an empty store is Block{} (height 0, nil app hash).
//   - Get returns a copy of the value, or ErrNotFound; an empty value is
//     distinct from an absent key.
//   - Scan calls fn for each key of bucket that starts with prefix, in
//     ascending byte order of keys, with copies of key and value; it stops at
//     the first error fn returns and returns that error. Reads see the state
//     of the last committed block (never a partial block).
//   - Commit is atomic: either every write and the new Block are stored, or
//     nothing is. Its height must be LastBlock().Height+1; committing the
//     last height again with the same app hash is a no-op that returns nil
//     (so a caller may retry a Commit whose outcome it did not learn); any
//     other height returns ErrHeight. Once Commit returns nil the block
//     survives a crash of the process or of the machine.
//   - All methods are safe for concurrent use; Commit calls are serialised
//     by the caller (one block at a time).
type Store interface {
	LastBlock(ctx context.Context) (Block, error)
	Get(ctx context.Context, bucket string, key []byte) ([]byte, error)
	Scan(ctx context.Context, bucket string, prefix []byte, fn func(key, value []byte) error) error
	// ScanFrom is Scan from the key start on: the keys with the prefix that
	// are not before start, in order (all of them if start is nil). It lets a
	// reader page through a bucket without reading what it has seen.
	ScanFrom(ctx context.Context, bucket string, prefix, start []byte, fn func(key, value []byte) error) error
	Commit(ctx context.Context, c *Changes) error
	Close() error
}

// Key names one key of a bucket.
type Key struct {
	Bucket string
	Key    []byte
}

// MultiGetter is a Store that reads many keys in one request: a backend
// across the network (pgstore) implements it so that a block's reads, known
// in advance, cost one round trip instead of one each. GetMany returns one
// value per key, in order: nil for an absent key, a non-nil (possibly
// empty) copy otherwise. It reads the state of the last committed block.
type MultiGetter interface {
	GetMany(ctx context.Context, keys []Key) ([][]byte, error)
}

var bucketName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// CheckBucket returns ErrBucket (naming the bucket) unless name is valid.
func CheckBucket(name string) error {
	if !bucketName.MatchString(name) {
		return fmt.Errorf("%w: %q", ErrBucket, name)
	}
	return nil
}
