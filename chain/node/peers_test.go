package node

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cometbft/cometbft/p2p"
)

// TestReadIdentityFileBounds: an oversize identity file and a FIFO are
// refused before reading (a FIFO would block the reader forever).
func TestReadIdentityFileBounds(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"moniker": "`+strings.Repeat("x", MaxIdentityFile)+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadIdentityFile(big); err == nil || !strings.Contains(err.Error(), "more than 16384") {
		t.Errorf("oversize file: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if _, err := ReadIdentityFile(fifo); err == nil || !strings.Contains(err.Error(), "a named pipe (FIFO), not a regular file") {
		t.Errorf("FIFO: %v", err)
	}
}

// TestPeerAddress: the address the others dial, from the external address
// or a listening address that names a host.
func TestPeerAddress(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct{ external, listen, want string }{
		{"", "tcp://127.0.0.1:26656", id + "@127.0.0.1:26656"},
		{"node.example:26656", "tcp://0.0.0.0:26656", id + "@node.example:26656"},
		{"", "tcp://0.0.0.0:26656", ""},
		{"", "tcp://[::]:26656", ""},
		{"", "tcp://:26656", ""},
		{"", "garbage", ""},
	} {
		if got := peerAddress(p2p.ID(id), c.external, c.listen); got != c.want {
			t.Errorf("peerAddress(%q, %q) = %q, want %q", c.external, c.listen, got, c.want)
		}
	}
	for _, bad := range []string{"no-at", id + "@host", id + "@:1", id + "@h:0", "ABC@h:1", strings.ToUpper(id) + "@h:1"} {
		if CheckPeerAddress(bad) == nil {
			t.Errorf("CheckPeerAddress(%q) accepted", bad)
		}
	}
	if err := CheckPeerAddress(id + "@[::1]:26656"); err != nil {
		t.Error(err)
	}
}
