package record_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evote/evote/record"
)

// within runs f and fails the test if it does not return in 30 s: a read
// that hangs (a named pipe, /dev/zero) fails instead of blocking the suite.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("did not return within 30 s")
	}
}

// smallRecord writes a folder of the record format: record.json listing
// genesis.json, one blocks file and ceremony.json with their true hashes
// and sizes (their content does not matter to package record).
func smallRecord(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "record")
	files := map[string]string{
		record.GenesisFile:      `{"chain_id":"c"}` + "\n",
		"blocks/00000001.jsonl": `{"height":"1"}` + "\n" + `{"height":"2"}` + "\n",
		record.CeremonyFile:     `[{"a":1},{"b":2}]` + "\n",
	}
	ix := record.Index{Format: record.Format, Version: record.Version, ChainID: "c", ElectionID: "e", FirstHeight: 1, LastHeight: 2}
	for _, p := range []string{record.GenesisFile, "blocks/00000001.jsonl", record.CeremonyFile} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(files[p]), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(files[p]))
		ix.Files = append(ix.Files, record.File{Path: p, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(files[p]))})
	}
	b, _ := json.MarshalIndent(ix, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, record.IndexFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkFails opens dir, checks it, and returns the failure of path.
func checkFails(t *testing.T, dir, path string) *record.FileError {
	t.Helper()
	var bad []*record.FileError
	within(t, func() {
		r, err := record.Open(dir)
		if err != nil {
			t.Errorf("Open: %v", err)
			return
		}
		bad, _ = r.Check(nil)
	})
	for _, fe := range bad {
		if fe.Path == path {
			return fe
		}
	}
	t.Fatalf("Check reported no failure of %s: %v", path, bad)
	return nil
}

func TestHonestSmallRecord(t *testing.T) {
	dir := smallRecord(t)
	r, err := record.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if bad, n := r.Check(nil); len(bad) != 0 || n == 0 {
		t.Fatalf("Check: %v (%d bytes)", bad, n)
	}
	if b, err := r.ReadFile(record.CeremonyFile); err != nil || !bytes.HasPrefix(b, []byte("[{")) {
		t.Fatalf("ReadFile: %q, %v", b, err)
	}
	lines := 0
	if err := r.Lines("blocks/00000001.jsonl", func(int, []byte) error { lines++; return nil }); err != nil || lines != 2 {
		t.Fatalf("Lines: %d lines, %v", lines, err)
	}
}

// TestNotRegularFiles: a symbolic link at the file or at a folder level,
// /dev/zero, a named pipe, or a listed path that is a directory, is refused
// at once with an error naming the file and what it is, by Check, ReadFile
// and Lines alike; nothing behind the link is read.
func TestNotRegularFiles(t *testing.T) {
	outside := t.TempDir()
	cases := []struct {
		name, path, want string
		make             func(t *testing.T, dir string)
	}{
		{"genesis linked outside", record.GenesisFile, "is a symbolic link (to " + outside, func(t *testing.T, dir string) {
			p := filepath.Join(dir, record.GenesisFile)
			copyFile(t, p, filepath.Join(outside, "genesis.json")) // the same bytes: only the link is wrong
			os.Remove(p)
			must(t, os.Symlink(filepath.Join(outside, "genesis.json"), p))
		}},
		{"genesis linked inside", record.GenesisFile, "is a symbolic link (to ceremony.json)", func(t *testing.T, dir string) {
			p := filepath.Join(dir, record.GenesisFile)
			os.Remove(p)
			must(t, os.Symlink("ceremony.json", p))
		}},
		{"blocks file linked to /dev/zero", "blocks/00000001.jsonl", "is a symbolic link (to /dev/zero)", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "blocks/00000001.jsonl")
			os.Remove(p)
			must(t, os.Symlink("/dev/zero", p))
		}},
		{"blocks folder linked", "blocks/00000001.jsonl", "reached through blocks, which is a symbolic link", func(t *testing.T, dir string) {
			other := filepath.Join(outside, "blocks")
			must(t, os.Rename(filepath.Join(dir, "blocks"), other))
			must(t, os.Symlink(other, filepath.Join(dir, "blocks")))
		}},
		{"ceremony a named pipe", record.CeremonyFile, "is a named pipe (FIFO)", func(t *testing.T, dir string) {
			p := filepath.Join(dir, record.CeremonyFile)
			os.Remove(p)
			must(t, syscall.Mkfifo(p, 0o644))
		}},
		{"ceremony a directory", record.CeremonyFile, "is a directory", func(t *testing.T, dir string) {
			p := filepath.Join(dir, record.CeremonyFile)
			os.Remove(p)
			must(t, os.Mkdir(p, 0o755))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := smallRecord(t)
			c.make(t, dir)
			fe := checkFails(t, dir, c.path)
			if !errors.Is(fe, record.ErrNotRegular) || !strings.Contains(fe.Reason, c.want) {
				t.Fatalf("Check: %v, want ErrNotRegular and %q", fe, c.want)
			}
			r, err := record.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			within(t, func() {
				var err error
				if strings.HasPrefix(c.path, "blocks/") {
					err = r.Lines(c.path, func(int, []byte) error { return nil })
				} else {
					_, err = r.ReadFile(c.path)
				}
				if !errors.Is(err, record.ErrNotRegular) || !strings.Contains(err.Error(), c.path+": ") {
					t.Errorf("reading %s: %v, want ErrNotRegular naming the file", c.path, err)
				}
			})
		})
	}
	t.Run("record.json a named pipe", func(t *testing.T) {
		dir := smallRecord(t)
		p := filepath.Join(dir, record.IndexFile)
		os.Remove(p)
		must(t, syscall.Mkfifo(p, 0o644))
		within(t, func() {
			if _, err := record.Open(dir); !errors.Is(err, record.ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") {
				t.Errorf("Open: %v, want ErrNotRegular", err)
			}
		})
	})
}

// TestListedSize: a file longer or shorter than record.json lists fails
// on its size, before it is hashed or read, and so does a file that grows
// or shrinks after it was opened.
func TestListedSize(t *testing.T) {
	for _, c := range []struct {
		name, want string
		edit       func(p string) error
	}{
		{"longer", "bytes, record.json says 18", func(p string) error { return appendTo(p, strings.Repeat("x", 1<<20)) }},
		{"truncated", "7 bytes, record.json says 18", func(p string) error { return os.Truncate(p, 7) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := smallRecord(t)
			must(t, c.edit(filepath.Join(dir, record.CeremonyFile)))
			fe := checkFails(t, dir, record.CeremonyFile)
			if !errors.Is(fe, record.ErrSize) || !strings.Contains(fe.Reason, c.want) {
				t.Fatalf("Check: %v, want ErrSize and %q", fe, c.want)
			}
			r, _ := record.Open(dir)
			if _, err := r.ReadFile(record.CeremonyFile); !errors.Is(err, record.ErrSize) {
				t.Fatalf("ReadFile: %v, want ErrSize", err)
			}
		})
	}
	for _, c := range []struct {
		name, want string
		edit       func(p string) error
	}{
		{"grows after the open", "longer than the 18 bytes record.json says", func(p string) error { return appendTo(p, "more") }},
		{"shrinks after the open", "ends after 7 bytes, record.json says 18", func(p string) error { return os.Truncate(p, 7) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := smallRecord(t)
			r, _ := record.Open(dir)
			f, err := r.OpenFile(record.CeremonyFile)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			must(t, c.edit(filepath.Join(dir, record.CeremonyFile)))
			if _, err := io.ReadAll(f); !errors.Is(err, record.ErrSize) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("reading: %v, want %q", err, c.want)
			}
		})
	}
	t.Run("genesis larger than a genesis can be", func(t *testing.T) {
		dir := smallRecord(t)
		big := `{"chain_id":"` + strings.Repeat("x", record.MaxGenesisSize) + `"}`
		must(t, os.WriteFile(filepath.Join(dir, record.GenesisFile), []byte(big), 0o644))
		must(t, record.Rehash(dir))
		r, _ := record.Open(dir)
		if _, err := r.ReadFile(record.GenesisFile); !errors.Is(err, record.ErrSize) || !strings.Contains(err.Error(), "more than the 1048576 that a valid genesis.json can take") {
			t.Fatalf("ReadFile: %v", err)
		}
	})
	t.Run("line longer than its bound", func(t *testing.T) {
		dir := smallRecord(t)
		r, _ := record.Open(dir)
		err := r.LinesMax(record.CeremonyFile, 8, func(int, []byte) error { return nil })
		if !errors.Is(err, record.ErrFormat) || !strings.Contains(err.Error(), "line longer than 8 bytes") {
			t.Fatalf("LinesMax: %v", err)
		}
	})
}

// TestHostileIndex: a record.json of millions of listed files is refused at
// the first one that is not a file of the format, without decoding the
// rest; one larger than MaxIndexSize is refused on its size.
func TestHostileIndex(t *testing.T) {
	dir := smallRecord(t)
	p := filepath.Join(dir, record.IndexFile)
	var b bytes.Buffer
	b.WriteString(`{"format":"evote/v1/record","version":1,"first_height":1,"last_height":1,"files":[`)
	b.WriteString(strings.Repeat(`{},`, 10<<20/3))
	b.WriteString(`{}]}`)
	must(t, os.WriteFile(p, b.Bytes(), 0o644))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	within(t, func() {
		if _, err := record.Open(dir); !errors.Is(err, record.ErrFormat) || !strings.Contains(err.Error(), `lists "", which is not a file of the format`) {
			t.Errorf("Open: %v", err)
		}
	})
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("Open allocated %d bytes on a %d-byte record.json", alloc, b.Len())
	}
	// Aligned blocks files only: a name that is not the first height of a
	// chunk is refused, so a record lists at most MaxHeight/ChunkHeights.
	b.Reset()
	b.WriteString(`{"format":"evote/v1/record","version":1,"first_height":1,"last_height":1,"files":[{"path":"blocks/00000002.jsonl","sha256":"` + strings.Repeat("0", 64) + `","size":1}]}`)
	must(t, os.WriteFile(p, b.Bytes(), 0o644))
	if _, err := record.Open(dir); !errors.Is(err, record.ErrFormat) || !strings.Contains(err.Error(), "blocks/00000002.jsonl") {
		t.Errorf("Open: %v", err)
	}
	big := bytes.Repeat([]byte(" "), record.MaxIndexSize+1)
	must(t, os.WriteFile(p, big, 0o644))
	within(t, func() {
		if _, err := record.Open(dir); !errors.Is(err, record.ErrSize) {
			t.Errorf("Open: %v, want ErrSize", err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	must(t, err)
	must(t, os.WriteFile(to, b, 0o644))
}

func appendTo(p, s string) error {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
