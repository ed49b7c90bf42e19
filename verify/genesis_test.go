package verify_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evote/evote/record"
	"github.com/evote/evote/verify"
)

// TestGenesisFingerprintCheck: check 2 accepts the fingerprint of the
// node's own genesis file (its sha256sum, as evote wrote it) and refuses
// any other value, naming both.
func TestGenesisFingerprintCheck(t *testing.T) {
	f := getFixture(t)
	nodeGenesis := filepath.Join(filepath.Dir(f.dir), "net", "node0", "config", "genesis.json")
	info, err := record.ReadGenesisFile(nodeGenesis)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(nodeGenesis)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if fp := hex.EncodeToString(sum[:]); fp != info.Fingerprint {
		t.Fatalf("sha256sum of the node's genesis %s, fingerprint %s", fp, info.Fingerprint)
	}

	run := func(want string) *verify.CheckResult {
		t.Helper()
		r, err := verify.Record(context.Background(), f.dir, verify.Options{GenesisSHA256: want})
		if err != nil {
			t.Fatal(err)
		}
		if r.GenesisSHA != info.Fingerprint {
			t.Fatalf("report genesis SHA-256 %s, node's genesis %s", r.GenesisSHA, info.Fingerprint)
		}
		return r.Check(verify.CheckGenesis)
	}
	for _, want := range []string{info.Fingerprint, strings.ToUpper(info.Fingerprint), " " + info.Fingerprint + "\n"} {
		if c := run(want); c.Status != verify.Pass {
			t.Fatalf("check 2 with %q: %s %v", want, c.Status, c.Failures)
		}
	}
	other := "0" + info.Fingerprint[1:]
	if other == info.Fingerprint {
		other = "1" + info.Fingerprint[1:]
	}
	for want, msg := range map[string]string{
		other:                 "genesis fingerprint " + info.Fingerprint + ", expected " + other + ": this record is of another chain",
		info.Fingerprint[:63]: "is not 64 hex digits",
	} {
		c := run(want)
		if c.Status != verify.Fail || len(c.Failures) != 1 || !strings.Contains(c.Failures[0].Message, msg) || c.Failures[0].File != record.GenesisFile {
			t.Errorf("check 2 with %q: %s %+v, want one failure of genesis.json saying %q", want, c.Status, c.Failures, msg)
		}
	}
}
