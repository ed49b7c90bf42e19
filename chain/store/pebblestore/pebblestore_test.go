package pebblestore

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/chain/store/storetest"
)

// open opens a store in a folder named after the test and name, so that
// opening the same name again reopens the same store.
func open(t *testing.T, name string) store.Store {
	t.Helper()
	s, err := New(t.Context(), Config{Dir: testDir(t, name)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	dirsMu sync.Mutex
	dirs   = map[string]string{}
)

func testDir(t *testing.T, name string) string {
	dirsMu.Lock()
	defer dirsMu.Unlock()
	k := t.Name() + "\x00" + name
	if d, ok := dirs[k]; ok {
		return d
	}
	d := filepath.Join(t.TempDir(), "db")
	dirs[k] = d
	t.Cleanup(func() {
		dirsMu.Lock()
		delete(dirs, k)
		dirsMu.Unlock()
	})
	return d
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}

func TestNewErrors(t *testing.T) {
	if _, err := New(t.Context(), Config{}); err == nil || !strings.HasPrefix(err.Error(), "pebblestore: ") {
		t.Errorf("New without a folder = %v, want a pebblestore error", err)
	}

	dir := t.TempDir()
	s, err := New(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// The folder is locked while open.
	if s2, err := New(t.Context(), Config{Dir: dir}); err == nil {
		s2.Close()
		t.Error("New on a folder in use succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Another layout version is refused.
	db, err := pebble.Open(dir, &pebble.Options{Logger: logger{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(metaFormat, []byte("2"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := New(t.Context(), Config{Dir: dir}); err == nil || !strings.Contains(err.Error(), `layout version "2"`) {
		t.Errorf("New on a store of layout version 2 = %v, want it refused", err)
	}
}

func TestKeyLayout(t *testing.T) {
	if a, b := dataKey("a", []byte("bc")), dataKey("ab", []byte("c")); bytes.Equal(a, b) {
		t.Errorf("bucket a key bc and bucket ab key c share the Pebble key %q", a)
	}
	for _, tc := range []struct{ in, want string }{
		{"\x01a", "\x01b"}, {"\x01a\xff", "\x01b"}, {"\x01a\x00\xff\xff", "\x01a\x01"}, {"\xff", ""}, {"", ""},
	} {
		if got := prefixEnd([]byte(tc.in)); string(got) != tc.want {
			t.Errorf("prefixEnd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

const crashEnv = "EVOTE_PEBBLESTORE_CRASH_DIR"

// crashBlock is block h of the crash test: it sets c1 and c2 to h, adds
// log/h, deletes log/(h-1) and writes 64 KiB of filler, so that a block is
// large enough for a kill to land in the middle of writing it.
func crashBlock(h int64, filler []byte) *store.Changes {
	enc := binary.BigEndian.AppendUint64(nil, uint64(h))
	return &store.Changes{Height: h, AppHash: crashHash(h), Writes: []store.Write{
		{Bucket: "crash", Key: []byte("c1"), Value: enc},
		{Bucket: "crash", Key: fmt.Appendf(nil, "log/%08d", h), Value: enc},
		{Bucket: "crash", Key: fmt.Appendf(nil, "log/%08d", h-1), Delete: true},
		{Bucket: "filler", Key: fmt.Appendf(nil, "%d", h%16), Value: filler},
		{Bucket: "crash", Key: []byte("c2"), Value: enc},
	}}
}

func crashHash(h int64) []byte { return fmt.Appendf(nil, "crash-%d", h) }

// TestCrash kills a process that commits blocks in a loop with SIGKILL at
// random moments, and checks that the reopened store holds exactly its last
// block.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var last int64
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the child has committed its first block.
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "committed") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("crash child: %q, %v", line, err)
		}
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		s, err := New(t.Context(), Config{Dir: dir})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		h := checkCrashState(t, s)
		if h <= last {
			t.Errorf("round %d: last block %d, want more than %d", round, h, last)
		}
		t.Logf("round %d: killed at block %d", round, h)
		last = h
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// checkCrashState checks that the store holds every write of its last block
// and nothing of a later one, and returns the block's height.
func checkCrashState(t *testing.T, s store.Store) int64 {
	t.Helper()
	ctx := t.Context()
	b, err := s.LastBlock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.Height < 1 || !bytes.Equal(b.AppHash, crashHash(b.Height)) {
		t.Fatalf("LastBlock after SIGKILL = {%d, %q}", b.Height, b.AppHash)
	}
	enc := binary.BigEndian.AppendUint64(nil, uint64(b.Height))
	for _, k := range []string{"c1", "c2", fmt.Sprintf("log/%08d", b.Height)} {
		v, err := s.Get(ctx, "crash", []byte(k))
		if err != nil || !bytes.Equal(v, enc) {
			t.Errorf("block %d: %s = %x, %v; want %x", b.Height, k, v, err, enc)
		}
	}
	var logs []string
	err = s.Scan(ctx, "crash", []byte("log/"), func(k, v []byte) error {
		logs = append(logs, string(k))
		return nil
	})
	if err != nil || len(logs) != 1 {
		t.Errorf("block %d: log keys %q, %v; want only log/%08d", b.Height, logs, err, b.Height)
	}
	return b.Height
}

// crashChild commits blocks until it is killed.
func crashChild(t *testing.T, dir string) {
	s, err := New(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.LastBlock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	filler := make([]byte, 64<<10)
	for h := b.Height + 1; ; h++ {
		filler[h%int64(len(filler))]++
		if err := s.Commit(t.Context(), crashBlock(h, filler)); err != nil {
			t.Fatal(err)
		}
		if h == b.Height+1 {
			fmt.Println("committed")
		}
	}
}

func TestErrorsWrapSentinels(t *testing.T) {
	s := open(t, "errors")
	defer s.Close()
	_, err := s.Get(t.Context(), "b", []byte("k"))
	if !errors.Is(err, store.ErrNotFound) || !strings.HasPrefix(err.Error(), "pebblestore: ") {
		t.Errorf("Get of an absent key = %v", err)
	}
	err = s.Commit(t.Context(), &store.Changes{Height: 7})
	if !errors.Is(err, store.ErrHeight) || !strings.HasPrefix(err.Error(), "pebblestore: ") {
		t.Errorf("Commit out of order = %v", err)
	}
}

func BenchmarkCommit1000Writes(b *testing.B) {
	s, err := New(b.Context(), Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchCommit(b, s, 1000, 300)
}

func BenchmarkGet(b *testing.B) {
	s, err := New(b.Context(), Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchGet(b, s)
}
