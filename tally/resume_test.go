package tally

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/evote/evote/chain/store"
)

// TestResume kills the service in the middle of a catch-up and stops a
// running service with Close: over the same store, a new service resumes
// from the last committed height to exactly the totals, and the state hash,
// of a service that ran without interruption.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	testResume(t, pebbleStore(t, filepath.Join(dir, "a")), func() store.Store {
		return pebbleStore(t, filepath.Join(dir, "a"))
	})
}

// TestResumePostgres is TestResume with the service's state in PostgreSQL
// (a schema of its own, dropped at the end).
func TestResumePostgres(t *testing.T) {
	first, reopen := postgresStore(t)
	testResume(t, first, reopen)
}

func testResume(t *testing.T, first store.Store, reopen func() store.Store) {
	tc := newTestChain(t, 1, 6)
	tc.setup()
	rng := rand.New(rand.NewPCG(3, 4))
	tl := newTally(tc.e.Manifest)
	cast := func(voters ...int) {
		var txs [][]byte
		for _, i := range voters {
			tx, _ := tc.e.Cast(t, tc.be, i, tl.vote(rng, i))
			txs = append(txs, tx)
		}
		tc.submit(txs...)
	}
	cast(0, 1, 2, 3)
	cast(0, 2, 4)
	auditTx, _ := tc.audit(rng, 5)
	tc.submit(auditTx)
	cast(1)

	// Killed in the middle of catching up: the context ends after height mid.
	chainHeight := func() int64 {
		st, err := tc.client(0).Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return st.SyncInfo.LatestBlockHeight
	}
	mid := chainHeight() - 2
	svc := tc.newService(0, first)
	ctx, cancel := context.WithCancel(t.Context())
	svc.afterBlock = func(h int64) {
		if h == mid {
			cancel()
		}
	}
	if _, err := svc.Step(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Step cancelled mid-catch-up: %v", err)
	}
	if p := svc.Progress(); p.Height != mid {
		t.Fatalf("killed at height %d, want %d", p.Height, mid)
	}
	first.Close()

	st := reopen()
	svc = tc.newService(0, st)
	if p := svc.Progress(); p.Height != mid {
		t.Fatalf("resumed at height %d, want %d", p.Height, mid)
	}
	if _, err := svc.Step(t.Context()); err != nil {
		t.Fatal(err)
	}

	// An uninterrupted service over a fresh store.
	fresh := pebbleStore(t, filepath.Join(t.TempDir(), "fresh"))
	ref := tc.newService(0, fresh)
	if _, err := ref.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	same := func(what string, counted int) {
		t.Helper()
		// The chain keeps making (empty) blocks: step whichever service is
		// behind until both have processed the same height.
		a, _ := st.LastBlock(t.Context())
		b, _ := fresh.LastBlock(t.Context())
		for range 20 {
			if a.Height == b.Height {
				break
			}
			behind := svc
			if b.Height < a.Height {
				behind = ref
			}
			if _, err := behind.Step(t.Context()); err != nil {
				t.Fatal(err)
			}
			a, _ = st.LastBlock(t.Context())
			b, _ = fresh.LastBlock(t.Context())
		}
		if a.Height != b.Height || !bytes.Equal(a.AppHash, b.AppHash) {
			t.Fatalf("%s: resumed state at %d %x, uninterrupted %d %x", what, a.Height, a.AppHash, b.Height, b.AppHash)
		}
		tot, _ := svc.Totals()
		var enc []byte
		for _, c := range tot.Contests {
			for _, s := range c.Selections {
				enc = append(enc, s.Ciphertext...)
			}
		}
		if !bytes.Equal(enc, tc.chainTotals(0)) {
			t.Fatalf("%s: resumed totals differ from the chain's", what)
		}
		if p, q := svc.Progress(), ref.Progress(); p.Counted != counted || p.Counted != q.Counted || p.Replaced != q.Replaced || p.Audited != 1 {
			t.Fatalf("%s: resumed %+v, uninterrupted %+v", what, p, q)
		}
	}
	same("after a kill mid-catch-up", 5)

	// A running service stopped with Close, more ballots meanwhile.
	done := make(chan error, 1)
	go func() { done <- svc.Run(context.Background()) }()
	cast(3, 5)
	waitFor(t, "the running service to count", 10*time.Second, func() bool { return svc.Progress().Cast == 10 })
	cast(4)
	svc.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run after Close: %v", err)
	}
	svc = tc.newService(0, st)
	if _, err := svc.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := ref.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	same("after Close and resume", 6)
}
