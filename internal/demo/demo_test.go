package demo

import (
	"regexp"
	"strings"
	"testing"
)

// TestSteps: each step prints its number of the 11, what it does, and then
// its outcome with its duration.
func TestSteps(t *testing.T) {
	var out strings.Builder
	d := New(Config{Out: &out})
	d.stepf("publishing the election %q", "e1")
	d.donef("height %d", 7)
	d.stepf("opening the election")
	want := regexp.MustCompile(`^\[ 1/11\] publishing the election "e1" … height 7 \(\d+\.\ds\)\n\[ 2/11\] opening the election … $`)
	if !want.MatchString(out.String()) {
		t.Errorf("steps printed %q", out.String())
	}
}
