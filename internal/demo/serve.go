package demo

import (
	"context"
	"fmt"

	"github.com/evote/evote/ballot/credential"
)

// Serve keeps the election open for voting in a browser: it prints every
// node's voting page and a few of the voters' codes, and waits until ctx is
// done.
func (d *Demo) Serve(ctx context.Context, codes []credential.Code) error {
	fmt.Fprintln(d.cfg.Out, "\nThe election stays open. Vote in a browser at any authority node:")
	for _, n := range d.Cluster.Nodes {
		fmt.Fprintf(d.cfg.Out, "  %s  http://%s/?election=%s   (status: /status, results: /results, lookup: /lookup, blocks: /explorer)\n", n.Name, n.HTTPAddr, d.Manifest.ElectionID)
	}
	fmt.Fprintln(d.cfg.Out, "A few voter codes (these voters have voted; casting again is a re-vote):")
	for _, c := range codes[:min(5, len(codes))] {
		fmt.Fprintf(d.cfg.Out, "  %s\n", c.Text())
	}
	fmt.Fprintln(d.cfg.Out, "Press Ctrl-C to stop the cluster.")
	<-ctx.Done()
	return nil
}
