package record

import (
	"bytes"
	"testing"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"
)

func sampleEntry(txs int) *Entry {
	b := &types.Block{Header: types.Header{ChainID: "c", Height: 7, Time: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), AppHash: []byte{1, 2, 3}},
		LastCommit: &types.Commit{Height: 6, Signatures: []types.CommitSig{{BlockIDFlag: types.BlockIDFlagCommit, ValidatorAddress: make([]byte, 20), Signature: []byte{9}}}}}
	for i := range txs {
		b.Data.Txs = append(b.Data.Txs, bytes.Repeat([]byte{byte(i)}, 3500+i))
	}
	return &Entry{Height: 7, BlockID: types.BlockID{Hash: bytes.Repeat([]byte{5}, 32)}, Block: b,
		Commit:  &types.Commit{Height: 7, Signatures: []types.CommitSig{{BlockIDFlag: types.BlockIDFlagCommit, ValidatorAddress: make([]byte, 20), Signature: []byte{8}}}},
		Results: []TxResult{{Code: 0}, {Code: 3, Log: "no", Codespace: "evote"}}, AppHash: []byte{4, 5}}
}

// TestDecodeEntryAsCometBFT: DecodeEntry decodes a line to what CometBFT's
// JSON decoder gives, member by member (the re-encoding is the same line),
// for lines with and without transactions, results and app hash.
func TestDecodeEntryAsCometBFT(t *testing.T) {
	empty := sampleEntry(0)
	empty.Results, empty.AppHash = nil, nil
	for _, e := range []*Entry{sampleEntry(3), empty} {
		line, err := EncodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		var want Entry
		if err := cmtjson.Unmarshal(line, &want); err != nil {
			t.Fatal(err)
		}
		got, err := DecodeEntry(line)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := EncodeEntry(&want)
		b, _ := EncodeEntry(got)
		if !bytes.Equal(a, b) || !bytes.Equal(a, line) {
			t.Fatalf("decoded entry re-encodes as\n%s\nCometBFT's decoder gives\n%s", b, a)
		}
		if len(got.Block.Txs) != len(e.Block.Txs) || !bytes.Equal(got.Block.Data.Hash(), e.Block.Data.Hash()) {
			t.Fatalf("transactions differ")
		}
	}
	for _, bad := range []string{`{"height":"1","block":{"data":{"txs":["%%"]}},"commit":{}}`, `{"height":1}`, `{"block":{"header":{"height":"x"}}}`, `[`} {
		if _, err := DecodeEntry([]byte(bad)); err == nil {
			t.Errorf("%s decodes", bad)
		}
	}
}

func BenchmarkDecodeEntry(b *testing.B) {
	line, _ := EncodeEntry(sampleEntry(1500))
	b.Run("cometbft", func(b *testing.B) {
		for b.Loop() {
			var e Entry
			if err := cmtjson.Unmarshal(line, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("record", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeEntry(line); err != nil {
				b.Fatal(err)
			}
		}
	})
}
