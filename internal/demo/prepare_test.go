package demo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evote/evote/ballot/config"
)

// TestPrepare: a new or empty folder is made a demo's, an earlier demo's is
// replaced, any other is refused.
func TestPrepare(t *testing.T) {
	var out strings.Builder
	dir := filepath.Join(t.TempDir(), "demo")
	d := New(Config{Out: &out, Dir: dir})
	if err := d.Prepare(); err != nil {
		t.Fatal(err)
	}
	if want := "evote demo: a whole election on 4 authority nodes; data in " + dir + "/\n\n"; out.String() != want {
		t.Errorf("Prepare printed %q, want %q", out.String(), want)
	}
	old := filepath.Join(dir, "tally.log")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := New(Config{Dir: dir}).Prepare(); err != nil {
		t.Fatalf("replacing an earlier demo's folder: %v", err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the earlier demo's %s is still there: %v", old, err)
	}

	foreign := t.TempDir()
	keep := filepath.Join(foreign, "thesis.tex")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := New(Config{Dir: foreign}).Prepare()
	var fe *ForeignDirError
	if !errors.As(err, &fe) || fe.Dir != foreign || !strings.Contains(err.Error(), "is not an earlier demo's folder") {
		t.Errorf("Prepare on a folder that is not a demo's: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("Prepare removed another folder's file: %v", err)
	}
}

// TestEntries: a voter list is used as it is; counts per style are scaled
// to the demo's number of voters, every style keeping a voter.
func TestEntries(t *testing.T) {
	list := &config.Assignment{ListFile: "v.csv", Voters: []config.Voter{{Label: "a", Style: "all", Weight: 250}, {Label: "b", Style: "all", Weight: 1}}}
	if got := Entries(list, 300); len(got) != 2 || got[0].Weight != 250 || got[1].Weight != 1 {
		t.Fatalf("voter list: %+v", got)
	}
	var counts config.Assignment
	for range 84000 {
		counts.Voters = append(counts.Voters, config.Voter{Style: "district-1", Weight: 1})
	}
	for range 215 {
		counts.Voters = append(counts.Voters, config.Voter{Style: "district-2", Weight: 1})
	}
	for _, n := range []int{4, 5, 300, 1001} {
		got := Entries(&counts, n)
		by := map[string]int{}
		for _, e := range got {
			by[e.Style]++
			if e.Weight != 1 {
				t.Fatalf("weight %d", e.Weight)
			}
		}
		if len(got) != n || by["district-2"] < 1 || by["district-1"] < by["district-2"] {
			t.Errorf("n=%d: %d voters, by style %v", n, len(got), by)
		}
	}
}
