// Package pebblestore is the embedded store.Store backend, kept in a Pebble
// database in the node's data folder. It is the default backend: it needs
// no server.
//
// # Layout
//
// All keys live in Pebble's single ordered key space:
//
//	data:  len(bucket) || bucket || key      (len is one byte, 1 to 32)
//	meta:  0x00 || name                      (never a data key: no bucket is empty)
//
// Because a bucket name is prefixed by its length, bucket "a" key "bc" and
// bucket "ab" key "c" are different Pebble keys, and the keys of one bucket
// form one contiguous range in ascending order of the key. Two meta keys
// exist: 0x00 "format" holds the layout version (1, as a decimal string)
// and 0x00 "last-block" holds the last committed block (8-byte big-endian
// height, then the app hash).
//
// # Durability
//
// Commit writes all of a block's writes and the new last-block record in
// one Pebble batch committed with pebble.Sync: the write-ahead log is
// fsynced before Commit returns, and a batch is applied entirely or not at
// all on recovery. Reads go through Pebble's sequence numbers, which make a
// batch visible at once, and Scan reads from an iterator, which is a
// consistent snapshot.
//
// # Compatibility
//
// A store written with another layout version is refused by New.
package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble"

	"github.com/evote/evote/chain/store"
)

// Config configures a Store.
type Config struct {
	// Dir is the folder of the Pebble database; it is created if missing.
	Dir string
}

// Store is a store.Store kept in a Pebble database.
type Store struct {
	db *pebble.DB

	// commitMu serialises Commit even if a caller breaks the contract.
	commitMu sync.Mutex

	gate store.Gate // calls in progress; refuses calls after Close
}

var _ store.Store = (*Store)(nil)

// formatVersion is the version of the key layout described in the package
// documentation.
const formatVersion = "1"

var (
	metaFormat    = []byte("\x00format")
	metaLastBlock = []byte("\x00last-block")
)

// New opens the Pebble database in cfg.Dir, creating it if missing.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("pebblestore: no folder given")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", cfg.Dir, err)
	}
	db, err := pebble.Open(cfg.Dir, &pebble.Options{Logger: logger{}})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", cfg.Dir, err)
	}
	if err := checkFormat(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("pebblestore: open %s: %w", cfg.Dir, err)
	}
	s := &Store{db: db}
	return s, nil
}

// checkFormat records the layout version in a new database and refuses a
// database with another one.
func checkFormat(db *pebble.DB) error {
	v, closer, err := db.Get(metaFormat)
	switch {
	case err == nil:
		defer closer.Close()
		if string(v) != formatVersion {
			return fmt.Errorf("layout version %q, this node reads version %s", v, formatVersion)
		}
		return nil
	case !errors.Is(err, pebble.ErrNotFound):
		return err
	}
	_, closer, err = db.Get(metaLastBlock)
	switch {
	case err == nil:
		closer.Close()
		return errors.New("a last block without a layout version: not an evote store")
	case !errors.Is(err, pebble.ErrNotFound):
		return err
	}
	return db.Set(metaFormat, []byte(formatVersion), pebble.Sync)
}

// Close waits for the calls in progress and closes the database. It must not
// be called from inside a Scan callback.
func (s *Store) Close() error {
	if err := s.gate.Shut(); err != nil {
		return fmt.Errorf("pebblestore: close: %w", err)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("pebblestore: close: %w", err)
	}
	return nil
}

// dataKey returns the Pebble key of key in bucket (a valid bucket name).
func dataKey(bucket string, key []byte) []byte {
	k := make([]byte, 0, 1+len(bucket)+len(key))
	k = append(k, byte(len(bucket)))
	k = append(k, bucket...)
	return append(k, key...)
}

// prefixEnd returns the least key greater than every key that starts with
// prefix, or nil if there is none.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// shortKey formats key for an error message.
func shortKey(key []byte) string {
	if len(key) > 32 {
		return fmt.Sprintf("%x…", key[:32])
	}
	return fmt.Sprintf("%x", key)
}

// LastBlock returns the last committed block, or Block{} for an empty store.
func (s *Store) LastBlock(ctx context.Context) (store.Block, error) {
	if err := s.gate.Begin(); err != nil {
		return store.Block{}, fmt.Errorf("pebblestore: last block: %w", err)
	}
	defer s.gate.End()
	if err := ctx.Err(); err != nil {
		return store.Block{}, fmt.Errorf("pebblestore: last block: %w", err)
	}
	b, err := s.lastBlock()
	if err != nil {
		return store.Block{}, fmt.Errorf("pebblestore: last block: %w", err)
	}
	return b, nil
}

func (s *Store) lastBlock() (store.Block, error) {
	v, closer, err := s.db.Get(metaLastBlock)
	if errors.Is(err, pebble.ErrNotFound) {
		return store.Block{}, nil
	}
	if err != nil {
		return store.Block{}, err
	}
	defer closer.Close()
	if len(v) < 8 {
		return store.Block{}, fmt.Errorf("last-block record of %d bytes", len(v))
	}
	return store.Block{
		Height:  int64(binary.BigEndian.Uint64(v)),
		AppHash: bytes.Clone(v[8:]),
	}, nil
}

// Get returns a copy of the value of key in bucket, or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, bucket string, key []byte) ([]byte, error) {
	if err := s.gate.Begin(); err != nil {
		return nil, fmt.Errorf("pebblestore: get: %w", err)
	}
	defer s.gate.End()
	if err := store.CheckBucket(bucket); err != nil {
		return nil, fmt.Errorf("pebblestore: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pebblestore: get: %w", err)
	}
	v, closer, err := s.db.Get(dataKey(bucket, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("pebblestore: get %s/%s: %w", bucket, shortKey(key), store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pebblestore: get %s/%s: %w", bucket, shortKey(key), err)
	}
	defer closer.Close()
	return append([]byte{}, v...), nil
}

// Scan calls fn for each key of bucket that starts with prefix, in ascending
// order, with copies of key and value, on a snapshot of the last committed
// block. It stops at the first error of fn and returns it.
func (s *Store) Scan(ctx context.Context, bucket string, prefix []byte, fn func(key, value []byte) error) error {
	return s.ScanFrom(ctx, bucket, prefix, nil, fn)
}

// ScanFrom implements store.Store.
func (s *Store) ScanFrom(ctx context.Context, bucket string, prefix, start []byte, fn func(key, value []byte) error) (err error) {
	if err := s.gate.Begin(); err != nil {
		return fmt.Errorf("pebblestore: scan: %w", err)
	}
	defer s.gate.End()
	if err := store.CheckBucket(bucket); err != nil {
		return fmt.Errorf("pebblestore: scan: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pebblestore: scan %s: %w", bucket, err)
	}
	lower := dataKey(bucket, prefix)
	// lower never ends in 0xff bytes only: its second byte is a letter,
	// a digit, '_' or '-'. So there is always an upper bound.
	upper := prefixEnd(lower)
	if bytes.Compare(start, prefix) > 0 {
		lower = dataKey(bucket, start)
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("pebblestore: scan %s: %w", bucket, err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("pebblestore: scan %s: %w", bucket, cerr)
		}
	}()
	skip := 1 + len(bucket)
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pebblestore: scan %s: %w", bucket, err)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("pebblestore: scan %s: %w", bucket, err)
		}
		if err := fn(append([]byte{}, it.Key()[skip:]...), append([]byte{}, v...)); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("pebblestore: scan %s: %w", bucket, err)
	}
	return nil
}

// Commit applies the writes of block c and records it as the last block, in
// one synced Pebble batch.
func (s *Store) Commit(ctx context.Context, c *store.Changes) error {
	if c == nil {
		return errors.New("pebblestore: commit: nil changes")
	}
	if err := s.gate.Begin(); err != nil {
		return fmt.Errorf("pebblestore: commit block %d: %w", c.Height, err)
	}
	defer s.gate.End()
	size := 8 + len(c.AppHash) + 64
	for _, w := range c.Writes {
		if err := store.CheckBucket(w.Bucket); err != nil {
			return fmt.Errorf("pebblestore: commit block %d: %w", c.Height, err)
		}
		size += 1 + len(w.Bucket) + len(w.Key) + len(w.Value) + 16
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pebblestore: commit block %d: %w", c.Height, err)
	}

	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	last, err := s.lastBlock()
	if err != nil {
		return fmt.Errorf("pebblestore: commit block %d: %w", c.Height, err)
	}
	if c.Height > 0 && c.Height == last.Height && bytes.Equal(c.AppHash, last.AppHash) {
		return nil // a retry of the last block
	}
	if c.Height != last.Height+1 {
		return fmt.Errorf("pebblestore: commit block %d, last block is %d: %w", c.Height, last.Height, store.ErrHeight)
	}

	b := s.db.NewBatchWithSize(size)
	defer b.Close()
	for _, w := range c.Writes {
		k := dataKey(w.Bucket, w.Key)
		if w.Delete {
			err = b.Delete(k, nil)
		} else {
			err = b.Set(k, w.Value, nil)
		}
		if err != nil {
			return fmt.Errorf("pebblestore: commit block %d: %w", c.Height, err)
		}
	}
	rec := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(c.AppHash)), uint64(c.Height))
	if err := b.Set(metaLastBlock, append(rec, c.AppHash...), nil); err != nil {
		return fmt.Errorf("pebblestore: commit block %d: %w", c.Height, err)
	}
	// Last chance to give up: after this the block is written.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pebblestore: commit block %d: %w", c.Height, err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebblestore: commit block %d: %w", c.Height, err)
	}
	return nil
}

// logger sends Pebble's messages to slog. Fatalf keeps Pebble's default,
// which exits: Pebble calls it only on broken invariants.
type logger struct{}

func (logger) Infof(format string, args ...any) {
	slog.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (logger) Errorf(format string, args ...any) {
	slog.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (logger) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}
