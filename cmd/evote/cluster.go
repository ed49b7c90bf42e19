package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/internal/cluster"
)

func init() {
	register(&cli.Command{
		Name:  "cluster",
		Usage: "run a local cluster of authority nodes, one process each, on 127.0.0.1",
		Description: "For development and demonstrations: every node of a testnet (evote node testnet) runs as\n" +
			"its own `evote node start` process on this machine. A real deployment runs one node per\n" +
			"organisation instead (docs/operations.md).",
		Subcommands: []*cli.Command{
			{
				Name:      "start",
				Usage:     "start every node of the testnet in DIR (writing it first if DIR has none) and run until interrupted",
				ArgsUsage: " ",
				Description: "Each node's output goes to DIR/nodeI/" + cluster.LogFile + ". Once every node has committed a block the\n" +
					"command prints the nodes' ports; SIGINT or SIGTERM stops every node gracefully.",
				Flags: append(testnetFlags(),
					&cli.StringFlag{Name: "dir", Required: true, Usage: "the testnet `FOLDER`"},
					&cli.StringFlag{Name: "database-url", EnvVars: []string{envDatabaseURL},
						Usage: "PostgreSQL `URL` for the nodes' state (each node in its own schema; default: embedded Pebble)"},
					logLevelFlag,
					&cli.DurationFlag{Name: "wait", Value: time.Minute, Usage: "how long to wait for every node's first block (`DURATION`)"},
				),
				Action: clusterStart,
			},
			{
				Name:      "status",
				Usage:     "show the height and app hash of every node of the testnet in DIR",
				ArgsUsage: " ",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "dir", Required: true, Usage: "the testnet `FOLDER`"}},
				Action:    clusterStatus,
			},
		},
	})
}

func clusterStart(c *cli.Context) error {
	dir := c.String("dir")
	if _, err := parseLevel(c.String("log-level")); err != nil {
		return err
	}
	tn, err := node.LoadTestnet(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if _, err := generateTestnet(c, dir); err != nil {
			return err
		}
		if tn, err = node.LoadTestnet(dir); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "wrote a %d-node testnet in %s (chain %s)\n", len(tn.Nodes), dir, tn.ChainID)
	case err != nil:
		return err
	case c.IsSet("nodes") && c.Int("nodes") != len(tn.Nodes):
		return &exitError{2, fmt.Sprintf("cluster start: %s holds a %d-node testnet, not %d", dir, len(tn.Nodes), c.Int("nodes"))}
	}
	cl, err := cluster.New(tn.Nodes, cluster.Options{LogLevel: c.String("log-level"), DatabaseURL: c.String("database-url")})
	if err != nil {
		return fmt.Errorf("cluster start: %w", err)
	}

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer cl.Stop()
	if err := cl.Start(); err != nil {
		return fmt.Errorf("cluster start: %w", err)
	}
	if err := cl.WaitReady(ctx, c.Duration("wait")); ctx.Err() != nil {
		return nil // interrupted before every node was up
	} else if err != nil {
		return fmt.Errorf("cluster start: %w", err)
	}
	fmt.Fprintf(c.App.Writer, "cluster of %d nodes running, chain %s\n", len(cl.Nodes), tn.ChainID)
	cl.PrintTable(c.App.Writer)
	fmt.Fprintln(c.App.Writer, "Press Ctrl-C to stop.")

	select {
	case <-ctx.Done():
		fmt.Fprintln(c.App.Writer, "stopping the cluster")
	case <-cl.AllExited():
		return errors.New("cluster start: every node has exited")
	}
	return nil
}

func clusterStatus(c *cli.Context) error {
	tn, err := node.LoadTestnet(c.String("dir"))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintf(c.App.Writer, "chain %s\n", tn.ChainID)
	fmt.Fprintln(tw, "NODE\tSTATUS\tHEIGHT\tAPP HASH\tPEERS\tRPC")
	down := 0
	for _, n := range tn.Nodes {
		ctx, cancel := context.WithTimeout(c.Context, 3*time.Second)
		cl, err := cluster.RPCClient(n.RPCAddr)
		if err == nil {
			s, serr := cl.Status(ctx)
			ni, nerr := cl.NetInfo(ctx)
			if serr == nil && nerr == nil {
				state := "up"
				if s.SyncInfo.CatchingUp {
					state = "catching up"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", n.Name, state, s.SyncInfo.LatestBlockHeight, s.SyncInfo.LatestAppHash, ni.NPeers, n.RPCAddr)
				cancel()
				continue
			}
		}
		cancel()
		down++
		fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t%s\n", n.Name, "down", n.RPCAddr)
	}
	tw.Flush()
	if down > 0 {
		return &exitError{1, fmt.Sprintf("cluster status: %d of %d nodes down", down, len(tn.Nodes))}
	}
	return nil
}
