package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVerifyCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"evote", "verify"}, 2, "nothing to verify"},
		{[]string{"evote", "verify", "--node", "http://127.0.0.1:1"}, 2, "--election-id"},
		{[]string{"evote", "verify", "--record", t.TempDir()}, 1, "record.json"},
		{[]string{"evote", "verify-audit"}, 2, "audited ballot FILE"},
		{[]string{"evote", "record", "export", "--election-id", "x", "--out", t.TempDir()}, 2, "no node"},
	} {
		var out, errOut bytes.Buffer
		if code := run(tc.args, &out, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}
