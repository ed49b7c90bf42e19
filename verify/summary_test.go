package verify

import (
	"strings"
	"testing"
)

// TestSummary: the report starts with a plain-language verdict that follows
// the checks: a failure says so first, a skipped check is named, a passing
// record without a result says no result is published yet.
func TestSummary(t *testing.T) {
	for _, c := range []struct {
		name     string
		statuses []Status
		result   bool
		want     []string
	}{
		{"pass", []Status{Pass, Pass}, true, []string{"In plain words: Every check passed: the published result is the one the ballots on the chain give.\n"}},
		{"skip", []Status{Pass, Skip}, true, []string{"Every check passed", "(1 check had nothing to check, marked SKIP.)"}},
		{"no result", []Status{Pass}, false, []string{"Every check passed so far; no result is published yet."}},
		{"fail", []Status{Pass, Fail, Skip}, true, []string{"In plain words: 1 of 3 checks FAILED. Do not rely on this election's published figures"}},
	} {
		r := &Report{ElectionID: "e & <b>", ChainID: "c"}
		for i, s := range c.statuses {
			r.Checks = append(r.Checks, &CheckResult{Number: i + 1, Title: "check", Status: s})
		}
		if c.result {
			r.Result = &VerifiedResult{Title: "t"}
		}
		var b strings.Builder
		if err := r.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		head := out[:strings.Index(out, "\n 1 ")]
		for _, w := range c.want {
			if !strings.Contains(head, w) {
				t.Errorf("%s: the report does not start with %q:\n%s", c.name, w, head)
			}
		}
		if !strings.Contains(head, "Checked from the public record alone") {
			t.Errorf("%s: no summary of what is checked:\n%s", c.name, head)
		}
	}
}
