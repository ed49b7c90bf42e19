package web

import (
	"testing"

	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/rules"
)

// TestBlankInfo: /api/elections/{id} gives every contest's blank count of a
// tallied record by rules.Blanks, none before the result, and an error for
// a record whose result does not fit its manifest.
func TestBlankInfo(t *testing.T) {
	m := ballottest.Blank()
	blank := uint64(4)
	rec := &rules.ElectionRecord{Manifest: m.CanonicalJSON(), WeightCounted: 9, Result: []rules.ContestResult{
		{Contest: "contest-1", Counts: []uint64{3, 2, 5}, Blank: &blank},
		{Contest: "contest-2", Counts: []uint64{6, 3}},
		{Contest: "contest-3", Counts: []uint64{1, 6}},
		{Contest: "contest-4", Counts: []uint64{0, 9}},
	}}
	got, err := blankInfo(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind rules.BlankKind
		n    int64
	}{{rules.BlankEncrypted, 4}, {rules.BlankImpossible, 0}, {rules.BlankDerived, 2}, {rules.BlankNotCounted, -1}}
	for i, b := range got {
		n := int64(-1)
		if b.Blank != nil {
			n = int64(*b.Blank)
		}
		if b.Contest != m.Contests[i].ID || b.Kind != want[i].kind || n != want[i].n {
			t.Errorf("contest %d: %+v (%d), want %s %d", i+1, b, n, want[i].kind, want[i].n)
		}
	}
	if got, err := blankInfo(&rules.ElectionRecord{Manifest: m.CanonicalJSON()}); got != nil || err != nil {
		t.Errorf("before the result: %v, %v", got, err)
	}
	rec.Result[0].Blank = nil
	if _, err := blankInfo(rec); err == nil {
		t.Error("a count_blank result without its blank count accepted")
	}
}
