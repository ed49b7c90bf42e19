package chain_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// TestAppHashKnownAnswer runs the known-answer blocks of the rules
// (rules/testdata/kat-blocks.json) through the node's application over
// Pebble, with InitChain, CheckTx-free FinalizeBlock and Commit as CometBFT
// drives them, and a restart in the middle: the app hashes are the rules'
// (the node adds no state of its own), and the last is the one
// rules.TestAppHashKnownAnswer pins.
func TestAppHashKnownAnswer(t *testing.T) {
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
	open := func() (*chain.App, func()) {
		st, err := pebblestore.New(ctx, pebblestore.Config{Dir: dir})
		if err != nil {
			t.Fatal(err)
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
	for _, b := range k.Blocks {
		var txs [][]byte
		for _, s := range b.Txs {
			tx, _ := base64.StdEncoding.DecodeString(s)
			txs = append(txs, tx)
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
	if got := hex.EncodeToString(last); got != "d030b6db343133c3b5666b20f2e5421703035f4a3e81c4d7f92c6035e9424859" {
		t.Errorf("last app hash %s, pinned d030b6db…", got)
	}
}
