package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/urfave/cli/v2"

	"github.com/evote/evote/internal/jsonout"
	"github.com/evote/evote/verify"
)

func init() {
	register(&cli.Command{
		Name:      "verify",
		Usage:     "verify an election from its exported record or from the authority nodes",
		UsageText: "evote verify --record DIR\nevote verify --node RPC_URL --election-id ID\nevote verify --node RPC_URL --node RPC_URL --election-id ID",
		Description: "Re-checks everything from public data and prints a numbered report (docs/spec-verify.md):\n" +
			"the blocks and their commits, the election definition, the key ceremony, the credential roll,\n" +
			"every ballot's signature and proofs, the re-vote rule, audits, the encrypted totals, the decryption\n" +
			"shares, their combination and the counts. With several nodes it also compares their blocks and\n" +
			"reports a fork. The exit status is 0 only if every check passes.\n\n" +
			"RPC_URL is an authority node's public web address, the one voters use (https://vote.example.org;\n" +
			"it serves the read-only RPC an observer needs), or its CometBFT RPC address (http://127.0.0.1:26657\n" +
			"on the node's own machine by default); DIR is a folder that `evote record export` wrote.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "record", Usage: "an exported record `DIR`"},
			&cli.StringSliceFlag{Name: "node", Usage: "an authority node's public web address or CometBFT RPC address (`RPC_URL`; repeat for several)"},
			&cli.StringFlag{Name: "election-id", Usage: "the election's `ID` (with --node)"},
			&cli.StringFlag{Name: "genesis-sha256", Usage: "the genesis fingerprint `HEX` the authorities published (what 'evote node genesis' and 'evote node show' print); any other genesis fails"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
			&cli.IntFlag{Name: "workers", Usage: "`N` goroutines verifying proofs (default: all cores)"},
			&cli.StringFlag{Name: "memory-limit", Value: "1536MiB", Usage: "a soft limit on the verifier's heap (`SIZE` in KiB, MiB or GiB; 0 for none; GOMEMLIMIT, when set, wins): near it the garbage collector runs more often instead of letting the heap grow to twice what is live"},
		},
		Action: verifyCommand,
	})
	register(&cli.Command{
		Name:      "verify-audit",
		Usage:     "check an audited ballot file a voter saved, and show the choices it reveals",
		UsageText: "evote verify-audit --record DIR FILE\nevote verify-audit --node RPC_URL FILE",
		Description: "Checks that the audited (spoiled) ballot encrypts exactly the choices it reveals, with the\n" +
			"election's manifest and key re-derived from the record or the node, prints the choices with the\n" +
			"contests' and selections' titles, and says whether the chain holds that audited ballot.\n\n" +
			"FILE is the audit file the voting page saved (audit-<tracking code>.json); the election is the\n" +
			"one the file names. RPC_URL is an authority node's public web address (the one voters use) or its\n" +
			"CometBFT RPC address (http://127.0.0.1:26657 on the node's own machine by default). The options may\n" +
			"also follow FILE.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "record", Usage: "an exported record `DIR`"},
			&cli.StringFlag{Name: "node", Usage: "an authority node's public web address or CometBFT RPC address (`RPC_URL`)"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
		},
		Action: verifyAuditCommand,
	})
}

func verifyCommand(c *cli.Context) error {
	ctx, cancel := commandContextFor(c, 24*time.Hour)
	defer cancel()
	if err := setMemoryLimit(c.String("memory-limit")); err != nil {
		return err
	}
	opts := verify.Options{Workers: c.Int("workers"), GenesisSHA256: c.String("genesis-sha256")}
	if !c.Bool("json") && isTerminal(os.Stderr) {
		opts.Progress = c.App.ErrWriter
	}
	var rep *verify.Report
	var err error
	switch dir, nodes := c.String("record"), c.StringSlice("node"); {
	case dir != "" && len(nodes) > 0:
		return &exitError{2, "give either --record or --node, not both"}
	case dir != "":
		rep, err = verify.Record(ctx, dir, opts)
	case len(nodes) > 0:
		if c.String("election-id") == "" {
			return &exitError{2, "--node needs --election-id"}
		}
		var clients []rpcclient.Client
		for _, url := range nodes {
			cl, _, derr := dialNode(ctx, url)
			if derr != nil {
				return derr
			}
			clients = append(clients, cl)
		}
		rep, err = verify.Nodes(ctx, clients, c.String("election-id"), verify.NodesOptions{Options: opts, Names: nodes})
	default:
		return &exitError{2, "nothing to verify: give --record DIR or --node URL --election-id ID"}
	}
	if err != nil && rep == nil {
		return err
	}
	if c.Bool("json") {
		rep.WriteJSON(c.App.Writer)
	} else {
		rep.WriteText(c.App.Writer)
	}
	if err != nil {
		return err
	}
	if !rep.OK() {
		return &exitError{1, "verification FAILED"}
	}
	return nil
}

func verifyAuditCommand(c *cli.Context) error {
	args, err := flagsAfterArg(c)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return &exitError{2, fmt.Sprintf("give one audited ballot FILE (got %d arguments: %q)", len(args), args)}
	}
	name := args[0]
	file, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	ctx, cancel := commandContextFor(c, time.Hour)
	defer cancel()
	var r *verify.AuditReport
	switch dir, url := c.String("record"), c.String("node"); {
	case dir != "" && url != "":
		return &exitError{2, "give either --record or --node, not both"}
	case dir != "":
		r, err = verify.AuditRecord(ctx, dir, file)
	case url != "":
		var head struct {
			ElectionID string `json:"election_id"`
		}
		if json.Unmarshal(file, &head) != nil || head.ElectionID == "" {
			return fmt.Errorf("%s is not an audited ballot file (no election_id)", name)
		}
		cl, _, derr := dialNode(ctx, url)
		if derr != nil {
			return derr
		}
		r, err = verify.AuditNode(ctx, cl, head.ElectionID, file)
	default:
		return &exitError{2, "give --record DIR or --node URL"}
	}
	if err != nil {
		return err
	}
	w := c.App.Writer
	if c.Bool("json") {
		jsonout.Encode(w, r, "  ")
	} else {
		fmt.Fprintf(w, "audited ballot %s of election %q\n", r.TrackingCode, r.ElectionID)
		if r.Valid {
			fmt.Fprintln(w, "VALID: the encrypted ballot holds exactly these choices:")
			for _, cc := range r.Choices {
				fmt.Fprintf(w, "  %s\n", cc.Title)
				for _, s := range cc.Selections {
					mark := "[ ]"
					if s.Marked {
						mark = "[x]"
					}
					fmt.Fprintf(w, "    %s %s\n", mark, s.Title)
				}
			}
		} else {
			fmt.Fprintf(w, "INVALID: %s\n", r.Error)
		}
		switch r.OnChain {
		case "audited":
			fmt.Fprintf(w, "on the chain: audited at height %d (transaction %d); it can never be cast\n", r.Height, r.TxIndex)
		case "cast":
			fmt.Fprintf(w, "WARNING: the chain holds this ballot as CAST at height %d (transaction %d)\n", r.Height, r.TxIndex)
		default:
			fmt.Fprintln(w, "not on the chain: the audit was not published (or not yet)")
		}
	}
	if !r.Valid || r.OnChain == "cast" {
		return &exitError{1, ""}
	}
	return nil
}

// flagsAfterArg parses the command's flags that follow its first argument
// ("verify-audit FILE --node URL"): urfave/cli stops parsing flags at the
// first argument, and leaves the rest as arguments. The parsed flags are
// set on c; args are the arguments that are not flags.
func flagsAfterArg(c *cli.Context) (args []string, err error) {
	args = c.Args().Slice()
	if len(args) < 2 {
		return args, nil
	}
	fs := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		for _, name := range f.Names() {
			if bf, ok := f.(*cli.BoolFlag); ok {
				fs.Bool(name, bf.Value, "")
			} else {
				fs.String(name, "", "")
			}
		}
	}
	rest := args[1:]
	var extra []string
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return nil, &exitError{2, fmt.Sprintf("%s: %v", c.Command.Name, err)}
		}
		rest = fs.Args()
		if len(rest) > 0 {
			extra, rest = append(extra, rest[0]), rest[1:]
		}
	}
	fs.Visit(func(f *flag.Flag) {
		if err == nil {
			err = c.Set(f.Name, f.Value.String())
		}
	})
	if err != nil {
		return nil, err
	}
	return append([]string{args[0]}, extra...), nil
}

// commandContextFor bounds a long command's run time.
func commandContextFor(c *cli.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Context, d)
}

// setMemoryLimit sets the Go runtime's soft memory limit from a size such as
// "1536MiB" ("0" for none), unless GOMEMLIMIT is set. A large record's
// verifier holds about a kilobyte per ballot at its end (its state and its
// indexes of the ballots and credentials); without a limit the collector lets
// the heap reach twice that (docs/benchmarks-large.md).
func setMemoryLimit(size string) error {
	if os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	n, err := parseSize(size)
	if err != nil {
		return &exitError{2, fmt.Sprintf("--memory-limit %q: %v", size, err)}
	}
	if n > 0 {
		debug.SetMemoryLimit(n)
	}
	return nil
}

// parseSize reads a byte count with an optional KiB, MiB or GiB suffix.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("not a size (a whole number, optionally followed by KiB, MiB or GiB)")
	}
	return v * mult, nil
}
