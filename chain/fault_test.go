package chain_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/chain/store/storetest"
	"github.com/evote/evote/wire"
)

// TestStoreFailureStopsTheBlock injects a failure into every read that
// executing a block makes, one at a time, and into its commit. Each time the
// application must refuse the block (FinalizeBlock or Commit returns an
// error, the application halts and says so) and store nothing of it; then an
// application restarted on the same store, with the store working again,
// executes the block to the same results and app hash as a node whose store
// never failed. Before, a failed read was taken for an absent key (a
// duplicate ballot accepted, a re-vote counted twice) or turned into a
// transaction's result (code 99), and the node silently forked.
func TestStoreFailureStopsTheBlock(t *testing.T) {
	e := chaintest.New(t, "test-chain", "city-2026", 6, t0, t0.Add(12*time.Hour))
	setupBlocks := e.SetupBlocks(t)
	be := e.BallotElection(t)
	choices := ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID)
	ref, h := newHarness(t, e.GenesisAppState()), newHarness(t, e.GenesisAppState())
	first := [][]byte{}
	for i := range 4 {
		tx, _ := e.Cast(t, be, i, choices)
		first = append(first, tx)
	}
	revote, _ := e.Cast(t, be, 0, choices)
	fresh, _ := e.Cast(t, be, 4, choices)
	stranger := chaintest.New(t, "test-chain", "city-2026", 1, t0, t0.Add(12*time.Hour))
	notOnRoll, _ := stranger.Cast(t, be, 0, choices)
	// The block under test: a re-vote, a new ballot, a replay, a ballot of a
	// credential not on the roll, and a second re-vote in the same block.
	revote2, _ := e.Cast(t, be, 0, choices)
	block := [][]byte{revote, fresh, first[1], notOnRoll, revote2}
	for _, hh := range []*harness{ref, h} {
		for _, blk := range setupBlocks {
			hh.mustBlock(blk...)
		}
		hh.mustBlock(first...)
	}
	want := ref.block(block...)
	wantHash := ref.hashes[len(ref.hashes)-1]

	ctx := context.Background()
	f := storetest.NewFaulty(h.st.(store.Store))
	before, err := f.LastBlock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := &abci.FinalizeBlockRequest{Height: h.height + 1, Time: h.clock, Txs: block}
	restart := func() (*chain.App, *[]error) {
		var fatal []error
		app, err := chain.NewApp(f, chain.AppOptions{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return h.clock }, OnFatal: func(err error) { fatal = append(fatal, err) }})
		if err != nil {
			t.Fatal(err)
		}
		f.Reset()
		return app, &fatal
	}
	unchanged := func(what string) {
		t.Helper()
		last, err := f.LastBlock(ctx)
		if err != nil || last.Height != before.Height || !bytes.Equal(last.AppHash, before.AppHash) {
			t.Fatalf("%s: the store moved to %+v (%v), was %+v", what, last, err, before)
		}
	}

	// How many reads the block makes on a freshly started node.
	app, _ := restart()
	if _, err := app.FinalizeBlock(ctx, req); err != nil {
		t.Fatal(err)
	}
	reads := f.Gets()
	if reads < 10 {
		t.Fatalf("the block made only %d reads", reads)
	}
	for i := 1; i <= reads; i++ {
		app, fatal := restart()
		f.FailGet(i)
		_, err := app.FinalizeBlock(ctx, req)
		if err == nil {
			t.Fatalf("read %d of %d failed, yet FinalizeBlock returned no error", i, reads)
		}
		if !errors.Is(err, storetest.ErrInjected) || !chain.IsStorageError(err) {
			t.Fatalf("read %d: FinalizeBlock: %v, want the storage error", i, err)
		}
		if len(*fatal) != 1 || app.Fatal() == nil {
			t.Fatalf("read %d: the application did not halt (OnFatal called %d times)", i, len(*fatal))
		}
		if _, err := app.Commit(ctx, &abci.CommitRequest{}); err == nil {
			t.Fatalf("read %d: a halted application committed", i)
		}
		unchanged("after a failed read")
	}

	t.Logf("each of the block's %d reads failed in turn: the block refused each time, nothing stored", reads)

	// The commit fails (a full disk, a lost connection at COMMIT).
	app, fatal := restart()
	if _, err := app.FinalizeBlock(ctx, req); err != nil {
		t.Fatal(err)
	}
	f.FailCommits(true)
	if _, err := app.Commit(ctx, &abci.CommitRequest{}); !errors.Is(err, storetest.ErrInjected) || len(*fatal) != 1 {
		t.Fatalf("failed commit: %v, OnFatal called %d times", err, len(*fatal))
	}
	if _, err := app.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Height: req.Height + 1, Time: h.clock}); err == nil {
		t.Fatal("a halted application finalised the next block")
	}
	unchanged("after a failed commit")

	// CheckTx on a store that cannot be read refuses with code 99, not with a
	// rule's code, and accepts once the store is back.
	app, _ = restart()
	f.FailGets(true)
	next, _ := e.Cast(t, be, 5, choices)
	if r, _ := app.CheckTx(ctx, &abci.CheckTxRequest{Tx: next}); r.Code != uint32(wire.CodeInternal) {
		t.Fatalf("CheckTx with the store failing: code %d (%s), want %d", r.Code, r.Log, wire.CodeInternal)
	}
	f.FailGets(false)
	if r, _ := app.CheckTx(ctx, &abci.CheckTxRequest{Tx: next}); r.Code != 0 {
		t.Fatalf("CheckTx with the store back: code %d (%s)", r.Code, r.Log)
	}

	// Restarted with the store working, the node executes the block as its
	// peers did.
	app, fatal = restart()
	res, err := app.FinalizeBlock(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Commit(ctx, &abci.CommitRequest{}); err != nil || len(*fatal) != 0 {
		t.Fatalf("commit after the store came back: %v", err)
	}
	if string(res.AppHash) != wantHash {
		t.Fatalf("app hash %x after the store came back, its peers have %x", res.AppHash, wantHash)
	}
	for i := range want {
		if res.TxResults[i].Code != want[i].Code {
			t.Fatalf("tx %d: code %d (%s), its peers %d (%s)", i, res.TxResults[i].Code, res.TxResults[i].Log, want[i].Code, want[i].Log)
		}
	}
	if want[2].Code != uint32(wire.CodeDuplicate) || want[3].Code != uint32(wire.CodeNotOnRoll) {
		t.Fatalf("the reference rejected the replay with %d and the stranger with %d", want[2].Code, want[3].Code)
	}
}

// TestCheckTxPanicIsRefused: a panic while checking a transaction is
// recovered into a rejection (code 99); the node goes on checking.
func TestCheckTxPanicIsRefused(t *testing.T) {
	h, e, be := setup(t)
	tx, _ := e.Cast(t, be, 0, ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID))
	chain.SetCheckPanic(h.app, func(b []byte) {
		if bytes.Equal(b, tx) {
			panic("boom")
		}
	})
	if r := h.check(tx); r.Code != uint32(wire.CodeInternal) {
		t.Fatalf("a check that panicked: code %d (%s), want %d", r.Code, r.Log, wire.CodeInternal)
	}
	other, _ := e.Cast(t, be, 1, ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID))
	if r := h.check(other); r.Code != 0 {
		t.Fatalf("the next check: code %d (%s)", r.Code, r.Log)
	}
}
