package demo

import (
	"fmt"
	"os"
	"path/filepath"
)

// marker marks a folder as an evote demo's, so that a rerun may replace it.
const marker = ".evote-demo"

// ForeignDirError is Prepare's refusal to replace a folder that is not an
// earlier demo's.
type ForeignDirError struct{ Dir string }

func (e *ForeignDirError) Error() string {
	return fmt.Sprintf("demo: %s exists and is not an earlier demo's folder; give another --dir", e.Dir)
}

// Prepare announces the demo and makes its data folder: an earlier demo's
// is replaced, any other folder that is not empty refused
// (*ForeignDirError).
func (d *Demo) Prepare() error {
	fmt.Fprintf(d.cfg.Out, "evote demo: a whole election on %d authority nodes; data in %s/\n\n", Nodes, d.cfg.Dir)
	if entries, err := os.ReadDir(d.cfg.Dir); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(d.cfg.Dir, marker)); err != nil {
			return &ForeignDirError{d.cfg.Dir}
		}
		if err := os.RemoveAll(d.cfg.Dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(d.cfg.Dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.cfg.Dir, marker), []byte("evote demo data; `evote demo` replaces this folder\n"), 0o644)
}
