package record

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/evote/evote/internal/jsonout"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Writer writes a record folder: blocks in height order, streamed to their
// files, and the other files whole; Close writes record.json.
type Writer struct {
	dir        string
	index      Index
	files      map[string]File
	cur        *os.File
	curPath    string
	curBuf     *bufio.Writer
	curHash    hash.Hash
	curSize    int64
	lastHeight int64
}

// NewWriter creates dir (which must not exist or be empty) for a record of
// the given chain and election.
func NewWriter(dir, chainID, electionID string) (*Writer, error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("record: %s is not empty", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, BlocksDir), 0o755); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return &Writer{dir: dir, files: map[string]File{},
		index: Index{Format: Format, Version: Version, ChainID: chainID, ElectionID: electionID, FirstHeight: 1}}, nil
}

// AddBlock appends the next height's entry.
func (w *Writer) AddBlock(e *Entry) error {
	if e.Height != w.lastHeight+1 {
		return fmt.Errorf("record: block %d after %d", e.Height, w.lastHeight)
	}
	line, err := EncodeEntry(e)
	if err != nil {
		return err
	}
	if p := BlocksPath(e.Height); p != w.curPath {
		if err := w.closeChunk(); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(w.dir, filepath.FromSlash(p)))
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		w.cur, w.curPath, w.curHash, w.curSize = f, p, sha256.New(), 0
		w.curBuf = bufio.NewWriterSize(io.MultiWriter(f, w.curHash), 1<<20)
	}
	line = append(line, '\n')
	if _, err := w.curBuf.Write(line); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	w.curSize += int64(len(line))
	w.lastHeight = e.Height
	return nil
}

func (w *Writer) closeChunk() error {
	if w.cur == nil {
		return nil
	}
	err := w.curBuf.Flush()
	if cerr := w.cur.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("record: %s: %w", w.curPath, err)
	}
	w.files[w.curPath] = File{Path: w.curPath, SHA256: hex.EncodeToString(w.curHash.Sum(nil)), Size: w.curSize}
	w.cur = nil
	return nil
}

// WriteFile writes one of the record's other files.
func (w *Writer) WriteFile(name string, data []byte) error {
	if !knownFiles[name] {
		return fmt.Errorf("record: %q is not a file of the format", name)
	}
	if err := os.WriteFile(filepath.Join(w.dir, name), data, 0o644); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	sum := sha256.Sum256(data)
	w.files[name] = File{Path: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	return nil
}

// WriteJSON writes v as indented JSON with a final newline.
func (w *Writer) WriteJSON(name string, v any) error {
	b, err := jsonout.MarshalIndent(v, "  ")
	if err != nil {
		return fmt.Errorf("record: %s: %w", name, err)
	}
	return w.WriteFile(name, append(b, '\n'))
}

// WriteLines writes a JSON Lines file, one line per element of vs.
func WriteLines[T any](w *Writer, name string, vs []T) error {
	var out []byte
	for _, v := range vs {
		b, err := jsonout.Marshal(v)
		if err != nil {
			return fmt.Errorf("record: %s: %w", name, err)
		}
		out = append(append(out, b...), '\n')
	}
	return w.WriteFile(name, out)
}

// LastHeight returns the height of the last block added.
func (w *Writer) LastHeight() int64 { return w.lastHeight }

// Close finishes the last blocks file and writes record.json.
func (w *Writer) Close() error {
	if err := w.closeChunk(); err != nil {
		return err
	}
	if w.lastHeight == 0 {
		return fmt.Errorf("record: no blocks")
	}
	w.index.LastHeight = w.lastHeight
	w.index.Files = w.index.Files[:0]
	for _, f := range w.files {
		w.index.Files = append(w.index.Files, f)
	}
	sort.Slice(w.index.Files, func(i, j int) bool { return w.index.Files[i].Path < w.index.Files[j].Path })
	b, err := json.MarshalIndent(w.index, "", "  ")
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, IndexFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return nil
}

// Rehash recomputes record.json's hashes and sizes of the files it lists
// from the folder's current content (for tools and tests that edit a
// record; a verifier never does this).
func Rehash(dir string) error {
	r, err := Open(dir)
	if err != nil {
		return err
	}
	for i, f := range r.Index.Files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		sum := sha256.Sum256(b)
		r.Index.Files[i].SHA256, r.Index.Files[i].Size = hex.EncodeToString(sum[:]), int64(len(b))
	}
	b, err := json.MarshalIndent(r.Index, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, IndexFile), append(b, '\n'), 0o644)
}
