package rules_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
)

// TestMemStateLean replays the known-answer blocks (a re-vote among them,
// which reads the replaced ballot's ciphertexts back) on a state that keeps
// the tracking codes for the app hash only and the ciphertexts in a file:
// the app hashes and outcomes are those of the whole state, and what it
// keeps reads back the same.
func TestMemStateLean(t *testing.T) {
	k := loadKAT(t)
	whole, wantHashes, wantCodes := replayAll(t, k)
	f, err := os.Create(filepath.Join(t.TempDir(), "spill"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lean := rules.NewMemState()
	lean.HashOnly(rules.BucketTracking)
	lean.Spill(f, rules.BucketBallotCT, rules.BucketBallot, rules.BucketCurrent)
	_, hashes, codes := replayOn(t, k, lean)
	for h, want := range wantHashes {
		if hashes[h] != want {
			t.Errorf("height %d: app hash %s, the whole state gives %s", h, hashes[h], want)
		}
		if got := codes[h]; !slices.Equal(got, wantCodes[h]) {
			t.Errorf("height %d: codes %v, the whole state gives %v", h, got, wantCodes[h])
		}
	}
	n := 0
	whole.Scan(rules.BucketBallotCT, nil, func(key, v []byte) {
		n++
		got, ok, err := lean.Get(rules.BucketBallotCT, key)
		if err != nil || !ok || !bytes.Equal(got, v) {
			t.Errorf("spilled %x: %x, %v, %v; want %x", key, got, ok, err, v)
		}
	})
	m := 0
	lean.Scan(rules.BucketBallotCT, nil, func(key, v []byte) { m++ })
	if n == 0 || m != n {
		t.Errorf("scan of the spilled bucket: %d values, the whole state has %d", m, n)
	}
	if _, _, err := lean.Get(rules.BucketTracking, []byte("x")); err == nil || !strings.Contains(err.Error(), `bucket "tracking"`) {
		t.Errorf("Get of a hash-only bucket: %v, want an error naming it", err)
	}
	if err := lean.ScanFrom(rules.BucketTracking, nil, nil, func(_, _ []byte) error { return nil }); err == nil {
		t.Error("ScanFrom of a hash-only bucket: no error")
	}
}

// TestMemStateSpill: values of a spilled bucket go to the file (a
// megabyte at a time) and read back, by Get and Scan, whether written yet
// or not; if the file cannot be written they stay in memory.
func TestMemStateSpill(t *testing.T) {
	dir := t.TempDir()
	for _, writable := range []bool{true, false} {
		p := filepath.Join(dir, fmt.Sprint(writable))
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		flag := os.O_RDONLY
		if writable {
			flag = os.O_RDWR
		}
		f, err := os.OpenFile(p, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st := rules.NewMemState()
		st.Spill(f, rules.BucketBallotCT)
		const n = 3000
		val := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 600+i%7) }
		key := func(i int) []byte {
			h := crypto.Hash("k", []byte(fmt.Sprint(i)))
			return rules.Key("e", h[:])
		}
		for i := range n {
			st.Put(rules.BucketBallotCT, key(i), val(i))
		}
		st.Put(rules.BucketBallotCT, key(7), []byte("replaced"))
		for i := range n {
			want := val(i)
			if i == 7 {
				want = []byte("replaced")
			}
			if got, ok, err := st.Get(rules.BucketBallotCT, key(i)); err != nil || !ok || !bytes.Equal(got, want) {
				t.Fatalf("writable %v: value %d: %d bytes, %v, %v", writable, i, len(got), ok, err)
			}
		}
		m := 0
		st.Scan(rules.BucketBallotCT, rules.Key("e"), func(_, _ []byte) { m++ })
		if m != n {
			t.Errorf("writable %v: scan gives %d values, want %d", writable, m, n)
		}
		fi, _ := f.Stat()
		if writable && fi.Size() < 1<<20 {
			t.Errorf("%d bytes written to the file, want the first megabytes", fi.Size())
		}
	}
}

// TestMemStatePutCopies: a value the caller changes after Put is not
// changed in the state (nor kept alive through it).
func TestMemStatePutCopies(t *testing.T) {
	st := rules.NewMemState()
	v := []byte("value")
	st.Put(rules.BucketMeta, []byte("k"), v)
	v[0] = 'X'
	if got, _, _ := st.Get(rules.BucketMeta, []byte("k")); string(got) != "value" {
		t.Fatalf("got %q after the caller changed its slice", got)
	}
}
