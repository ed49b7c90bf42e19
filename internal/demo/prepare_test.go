package demo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
