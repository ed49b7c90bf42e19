package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs `evote demo` with a small electorate: 4 node processes,
// the on-chain key ceremony, simulated voters over websockets, the tally
// service, 2-of-3 decryption, verification against two nodes and the record
// export, and checks that it passes.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster")
	}
	exe := buildEvote(t)
	for _, c := range []struct{ name, config, voters string }{
		{"municipal", "municipal-2027.yaml", "40"},
		// Every name full of & < > " ' \ and non-Latin text: a JSON encoder
		// that HTML-escapes the canonical manifest stops the tally and
		// fails verification.
		{"hostile-names", "hostile-names.yaml", "16"},
		// Weighted voters of a voter list: the counts are weighted.
		{"weighted", "general-assembly-weighted.yaml", "4"},
		// Two ballot styles assigned by a voter list.
		{"voter-list", "municipal-voter-list.yaml", "4"},
		// Blank ballots counted: encrypted (count_blank), derived, none.
		{"blank", "council-blank-2027.yaml", "12"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "demo")
			out, code := runBinary(t, exe, "demo", "--dir", dir, "--voters", c.voters, "--clients", "8", "--config", "../../election-configs/"+c.config)
			if code != 0 || !strings.Contains(out, "PASS: the decrypted counts equal the simulated voters' choices") {
				t.Fatalf("demo: exit %d\n%s", code, out)
			}
			if c.name == "weighted" && !strings.Contains(out, "20 ballots counted, of total weight 1000: the counts are weighted") {
				t.Errorf("the weighted demo does not say the counts are weighted:\n%s", out)
			}
			for _, f := range []string{"record/record.json", "verification.txt", "manifest.json"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("demo left no %s: %v", f, err)
				}
			}
			// The command the demo prints for checking the record again.
			out, code = runBinary(t, exe, "verify", "--record", filepath.Join(dir, "record"))
			if code != 0 || !strings.Contains(out, "all checks passed") {
				t.Fatalf("verify --record: exit %d\n%s", code, out)
			}
			if c.name == "blank" {
				checkBlankDemo(t, exe, dir, out)
			}
		})
	}
}

// checkBlankDemo: the demo of council-blank-2027.yaml checked every
// contest's blank count, the verifier prints them, and a record whose
// result.json changes the encrypted blank count fails verification.
func checkBlankDemo(t *testing.T, exe, dir, verified string) {
	t.Helper()
	for _, want := range []string{"blank ballots: not counted separately (the contest has no count_blank)",
		"(encrypted on every ballot and decrypted with the counts)", "(the weight counted less the counts)", "blank ballots: 0 (the rule asks for at least one mark)"} {
		if !strings.Contains(verified, want) {
			t.Errorf("the verified result does not say %q:\n%s", want, verified)
		}
	}
	file := filepath.Join(dir, "record", "result.json")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Contests []map[string]any `json:"contests"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.Contests[0]["blank"] == nil || res.Contests[1]["blank"] != nil {
		t.Fatalf("result.json: %s (%v)", raw, err)
	}
	n := res.Contests[0]["blank"].(float64)
	bad := strings.Replace(string(raw), fmt.Sprintf(`"blank": %d`, int(n)), fmt.Sprintf(`"blank": %d`, int(n)+1), 1)
	if bad == string(raw) {
		t.Fatalf("result.json has no blank count %v to change:\n%s", n, raw)
	}
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runBinary(t, exe, "verify", "--record", filepath.Join(dir, "record"))
	if code == 0 || !strings.Contains(out, fmt.Sprintf("blank count %d, the result on the chain says %d", int(n)+1, int(n))) {
		t.Errorf("verify of a result.json with a wrong blank count: exit %d\n%s", code, out)
	}
}

// buildEvote builds the evote binary into a temporary folder.
func buildEvote(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "evote")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs the built binary and returns its combined output and exit
// status.
func runBinary(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}
