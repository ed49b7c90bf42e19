package tally

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/wire"
)

// TestTestnet tallies an election on a 4-node testnet: ballots go to node
// 0, the service follows node 2, and the result is the test's choices.
func TestTestnet(t *testing.T) {
	if testing.Short() {
		t.Skip("a 4-node testnet")
	}
	tc := newTestChain(t, 4, 4)
	tc.setup()
	rng := rand.New(rand.NewPCG(5, 6))
	tl := newTally(tc.e.Manifest)
	var txs [][]byte
	for i := range 4 {
		tx, _ := tc.e.Cast(t, tc.be, i, tl.vote(rng, i))
		txs = append(txs, tx)
	}
	tc.submit(txs...)
	again, _ := tc.e.Cast(t, tc.be, 3, tl.vote(rng, 3))
	// The re-vote is committed before the official closes the election:
	// sent together, the close could be ordered first, as nodes check
	// transactions concurrently and gossip them by different paths.
	tc.submit(again)
	tc.submit(wire.Encode(chain.CloseTx(testChainID, tc.id, tc.e.Official)))

	svc := tc.newService(2, pebbleStore(t, filepath.Join(t.TempDir(), "tally")))
	done := make(chan error, 1)
	go func() { done <- svc.Run(context.Background()) }()
	defer svc.Close()
	waitFor(t, "the totals on the chain", 15*time.Second, func() bool { return tc.record(0).TotalsHeight > 0 })
	totals, err := tc.apps[0].Totals(t.Context(), tc.id)
	if err != nil {
		t.Fatal(err)
	}
	tc.submit(tc.decryptTx(0, totals), tc.decryptTx(1, totals))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no result: %+v", svc.Progress())
	}
	res, ok := svc.Result()
	if !ok {
		t.Fatal("no result")
	}
	var got []uint64
	for _, c := range res.Contests {
		for _, s := range c.Selections {
			got = append(got, s.Count)
		}
	}
	if want := tl.want(); !slices.Equal(got, want) {
		t.Fatalf("result %v, want %v", got, want)
	}
	waitFor(t, "every node to hold the result", 10*time.Second, func() bool {
		for i := range tc.apps {
			if tc.record(i).Phase != wire.PhaseTallied {
				return false
			}
		}
		return true
	})
}
