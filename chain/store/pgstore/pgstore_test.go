package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/chain/store/storetest"
)

// The tests need a PostgreSQL server: $EVOTE_TEST_DATABASE_URL, or the
// default below. Each test works in its own schema, dropped at its end, so
// that test runs can share a database. Without a server the tests fail,
// unless EVOTE_SKIP_POSTGRES=1.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var (
	checkOnce sync.Once
	checkErr  error
)

// testURL returns the test database's URL, or ends the test if the
// database cannot be reached.
func testURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("EVOTE_TEST_DATABASE_URL")
	if url == "" {
		url = defaultTestURL
	}
	checkOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			checkErr = err
			return
		}
		checkErr = conn.Ping(ctx)
		conn.Close(ctx)
	})
	if checkErr != nil {
		if os.Getenv("EVOTE_SKIP_POSTGRES") == "1" {
			tb.Skipf("PostgreSQL unreachable, skipped because EVOTE_SKIP_POSTGRES=1: %v", checkErr)
		}
		tb.Fatalf("PostgreSQL unreachable: %v\n"+
			"These tests need a server: start one, or point EVOTE_TEST_DATABASE_URL at one "+
			"(default %s), or set EVOTE_SKIP_POSTGRES=1 to skip them.", checkErr, defaultTestURL)
	}
	return url
}

// newSchema returns a fresh schema name, dropped when tb ends.
func newSchema(tb testing.TB, url string) string {
	tb.Helper()
	var r [6]byte
	rand.Read(r[:])
	schema := "evote_test_" + hex.EncodeToString(r[:])
	tb.Cleanup(func() { dropSchema(tb, url, schema) })
	return schema
}

func dropSchema(tb testing.TB, url, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		tb.Errorf("drop schema %s: %v", schema, err)
	}
}

func exec(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

var (
	schemasMu sync.Mutex
	schemas   = map[string]string{}
)

// open opens the store called name in a schema of its own for the test t.
func open(t *testing.T, name string) store.Store {
	t.Helper()
	url := testURL(t)
	schemasMu.Lock()
	k := t.Name() + "\x00" + name
	schema, ok := schemas[k]
	if !ok {
		schema = newSchema(t, url)
		schemas[k] = schema
		t.Cleanup(func() {
			schemasMu.Lock()
			delete(schemas, k)
			schemasMu.Unlock()
		})
	}
	schemasMu.Unlock()
	s, err := New(t.Context(), Config{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	testURL(t) // one clear failure if there is no server, not one per subtest
	storetest.Run(t, open)
}

func TestMigrationsIdempotent(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	for i := range 3 {
		s, err := New(t.Context(), Config{URL: url, Schema: schema})
		if err != nil {
			t.Fatalf("New #%d on the same schema: %v", i+1, err)
		}
		b, err := s.LastBlock(t.Context())
		if err != nil || b.Height != int64(i) {
			t.Fatalf("New #%d: LastBlock = %+v, %v; want height %d", i+1, b, err, i)
		}
		if err := s.Commit(t.Context(), &store.Changes{Height: int64(i + 1), Writes: []store.Write{
			{Bucket: "b", Key: fmt.Appendf(nil, "%d", i), Value: []byte("v")},
		}}); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT version FROM `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+` ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(migrations) || versions[0] != 1 || versions[len(versions)-1] != len(migrations) {
		t.Errorf("schema_migrations holds versions %v, want 1 to %d once each", versions, len(migrations))
	}
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM `+pgx.Identifier{schema, "kv"}.Sanitize()).Scan(&n); err != nil || n != 3 {
		t.Errorf("kv holds %d rows (%v), want 3", n, err)
	}
}

// TestConcurrentNew starts several stores on one new schema at once: the
// advisory lock lets one of them create it and the others find it done.
func TestConcurrentNew(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			s, err := New(t.Context(), Config{URL: url, Schema: schema})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("New #%d: %v", i, err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	s, err := New(t.Context(), Config{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	exec(t, url, `INSERT INTO `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+` (version) VALUES (999)`)
	_, err = New(t.Context(), Config{URL: url, Schema: schema})
	want := fmt.Sprintf("pgstore: schema %q is at version 999, newer than version %d that this node knows", schema, len(migrations))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("New on a schema at version 999 = %v, want an error containing %q", err, want)
	}
}

// TestSchemaQuoting uses a schema name that is only safe quoted.
func TestSchemaQuoting(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url) + `"; DROP TABLE x; --`
	t.Cleanup(func() { dropSchema(t, url, schema) })
	s, err := New(t.Context(), Config{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Commit(t.Context(), &store.Changes{Height: 1, Writes: []store.Write{{Bucket: "b", Key: []byte("k"), Value: []byte("v")}}}); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(t.Context(), "b", []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
}

func TestNewErrors(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "pgstore: no database URL"},
		{Config{URL: "postgres://%zz"}, "pgstore: database URL"},
		{Config{URL: "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"}, "pgstore: connect"},
		{Config{URL: defaultTestURL, Schema: strings.Repeat("s", 64)}, "longer than 63 bytes"},
	} {
		s, err := New(ctx, tc.cfg)
		if err == nil {
			s.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}

// bigBlock is a block of n writes of 1 KiB.
func bigBlock(h int64, n int) *store.Changes {
	c := &store.Changes{Height: h, AppHash: fmt.Appendf(nil, "h%d", h)}
	v := make([]byte, 1024)
	for i := range n {
		c.Writes = append(c.Writes, store.Write{Bucket: "big", Key: fmt.Appendf(nil, "%d/%06d", h, i), Value: v})
	}
	return c
}

// wantNothingOf checks that no write of block h is in s, and that s is at
// block h-1.
func wantNothingOf(t *testing.T, s store.Store, h int64) {
	t.Helper()
	b, err := s.LastBlock(t.Context())
	if err != nil || b.Height != h-1 {
		t.Fatalf("LastBlock = %+v, %v; want height %d", b, err, h-1)
	}
	n := 0
	err = s.Scan(t.Context(), "big", fmt.Appendf(nil, "%d/", h), func(k, v []byte) error { n++; return nil })
	if err != nil || n != 0 {
		t.Fatalf("%d writes of the failed block %d are in the store (%v)", n, h, err)
	}
}

// TestCommitCancelled kills Commits in the middle: nothing of the block may
// remain, and the block can be committed again.
func TestCommitCancelled(t *testing.T) {
	s := open(t, "cancel").(*Store)
	defer s.Close()

	// Cancelled after every statement reached the server, before COMMIT.
	ctx, cancel := context.WithCancel(t.Context())
	s.beforeCommit = func(context.Context) { cancel() }
	err := s.Commit(ctx, bigBlock(1, 5000))
	s.beforeCommit = nil
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit cancelled before COMMIT = %v, want context.Canceled", err)
	}
	wantNothingOf(t, s, 1)
	if err := s.Commit(t.Context(), bigBlock(1, 10)); err != nil {
		t.Fatal(err)
	}

	// Cancelled at a random moment while the statements run: the block is
	// all there or not at all.
	h := int64(2)
	var done, lost, undone int
	defer func() {
		t.Logf("timed-out Commits: %d done, %d done but reported failed, %d rolled back", done, lost, undone)
	}()
	for _, d := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, 60 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(t.Context(), d)
		err := s.Commit(ctx, bigBlock(h, 20000))
		cancel()
		if err == nil {
			done++
			h++
			continue
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Commit with a %v timeout = %v", d, err)
		}
		b, err := s.LastBlock(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if b.Height == h { // COMMIT reached the server; the outcome was lost
			lost++
			h++
			continue
		}
		undone++
		wantNothingOf(t, s, h)
	}
}

// TestManyWrites times a block of 10,000 writes.
func TestManyWrites(t *testing.T) {
	s := open(t, "many")
	defer s.Close()
	start := time.Now()
	if err := s.Commit(t.Context(), bigBlock(1, 10000)); err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	t.Logf("a block of 10,000 writes of 1 KiB committed in %v", d)
	if d > 10*time.Second {
		t.Errorf("a block of 10,000 writes took %v", d)
	}
}

func TestErrorsWrapSentinels(t *testing.T) {
	s := open(t, "errors")
	defer s.Close()
	_, err := s.Get(t.Context(), "b", []byte("k"))
	if !errors.Is(err, store.ErrNotFound) || !strings.HasPrefix(err.Error(), "pgstore: ") {
		t.Errorf("Get of an absent key = %v", err)
	}
	err = s.Commit(t.Context(), &store.Changes{Height: 7})
	if !errors.Is(err, store.ErrHeight) || !strings.HasPrefix(err.Error(), "pgstore: ") {
		t.Errorf("Commit out of order = %v", err)
	}
}

func benchStore(b *testing.B) *Store {
	url := testURL(b)
	s, err := New(b.Context(), Config{URL: url, Schema: newSchema(b, url)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkCommit1000Writes(b *testing.B) {
	storetest.BenchCommit(b, benchStore(b), 1000, 300)
}

func BenchmarkCommit10000Writes(b *testing.B) {
	storetest.BenchCommit(b, benchStore(b), 10000, 300)
}

func BenchmarkGet(b *testing.B) {
	storetest.BenchGet(b, benchStore(b))
}
