package demo

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/internal/voters"
	"github.com/evote/evote/web/client"
)

// VoteOptions say how the simulated voters cast.
type VoteOptions struct {
	// Clients is the number of concurrent websocket clients.
	Clients int
	// Voters are the fractions of re-votes, audits and invalid ballots and
	// the seed of the voters' choices.
	Voters voters.Options
	// Receipts verify the committed receipts: the chain id and validator
	// set the nodes report (their /api/validators).
	Receipts client.Options
	// BenchOut, if set, is the file the casting figures are appended to in
	// Go benchmark format.
	BenchOut string
}

// Vote has one simulated voter per credential encrypt and cast ballots
// over websockets spread over the nodes (with the re-votes, audits and
// invalid ballots of o), and checks that every request had the outcome it
// must have. It returns the voters' plan, whose Expected counts the result
// must equal.
func (d *Demo) Vote(ctx context.Context, e *ballot.Election, vs []voters.Voter, o VoteOptions) (*voters.Plan, error) {
	d.stepf("%d simulated voters encrypt and cast over websockets", len(vs))
	plan, err := voters.Prepare(e, vs, o.Voters)
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, n := range d.Cluster.Nodes {
		urls = append(urls, "ws://"+n.HTTPAddr+"/ws")
	}
	cpu0, cpuOK := d.nodesCPU()
	d.profileWindow(true)
	st, err := voters.Run(ctx, urls, o.Receipts, plan, o.Clients, 1, e.Manifest.ElectionID, nil)
	d.profileWindow(false)
	if err != nil {
		return nil, err
	}
	var nodeCPU time.Duration // the nodes' CPU time while the voters cast
	if cpu1, ok := d.nodesCPU(); ok && cpuOK {
		nodeCPU = cpu1 - cpu0
	}
	if st.Unexpected > 0 {
		for _, p := range st.Problems[:min(10, len(st.Problems))] {
			fmt.Fprintln(d.cfg.Out, "  unexpected:", p)
		}
		return nil, fmt.Errorf("demo: %d requests had an unexpected outcome", st.Unexpected)
	}
	if o.BenchOut != "" {
		if err := d.writeBench(o.BenchOut, o.Clients, st, nodeCPU); err != nil {
			return nil, err
		}
	}
	d.donef("%d committed (%d re-votes, %d audits); %d refused as they must be (bad proofs, forged ballot and audit signatures, ballots of another style, replays, audited ballots cast); %.0f ballots/s (%.0f/s sustained), receipts p50 %s, p99 %s, every receipt verified",
		st.Committed, st.ByKind[voters.Cast]-len(plan.Final), st.ByKind[voters.Audit], st.Rejected,
		st.Throughput(), st.Sustained(), st.Percentile(0.5).Round(time.Millisecond), st.Percentile(0.99).Round(time.Millisecond))
	return plan, nil
}

// writeBench appends the casting figures to the file path as a line of Go
// benchmark output (make bench reads them): BenchmarkClusterCast, or with a
// P2PDelay BenchmarkClusterCastWAN.
func (d *Demo) writeBench(path string, clients int, st *voters.Stats, nodeCPU time.Duration) error {
	selections := 0
	for _, n := range d.Manifest.TotalsLayout() {
		selections += n
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// The nodes' CPU per committed ballot and node: what the target of
	// docs/benchmarks.md compares with the batched verification of a ballot.
	perBallot := int64(0)
	if st.Committed > 0 {
		perBallot = nodeCPU.Nanoseconds() / int64(st.Committed) / Nodes
	}
	// A cluster whose links are delayed is BenchmarkClusterCastWAN.
	name := fmt.Sprintf("BenchmarkClusterCast/nodes=%d", Nodes)
	switch {
	case d.cfg.P2PDelay > 0:
		name = fmt.Sprintf("BenchmarkClusterCastWAN/nodes=%d/delay=%v", Nodes, d.cfg.P2PDelay)
	case d.cfg.DatabaseURL != "":
		// The nodes' state in PostgreSQL: BenchmarkClusterCastPG.
		name = fmt.Sprintf("BenchmarkClusterCastPG/nodes=%d", Nodes)
	}
	fmt.Fprintf(f, "%s/selections=%d/clients=%d \t 1 \t %d ns/op \t %.1f ballots/s \t %.1f sustained-ballots/s \t %d p50-ns \t %d p99-ns \t %d node-cpu-ns/ballot\n",
		name, selections, clients, st.Duration.Nanoseconds(), st.Throughput(), st.Sustained(), st.Percentile(0.5).Nanoseconds(), st.Percentile(0.99).Nanoseconds(), perBallot)
	return f.Close()
}
