package record_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/record"
)

const testOfficial = "ed25519:ovovSjVboukHpTAJ6eN8rd96x+ZqCLoHYx9VMHKz8kw="

// writeTestGenesis writes a genesis as `evote node genesis` does.
func writeTestGenesis(t *testing.T) (string, []byte) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "genesis.json")
	_, err := node.WriteGenesis(file, node.GenesisOptions{
		ChainID:    "evote-fingerprint",
		Validators: []node.GenesisValidator{{Name: "org-a", Key: "akqgNCNe2kYg+SuackNX28ExBjlraIqSXc01+S/PATA="}, {Name: "org-b", Key: "ovovSjVboukHpTAJ6eN8rd96x+ZqCLoHYx9VMHKz8kw="}},
		Officials:  []string{testOfficial},
		Time:       time.Date(2027, 3, 1, 9, 0, 0, 123456789, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return file, raw
}

// TestGenesisFingerprintOfWrittenFile: a genesis as evote writes it is in
// canonical form, so its fingerprint is its sha256sum.
func TestGenesisFingerprintOfWrittenFile(t *testing.T) {
	file, raw := writeTestGenesis(t)
	info, err := record.ReadGenesisFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if info.Fingerprint != hex.EncodeToString(sum[:]) || !info.Canonical {
		t.Fatalf("fingerprint %s (canonical %v), sha256sum %x", info.Fingerprint, info.Canonical, sum)
	}
	fp, err := record.GenesisFingerprint(info.Doc)
	if err != nil || fp != info.Fingerprint {
		t.Fatalf("GenesisFingerprint(doc) = %s, %v; file %s", fp, err, info.Fingerprint)
	}
	canon, err := record.CanonicalGenesis(info.Doc)
	if err != nil || !bytes.Equal(canon, raw) {
		t.Fatalf("CanonicalGenesis differs from the file evote wrote (%v)", err)
	}
}

// TestGenesisFingerprintIgnoresLayout: the same document with other
// whitespace has the same fingerprint (but is not canonical); another
// document has another.
func TestGenesisFingerprintIgnoresLayout(t *testing.T) {
	_, raw := writeTestGenesis(t)
	want, err := record.FileFingerprint(raw)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"compact":          compact.Bytes(),
		"trailing newline": append(append([]byte(nil), raw...), '\n'),
		"tabs":             bytes.ReplaceAll(raw, []byte("  "), []byte("\t")),
	} {
		got, err := record.FileFingerprint(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Fingerprint != want.Fingerprint || got.Canonical {
			t.Errorf("%s: fingerprint %s canonical %v, want %s and not canonical", name, got.Fingerprint, got.Canonical, want.Fingerprint)
		}
	}
	other := bytes.Replace(raw, []byte(`"evote-fingerprint"`), []byte(`"evote-fingerprinT"`), 1)
	got, err := record.FileFingerprint(other)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint == want.Fingerprint {
		t.Error("another chain id has the same fingerprint")
	}
}

// TestGenesisFingerprintRefusals: a genesis without a fixed fingerprint, or
// that does not decode, is refused with a message; nothing panics.
func TestGenesisFingerprintRefusals(t *testing.T) {
	_, raw := writeTestGenesis(t)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "genesis_time")
	noTime, _ := json.Marshal(m)
	for name, c := range map[string]struct {
		raw  []byte
		want string
	}{
		"no genesis_time": {noTime, "record: genesis: no genesis_time"},
		"not JSON":        {[]byte("{"), "record: genesis"},
		"no chain id":     {bytes.Replace(raw, []byte(`"evote-fingerprint"`), []byte(`""`), 1), "chain_id"},
		"wrong address":   {bytes.Replace(raw, []byte(`"address": "`), []byte(`"address": "00`), 1), "incorrect address"},
		"empty":           {nil, "record: genesis"},
	} {
		_, err := record.FileFingerprint(c.raw)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
	big := filepath.Join(t.TempDir(), "genesis.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), record.MaxGenesisSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := record.ReadGenesisFile(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized genesis: %v", err)
	}
	if _, err := record.ReadGenesisFile(filepath.Join(t.TempDir(), "none.json")); err == nil || !strings.HasPrefix(err.Error(), "record: genesis") {
		t.Errorf("missing genesis: %v", err)
	}
}
