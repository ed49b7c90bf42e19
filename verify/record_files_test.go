package verify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evote/evote/record"
	"github.com/evote/evote/verify"
)

// verifyWithin verifies dir and fails the test if that takes more than
// 60 s (a hostile record that hangs the verifier fails instead of blocking
// the suite). It returns the report and the bytes allocated meanwhile.
func verifyWithin(t *testing.T, dir string) (*verify.Report, uint64) {
	t.Helper()
	type result struct {
		r     *verify.Report
		err   error
		alloc uint64
	}
	done := make(chan result, 1)
	go func() {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := verify.Record(context.Background(), dir, verify.Options{Workers: 2})
		runtime.ReadMemStats(&after)
		done <- result{r, err, after.TotalAlloc - before.TotalAlloc}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatalf("verify.Record: %v", res.err)
		}
		return res.r, res.alloc
	case <-time.After(60 * time.Second):
		t.Fatal("verification did not end within 60 s")
	}
	return nil, 0
}

// failures returns check n's failures, one a line.
func failures(r *verify.Report, n int) string {
	var b strings.Builder
	for _, c := range r.Checks {
		if c.Number == n {
			for _, f := range c.Failures {
				fmt.Fprintf(&b, "%s: %s\n", f.File, f.Message)
			}
		}
	}
	return b.String()
}

// TestRecordFiles: a record whose files are links, named pipes or
// oversized fails the check of each such file at once, with a message
// naming it and what is wrong, in memory that does not grow with the
// hostile file; the honest record still verifies.
func TestRecordFiles(t *testing.T) {
	src := buildRecord(t, t.TempDir(), 8)
	if r, _ := verifyWithin(t, src); !r.OK() {
		t.Fatalf("the honest record does not verify: %+v", r.Checks)
	}
	outside := t.TempDir()
	huge := func(file string, size int) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			b := make([]byte, 0, size)
			b = append(b, '[')
			for len(b) < size-3 {
				b = append(b, "{},"...)
			}
			b = append(b, "{}]"...)
			if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := record.Rehash(dir); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name  string
		check int
		want  string
		make  func(t *testing.T, dir string)
	}{
		{"blocks file linked to /dev/zero", verify.CheckIntegrity, "blocks/00000001.jsonl: is a symbolic link (to /dev/zero), not a regular file", func(t *testing.T, dir string) {
			p := filepath.Join(dir, blocksFile)
			os.Remove(p)
			must(t, os.Symlink("/dev/zero", p))
		}},
		{"genesis linked outside the folder", verify.CheckGenesis, "genesis.json: record: genesis.json: is a symbolic link (to " + outside, func(t *testing.T, dir string) {
			p := filepath.Join(dir, record.GenesisFile)
			must(t, os.Rename(p, filepath.Join(outside, "genesis.json")))
			must(t, os.Symlink(filepath.Join(outside, "genesis.json"), p))
		}},
		{"blocks folder linked", verify.CheckIntegrity, "reached through blocks, which is a symbolic link", func(t *testing.T, dir string) {
			must(t, os.Rename(filepath.Join(dir, "blocks"), filepath.Join(outside, "blocks")))
			must(t, os.Symlink(filepath.Join(outside, "blocks"), filepath.Join(dir, "blocks")))
		}},
		{"ceremony.json a named pipe", verify.CheckCeremony, "ceremony.json: record: ceremony.json: is a named pipe (FIFO)", func(t *testing.T, dir string) {
			p := filepath.Join(dir, record.CeremonyFile)
			os.Remove(p)
			must(t, syscall.Mkfifo(p, 0o644))
		}},
		{"ballots.jsonl truncated", verify.CheckIntegrity, "ballots.jsonl: 10 bytes, record.json says", func(t *testing.T, dir string) {
			must(t, os.Truncate(filepath.Join(dir, record.BallotsFile), 10))
		}},
		{"a 64 MiB ceremony.json array", verify.CheckCeremony, "ceremony messages on the chain can take", huge(record.CeremonyFile, 64<<20)},
		{"an 8 MiB shares.json", verify.CheckShares, "decryption shares on the chain can take", huge(record.SharesFile, 8<<20)},
		{"an 8 MiB election.json", verify.CheckDefinition, "the state of this election can take", huge(record.ElectionFile, 8<<20)},
		{"an 8 MiB result.json", verify.CheckCounts, "the result on the chain can take", huge(record.ResultFile, 8<<20)},
		{"an 8 MiB totals.json", verify.CheckTotals, "the encrypted totals of 10 selections can take", huge(record.TotalsFile, 8<<20)},
		{"an 8 MiB roll.json", verify.CheckRoll, "a roll of the 8 credentials on the chain can take", huge(record.RollFile, 8<<20)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyRecord(t, src)
			c.make(t, dir)
			r, alloc := verifyWithin(t, dir)
			if got := failures(r, c.check); !strings.Contains(got, c.want) {
				t.Fatalf("check %d: %q, want %q", c.check, got, c.want)
			}
			// The hostile file is hashed (streamed), never decoded.
			if alloc > 64<<20 {
				t.Errorf("verification allocated %d MiB", alloc>>20)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
