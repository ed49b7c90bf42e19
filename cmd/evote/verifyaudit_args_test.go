package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyAuditArgumentOrder: verify-audit takes its options before or
// after FILE (urfave/cli alone stops parsing options at FILE, so the order
// that `verify-audit --help` used to show failed with "give the audited
// ballot FILE"); a stray option or a second file is still refused. The
// commands run against real nodes in web/uitest's TestPausedNode.
func TestVerifyAuditArgumentOrder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "audit-X.json")
	if err := os.WriteFile(file, []byte(`{"election_id":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no-record")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		// The record is read, in both orders: the options were parsed.
		{[]string{"evote", "verify-audit", "--record", missing, file}, 1, "record.json: missing"},
		{[]string{"evote", "verify-audit", file, "--record", missing}, 1, "record.json: missing"},
		{[]string{"evote", "verify-audit", file, "--record=" + missing, "--json"}, 1, "record.json: missing"},
		{[]string{"evote", "verify-audit", file, "--node", "http://127.0.0.1:1"}, 1, "not reachable"},
		{[]string{"evote", "verify-audit", file, "--record", missing, "--node", "http://127.0.0.1:1"}, 2, "not both"},
		{[]string{"evote", "verify-audit", file, "--bogus"}, 2, "bogus"},
		{[]string{"evote", "verify-audit", file, file, "--record", missing}, 2, "got 2 arguments"},
		{[]string{"evote", "verify-audit", file}, 2, "--record DIR or --node"},
	} {
		var out, errOut bytes.Buffer
		if code := run(tc.args, &out, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args[1:], code, errOut.String(), tc.code, tc.want)
		}
	}
}
