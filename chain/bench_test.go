package chain_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/chain/chaintest"
)

// BenchmarkBlock100Ballots finalises and commits blocks of 100 ballots on a
// node that has not seen them in CheckTx (so their proofs are verified in one
// batch per block), per ballot; the cost of admitting one voter's ballot at
// its node (App.VerifyBallot, as the web server calls it, then CheckTx),
// alone and 100 at a time; and CheckTx of a gossiped ballot, whose proofs
// are left to its block.
func BenchmarkBlock100Ballots(b *testing.B) {
	t := &testing.T{}
	e := chaintest.New(t, "test-chain", "city-2026", 100, t0, t0.Add(12*time.Hour))
	choices := ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID)
	setupBlocks := e.SetupBlocks(t)
	be := e.BallotElection(t)
	var txs [][]byte
	for i := range 100 {
		tx, _ := e.Cast(t, be, i, choices)
		txs = append(txs, tx)
	}
	b.Run("finalize", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			h := newHarnessB(b, e.GenesisAppState())
			for _, blk := range setupBlocks {
				h.block(blk...)
			}
			b.StartTimer()
			h.block(txs...)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(txs)), "ns/ballot")
	})
	b.Run("checktx", func(b *testing.B) {
		h := newHarnessB(b, e.GenesisAppState())
		for _, blk := range setupBlocks {
			h.block(blk...)
		}
		i := 0
		for b.Loop() {
			// A fresh node each 100 ballots so the cache never answers.
			if i == len(txs) {
				b.StopTimer()
				h = newHarnessB(b, e.GenesisAppState())
				for _, blk := range setupBlocks {
					h.block(blk...)
				}
				i = 0
				b.StartTimer()
			}
			h.app.VerifyBallot(context.Background(), txs[i])
			if r, _ := h.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: txs[i]}); r.Code != 0 {
				b.Fatal(r.Log)
			}
			i++
		}
	})
	b.Run("checktx-gossiped", func(b *testing.B) {
		h := newHarnessB(b, e.GenesisAppState())
		for _, blk := range setupBlocks {
			h.block(blk...)
		}
		i := 0
		for b.Loop() {
			if r, _ := h.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: txs[i%len(txs)]}); r.Code != 0 {
				b.Fatal(r.Log)
			}
			i++
		}
	})
	// The same 100 ballots checked concurrently, one call per transaction
	// as a node's mempool connection makes them (chain/node), so that their
	// proofs share batches; per ballot. One core, so that the figure is CPU
	// time comparable with checktx.
	b.Run("checktx-concurrent", func(b *testing.B) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		for b.Loop() {
			b.StopTimer()
			h := newHarnessB(b, e.GenesisAppState())
			for _, blk := range setupBlocks {
				h.block(blk...)
			}
			b.StartTimer()
			var wg sync.WaitGroup
			for _, tx := range txs {
				wg.Go(func() {
					h.app.VerifyBallot(context.Background(), tx)
					if r, _ := h.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: tx}); r.Code != 0 {
						b.Error(r.Log)
					}
				})
			}
			wg.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(txs)), "ns/ballot")
	})
}

// BenchmarkRecheck measures CheckTx of a ballot already verified (as after
// every block, when CometBFT rechecks the mempool).
func BenchmarkRecheck(b *testing.B) {
	t := &testing.T{}
	e := chaintest.New(t, "test-chain", "city-2026", 2, t0, t0.Add(12*time.Hour))
	h := newHarnessB(b, e.GenesisAppState())
	for _, blk := range e.SetupBlocks(t) {
		h.block(blk...)
	}
	tx, _ := e.Cast(t, e.BallotElection(t), 0, ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID))
	req := &abci.CheckTxRequest{Tx: tx, Type: abci.CHECK_TX_TYPE_RECHECK}
	h.app.CheckTx(context.Background(), req)
	for b.Loop() {
		if r, _ := h.app.CheckTx(context.Background(), req); r.Code != 0 {
			b.Fatal(r.Log)
		}
	}
}
