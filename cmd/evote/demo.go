package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/internal/demo"
	"github.com/evote/evote/internal/voters"
)

func init() {
	register(&cli.Command{
		Name:  "demo",
		Usage: "run a whole election on a local 4-node cluster and check that the result is what the voters chose",
		Description: "Starts 4 authority nodes on 127.0.0.1 (separate processes, embedded storage), publishes the\n" +
			"election of --config, runs the key ceremony of 3 trustees (threshold 2) on the chain, generates\n" +
			"voter credentials, casts the ballots of simulated voters over websockets (with re-votes, audits and\n" +
			"invalid ballots), closes, lets the tally service publish the encrypted totals, has 2 of the 3\n" +
			"trustees decrypt, verifies everything as an observer against two nodes, exports the election record\n" +
			"and compares the published counts with the voters' choices. Exit status 0 only if they match and\n" +
			"verification passed. The data folder and the record are left for inspection.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: "demo-data", Usage: "the data `FOLDER` (replaced if it holds an earlier demo)"},
			&cli.StringFlag{Name: "config", Value: "election-configs/municipal-2027.yaml", Usage: "the election configuration `FILE` (its time window, trustees and officials are replaced; its voter list, if it has one, gives the voters, else --voters are split over its ballot styles as its voters.styles counts say)"},
			&cli.IntFlag{Name: "voters", Value: 300, Usage: "number of simulated voters"},
			&cli.IntFlag{Name: "clients", Value: 32, Usage: "concurrent websocket clients"},
			&cli.StringFlag{Name: "bench-out", Usage: "append the casting figures to `FILE` in Go benchmark format (make bench reads them)"},
			&cli.Float64Flag{Name: "revote", Value: 0.1, Usage: "fraction of voters who re-vote"},
			&cli.Float64Flag{Name: "audit", Value: 0.05, Usage: "fraction of voters who audit a ballot first"},
			&cli.Float64Flag{Name: "invalid", Value: 0.05, Usage: "fraction of voters who also send an invalid ballot"},
			&cli.StringFlag{Name: "database-url", EnvVars: []string{envDatabaseURL}, Usage: "keep the nodes' state in PostgreSQL at `URL` (schemas " + demo.DefaultSchemaPrefix + "node0…) instead of embedded Pebble"},
			&cli.DurationFlag{Name: "p2p-delay", Usage: "delay every byte between two nodes by `DURATION` each way, as between distant organisations (relays in front of the nodes' p2p ports, with the timeouts of a deployment; docs/operations.md §6)"},
			&cli.BoolFlag{Name: "serve", Usage: "after the voting, keep the cluster up with the election open, print the URLs and a few voter codes, and wait for Ctrl-C"},
		},
		Action: demoAction,
	})
}

// demoAction runs the phases of internal/demo in order.
func demoAction(c *cli.Context) error {
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.Duration("p2p-delay") < 0 {
		return &exitError{2, "demo: --p2p-delay must not be negative"}
	}
	d := demo.New(demo.Config{Out: c.App.Writer, Dir: c.String("dir"), DatabaseURL: c.String("database-url"), P2PDelay: c.Duration("p2p-delay")})
	if err := d.Prepare(); errors.As(err, new(*demo.ForeignDirError)) {
		return &exitError{2, err.Error()}
	} else if err != nil {
		return err
	}
	m, assignment, err := config.LoadAssignment(c.String("config"))
	if err != nil {
		return fmt.Errorf("demo: %w (run the demo from the repository's root, or give --config)", err)
	}
	if assignment == nil {
		return &exitError{2, "demo: the configuration names a credential roll; the demo makes its own, so give one with roll_size (and voters.styles or voters.voter_list)"}
	}
	n := c.Int("voters")
	if n < 4 {
		return &exitError{2, "demo: --voters must be at least 4"}
	}
	entries := demo.Entries(assignment, n)
	if assignment.ListFile != "" {
		fmt.Fprintf(c.App.Writer, "The voters are the %d of the voter list %s (--voters is not used).\n", len(entries), assignment.ListFile)
	}
	if err := d.StartCluster(ctx); err != nil {
		return err
	}
	defer d.StopCluster()
	e, vs, codes, err := d.OpenElection(ctx, m, entries)
	if err != nil {
		return err
	}
	receipts, err := pinnedValidators(ctx, d.HTTPURL(0))
	if err != nil {
		return err
	}
	plan, err := d.Vote(ctx, e, vs, demo.VoteOptions{Clients: c.Int("clients"), Receipts: receipts, BenchOut: c.String("bench-out"),
		Voters: voters.Options{Revote: c.Float64("revote"), Audit: c.Float64("audit"), Invalid: c.Float64("invalid"), Seed: uint64(time.Now().UnixNano())}})
	if err != nil {
		return err
	}
	stopTally, err := d.StartTally(ctx)
	if err != nil {
		return err
	}
	defer stopTally()
	if c.Bool("serve") {
		return d.Serve(ctx, codes)
	}
	rec, err := d.Count(ctx, e)
	if err != nil {
		return err
	}
	stopTally()
	verified, err := d.Verify(ctx)
	if err != nil {
		return err
	}
	if err := d.Export(ctx); err != nil {
		return err
	}
	if !d.Report(rec, plan, verified) {
		return &exitError{1, ""}
	}
	return nil
}
