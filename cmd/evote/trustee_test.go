package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/evote/evote/trustee"
)

// evote runs the CLI in-process like a user would and returns its output and
// exit status.
func evote(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"evote"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func mustEvote(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := evote(t, args...)
	if code != 0 {
		t.Fatalf("evote %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestTrusteeCeremonySession is a key ceremony of three trustees, threshold
// two, run through the CLI as the trustees would run it.
func TestTrusteeCeremonySession(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envPassphrase, "a long enough test passphrase")
	cheap := []string{"--kdf-memory", "19456", "--kdf-time", "2"} // the floor (docs/keyfile.md)
	names := []string{"Dr. Henrike Vos", "Jan-Willem Bakker", "Fatima Zahra El Amrani"}
	var keyFiles []string
	cfg, err := os.ReadFile("../../election-configs/referendum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		kf := filepath.Join(dir, "trustee"+string(rune('1'+i))+".key")
		out := mustEvote(t, append([]string{"trustee", "init", "--name", n, "--out", kf}, cheap...)...)
		id := regexp.MustCompile(`identity key: (ristretto255:\S+)`).FindStringSubmatch(out)
		if id == nil {
			t.Fatalf("init printed no identity key:\n%s", out)
		}
		// The official lists the trustee's key in the configuration.
		line := "{index: " + string(rune('1'+i)) + ", name: " + n + "}"
		if !bytes.Contains(cfg, []byte(line)) {
			t.Fatalf("config has no line %q", line)
		}
		cfg = bytes.Replace(cfg, []byte(line), []byte(strings.TrimSuffix(line, "}")+`, public_key: "`+id[1]+`"}`), 1)
		keyFiles = append(keyFiles, kf)
		if got := mustEvote(t, "trustee", "key", kf); !strings.Contains(got, id[1]) {
			t.Fatalf("trustee key shows %q", got)
		}
	}
	// Key files are not readable by others and do not hold secrets in the clear.
	if st, _ := os.Stat(keyFiles[0]); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
	cfgPath := filepath.Join(dir, "referendum.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(dir, "shared")
	common := func(kf string) []string {
		return append([]string{"--election", cfgPath, "--dir", shared, "--key", kf}, cheap...)
	}
	mustEvote(t, append([]string{"trustee", "ceremony", "register"}, common(keyFiles[0])...)...)
	// Dealing before the others registered: a clear wait, exit status 3.
	_, errOut, code := evote(t, append([]string{"trustee", "ceremony", "deal"}, common(keyFiles[0])...)...)
	if code != 3 || !strings.Contains(errOut, "no register message yet from trustee 2 (Jan-Willem Bakker) and trustee 3 (Fatima Zahra El Amrani)") {
		t.Fatalf("early deal: exit %d: %s", code, errOut)
	}
	for _, kf := range keyFiles[1:] {
		mustEvote(t, append([]string{"trustee", "ceremony", "register"}, common(kf)...)...)
	}
	for _, round := range []string{"deal", "check"} {
		for _, kf := range keyFiles {
			mustEvote(t, append([]string{"trustee", "ceremony", round}, common(kf)...)...)
		}
	}
	// No complaint: finish closes round 3 itself and does not wait for the
	// others' round 3; justify still answers (nothing) for who runs it.
	if out := mustEvote(t, append([]string{"trustee", "ceremony", "justify"}, common(keyFiles[1])...)...); !strings.Contains(out, "(0 justifications)") {
		t.Fatalf("justify without complaints:\n%s", out)
	}
	var keys []string
	for i, kf := range keyFiles {
		out := mustEvote(t, append([]string{"trustee", "ceremony", "finish"}, common(kf)...)...)
		if closed := strings.Contains(out, "no complaint names you; closed round 3 in "); closed != (i != 1) {
			t.Errorf("finish of trustee %d (round 3 sent before: %v):\n%s", i+1, i == 1, out)
		}
		keys = append(keys, regexp.MustCompile(`election key: (\S+)`).FindStringSubmatch(out)[1])
		if i == 0 {
			status := mustEvote(t, "trustee", "ceremony", "status", "--election", cfgPath, "--dir", shared)
			if !strings.Contains(status, "justifications  2 of 3 (waiting for 3)") || !strings.Contains(status, "complaints: 0") {
				t.Fatalf("status:\n%s", status)
			}
		}
	}
	if out := mustEvote(t, append([]string{"trustee", "ceremony", "finish"}, common(keyFiles[0])...)...); strings.Contains(out, "closed round 3") {
		t.Errorf("a second finish sent round 3 again:\n%s", out)
	}
	if keys[0] != keys[1] || keys[1] != keys[2] {
		t.Fatalf("trustees computed different keys: %v", keys)
	}
	// An observer re-derives the key from the folder and writes it.
	ekPath := filepath.Join(dir, "election-key.json")
	out := mustEvote(t, "trustee", "ceremony", "result", "--election", cfgPath, "--dir", shared, "--out", ekPath)
	if !strings.Contains(out, "qualified trustees: [1 2 3]") || !strings.Contains(out, keys[0]) {
		t.Fatalf("result:\n%s", out)
	}
	data, _ := os.ReadFile(ekPath)
	if _, _, vks, err := trustee.DecodeElectionKey(data); err != nil || len(vks) != 3 {
		t.Fatalf("election key file: %v", err)
	}
	// A tampered message is named, and the observer refuses to finish
	// without it.
	p := filepath.Join(shared, trustee.FileName(trustee.KindDealing, 2))
	raw, _ := os.ReadFile(p)
	msg, err := trustee.DecodeMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	msg.Payload[100] ^= 1
	raw, _ = trustee.EncodeMessage(msg)
	_ = os.WriteFile(p, raw, 0o644)
	_, errOut, code = evote(t, "trustee", "ceremony", "result", "--election", cfgPath, "--dir", shared)
	if code == 0 || !strings.Contains(errOut, "trustee 2 (Jan-Willem Bakker): dealing") {
		t.Fatalf("tampered dealing: exit %d, %s", code, errOut)
	}
	// A wrong passphrase is a clear error.
	t.Setenv(envPassphrase, "not the passphrase at all")
	_, errOut, code = evote(t, append([]string{"trustee", "ceremony", "finish"}, common(keyFiles[0])...)...)
	if code == 0 || !strings.Contains(errOut, "wrong passphrase") {
		t.Fatalf("wrong passphrase: exit %d, %s", code, errOut)
	}
}
