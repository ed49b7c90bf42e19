// Package storetest is the conformance suite for store.Store backends.
//
// Every backend runs it from its own test file:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, name string) store.Store { ... })
//	}
//
// Each clause of the contract documented on store.Store has at least one
// subtest here, and each subtest checks observable behaviour only, so the
// suite says nothing about how a backend lays out its data.
//
// Production code never imports this package.
package storetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evote/evote/chain/store"
)

// Opener opens the store called name for the test t. A second call with the
// same t and name, after the first store was closed, must reopen the same
// persistent state. Different names, or different tests, must give
// independent stores. Opener is called from parallel subtests and must be
// safe for concurrent use. Run closes every store it opens; the Opener may
// register its own clean-up (removing files, dropping a schema) with
// t.Cleanup, which runs after the store is closed.
type Opener func(t *testing.T, name string) store.Store

// Run runs the conformance suite against the backend that open creates.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Empty", testEmpty},
		{"NotFoundVersusEmptyValue", testNotFoundVersusEmpty},
		{"Copies", testCopies},
		{"WriteOrder", testWriteOrder},
		{"ScanOrderAndPrefix", testScanOrderAndPrefix},
		{"BucketIsolation", testBucketIsolation},
		{"ScanStop", testScanStop},
		{"ScanFrom", testScanFrom},
		{"ScanReentrant", testScanReentrant},
		{"ScanSnapshot", testScanSnapshot},
		{"Heights", testHeights},
		{"RetryIsNoOp", testRetryIsNoOp},
		{"EmptyBlock", testEmptyBlock},
		{"InvalidBucket", testInvalidBucket},
		{"NilChanges", testNilChanges},
		{"Reopen", testReopen},
		{"LargeValue", testLargeValue},
		{"ManyKeys", testManyKeys},
		{"ConcurrentReaders", testConcurrentReaders},
		{"Closed", testClosed},
		{"CloseWhileBusy", testCloseWhileBusy},
		{"Context", testContext},
		{"GetMany", testGetMany},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// openStore opens name and closes it when t ends.
func openStore(t *testing.T, open Opener, name string) store.Store {
	t.Helper()
	s := open(t, name)
	if s == nil {
		t.Fatalf("open(%q) returned a nil store", name)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// put and del build writes.
func put(bucket, key, value string) store.Write {
	return store.Write{Bucket: bucket, Key: []byte(key), Value: []byte(value)}
}

func del(bucket, key string) store.Write {
	return store.Write{Bucket: bucket, Key: []byte(key), Delete: true}
}

// appHash is the app hash the suite uses for block h.
func appHash(h int64) []byte {
	return []byte(fmt.Sprintf("app-hash-%d", h))
}

func commit(t *testing.T, s store.Store, h int64, writes ...store.Write) {
	t.Helper()
	if err := s.Commit(t.Context(), &store.Changes{Height: h, AppHash: appHash(h), Writes: writes}); err != nil {
		t.Fatalf("Commit(height %d, %d writes): %v", h, len(writes), err)
	}
}

func lastBlock(t *testing.T, s store.Store) store.Block {
	t.Helper()
	b, err := s.LastBlock(t.Context())
	if err != nil {
		t.Fatalf("LastBlock: %v", err)
	}
	return b
}

func wantLastBlock(t *testing.T, s store.Store, h int64) {
	t.Helper()
	b := lastBlock(t, s)
	var want []byte
	if h > 0 {
		want = appHash(h)
	}
	if b.Height != h || !bytes.Equal(b.AppHash, want) {
		t.Fatalf("LastBlock = {%d, %q}, want {%d, %q}", b.Height, b.AppHash, h, want)
	}
}

func wantValue(t *testing.T, s store.Store, bucket, key, value string) {
	t.Helper()
	v, err := s.Get(t.Context(), bucket, []byte(key))
	if err != nil {
		t.Fatalf("Get(%q, %q): %v, want %q", bucket, key, err, value)
	}
	if string(v) != value {
		t.Fatalf("Get(%q, %q) = %q, want %q", bucket, key, v, value)
	}
}

func wantAbsent(t *testing.T, s store.Store, bucket, key string) {
	t.Helper()
	v, err := s.Get(t.Context(), bucket, []byte(key))
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%q, %q) = %q, %v; want ErrNotFound", bucket, key, v, err)
	}
}

type kv struct{ key, value string }

func scanAll(t *testing.T, s store.Store, bucket string, prefix []byte) []kv {
	t.Helper()
	var out []kv
	err := s.Scan(t.Context(), bucket, prefix, func(k, v []byte) error {
		out = append(out, kv{string(k), string(v)})
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q, %q): %v", bucket, prefix, err)
	}
	return out
}

// wantBucket checks, by Scan with every given prefix and by Get of every
// key, that bucket holds exactly model.
func wantBucket(t *testing.T, s store.Store, bucket string, model map[string]string, prefixes ...string) {
	t.Helper()
	for _, p := range append([]string{""}, prefixes...) {
		var want []kv
		for k, v := range model {
			if strings.HasPrefix(k, p) {
				want = append(want, kv{k, v})
			}
		}
		slices.SortFunc(want, func(a, b kv) int { return strings.Compare(a.key, b.key) })
		got := scanAll(t, s, bucket, []byte(p))
		if !slices.Equal(got, want) {
			t.Fatalf("Scan(%q, prefix %q):\n got %s\nwant %s", bucket, p, show(got), show(want))
		}
	}
	for k, v := range model {
		wantValue(t, s, bucket, k, v)
	}
}

func show(kvs []kv) string {
	var b strings.Builder
	b.WriteString("[")
	for i, e := range kvs {
		if i == 20 {
			fmt.Fprintf(&b, " …%d more", len(kvs)-i)
			break
		}
		fmt.Fprintf(&b, " %q=%.40q", e.key, e.value)
	}
	b.WriteString(" ]")
	return b.String()
}

func testEmpty(t *testing.T, open Opener) {
	s := openStore(t, open, "empty")
	b := lastBlock(t, s)
	if b.Height != 0 || b.AppHash != nil {
		t.Fatalf("LastBlock of an empty store = %+v, want Block{}", b)
	}
	wantAbsent(t, s, "b", "k")
	wantAbsent(t, s, "b", "")
	if got := scanAll(t, s, "b", nil); len(got) != 0 {
		t.Fatalf("Scan of an empty store = %s", show(got))
	}
}

func testNotFoundVersusEmpty(t *testing.T, open Opener) {
	s := openStore(t, open, "empty-value")
	commit(t, s, 1,
		put("b", "empty", ""),
		store.Write{Bucket: "b", Key: []byte("nil"), Value: nil},
		put("b", "", "empty key"),
		del("b", "never-there"), // deleting an absent key is fine
	)
	for _, k := range []string{"empty", "nil"} {
		v, err := s.Get(t.Context(), "b", []byte(k))
		if err != nil || len(v) != 0 {
			t.Fatalf("Get(%q) = %q, %v; want an empty value and no error", k, v, err)
		}
	}
	wantValue(t, s, "b", "", "empty key")
	v, err := s.Get(t.Context(), "b", nil) // nil key is the empty key
	if err != nil || string(v) != "empty key" {
		t.Fatalf("Get(nil key) = %q, %v; want the empty key's value", v, err)
	}
	wantAbsent(t, s, "b", "never-there")
	wantAbsent(t, s, "b", "absent")
	wantAbsent(t, s, "other", "empty")
	wantBucket(t, s, "b", map[string]string{"": "empty key", "empty": "", "nil": ""})
}

func testCopies(t *testing.T, open Opener) {
	s := openStore(t, open, "copies")
	key, value, hash := []byte("key"), []byte("value"), []byte("hash-1")
	c := &store.Changes{Height: 1, AppHash: hash, Writes: []store.Write{
		{Bucket: "b", Key: key, Value: value},
		{Bucket: "b", Key: []byte("key2"), Value: []byte("value2")},
	}}
	if err := s.Commit(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	// Mutating the Changes after Commit must not change the store.
	copy(key, "KEY")
	copy(value, "VALUE")
	copy(hash, "HASH-1")
	c.Writes[1].Bucket = "x"
	c.Writes[1].Value = nil
	wantValue(t, s, "b", "key", "value")
	wantValue(t, s, "b", "key2", "value2")
	wantAbsent(t, s, "b", "KEY")

	b := lastBlock(t, s)
	if string(b.AppHash) != "hash-1" {
		t.Fatalf("LastBlock.AppHash = %q, want %q", b.AppHash, "hash-1")
	}
	clear(b.AppHash)
	if b := lastBlock(t, s); string(b.AppHash) != "hash-1" {
		t.Fatalf("mutating LastBlock's AppHash changed the store: %q", b.AppHash)
	}

	// Mutating what Get returns must not change the store.
	v, err := s.Get(t.Context(), "b", []byte("key"))
	if err != nil {
		t.Fatal(err)
	}
	clear(v)
	wantValue(t, s, "b", "key", "value")

	// Scan hands out copies that stay valid after fn returns, and
	// mutating them changes nothing.
	var keys, values [][]byte
	err = s.Scan(t.Context(), "b", nil, func(k, v []byte) error {
		keys, values = append(keys, k), append(values, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || string(keys[0]) != "key" || string(keys[1]) != "key2" ||
		string(values[0]) != "value" || string(values[1]) != "value2" {
		t.Fatalf("keys and values retained from Scan changed after fn returned: %q %q", keys, values)
	}
	for i := range keys {
		clear(keys[i])
		clear(values[i])
	}
	wantBucket(t, s, "b", map[string]string{"key": "value", "key2": "value2"})
}

func testWriteOrder(t *testing.T, open Opener) {
	s := openStore(t, open, "order")
	commit(t, s, 1,
		put("b", "overwritten-next-block", "1"),
		put("b", "deleted-next-block", "1"),
		put("b", "delete-then-put", "old"),
	)
	commit(t, s, 2,
		put("b", "put-put", "first"),
		put("b", "put-put", "second"),
		put("b", "put-delete", "x"),
		del("b", "put-delete"),
		del("b", "delete-then-put"),
		put("b", "delete-then-put", "new"),
		put("b", "put-delete-put", "1"),
		del("b", "put-delete-put"),
		put("b", "put-delete-put", "3"),
		del("b", "delete-put-delete"),
		put("b", "delete-put-delete", "x"),
		del("b", "delete-put-delete"),
		put("b", "overwritten-next-block", "2"),
		del("b", "deleted-next-block"),
		// A delete that carries a value is still a delete.
		store.Write{Bucket: "b", Key: []byte("delete-with-value"), Value: []byte("v"), Delete: true},
	)
	wantAbsent(t, s, "b", "put-delete")
	wantAbsent(t, s, "b", "delete-put-delete")
	wantAbsent(t, s, "b", "deleted-next-block")
	wantAbsent(t, s, "b", "delete-with-value")
	wantBucket(t, s, "b", map[string]string{
		"put-put":                "second",
		"delete-then-put":        "new",
		"put-delete-put":         "3",
		"overwritten-next-block": "2",
	})
}

func testScanOrderAndPrefix(t *testing.T, open Opener) {
	s := openStore(t, open, "scan")
	keys := []string{
		"", "\x00", "\x00\x00", "\x00\xff", "\x01", "\x7f", "\x80", "\xfe", "\xff", "\xff\x00",
		"\xff\xff", "\xff\xff\xff", "a", "a\x00", "a\xff", "ab", "abc", "abd", "b", "B", "ba",
	}
	model := map[string]string{}
	var writes []store.Write
	rng := rand.New(rand.NewPCG(1, 2))
	for _, i := range rng.Perm(len(keys)) {
		k := keys[i]
		model[k] = "v" + k
		writes = append(writes, put("b", k, "v"+k))
	}
	commit(t, s, 1, writes...)
	wantBucket(t, s, "b", model,
		"\x00", "\xff", "\xff\xff", "\xff\xff\xff", "\xff\xff\xff\xff", "a", "ab", "abc",
		"abcd", "b", "c", "\x7f", "\x80")

	// A nil prefix and an empty prefix both mean every key.
	if a, b := scanAll(t, s, "b", nil), scanAll(t, s, "b", []byte{}); !slices.Equal(a, b) || len(a) != len(keys) {
		t.Fatalf("Scan with nil prefix gave %d keys, with empty prefix %d, want %d", len(a), len(b), len(keys))
	}
	// Bytewise ascending order, checked without the model's help.
	got := scanAll(t, s, "b", nil)
	for i := 1; i < len(got); i++ {
		if got[i-1].key >= got[i].key {
			t.Fatalf("Scan order: %q before %q", got[i-1].key, got[i].key)
		}
	}
}

func testBucketIsolation(t *testing.T, open Opener) {
	s := openStore(t, open, "buckets")
	long := strings.Repeat("z", 32)
	commit(t, s, 1,
		put("a", "bc", "a/bc"),
		put("ab", "c", "ab/c"),
		put("a", "b", "a/b"),
		put("a0", "", "a0/"),
		put("a-", "x", "a-/x"),
		put("a_", "x", "a_/x"),
		put("b", "", "b/"),
		put(long, "k", "long/k"),
		put(long[:31], "zk", "long31/zk"),
	)
	wantBucket(t, s, "a", map[string]string{"bc": "a/bc", "b": "a/b"}, "b", "bc", "c")
	wantBucket(t, s, "ab", map[string]string{"c": "ab/c"}, "", "b", "c")
	wantBucket(t, s, "a0", map[string]string{"": "a0/"})
	wantBucket(t, s, "a-", map[string]string{"x": "a-/x"})
	wantBucket(t, s, "a_", map[string]string{"x": "a_/x"})
	wantBucket(t, s, "b", map[string]string{"": "b/"})
	wantBucket(t, s, long, map[string]string{"k": "long/k"})
	wantBucket(t, s, long[:31], map[string]string{"zk": "long31/zk"})
	wantBucket(t, s, "c", map[string]string{})
	wantAbsent(t, s, "abc", "")
	wantAbsent(t, s, "a", "c")

	// Deleting in one bucket leaves the same key in another alone.
	commit(t, s, 2, del("a", "bc"), del("a-", "x"), put("a_", "x", "a_/x2"))
	wantBucket(t, s, "a", map[string]string{"b": "a/b"})
	wantBucket(t, s, "ab", map[string]string{"c": "ab/c"})
	wantBucket(t, s, "a-", map[string]string{})
	wantBucket(t, s, "a_", map[string]string{"x": "a_/x2"})
}

func testScanStop(t *testing.T, open Opener) {
	s := openStore(t, open, "scan-stop")
	var writes []store.Write
	for i := range 10 {
		writes = append(writes, put("b", fmt.Sprint(i), "v"))
	}
	commit(t, s, 1, writes...)
	stop := errors.New("stop here")
	for _, after := range []int{1, 3, 10} {
		calls := 0
		err := s.Scan(t.Context(), "b", nil, func(k, v []byte) error {
			calls++
			if calls == after {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Fatalf("Scan stopped by fn at call %d returned %v, want fn's error", after, err)
		}
		if calls != after {
			t.Fatalf("Scan called fn %d times after it returned an error at call %d", calls, after)
		}
	}
	// The store is still usable after an early stop.
	if got := scanAll(t, s, "b", nil); len(got) != 10 {
		t.Fatalf("Scan after an early stop found %d keys, want 10", len(got))
	}
}

// testScanReentrant calls the store from inside fn.
func testScanReentrant(t *testing.T, open Opener) {
	s := openStore(t, open, "reentrant")
	commit(t, s, 1, put("b", "1", "one"), put("b", "2", "two"), put("c", "x", "y"))
	n := 0
	err := s.Scan(t.Context(), "b", nil, func(k, v []byte) error {
		n++
		got, err := s.Get(t.Context(), "b", k)
		if err != nil || !bytes.Equal(got, v) {
			return fmt.Errorf("get(%q) inside Scan = %q, %v; want %q", k, got, err, v)
		}
		return s.Scan(t.Context(), "c", nil, func(k, v []byte) error { return nil })
	})
	if err != nil || n != 2 {
		t.Fatalf("Scan calling the store from fn: %d calls, %v", n, err)
	}
}

// testScanSnapshot commits a block while a Scan is running: the Scan keeps
// seeing the block it started with.
func testScanSnapshot(t *testing.T, open Opener) {
	s := openStore(t, open, "scan-snapshot")
	var old, next []store.Write
	for i := range 100 {
		k := fmt.Sprintf("%03d", i)
		old = append(old, put("b", k, "old"))
		next = append(next, del("b", k), put("b", k+"-new", "new"))
	}
	commit(t, s, 1, old...)
	var got []kv
	err := s.Scan(t.Context(), "b", nil, func(k, v []byte) error {
		if len(got) == 0 {
			if err := s.Commit(t.Context(), &store.Changes{Height: 2, AppHash: appHash(2), Writes: next}); err != nil {
				return fmt.Errorf("commit inside Scan: %w", err)
			}
		}
		got = append(got, kv{string(k), string(v)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 {
		t.Fatalf("Scan that started before a Commit saw %d keys, want the 100 of the block before: %s", len(got), show(got))
	}
	for i, e := range got {
		if e.key != fmt.Sprintf("%03d", i) || e.value != "old" {
			t.Fatalf("Scan that started before a Commit saw %q=%q", e.key, e.value)
		}
	}
	wantLastBlock(t, s, 2)
	if got := scanAll(t, s, "b", nil); len(got) != 100 || !strings.HasSuffix(got[0].key, "-new") {
		t.Fatalf("Scan after the Commit: %s", show(got))
	}
}

func testHeights(t *testing.T, open Opener) {
	s := openStore(t, open, "heights")
	try := func(h int64, hash []byte, wantErr bool) {
		t.Helper()
		c := &store.Changes{Height: h, AppHash: hash, Writes: []store.Write{put("h", fmt.Sprintf("try-%d-%s", h, hash), "x")}}
		err := s.Commit(t.Context(), c)
		if wantErr && !errors.Is(err, store.ErrHeight) {
			t.Fatalf("Commit(height %d, hash %q) = %v, want ErrHeight", h, hash, err)
		}
		if !wantErr && err != nil {
			t.Fatalf("Commit(height %d, hash %q) = %v", h, hash, err)
		}
	}
	try(0, nil, true)
	try(0, appHash(0), true)
	try(-1, appHash(1), true)
	try(2, appHash(2), true)
	wantLastBlock(t, s, 0)
	try(1, appHash(1), false)
	wantLastBlock(t, s, 1)
	try(1, appHash(1), false) // retry of the last block: no-op
	try(1, []byte("another hash"), true)
	try(1, nil, true)
	try(3, appHash(3), true) // gap
	try(0, nil, true)
	wantLastBlock(t, s, 1)
	try(2, appHash(2), false)
	try(1, appHash(1), true) // not the last block any more
	try(2, appHash(2), false)
	try(4, appHash(4), true)
	wantLastBlock(t, s, 2)
	// Only the blocks that were accepted left writes behind.
	wantBucket(t, s, "h", map[string]string{
		"try-1-" + string(appHash(1)): "x",
		"try-2-" + string(appHash(2)): "x",
	})
}

// testRetryIsNoOp checks that a retried last block changes nothing, even
// if its writes differ.
func testRetryIsNoOp(t *testing.T, open Opener) {
	s := openStore(t, open, "retry")
	commit(t, s, 1, put("b", "k", "1"))
	commit(t, s, 2, put("b", "k", "2"), put("b", "j", "2"))
	commit(t, s, 2, put("b", "k", "retried"), del("b", "j"), put("b", "new", "x"))
	wantLastBlock(t, s, 2)
	wantBucket(t, s, "b", map[string]string{"k": "2", "j": "2"})
	commit(t, s, 3, put("b", "k", "3"))
	wantBucket(t, s, "b", map[string]string{"k": "3", "j": "2"})
}

func testEmptyBlock(t *testing.T, open Opener) {
	s := openStore(t, open, "empty-block")
	commit(t, s, 1)
	wantLastBlock(t, s, 1)
	commit(t, s, 2, put("b", "k", "v"))
	if err := s.Commit(t.Context(), &store.Changes{Height: 3, AppHash: appHash(3), Writes: []store.Write{}}); err != nil {
		t.Fatal(err)
	}
	wantLastBlock(t, s, 3)
	wantBucket(t, s, "b", map[string]string{"k": "v"})
}

var invalidBuckets = []string{
	"", "A", "Bucket", "a b", "a/b", "a.b", "a\x00", "\x01", "é", "a:b", strings.Repeat("a", 33), "a\n",
}

func testInvalidBucket(t *testing.T, open Opener) {
	s := openStore(t, open, "invalid-bucket")
	commit(t, s, 1, put("b", "k", "1"))
	for _, name := range invalidBuckets {
		if v, err := s.Get(t.Context(), name, []byte("k")); !errors.Is(err, store.ErrBucket) {
			t.Errorf("Get(bucket %q) = %q, %v; want ErrBucket", name, v, err)
		}
		called := false
		err := s.Scan(t.Context(), name, nil, func(k, v []byte) error { called = true; return nil })
		if !errors.Is(err, store.ErrBucket) || called {
			t.Errorf("Scan(bucket %q) = %v (fn called: %v); want ErrBucket", name, err, called)
		}
		// The bad write is last: everything before it must be dropped too.
		err = s.Commit(t.Context(), &store.Changes{Height: 2, AppHash: appHash(2), Writes: []store.Write{
			put("b", "k", "2"),
			del("b", "k"),
			put("b", "new", "2"),
			put(name, "k", "bad"),
		}})
		if !errors.Is(err, store.ErrBucket) {
			t.Errorf("Commit with a write to bucket %q = %v, want ErrBucket", name, err)
		}
	}
	// A bad delete is as bad as a bad put.
	err := s.Commit(t.Context(), &store.Changes{Height: 2, AppHash: appHash(2), Writes: []store.Write{
		put("b", "new", "2"), {Bucket: "B", Key: []byte("k"), Delete: true},
	}})
	if !errors.Is(err, store.ErrBucket) {
		t.Errorf("Commit with a delete in bucket %q = %v, want ErrBucket", "B", err)
	}
	wantLastBlock(t, s, 1)
	wantBucket(t, s, "b", map[string]string{"k": "1"})
	// The height was not used up.
	commit(t, s, 2, put("b", "k", "2"))
	wantBucket(t, s, "b", map[string]string{"k": "2"})
	// Valid edge cases are accepted.
	commit(t, s, 3, put("a_b-9", "k", "v"), put(strings.Repeat("0", 32), "k", "v"), put("-", "k", "v"))
}

func testNilChanges(t *testing.T, open Opener) {
	s := openStore(t, open, "nil-changes")
	if err := s.Commit(t.Context(), nil); err == nil {
		t.Fatal("Commit(nil) = nil, want an error")
	}
	wantLastBlock(t, s, 0)
	commit(t, s, 1)
}

func testReopen(t *testing.T, open Opener) {
	s := openStore(t, open, "reopen")
	commit(t, s, 1, put("b", "k1", "1"), put("b", "k2", "1"), put("c", "k", "c1"), put("b", "", ""))
	commit(t, s, 2, put("b", "k2", "2"), del("b", "k1"), put("b", "k3", "2"))
	commit(t, s, 3, del("c", "k"), put("d", "k", "3"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openStore(t, open, "reopen")
	wantLastBlock(t, s, 3)
	check := func(s store.Store) {
		t.Helper()
		wantBucket(t, s, "b", map[string]string{"k2": "2", "k3": "2", "": ""}, "k")
		wantBucket(t, s, "c", map[string]string{})
		wantBucket(t, s, "d", map[string]string{"k": "3"})
	}
	check(s)
	// The reopened store checks heights against what it found.
	if err := s.Commit(t.Context(), &store.Changes{Height: 3, AppHash: []byte("other")}); !errors.Is(err, store.ErrHeight) {
		t.Fatalf("Commit(3, other hash) after reopen = %v, want ErrHeight", err)
	}
	commit(t, s, 3) // retry of the last block after a restart
	if err := s.Commit(t.Context(), &store.Changes{Height: 5, AppHash: appHash(5)}); !errors.Is(err, store.ErrHeight) {
		t.Fatalf("Commit(5) after reopen at 3 = %v, want ErrHeight", err)
	}
	commit(t, s, 4, put("e", "k", "4"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openStore(t, open, "reopen")
	wantLastBlock(t, s, 4)
	check(s)
	wantBucket(t, s, "e", map[string]string{"k": "4"})

	// A different name is a different store.
	other := openStore(t, open, "reopen-other")
	wantLastBlock(t, other, 0)
	wantAbsent(t, other, "b", "k2")
}

func testLargeValue(t *testing.T, open Opener) {
	s := openStore(t, open, "large")
	big := make([]byte, 4<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	commit(t, s, 1, store.Write{Bucket: "b", Key: []byte("big"), Value: big}, put("b", "small", "s"))
	check := func(s store.Store) {
		t.Helper()
		v, err := s.Get(t.Context(), "b", []byte("big"))
		if err != nil || !bytes.Equal(v, big) {
			t.Fatalf("Get of a 4 MiB value: %d bytes, %v", len(v), err)
		}
		var got []byte
		err = s.Scan(t.Context(), "b", []byte("b"), func(k, v []byte) error { got = v; return nil })
		if err != nil || !bytes.Equal(got, big) {
			t.Fatalf("Scan of a 4 MiB value: %d bytes, %v", len(got), err)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(openStore(t, open, "large"))
}

func testManyKeys(t *testing.T, open Opener) {
	s := openStore(t, open, "many")
	const n = 20000
	rng := rand.New(rand.NewPCG(5, 6))
	model := make(map[string]string, n)
	writes := make([]store.Write, 0, n)
	for len(model) < n {
		k := make([]byte, 1+rng.IntN(12))
		for i := range k {
			k[i] = byte(rng.Uint32())
		}
		if _, dup := model[string(k)]; dup {
			continue
		}
		v := fmt.Sprintf("%d", len(model))
		model[string(k)] = v
		writes = append(writes, store.Write{Bucket: "many", Key: k, Value: []byte(v)})
	}
	commit(t, s, 1, writes...)
	got := scanAll(t, s, "many", nil)
	if len(got) != n {
		t.Fatalf("Scan found %d keys, want %d", len(got), n)
	}
	for i, e := range got {
		if i > 0 && got[i-1].key >= e.key {
			t.Fatalf("Scan order: %x before %x", got[i-1].key, e.key)
		}
		if model[e.key] != e.value {
			t.Fatalf("Scan: key %x = %q, want %q", e.key, e.value, model[e.key])
		}
	}
	// Prefix scans over the same keys, checked against the model.
	for _, p := range []string{"\x00", "\x7f", "\xff", "\x80\x01"} {
		want := 0
		for k := range model {
			if strings.HasPrefix(k, p) {
				want++
			}
		}
		if got := scanAll(t, s, "many", []byte(p)); len(got) != want {
			t.Fatalf("Scan(prefix %x) found %d keys, want %d", p, len(got), want)
		}
	}
	for i := 0; i < n; i += 997 {
		wantValue(t, s, "many", string(writes[i].Key), string(writes[i].Value))
	}
}

// testConcurrentReaders commits blocks while other goroutines read. Block h
// sets "c1" and "c2" to h and adds the key "log/h", so a reader that sees
// part of a block finds c1 != c2 or a log that does not match the counter.
func testConcurrentReaders(t *testing.T, open Opener) {
	s := openStore(t, open, "concurrent")
	const blocks = 150
	enc := func(h int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(h)) }
	block := func(h int64) *store.Changes {
		return &store.Changes{Height: h, AppHash: appHash(h), Writes: []store.Write{
			{Bucket: "conc", Key: []byte("c1"), Value: enc(h)},
			{Bucket: "conc", Key: []byte(fmt.Sprintf("log/%06d", h)), Value: enc(h)},
			{Bucket: "conc", Key: []byte("c2"), Value: enc(h)},
		}}
	}
	if err := s.Commit(t.Context(), block(1)); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var done atomic.Bool
	var reads atomic.Int64
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	decode := func(v []byte) (int64, error) {
		if len(v) != 8 {
			return 0, fmt.Errorf("counter is %d bytes", len(v))
		}
		return int64(binary.BigEndian.Uint64(v)), nil
	}
	// Readers by Get: LastBlock, c1, c2, LastBlock must never go backwards.
	getReader := func() error {
		for !done.Load() {
			b1, err := s.LastBlock(ctx)
			if err != nil {
				return err
			}
			var c [2]int64
			for i, k := range []string{"c1", "c2"} {
				v, err := s.Get(ctx, "conc", []byte(k))
				if err != nil {
					return fmt.Errorf("get(%s): %w", k, err)
				}
				if c[i], err = decode(v); err != nil {
					return err
				}
			}
			b2, err := s.LastBlock(ctx)
			if err != nil {
				return err
			}
			if !(b1.Height <= c[0] && c[0] <= c[1] && c[1] <= b2.Height) {
				return fmt.Errorf("LastBlock %d, then c1=%d, c2=%d, then LastBlock %d: a read saw a block out of order",
					b1.Height, c[0], c[1], b2.Height)
			}
			if want := appHash(b2.Height); !bytes.Equal(b2.AppHash, want) {
				return fmt.Errorf("LastBlock = {%d, %q}: app hash of another block", b2.Height, b2.AppHash)
			}
			reads.Add(1)
		}
		return nil
	}
	// Readers by Scan: one Scan must see whole blocks only.
	scanReader := func() error {
		for !done.Load() {
			var c1, c2 int64 = -1, -1
			var logs int64
			err := s.Scan(ctx, "conc", nil, func(k, v []byte) error {
				n, err := decode(v)
				if err != nil {
					return err
				}
				switch {
				case string(k) == "c1":
					c1 = n
				case string(k) == "c2":
					c2 = n
				case bytes.HasPrefix(k, []byte("log/")):
					logs++
					if want := fmt.Sprintf("log/%06d", n); string(k) != want {
						return fmt.Errorf("key %q holds %d", k, n)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			if c1 != c2 || c1 != logs {
				return fmt.Errorf("one Scan saw c1=%d, c2=%d and %d log keys: a partial block", c1, c2, logs)
			}
			reads.Add(1)
		}
		return nil
	}
	for _, r := range []func() error{getReader, getReader, scanReader, scanReader} {
		wg.Go(func() {
			if err := r(); err != nil {
				errc <- err
			}
		})
	}
	var commitErr error
	for h := int64(2); h <= blocks && len(errc) == 0; h++ {
		if commitErr = s.Commit(ctx, block(h)); commitErr != nil {
			break
		}
	}
	done.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if commitErr != nil {
		t.Fatal(commitErr)
	}
	t.Logf("%d consistent reads during %d commits", reads.Load(), blocks)
	wantLastBlock(t, s, blocks)
}

func testClosed(t *testing.T, open Opener) {
	s := openStore(t, open, "closed")
	commit(t, s, 1, put("b", "k", "v"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	if _, err := s.LastBlock(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("LastBlock after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Get(ctx, "b", []byte("k")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if err := s.Scan(ctx, "b", nil, func(k, v []byte) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Scan after Close = %v, want ErrClosed", err)
	}
	if err := s.Commit(ctx, &store.Changes{Height: 2, AppHash: appHash(2)}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Commit after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); !errors.Is(err, store.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	// Nothing was lost by closing.
	s = openStore(t, open, "closed")
	wantLastBlock(t, s, 1)
	wantValue(t, s, "b", "k", "v")
}

// testCloseWhileBusy closes the store while other goroutines use it: every
// call either works or returns ErrClosed.
func testCloseWhileBusy(t *testing.T, open Opener) {
	s := openStore(t, open, "close-busy")
	commit(t, s, 1, put("b", "k", "v"), put("b", "l", "w"))
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	started := make(chan struct{}, 3)
	for i := range 3 {
		wg.Go(func() {
			var err error
			for n := 0; ; n++ {
				if n == 10 {
					started <- struct{}{}
				}
				switch i {
				case 0:
					_, err = s.Get(t.Context(), "b", []byte("k"))
				case 1:
					err = s.Scan(t.Context(), "b", nil, func(k, v []byte) error { return nil })
				case 2:
					_, err = s.LastBlock(t.Context())
				}
				if err != nil {
					break
				}
			}
			if !errors.Is(err, store.ErrClosed) {
				errc <- fmt.Errorf("reader %d during Close: %v, want ErrClosed", i, err)
			}
		})
	}
	for range 3 {
		<-started
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close while busy: %v", err)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func testContext(t *testing.T, open Opener) {
	s := openStore(t, open, "context")
	var writes []store.Write
	for i := range 100 {
		writes = append(writes, put("b", fmt.Sprintf("%03d", i), "v"))
	}
	commit(t, s, 1, writes...)

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.LastBlock(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("LastBlock(cancelled) = %v, want context.Canceled", err)
	}
	if _, err := s.Get(cancelled, "b", []byte("000")); !errors.Is(err, context.Canceled) {
		t.Errorf("Get(cancelled) = %v, want context.Canceled", err)
	}
	called := false
	if err := s.Scan(cancelled, "b", nil, func(k, v []byte) error { called = true; return nil }); !errors.Is(err, context.Canceled) || called {
		t.Errorf("Scan(cancelled) = %v (fn called: %v), want context.Canceled", err, called)
	}
	c := &store.Changes{Height: 2, AppHash: appHash(2), Writes: []store.Write{put("b", "000", "changed"), put("b", "new", "v")}}
	if err := s.Commit(cancelled, c); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit(cancelled) = %v, want context.Canceled", err)
	}
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	if err := s.Commit(expired, c); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Commit(past deadline) = %v, want context.DeadlineExceeded", err)
	}
	wantLastBlock(t, s, 1)
	wantValue(t, s, "b", "000", "v")
	wantAbsent(t, s, "b", "new")

	// Cancelling during a Scan stops it.
	ctx, cancel3 := context.WithCancel(t.Context())
	defer cancel3()
	calls := 0
	err := s.Scan(ctx, "b", nil, func(k, v []byte) error {
		calls++
		cancel3()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls >= 100 {
		t.Errorf("Scan cancelled from fn: %d of 100 calls, %v; want it to stop with context.Canceled", calls, err)
	}

	// The failed Commit can be made again with a live context.
	if err := s.Commit(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "b", "000", "changed")
	wantValue(t, s, "b", "new", "v")
}

// testScanFrom: ScanFrom visits exactly the keys with the prefix that are
// not before start, in order, for starts before, inside, between and after
// the prefix's keys.
func testScanFrom(t *testing.T, open Opener) {
	s := openStore(t, open, "scanfrom")
	keys := []string{"", "\x00", "a", "a\x00", "a\xff", "ab", "abc", "abd", "ab\xff", "b", "\xff", "\xff\xff"}
	var writes []store.Write
	for _, k := range keys {
		writes = append(writes, put("b", k, "v"+k))
	}
	commit(t, s, 1, writes...)
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	for _, prefix := range []string{"", "a", "ab", "\xff", "z"} {
		for _, start := range []string{"", "\x00", "a", "aa", "ab", "abc", "abcd", "ab\xff", "b", "\xff\xff", "\xff\xff\xff", "zz"} {
			var want []string
			for _, k := range sorted {
				if strings.HasPrefix(k, prefix) && k >= start {
					want = append(want, k)
				}
			}
			var got []string
			err := s.ScanFrom(t.Context(), "b", []byte(prefix), []byte(start), func(k, v []byte) error {
				if string(v) != "v"+string(k) {
					t.Fatalf("ScanFrom: key %q has value %q", k, v)
				}
				got = append(got, string(k))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("ScanFrom(prefix %q, start %q) = %q, want %q", prefix, start, got, want)
			}
		}
	}
	// A nil start is Scan.
	var n int
	if err := s.ScanFrom(t.Context(), "b", nil, nil, func(k, v []byte) error { n++; return nil }); err != nil || n != len(keys) {
		t.Fatalf("ScanFrom(nil, nil): %d keys, %v", n, err)
	}
}

// testGetMany: a MultiGetter's GetMany agrees with Get key by key: values
// in the order asked, nil for absent keys, an empty value distinct from an
// absent key, the same key twice, keys of several buckets, the last
// committed block's state; an invalid bucket is refused.
func testGetMany(t *testing.T, open Opener) {
	s := openStore(t, open, "getmany")
	mg, ok := s.(store.MultiGetter)
	if !ok {
		t.Skip("the backend reads one key at a time")
	}
	ctx := context.Background()
	commit(t, s, 1, put("a", "k1", "v1"), put("a", "k2", ""), put("b", "k1", "w1"))
	commit(t, s, 2, put("a", "k1", "v1'"), del("b", "k1"), put("b", "k3", "w3"))
	keys := []store.Key{{Bucket: "a", Key: []byte("k1")}, {Bucket: "a", Key: []byte("missing")}, {Bucket: "a", Key: []byte("k2")}, {Bucket: "b", Key: []byte("k1")}, {Bucket: "b", Key: []byte("k3")}, {Bucket: "a", Key: []byte("k1")}, {Bucket: "b", Key: nil}}
	got, err := mg.GetMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Fatalf("%d values for %d keys", len(got), len(keys))
	}
	for i, k := range keys {
		v, err := s.Get(ctx, k.Bucket, k.Key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if got[i] != nil {
				t.Errorf("key %d (%s/%s): GetMany %q, Get: absent", i, k.Bucket, k.Key, got[i])
			}
		case err != nil:
			t.Fatal(err)
		case got[i] == nil || !bytes.Equal(got[i], v):
			t.Errorf("key %d (%s/%s): GetMany %q (nil: %v), Get %q", i, k.Bucket, k.Key, got[i], got[i] == nil, v)
		}
	}
	if got, err := mg.GetMany(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no keys: %v, %v", got, err)
	}
	if _, err := mg.GetMany(ctx, []store.Key{{Bucket: "Bad Bucket", Key: []byte("k")}}); !errors.Is(err, store.ErrBucket) {
		t.Errorf("invalid bucket: %v", err)
	}
}
