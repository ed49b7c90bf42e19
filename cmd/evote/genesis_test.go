package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var fingerprintLine = regexp.MustCompile(`(?m)^genesis SHA-256: +([0-9a-f]{64})$`)

// printedFingerprint returns the genesis fingerprint a command printed.
func printedFingerprint(t *testing.T, out string) string {
	t.Helper()
	m := fingerprintLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no \"genesis SHA-256:\" line in\n%s", out)
	}
	return m[1]
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestGenesisFingerprint follows the genesis ceremony of docs/operations.md
// on a real chain (the demo's 4 node processes and its exported record):
// the fingerprint `evote node genesis` prints for the chain's genesis is the
// one `evote node show` prints on every node, `sha256sum` of the node's
// genesis file and of the record's genesis.json, and the one `evote verify
// --genesis-sha256` accepts; any other value fails check 2 with a message
// naming both values.
func TestGenesisFingerprint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster")
	}
	exe := buildEvote(t)
	dir := filepath.Join(t.TempDir(), "demo")
	if out, code := runBinary(t, exe, "demo", "--dir", dir, "--voters", "4", "--clients", "2", "--config", "../../election-configs/referendum.yaml"); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, out)
	}
	rec := filepath.Join(dir, "record")

	// Every operator runs node show; all print one fingerprint.
	var fp string
	var validators []string
	for i := range 4 {
		home := filepath.Join(dir, "net", fmt.Sprintf("node%d", i))
		got := printedFingerprint(t, mustEvote(t, "node", "show", "--home", home))
		if fp == "" {
			fp = got
		} else if got != fp {
			t.Fatalf("node%d shows genesis SHA-256 %s, node0 %s", i, got, fp)
		}
		var id struct {
			Key         string `json:"validator_key"`
			Fingerprint string `json:"genesis_sha256"`
		}
		if err := json.Unmarshal([]byte(mustEvote(t, "node", "show", "--home", home, "--json")), &id); err != nil {
			t.Fatal(err)
		}
		if id.Fingerprint != fp {
			t.Fatalf("node show --json: genesis_sha256 %q, text %s", id.Fingerprint, fp)
		}
		validators = append(validators, fmt.Sprintf("node%d=%s", i, id.Key))
		// The documented sha256sum comparison holds for a genesis evote wrote.
		if s := fileSHA256(t, filepath.Join(home, "config", "genesis.json")); s != fp {
			t.Errorf("sha256sum node%d/config/genesis.json = %s, node show prints %s", i, s, fp)
		}
	}

	// The coordinator's command, with the inputs of this chain's genesis,
	// prints the same fingerprint and writes a file whose sha256sum it is.
	var g struct {
		ChainID  string `json:"chain_id"`
		Time     string `json:"genesis_time"`
		AppState struct {
			Officials []string `json:"officials"`
		} `json:"app_state"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "net", "node0", "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "genesis.json")
	args := []string{"node", "genesis", "--out", out, "--chain-id", g.ChainID, "--time", g.Time}
	for _, v := range validators {
		args = append(args, "--validator", v)
	}
	for _, k := range g.AppState.Officials {
		args = append(args, "--official-key", k)
	}
	if got := printedFingerprint(t, mustEvote(t, args...)); got != fp {
		t.Fatalf("node genesis prints %s, node show %s", got, fp)
	}
	if s := fileSHA256(t, out); s != fp {
		t.Errorf("sha256sum of the file node genesis wrote = %s, it printed %s", s, fp)
	}

	// The record exported from the nodes holds the same bytes.
	if s := fileSHA256(t, filepath.Join(rec, "genesis.json")); s != fp {
		t.Errorf("sha256sum record/genesis.json = %s, node show prints %s", s, fp)
	}

	// The observer checks the published value.
	for _, want := range []string{fp, strings.ToUpper(fp)} {
		stdout, stderr, code := evote(t, "verify", "--record", rec, "--genesis-sha256", want)
		if code != 0 || !strings.Contains(stdout, "all checks passed") || !strings.Contains(stdout, "genesis SHA-256 "+fp) {
			t.Fatalf("verify --genesis-sha256 %s: exit %d\n%s%s", want, code, stdout, stderr)
		}
	}

	// Another chain's fingerprint fails check 2, naming both values.
	wrong := []byte(fp)
	if wrong[0] = '0'; fp[0] == '0' {
		wrong[0] = '1'
	}
	stdout, stderr, code := evote(t, "verify", "--record", rec, "--genesis-sha256", string(wrong))
	if code != 1 || !strings.Contains(stdout, "genesis fingerprint "+fp+", expected "+string(wrong)+": this record is of another chain") {
		t.Fatalf("verify with a wrong fingerprint: exit %d, want 1 and check 2 naming both values\n%s%s", code, stdout, stderr)
	}
	// A value that is no fingerprint at all says so.
	stdout, stderr, code = evote(t, "verify", "--record", rec, "--genesis-sha256", "sha256:"+fp)
	if code != 1 || !strings.Contains(stdout, "is not 64 hex digits") {
		t.Fatalf("verify with a malformed fingerprint: exit %d\n%s%s", code, stdout, stderr)
	}
}
