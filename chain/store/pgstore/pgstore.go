// Package pgstore is the PostgreSQL store.Store backend, through pgx and a
// connection pool, selected by a connection URL.
//
// # Layout
//
// All tables live in one schema (Config.Schema, "evote" by default), which
// New creates if missing:
//
//	schema_migrations(version integer primary key, applied_at timestamptz)
//	kv(bucket text, key bytea, value bytea not null, primary key (bucket, key))
//	last_block(id boolean primary key, height bigint, app_hash bytea)  -- one row
//
// The primary key of kv is the index every read uses: Get is one equality
// look-up, and Scan of a prefix is the range key >= prefix and key < the
// prefix's successor, in bytea order, which is ascending byte order.
//
// # Migrations
//
// New brings the schema to the version this package knows, inside one
// transaction that first takes pg_advisory_xact_lock on a key derived from
// the schema name, so that nodes starting together migrate one at a time.
// Each migration applied is recorded in schema_migrations. A schema at a
// newer version than this package knows is refused: an older node must not
// write to it.
//
// # Durability and isolation
//
// Commit runs one transaction per block: it locks the last_block row, checks
// the height, applies the block's final writes in a few statements (arrays
// bound as parameters and unnested, so 10,000 writes cost a handful of round
// trips), updates last_block and commits with synchronous_commit on. A
// transaction that does not commit (an error, a cancelled context, a killed
// node or a lost connection) leaves nothing behind. Scan runs in a read-only
// REPEATABLE READ transaction, so one Scan sees one committed block.
// Durability after a machine crash is PostgreSQL's: it needs fsync on (the
// default) on the server.
package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evote/evote/chain/store"
)

// Config configures a Store.
type Config struct {
	// URL is a PostgreSQL connection string, as a URL
	// (postgres://user@host:5432/db?sslmode=verify-full) or key=value pairs.
	URL string
	// Schema holds the store's tables; "evote" if empty.
	Schema string
	// RetryFor is how long a call that failed for a transient reason (a
	// lost connection, a restarting server) is retried, on another
	// connection, before its error is returned; DefaultRetryFor if zero,
	// no retry if negative.
	RetryFor time.Duration
}

// DefaultSchema is the schema used when Config.Schema is empty.
const DefaultSchema = "evote"

// Store is a store.Store kept in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	sql  queries

	// beforeCommit, if set, runs after a block's statements and before its
	// COMMIT, with the Commit's context. Tests only.
	beforeCommit func(ctx context.Context)

	// commitMu serialises Commit within this process even if a caller
	// breaks the contract; across processes the row lock on last_block does.
	commitMu sync.Mutex

	gate store.Gate // calls in progress; refuses calls after Close

	retryFor time.Duration // see Config.RetryFor
	retries  atomic.Int64  // calls retried after a transient failure
}

var _ store.Store = (*Store)(nil)

// migrations[i] brings the schema from version i to version i+1. %[1]s is
// the quoted schema name. Never edit a released migration: add one.
var migrations = []string{
	// 1: the key-value table and the last block.
	`CREATE TABLE %[1]s.kv (
		bucket text COLLATE "C" NOT NULL CHECK (bucket ~ '^[a-z0-9_-]{1,32}$'),
		key bytea NOT NULL,
		value bytea NOT NULL,
		PRIMARY KEY (bucket, key)
	);
	CREATE TABLE %[1]s.last_block (
		id boolean PRIMARY KEY DEFAULT true CHECK (id),
		height bigint NOT NULL CHECK (height >= 0),
		app_hash bytea NOT NULL
	);
	INSERT INTO %[1]s.last_block (id, height, app_hash) VALUES (true, 0, '');`,
}

// queries are the statements of a Store, with its schema quoted in.
type queries struct {
	lastBlock, lastBlockForUpdate, setLastBlock string
	get, getMany, scan, scanToEnd               string
	upsert, delete                              string
}

func newQueries(schema string) queries {
	kv := pgx.Identifier{schema, "kv"}.Sanitize()
	lb := pgx.Identifier{schema, "last_block"}.Sanitize()
	return queries{
		lastBlock:          `SELECT height, app_hash FROM ` + lb,
		lastBlockForUpdate: `SELECT height, app_hash FROM ` + lb + ` FOR UPDATE`,
		setLastBlock:       `UPDATE ` + lb + ` SET height = $1, app_hash = $2`,
		get:                `SELECT value FROM ` + kv + ` WHERE bucket = $1 AND key = $2`,
		getMany: `SELECT k.i, t.value FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS k(bucket, key, i)
			JOIN ` + kv + ` AS t ON t.bucket = k.bucket AND t.key = k.key`,
		scan:      `SELECT key, value FROM ` + kv + ` WHERE bucket = $1 AND key >= $2 AND key < $3 ORDER BY key`,
		scanToEnd: `SELECT key, value FROM ` + kv + ` WHERE bucket = $1 AND key >= $2 ORDER BY key`,
		upsert: `INSERT INTO ` + kv + ` (bucket, key, value)
			SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[])
			ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value`,
		delete: `DELETE FROM ` + kv + ` AS t USING unnest($1::text[], $2::bytea[]) AS d(bucket, key)
			WHERE t.bucket = d.bucket AND t.key = d.key`,
	}
}

// New connects to the database at cfg.URL and brings the schema up to date.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL == "" {
		return nil, errors.New("pgstore: no database URL")
	}
	schema := cfg.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	if len(schema) > 63 {
		return nil, fmt.Errorf("pgstore: schema name %q is longer than 63 bytes", schema)
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// The error of ParseConfig does not repeat the URL's password.
		return nil, fmt.Errorf("pgstore: database URL: %w", err)
	}
	// A commit must be durable when it returns, whatever the server's
	// default is.
	pc.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	if pc.ConnConfig.RuntimeParams["application_name"] == "" {
		// Names the node's connections in pg_stat_activity.
		pc.ConnConfig.RuntimeParams["application_name"] = ApplicationName(schema)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: connect to %s:%d: %w", pc.ConnConfig.Host, pc.ConnConfig.Port, err)
	}
	if err := migrate(ctx, pool, schema); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, sql: newQueries(schema), retryFor: cfg.RetryFor}
	if s.retryFor == 0 {
		s.retryFor = DefaultRetryFor
	}
	return s, nil
}

// ApplicationName is the application_name of a store's connections (unless
// the URL sets one): "evote " and the schema, at most 63 bytes.
func ApplicationName(schema string) string {
	n := "evote " + schema
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}

// lockKey is the advisory lock that serialises migrations of schema.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/evote/evote/chain/store/pgstore\x00"))
	h.Write([]byte(schema))
	return int64(h.Sum64())
}

// migrate brings schema to the latest version in one transaction.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	wrap := func(err error) error {
		return fmt.Errorf("pgstore: migrate schema %q: %w", schema, err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(schema)); err != nil {
		return wrap(err)
	}
	q := pgx.Identifier{schema}.Sanitize()
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		return wrap(err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+q); err != nil {
			return wrap(err)
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+q+`.schema_migrations (
		version integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return wrap(err)
	}
	var version int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+q+`.schema_migrations`).Scan(&version); err != nil {
		return wrap(err)
	}
	if version > len(migrations) {
		return fmt.Errorf("pgstore: schema %q is at version %d, newer than version %d that this node knows: run a newer evote", schema, version, len(migrations))
	}
	for v := version + 1; v <= len(migrations); v++ {
		if _, err := tx.Exec(ctx, fmt.Sprintf(migrations[v-1], q)); err != nil {
			return fmt.Errorf("pgstore: migrate schema %q to version %d: %w", schema, v, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+q+`.schema_migrations (version) VALUES ($1)`, v); err != nil {
			return fmt.Errorf("pgstore: migrate schema %q to version %d: %w", schema, v, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(err)
	}
	return nil
}

// Close waits for the calls in progress and closes the connection pool. It
// must not be called from inside a Scan callback.
func (s *Store) Close() error {
	if err := s.gate.Shut(); err != nil {
		return fmt.Errorf("pgstore: close: %w", err)
	}
	s.pool.Close()
	return nil
}

// nonNil turns a nil slice into an empty one: pgx sends nil as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
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
		return store.Block{}, fmt.Errorf("pgstore: last block: %w", err)
	}
	defer s.gate.End()
	var b store.Block
	err := s.retry(ctx, func() (err error) {
		b, err = scanBlock(s.pool.QueryRow(ctx, s.sql.lastBlock))
		return err
	})
	if err != nil {
		return store.Block{}, fmt.Errorf("pgstore: last block: %w", err)
	}
	return b, nil
}

func scanBlock(row pgx.Row) (store.Block, error) {
	var b store.Block
	if err := row.Scan(&b.Height, &b.AppHash); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return store.Block{}, errors.New("the last_block table is empty")
		}
		return store.Block{}, err
	}
	if b.Height == 0 {
		return store.Block{}, nil
	}
	return b, nil
}

// Get returns a copy of the value of key in bucket, or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, bucket string, key []byte) ([]byte, error) {
	if err := s.gate.Begin(); err != nil {
		return nil, fmt.Errorf("pgstore: get: %w", err)
	}
	defer s.gate.End()
	if err := store.CheckBucket(bucket); err != nil {
		return nil, fmt.Errorf("pgstore: get: %w", err)
	}
	var v []byte
	err := s.retry(ctx, func() error { return s.pool.QueryRow(ctx, s.sql.get, bucket, nonNil(key)).Scan(&v) })
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: get %s/%s: %w", bucket, shortKey(key), store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get %s/%s: %w", bucket, shortKey(key), err)
	}
	return nonNil(v), nil
}

// MaxGetMany bounds the keys of one GetMany; callers split larger reads.
const MaxGetMany = 1 << 16

var _ store.MultiGetter = (*Store)(nil)

// GetMany implements store.MultiGetter with one query.
func (s *Store) GetMany(ctx context.Context, keys []store.Key) ([][]byte, error) {
	if err := s.gate.Begin(); err != nil {
		return nil, fmt.Errorf("pgstore: get many: %w", err)
	}
	defer s.gate.End()
	if len(keys) > MaxGetMany {
		return nil, fmt.Errorf("pgstore: get many: %d keys, more than %d", len(keys), MaxGetMany)
	}
	buckets := make([]string, len(keys))
	ks := make([][]byte, len(keys))
	for i, k := range keys {
		if err := store.CheckBucket(k.Bucket); err != nil {
			return nil, fmt.Errorf("pgstore: get many: %w", err)
		}
		buckets[i], ks[i] = k.Bucket, nonNil(k.Key)
	}
	out := make([][]byte, len(keys))
	err := s.retry(ctx, func() error {
		clear(out)
		rows, err := s.pool.Query(ctx, s.sql.getMany, buckets, ks)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var i int64
			var v []byte
			if err := rows.Scan(&i, &v); err != nil {
				return err
			}
			if i < 1 || i > int64(len(out)) {
				return fmt.Errorf("row %d of %d keys", i, len(out))
			}
			out[i-1] = nonNil(v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: get many (%d keys): %w", len(keys), err)
	}
	return out, nil
}

// Scan calls fn for each key of bucket that starts with prefix, in ascending
// order, with copies of key and value, in one REPEATABLE READ transaction.
// It stops at the first error of fn and returns it.
func (s *Store) Scan(ctx context.Context, bucket string, prefix []byte, fn func(key, value []byte) error) error {
	return s.ScanFrom(ctx, bucket, prefix, nil, fn)
}

// ScanFrom implements store.Store.
func (s *Store) ScanFrom(ctx context.Context, bucket string, prefix, start []byte, fn func(key, value []byte) error) error {
	if err := s.gate.Begin(); err != nil {
		return fmt.Errorf("pgstore: scan: %w", err)
	}
	defer s.gate.End()
	if err := store.CheckBucket(bucket); err != nil {
		return fmt.Errorf("pgstore: scan: %w", err)
	}
	wrap := func(err error) error { return fmt.Errorf("pgstore: scan %s: %w", bucket, err) }
	// A scan is retried only while fn has seen nothing: fn must see every
	// key once.
	called := false
	var fnErr error
	err := s.retry(ctx, func() error {
		if called {
			return nil
		}
		return s.scanOnce(ctx, bucket, prefix, start, func(k, v []byte) error {
			called = true
			if err := fn(k, v); err != nil {
				fnErr = err
				return err
			}
			return nil
		})
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return wrap(err)
	}
	return nil
}

// scanOnce is one attempt of Scan.
func (s *Store) scanOnce(ctx context.Context, bucket string, prefix, start []byte, fn func(key, value []byte) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var rows pgx.Rows
	lower := prefix
	if bytes.Compare(start, prefix) > 0 {
		lower = start
	}
	if end := prefixEnd(prefix); end != nil {
		rows, err = tx.Query(ctx, s.sql.scan, bucket, nonNil(lower), end)
	} else {
		rows, err = tx.Query(ctx, s.sql.scanToEnd, bucket, nonNil(lower))
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		if err := fn(nonNil(k), nonNil(v)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// maxChunkBytes and maxChunkRows bound one statement of a Commit: a bytea[]
// parameter must stay well below PostgreSQL's 1 GB limit on one value.
const (
	maxChunkBytes = 64 << 20
	maxChunkRows  = 20000
)

// Commit applies the writes of block c and records it as the last block, in
// one transaction.
func (s *Store) Commit(ctx context.Context, c *store.Changes) error {
	if c == nil {
		return errors.New("pgstore: commit: nil changes")
	}
	if err := s.gate.Begin(); err != nil {
		return fmt.Errorf("pgstore: commit block %d: %w", c.Height, err)
	}
	defer s.gate.End()
	wrap := func(err error) error { return fmt.Errorf("pgstore: commit block %d: %w", c.Height, err) }
	for _, w := range c.Writes {
		if err := store.CheckBucket(w.Bucket); err != nil {
			return wrap(err)
		}
	}
	if c.Height < 1 {
		return fmt.Errorf("pgstore: commit block %d: %w", c.Height, store.ErrHeight)
	}

	// The final write of each key: PostgreSQL refuses to upsert one row
	// twice in a statement, and only the last write counts anyway.
	type ref struct {
		bucket string
		key    string
	}
	last := make(map[ref]int, len(c.Writes))
	for i, w := range c.Writes {
		last[ref{w.Bucket, string(w.Key)}] = i
	}
	// Each attempt sends a batch of its own: pgx keeps a connection's
	// prepared statements in the queued queries.
	newBatch := func() *pgx.Batch {
		batch := &pgx.Batch{}
		var (
			putB, delB       []string
			putK, putV, delK [][]byte
			putBytes         int
		)
		flushPuts := func() {
			if len(putB) > 0 {
				batch.Queue(s.sql.upsert, putB, putK, putV)
				putB, putK, putV, putBytes = nil, nil, nil, 0
			}
		}
		flushDeletes := func() {
			if len(delB) > 0 {
				batch.Queue(s.sql.delete, delB, delK)
				delB, delK = nil, nil
			}
		}
		for i, w := range c.Writes {
			if last[ref{w.Bucket, string(w.Key)}] != i {
				continue
			}
			if w.Delete {
				delB, delK = append(delB, w.Bucket), append(delK, nonNil(w.Key))
				if len(delB) == maxChunkRows {
					flushDeletes()
				}
				continue
			}
			n := len(w.Key) + len(w.Value)
			if len(putB) == maxChunkRows || (len(putB) > 0 && putBytes+n > maxChunkBytes) {
				flushPuts()
			}
			putB, putK, putV = append(putB, w.Bucket), append(putK, nonNil(w.Key)), append(putV, nonNil(w.Value))
			putBytes += n
		}
		flushPuts()
		flushDeletes()
		batch.Queue(s.sql.setLastBlock, c.Height, nonNil(c.AppHash))
		return batch
	}

	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	// A commit whose outcome is unknown (the connection was lost around
	// COMMIT) is tried again: if it did commit, the second attempt finds the
	// block already there and does nothing.
	return s.retry(ctx, func() error { return s.commitOnce(ctx, c, newBatch(), wrap) })
}

// commitOnce is one attempt of Commit: one transaction.
func (s *Store) commitOnce(ctx context.Context, c *store.Changes, batch *pgx.Batch, wrap func(error) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(err)
	}
	defer tx.Rollback(ctx)
	prev, err := scanBlock(tx.QueryRow(ctx, s.sql.lastBlockForUpdate))
	if err != nil {
		return wrap(err)
	}
	if c.Height == prev.Height && bytes.Equal(c.AppHash, prev.AppHash) {
		return nil // a retry of the last block
	}
	if c.Height != prev.Height+1 {
		return fmt.Errorf("pgstore: commit block %d, last block is %d: %w", c.Height, prev.Height, store.ErrHeight)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return wrap(err)
	}
	if s.beforeCommit != nil {
		s.beforeCommit(ctx)
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(err)
	}
	return nil
}
