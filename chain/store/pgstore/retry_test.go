package pgstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/evote/evote/chain/store"
)

// terminate ends every server connection of the store in schema (by its
// application_name), as an operator's pg_terminate_backend or a restarting
// server does, and returns how many it ended.
func terminate(t *testing.T, url, schema string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()) AS t`, ApplicationName(schema)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLostConnectionsAreRetried: every call of a store whose connections
// were all terminated by the server succeeds on a new connection, and the
// results are those of the committed state.
func TestLostConnectionsAreRetried(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	s, err := New(t.Context(), Config{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	for h := int64(1); h <= 20; h++ {
		if n := terminate(t, url, schema); n == 0 && h > 1 {
			t.Fatalf("height %d: no connection of the store to terminate", h)
		}
		c := &store.Changes{Height: h, AppHash: []byte{byte(h)}, Writes: []store.Write{{Bucket: "b", Key: fmt.Appendf(nil, "k%02d", h), Value: []byte{byte(h)}}}}
		if err := s.Commit(ctx, c); err != nil {
			t.Fatalf("commit %d after its connections were terminated: %v", h, err)
		}
		terminate(t, url, schema)
		v, err := s.Get(ctx, "b", fmt.Appendf(nil, "k%02d", h))
		if err != nil || len(v) != 1 || v[0] != byte(h) {
			t.Fatalf("get %d after its connections were terminated: %x, %v", h, v, err)
		}
		terminate(t, url, schema)
		if _, err := s.Get(ctx, "b", []byte("absent")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get of an absent key after the connections were terminated: %v, want ErrNotFound", err)
		}
		terminate(t, url, schema)
		n := 0
		if err := s.Scan(ctx, "b", nil, func(k, v []byte) error { n++; return nil }); err != nil || n != int(h) {
			t.Fatalf("scan at height %d after its connections were terminated: %d keys, %v", h, n, err)
		}
		terminate(t, url, schema)
		if b, err := s.LastBlock(ctx); err != nil || b.Height != h {
			t.Fatalf("last block after its connections were terminated: %+v, %v", b, err)
		}
	}
	if s.Retries() == 0 {
		t.Fatal("no call was retried: the test terminated no connection in use")
	}
	t.Logf("%d calls retried", s.Retries())
}

// TestTransient classifies errors.
func TestTransient(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{pgx.ErrNoRows, false},
		{store.ErrHeight, false},
		{errors.New("syntax error"), false},
	} {
		if got := transient(c.err); got != c.want {
			t.Errorf("transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
