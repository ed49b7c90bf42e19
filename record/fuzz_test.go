package record_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/record"
)

// fuzzGenesis is the genesis.json of every fuzzed folder.
const fuzzGenesis = `{"chain_id":"fuzz-chain"}` + "\n"

const fuzzBlocks = "blocks/00000001.jsonl"

// fuzzRecord writes a record of two blocks with record.Writer and returns
// its record.json and its blocks file.
func fuzzRecord(tb testing.TB) (index, blocks []byte) {
	dir := filepath.Join(tb.TempDir(), "record")
	w, err := record.NewWriter(dir, "fuzz-chain", "fuzz-2026")
	if err != nil {
		tb.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var prev types.BlockID
	for h := int64(1); h <= 2; h++ {
		b := &types.Block{Header: types.Header{ChainID: "fuzz-chain", Height: h, Time: t0.Add(time.Duration(h) * time.Second),
			LastBlockID: prev, AppHash: bytes.Repeat([]byte{byte(h)}, 32)}, LastCommit: &types.Commit{}}
		b.Data.Txs = types.Txs{types.Tx("tx")}
		id := types.BlockID{Hash: b.Hash(), PartSetHeader: types.PartSetHeader{Total: 1, Hash: bytes.Repeat([]byte{7}, 32)}}
		cm := &types.Commit{Height: h, BlockID: id, Signatures: []types.CommitSig{{BlockIDFlag: types.BlockIDFlagCommit,
			ValidatorAddress: bytes.Repeat([]byte{1}, 20), Timestamp: b.Time, Signature: bytes.Repeat([]byte{2}, 64)}}}
		e := &record.Entry{Height: h, BlockID: id, Block: b, Commit: cm, Results: []record.TxResult{{Code: 1, Log: "no"}}, AppHash: b.AppHash}
		if err := w.AddBlock(e); err != nil {
			tb.Fatal(err)
		}
		prev = id
	}
	if err := w.WriteFile(record.GenesisFile, []byte(fuzzGenesis)); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	index, err = os.ReadFile(filepath.Join(dir, record.IndexFile))
	if err != nil {
		tb.Fatal(err)
	}
	if blocks, err = os.ReadFile(filepath.Join(dir, fuzzBlocks)); err != nil {
		tb.Fatal(err)
	}
	return index, blocks
}

// writeFolder writes a record folder of record.json, genesis.json and one
// blocks file.
func writeFolder(t *testing.T, dir string, index, blocks []byte) {
	must(t, os.MkdirAll(filepath.Join(dir, record.BlocksDir), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, record.IndexFile), index, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, record.GenesisFile), []byte(fuzzGenesis), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(fuzzBlocks)), blocks, 0o644))
}

// readAll reads every listed file of r the ways a verifier does: Check,
// ReadFile, and the blocks through Blocks. A file that Check passes must
// read whole with the hash record.json lists. It returns the number of
// blocks lines decoded, refused as bad and skipped.
func readAll(t *testing.T, r *record.Record) (decoded, bad int) {
	failed := map[string]bool{}
	fes, _ := r.Check(nil)
	for _, fe := range fes {
		if fe.Path == "" || fe.Reason == "" {
			t.Fatalf("Check: a failure without a path or a reason: %+v", fe)
		}
		failed[fe.Path] = true
	}
	for _, f := range r.Index.Files {
		b, err := r.ReadFile(f.Path)
		if failed[f.Path] {
			continue
		}
		if err != nil {
			t.Fatalf("Check passes %s but ReadFile fails: %v", f.Path, err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Size {
			t.Fatalf("ReadFile %s: %d bytes of SHA-256 %x, record.json says %d bytes of %s", f.Path, len(b), sum, f.Size, f.SHA256)
		}
	}
	_ = r.Blocks(1, r.Index.LastHeight, nil, func(e *record.Entry) error {
		if e.Block == nil || e.Commit == nil {
			t.Fatal("Blocks hands out an entry without its block or commit")
		}
		decoded++
		return nil
	}, func(path string, line int, err error) error {
		if !errors.Is(err, record.ErrFormat) {
			t.Fatalf("%s line %d: a bad line's error is not ErrFormat: %v", path, line, err)
		}
		bad++
		return nil
	})
	return decoded, bad
}

// FuzzOpen builds record folders from fuzzed bytes and reads them with
// package record, which must return errors, never panic or hang. The first
// input is record.json as it is, next to genesis.json and the second input
// as blocks/00000001.jsonl: Open refuses it or opens it, and every file
// that Check passes reads whole with its listed hash. Then the blocks file
// is listed with its true hash and size: Open, Check and ReadFile must
// accept it, Lines must find its lines (failing only on a last line
// without a newline), and Blocks must decode, refuse as ErrFormat or skip
// (by height) every line.
func FuzzOpen(f *testing.F) {
	index, blocks := fuzzRecord(f)
	f.Add(index, blocks)
	f.Add(index, blocks[:len(blocks)-1])
	f.Add(index, bytes.Replace(blocks, []byte(`"height":"2"`), []byte(`"height":"9"`), 1))
	f.Add(bytes.Replace(index, []byte(`"last_height": 2`), []byte(`"last_height": 1001`), 1), blocks)
	f.Add([]byte(`{"format":"evote/v1/record","version":1,"first_height":1,"last_height":1,"files":[{"path":"../x","sha256":"","size":0}]}`), []byte("{}\n"))
	f.Add([]byte(`{"files":[`), []byte(`{"height":"1","block":{"data":{"txs":["AA=="]}}}`+"\n"))
	f.Fuzz(func(t *testing.T, index, blocks []byte) {
		base := t.TempDir()
		dir := filepath.Join(base, "a")
		writeFolder(t, dir, index, blocks)
		if r, err := record.Open(dir); err == nil {
			if r.Index.FirstHeight != 1 || r.Index.LastHeight < 1 || r.Index.LastHeight > record.MaxHeight || !r.Has(record.GenesisFile) {
				t.Fatalf("Open accepts the index %+v", r.Index)
			}
			readAll(t, r)
		}

		lines := bytes.Count(blocks, []byte("\n"))
		sum := sha256.Sum256(blocks)
		gsum := sha256.Sum256([]byte(fuzzGenesis))
		ix := record.Index{Format: record.Format, Version: record.Version, ChainID: "fuzz-chain", ElectionID: "fuzz-2026",
			FirstHeight: 1, LastHeight: int64(min(max(lines, 1), record.ChunkHeights)), Files: []record.File{
				{Path: fuzzBlocks, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(blocks))},
				{Path: record.GenesisFile, SHA256: hex.EncodeToString(gsum[:]), Size: int64(len(fuzzGenesis))}}}
		honest, _ := json.Marshal(ix)
		dir = filepath.Join(base, "b")
		writeFolder(t, dir, honest, blocks)
		r, err := record.Open(dir)
		if err != nil {
			t.Fatalf("Open of a folder listed with its true hashes: %v", err)
		}
		if fes, _ := r.Check(nil); len(fes) != 0 {
			t.Fatalf("Check of a folder listed with its true hashes: %v", fes[0])
		}
		if b, err := r.ReadFile(fuzzBlocks); err != nil || !bytes.Equal(b, blocks) {
			t.Fatalf("ReadFile: %d bytes, %v; want the %d bytes written", len(b), err, len(blocks))
		}
		n := 0
		err = r.Lines(fuzzBlocks, func(k int, line []byte) error {
			if n++; k != n || bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("Lines: line %d numbered %d, %q", n, k, line)
			}
			return nil
		})
		if unterminated := len(blocks) > 0 && blocks[len(blocks)-1] != '\n'; (err != nil) != unterminated || n != lines {
			t.Fatalf("Lines: %d lines, %v; the file has %d newlines, a last line without one: %v", n, err, lines, unterminated)
		}
		decoded, bad := readAll(t, r)
		if !bytes.HasSuffix(blocks, []byte("\n")) && len(blocks) > 0 {
			return // Blocks stops at the unterminated line
		}
		skipped := 0
		for _, line := range bytes.Split(blocks, []byte("\n"))[:lines] {
			if h := record.PeekHeight(line); h != 0 && h > ix.LastHeight {
				skipped++
			}
		}
		if decoded+bad+skipped != lines {
			t.Fatalf("Blocks: %d lines decoded, %d bad, %d skipped, of %d", decoded, bad, skipped, lines)
		}
	})
}
