package rules_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
	lean.Spill(f, rules.BucketBallotCT)
	_, hashes, codes := replayOn(t, k, lean)
	for h, want := range wantHashes {
		if hashes[h] != want {
			t.Errorf("height %d: app hash %s, the whole state gives %s", h, hashes[h], want)
		}
		if got := codes[h]; !slices.Equal(got, wantCodes[h]) {
			t.Errorf("height %d: codes %v, the whole state gives %v", h, got, wantCodes[h])
		}
	}
	if fi, _ := f.Stat(); fi.Size() == 0 {
		t.Fatal("no ciphertexts were spilled")
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
