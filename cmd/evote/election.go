package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/config"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:  "election",
		Usage: "check and inspect election configuration files (YAML)",
		Description: `An election is defined by a YAML file, usually in election-configs/
(format: docs/election-config.md). These commands check such a file and show
the manifest it defines, its canonical JSON form and its hash
(docs/spec-manifest.md), which every later step of the election refers to.`,
		Subcommands: []*cli.Command{
			{
				Name:      "validate",
				Usage:     "check election configuration files and report every problem",
				ArgsUsage: "FILE...",
				Description: `Checks each FILE and prints, for a valid one,
   FILE: ok (election "ID", N contests, manifest hash HEX)
on standard output, or every problem, one per line, as
   FILE:LINE:COL: message
on standard error.

Exit status: 0 if every file is valid, 1 if any file has a problem or
cannot be read, 2 if no FILE is given.`,
				Action: electionValidate,
			},
			{
				Name:      "hash",
				Usage:     "print the manifest hash of an election configuration, in hex",
				ArgsUsage: "FILE",
				Description: `Prints the hex of the manifest hash: SHA-256 over the length-prefixed tag
"evote/v1/manifest" and the length-prefixed canonical JSON of the manifest
(docs/spec-manifest.md). Ballots, chain transactions and the election
record refer to the election by this hash.`,
				Action: electionHash,
			},
			{
				Name:      "show",
				Usage:     "print a readable summary of an election configuration",
				ArgsUsage: "FILE",
				Description: `Prints the election's title, voting window, contests with their
selections and vote rules in words, ballot styles, trustees and threshold,
authorities, officials and voter roll.`,
				Action: electionShow,
			},
			{
				Name:      "canonical",
				Usage:     "print the canonical JSON form of an election's manifest",
				ArgsUsage: "FILE",
				Description: `Prints the exact bytes that the manifest hash is computed over
(docs/spec-manifest.md), with no trailing newline, so that
  evote election canonical FILE > manifest.json
writes the canonical manifest.`,
				Action: electionCanonical,
			},
		},
	})
}

// usageError is the exit status 2 error of a command given the wrong
// arguments.
func usageError(c *cli.Context, format string, args ...any) error {
	name := "election " + c.Command.Name
	return &exitError{code: 2, msg: fmt.Sprintf("%s: %s (see evote %s --help)", name, fmt.Sprintf(format, args...), name)}
}

// loadElection loads one configuration file. On problems it prints them on
// stderr and returns an exit status 1 error.
func loadElection(c *cli.Context) (*ballot.Manifest, error) {
	if c.NArg() != 1 {
		return nil, usageError(c, "want exactly one FILE, got %d arguments", c.NArg())
	}
	path := c.Args().First()
	m, err := config.Load(path)
	if err != nil {
		var probs *config.Problems
		if errors.As(err, &probs) {
			fmt.Fprintln(c.App.ErrWriter, probs.Error())
			return nil, &exitError{code: 1, msg: fmt.Sprintf("%s: %s", path, countProblems(len(probs.List)))}
		}
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	return m, nil
}

func countProblems(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func electionValidate(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageError(c, "no FILE given")
	}
	failed := 0
	for _, path := range c.Args().Slice() {
		// The voter list, if the configuration names one, is read and
		// checked too: its styles, weights and total weight.
		m, a, err := config.LoadAssignment(path)
		if err != nil {
			failed++
			var probs *config.Problems
			if errors.As(err, &probs) {
				fmt.Fprintln(c.App.ErrWriter, probs.Error())
			} else {
				fmt.Fprintln(c.App.ErrWriter, err)
			}
			continue
		}
		h := m.Hash()
		fmt.Fprintf(c.App.Writer, "%s: ok (election %q, %s, manifest hash %s)\n",
			path, m.ElectionID, plural(len(m.Contests), "contest", "contests"), hex.EncodeToString(h[:]))
		if a != nil && (a.ListFile != "" || len(m.BallotStyles()) > 1) {
			fmt.Fprintf(c.App.Writer, "  voters: %s\n", describeAssignment(m, a))
		}
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d of %s did not validate", failed, plural(c.NArg(), "file", "files"))}
	}
	return nil
}

func electionHash(c *cli.Context) error {
	m, err := loadElection(c)
	if err != nil {
		return err
	}
	h := m.Hash()
	fmt.Fprintln(c.App.Writer, hex.EncodeToString(h[:]))
	return nil
}

func electionCanonical(c *cli.Context) error {
	m, err := loadElection(c)
	if err != nil {
		return err
	}
	_, err = c.App.Writer.Write(m.CanonicalJSON())
	return err
}

func electionShow(c *cli.Context) error {
	m, err := loadElection(c)
	if err != nil {
		return err
	}
	writeSummary(c.App.Writer, m)
	return nil
}

// writeSummary prints the manifest for a person to read.
func writeSummary(w io.Writer, m *ballot.Manifest) {
	h := m.Hash()
	fmt.Fprintf(w, "Election %s: %s\n", m.ElectionID, m.Title)
	if d := strings.TrimSpace(m.Description); d != "" {
		for _, line := range strings.Split(d, "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	fmt.Fprintf(w, "Voting window: %s to %s (%s)\n", ballot.FormatTime(m.Start), ballot.FormatTime(m.End), duration(m.End.Sub(m.Start)))
	fmt.Fprintf(w, "Manifest hash: %s\n", hex.EncodeToString(h[:]))

	fmt.Fprintf(w, "\nContests (%d):\n", len(m.Contests))
	for i := range m.Contests {
		ct := &m.Contests[i]
		fmt.Fprintf(w, "  %d. %s [%s]: %s\n", i+1, ct.Title, ct.ID, ct.Instructions())
		for _, s := range ct.Selections {
			fmt.Fprintf(w, "       - %s [%s]\n", s.Title, s.ID)
		}
	}

	if len(m.Styles) == 0 {
		fmt.Fprintf(w, "\nBallot styles: one (%s), with every contest\n", ballot.DefaultStyleID)
	} else {
		fmt.Fprintf(w, "\nBallot styles (%d):\n", len(m.Styles))
		for _, s := range m.Styles {
			fmt.Fprintf(w, "  %s: %s\n", s.ID, strings.Join(s.Contests, ", "))
		}
	}

	t := m.Trustees
	fmt.Fprintf(w, "\nTrustees: any %d of %d can decrypt the totals together\n", t.Threshold, len(t.Members))
	for _, tr := range t.Members {
		key := "public key not yet known"
		if tr.PublicKey != nil {
			key = ballot.RistrettoKeyPrefix + base64.StdEncoding.EncodeToString(tr.PublicKey)
		}
		fmt.Fprintf(w, "  %d. %s (%s)\n", tr.Index, tr.Name, key)
	}

	fmt.Fprintf(w, "\nAuthorities (%d):\n", len(m.Authorities))
	for _, a := range m.Authorities {
		fmt.Fprintf(w, "  %s: %s\n", a.ID, a.Name)
	}

	fmt.Fprintf(w, "\nOfficials (%d):\n", len(m.Officials))
	for _, o := range m.Officials {
		fmt.Fprintf(w, "  %s: %s\n", o.Name, ballot.FormatEd25519Key(o.PublicKey))
	}

	if r := m.Voters.CredentialRoll; r != nil {
		fmt.Fprintf(w, "\nVoters: credential roll %s (sha256 %x)\n", r.File, r.SHA256)
	} else {
		fmt.Fprintf(w, "\nVoters: %s on the roll\n", plural(m.Voters.RollSize, "voter", "voters"))
	}
}

// duration writes d in days, hours and minutes: "13h", "14d 8h", "1h 30m".
func duration(d time.Duration) string {
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	hours := d / time.Hour
	d -= hours * time.Hour
	minutes := d / time.Minute
	seconds := (d - minutes*time.Minute) / time.Second
	var parts []string
	for _, p := range []struct {
		v    time.Duration
		unit string
	}{{days, "d"}, {hours, "h"}, {minutes, "m"}, {seconds, "s"}} {
		if p.v != 0 {
			parts = append(parts, fmt.Sprintf("%d%s", p.v, p.unit))
		}
	}
	if len(parts) == 0 {
		return "0s"
	}
	return strings.Join(parts, " ")
}

// describeAssignment says how many voters get each ballot style and the
// total weight: "36 from voter-lists/x.csv; glenmore 20, ardvane 16; total
// weight 36".
func describeAssignment(m *ballot.Manifest, a *config.Assignment) string {
	from := ""
	if a.ListFile != "" {
		from = " from " + a.ListFile
	}
	w := fmt.Sprintf("total weight %d", a.TotalWeight)
	if !a.Weighted {
		w = "every weight 1"
	}
	return fmt.Sprintf("%d%s; %s; %s", len(a.Voters), from, votersByStyle(m.StyleIDs(), a.Voters), w)
}

// votersByStyle says how many of vs have each of the ballot styles, in
// order: "glenmore 20, ardvane 16".
func votersByStyle(styles []string, vs []config.Voter) string {
	by := map[string]int{}
	for _, v := range vs {
		by[v.Style]++
	}
	parts := make([]string, len(styles))
	for i, st := range styles {
		parts[i] = fmt.Sprintf("%s %d", st, by[st])
	}
	return strings.Join(parts, ", ")
}
