package node_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evote/evote/chain/node"
)

// TestEvoteConfigRoundTrip: evote.toml keeps the public host names (and
// the other settings) through a write and a read.
func TestEvoteConfigRoundTrip(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "config"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, hosts := range [][]string{nil, {"vote.example.org", "node2.example.org:443"}} {
		want := node.EvoteConfig{HTTPAddr: "127.0.0.1:8080", DatabaseSchema: "evote_a", PublicHosts: hosts}
		if err := node.WriteEvoteConfig(home, want); err != nil {
			t.Fatal(err)
		}
		got, err := node.LoadEvoteConfig(home)
		if err != nil {
			t.Fatal(err)
		}
		if got.HTTPAddr != want.HTTPAddr || got.DatabaseSchema != want.DatabaseSchema || !slices.Equal(got.PublicHosts, want.PublicHosts) {
			t.Fatalf("read %+v, wrote %+v", got, want)
		}
	}
}
