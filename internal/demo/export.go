package demo

import (
	"context"
	"path/filepath"

	"github.com/evote/evote/record"
)

// Export writes the election record, read from node0, to Dir/record.
func (d *Demo) Export(ctx context.Context) error {
	d.stepf("exporting the election record")
	dir := filepath.Join(d.cfg.Dir, "record")
	if err := record.Export(ctx, d.rpcs[0], d.Manifest.ElectionID, dir); err != nil {
		return err
	}
	d.donef("in %s (check it again with: evote verify --record %s)", dir, dir)
	return nil
}
