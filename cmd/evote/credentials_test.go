package main

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evote/evote/ballot/credential"
)

// TestCredentialsGenerateFiles checks what the scripts cannot: file modes,
// that every code of codes.csv derives the key at its place on the roll, that
// the printed hashes are the roll's, and that no code reaches the output.
func TestCredentialsGenerateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := run([]string{"evote", "credentials", "generate", "--election-id", "demo-2026", "--count", "4",
		"--out", dir, "--kdf-memory", "64", "--kdf-time", "1", "--workers", "2"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for name, want := range map[string]os.FileMode{"roll.json": 0o644, "codes.csv": 0o600, "codes.html": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode: %v %v", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	roll, err := credential.Load(filepath.Join(dir, "roll.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := roll.Hash()
	if !strings.Contains(stdout.String(), "Roll hash:         "+hex.EncodeToString(h[:])) {
		t.Errorf("summary does not give the roll hash %x:\n%s", h, stdout.String())
	}
	f, err := os.ReadFile(filepath.Join(dir, "codes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("codes.csv: %d rows, %v", len(rows), err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "codes.html"))
	for i, row := range rows[1:] {
		c, err := credential.ParseCode(row[1])
		if err != nil {
			t.Fatal(err)
		}
		cred, err := credential.Derive(c, "demo-2026", credential.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		if j, ok := roll.Index(cred.PublicKey()); !ok || j != i || row[0] != string(rune('1'+i)) {
			t.Errorf("voter %s: key at %d, %v", row[0], j, ok)
		}
		out := stdout.String() + stderr.String()
		if strings.Contains(out, row[1]) || strings.Contains(out, row[1][:9]) {
			t.Errorf("a code reached the output")
		}
		if !bytes.Contains(html, []byte(`<p class="code">`+row[1]+`</p>`)) {
			t.Errorf("codes.html lacks the card of voter %s", row[0])
		}
	}

	// roll-hash prints the same hash.
	stdout.Reset()
	if code := run([]string{"evote", "credentials", "roll-hash", filepath.Join(dir, "roll.json")}, &stdout, &stderr); code != 0 ||
		stdout.String() != hex.EncodeToString(h[:])+"\n" {
		t.Errorf("roll-hash: exit %d, %q", code, stdout.String())
	}

	// --force replaces a private file that had looser permissions, with mode 0600.
	os.Chmod(filepath.Join(dir, "codes.csv"), 0o644)
	stdout.Reset()
	if code := run([]string{"evote", "credentials", "generate", "--election-id", "demo-2026", "--count", "1",
		"--out", dir, "--kdf-memory", "64", "--kdf-time", "1", "--force"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr.String())
	}
	if fi, _ := os.Stat(filepath.Join(dir, "codes.csv")); fi.Mode().Perm() != 0o600 {
		t.Errorf("codes.csv after --force has mode %v", fi.Mode().Perm())
	}
}
