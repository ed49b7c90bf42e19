package demo

import (
	"context"
	"os"
	"path/filepath"

	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/evote/evote/verify"
)

// Verify has an observer verify the whole election against node1 and
// node3, writes the report to Dir/verification.txt (and, if a check
// failed, to the output too), and says whether every check passed.
func (d *Demo) Verify(ctx context.Context) (bool, error) {
	d.stepf("an observer verifies the whole election against node1 and node3")
	rep, err := verify.Nodes(ctx, []rpcclient.Client{d.rpcs[1], d.rpcs[3]}, d.Manifest.ElectionID, verify.NodesOptions{Names: []string{"node1", "node3"}, TempDir: d.cfg.Dir})
	if err != nil {
		return false, err
	}
	path := filepath.Join(d.cfg.Dir, "verification.txt")
	f, err := os.Create(path)
	if err != nil {
		return false, err
	}
	_ = rep.WriteText(f)
	f.Close()
	passed, failed := 0, 0
	for _, c := range rep.Checks {
		switch c.Status {
		case verify.Pass:
			passed++
		case verify.Fail:
			failed++
		}
	}
	if rep.OK() {
		d.donef("%d checks passed, %d failed (report in %s)", passed, failed, path)
	} else {
		d.donef("VERIFICATION FAILED: %d checks failed", failed)
		_ = rep.WriteText(d.cfg.Out)
	}
	return rep.OK(), nil
}
