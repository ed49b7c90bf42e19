package chain_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// multiGetter is Pebble seen as a store that reads many keys at once (as
// PostgreSQL's does), counting the single reads of the buckets that
// rules.BallotReads lists (audits, which are not prefetched, read three of
// them too).
type multiGetter struct {
	store.Store
	singles, batches atomic.Int64
}

func (m *multiGetter) Get(ctx context.Context, bucket string, key []byte) ([]byte, error) {
	switch bucket {
	case rules.BucketCred, rules.BucketCurrent, rules.BucketBallot, rules.BucketAudited:
		m.singles.Add(1)
	}
	return m.Store.Get(ctx, bucket, key)
}

func (m *multiGetter) GetMany(ctx context.Context, keys []store.Key) ([][]byte, error) {
	m.batches.Add(1)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		v, err := m.Store.Get(ctx, k.Bucket, k.Key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// TestAppHashKnownAnswer runs the known-answer blocks of the rules
// (rules/testdata/kat-blocks.json) through the node's application over
// Pebble, with InitChain, CheckTx-free FinalizeBlock and Commit as CometBFT
// drives them, and a restart in the middle: the app hashes are the rules'
// (the node adds no state of its own), and the last is the one
// rules.TestAppHashKnownAnswer pins. It runs again over a store that reads
// many keys at once, so that the node prefetches each block's ballot reads:
// the same hashes, and no single read of a key BallotReads lists.
func TestAppHashKnownAnswer(t *testing.T) {
	t.Run("pebble", func(t *testing.T) { appHashKnownAnswer(t, false) })
	t.Run("prefetch", func(t *testing.T) { appHashKnownAnswer(t, true) })
}

func appHashKnownAnswer(t *testing.T, prefetch bool) {
	raw, err := os.ReadFile("../rules/testdata/kat-blocks.json")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		ChainID  string          `json:"chain_id"`
		AppState json.RawMessage `json:"app_state"`
		Blocks   []struct {
			Height int64     `json:"height"`
			Time   time.Time `json:"time"`
			Txs    []string  `json:"txs"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := context.Background()
	var mg *multiGetter
	open := func() (*chain.App, func()) {
		pb, err := pebblestore.New(ctx, pebblestore.Config{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		var st store.Store = pb
		if prefetch {
			mg = &multiGetter{Store: pb}
			st = mg
		}
		app, err := chain.NewApp(st, chain.AppOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return app, func() { st.Close() }
	}
	app, closeStore := open()
	if _, err := app.InitChain(ctx, &abci.InitChainRequest{ChainId: k.ChainID, AppStateBytes: k.AppState}); err != nil {
		t.Fatal(err)
	}
	_, officials, _ := chain.ParseGenesisState(k.AppState)
	r := rules.New(k.ChainID, officials)
	mem := rules.NewMemState()
	for _, w := range rules.GenesisWrites(k.ChainID, k.AppState) {
		mem.Put(w.Bucket, w.Key, w.Value)
	}
	var last []byte
	audits := 0 // after the restart
	for _, b := range k.Blocks {
		var txs [][]byte
		for _, s := range b.Txs {
			tx, _ := base64.StdEncoding.DecodeString(s)
			txs = append(txs, tx)
			if d, err := wire.Decode(tx); err == nil && b.Height > 6 {
				if _, ok := d.(*wire.Audit); ok {
					audits++
				}
			}
		}
		res, err := app.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Height: b.Height, Time: b.Time, Txs: txs})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Commit(ctx, &abci.CommitRequest{}); err != nil {
			t.Fatal(err)
		}
		blk := r.Block(b.Height, b.Time)
		for i, raw := range txs {
			tx, err := wire.Decode(raw)
			if err == nil {
				l := mem.Layer()
				if _, err = blk.Apply(l, rules.Tx{Raw: raw, Tx: tx, Index: i}); err == nil {
					l.Merge()
				}
			}
			if code, _ := rules.Outcome(err); uint32(code) != res.TxResults[i].Code {
				t.Errorf("height %d tx %d: the node's code %d, the rules' %d", b.Height, i, res.TxResults[i].Code, code)
			}
		}
		blk.End(mem)
		if want := mem.Commit(b.Height); !bytes.Equal(res.AppHash, want) {
			t.Fatalf("height %d: the node's app hash %x, the rules' %x", b.Height, res.AppHash, want)
		}
		last = res.AppHash
		if b.Height == 6 {
			closeStore()
			app, closeStore = open()
		}
	}
	closeStore()
	if prefetch {
		// After the restart at height 6 the blocks hold ballots and
		// re-votes, every read of which was prefetched, and audits.
		if n := mg.singles.Load(); n > int64(3*audits) || mg.batches.Load() == 0 {
			t.Errorf("after the restart: %d single reads of ballot keys (%d audits read 3 each), %d prefetches", n, audits, mg.batches.Load())
		}
	}
	if got := hex.EncodeToString(last); got != "d030b6db343133c3b5666b20f2e5421703035f4a3e81c4d7f92c6035e9424859" {
		t.Errorf("last app hash %s, pinned d030b6db…", got)
	}
}
