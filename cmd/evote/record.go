package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/record"
)

func init() {
	register(&cli.Command{
		Name:  "record",
		Usage: "the election record: everything an observer needs to re-check an election",
		Subcommands: []*cli.Command{{
			Name:      "export",
			Usage:     "export an election's record from a node into a folder (docs/record.md)",
			UsageText: "evote record export --node RPC_URL --election-id ID --out DIR",
			Description: "Fetches the chain's genesis and every block with its commit and results, and the node's\n" +
				"account of the election, and writes them into a new folder that `evote verify --record DIR` checks.\n" +
				"RPC_URL is an authority node's public web address, the one voters use (it serves the read-only RPC\n" +
				"an observer needs at /rpc), or its CometBFT RPC address (http://127.0.0.1:26657 on the node's own\n" +
				"machine by default).",
			Flags: []cli.Flag{
				nodeFlag,
				&cli.StringFlag{Name: "election-id", Required: true, Usage: "the election's `ID`"},
				&cli.StringFlag{Name: "out", Required: true, Usage: "the new record `DIR` (must not exist or be empty)"},
			},
			Action: recordExport,
		}},
	})
}

func recordExport(c *cli.Context) error {
	ctx, cancel := commandContextFor(c, 6*time.Hour)
	defer cancel()
	node, _, err := dialNode(ctx, c.String("node"))
	if err != nil {
		return err
	}
	var prog func(h, last int64)
	if isTerminal(os.Stderr) {
		prog = func(h, last int64) {
			if h%100 == 0 || h == last {
				fmt.Fprintf(c.App.ErrWriter, "\r\x1b[Kexporting block %d of %d", h, last)
			}
		}
	}
	err = record.ExportWithOptions(ctx, node, c.String("election-id"), c.String("out"), record.ExportOptions{Progress: prog})
	if prog != nil {
		fmt.Fprint(c.App.ErrWriter, "\r\x1b[K")
	}
	if err != nil {
		return err
	}
	r, err := record.Open(c.String("out"))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "record of election %q on chain %q, heights 1 to %d, written to %s\n",
		r.Index.ElectionID, r.Index.ChainID, r.Index.LastHeight, c.String("out"))
	return nil
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
