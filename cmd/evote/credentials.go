package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/ballot/credential"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:  "credentials",
		Usage: "generate voters' credential codes and the public credential roll",
		Description: `Every voter gets a private credential code, such as
   7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5
from which the voting page derives the voter's signing key (Argon2id, then
Ed25519). The public keys form the credential roll, which the election
definition publishes; the codes are never published. Format, checksum, key
derivation and roll: docs/credentials.md.`,
		Subcommands: []*cli.Command{
			{
				Name:      "generate",
				Usage:     "make private credential codes and the public roll of their keys",
				ArgsUsage: " ",
				Description: `Makes one fresh code per voter of the election configuration --config
(its voters.styles counts or voters.voter_list give each voter a ballot style
and a weight; docs/election-config.md), or --count codes for the election
--election-id (one ballot style, every weight 1), derives their public keys
on all cores and writes, in the folder --out (made if missing):

   roll.json    the public credential roll: each key with its ballot style
                and weight (docs/credentials.md, section 4)
   codes.csv    PRIVATE: card number, code, voter (the voter list's label),
                ballot style and weight, one card per line
   codes.html   PRIVATE: a printable sheet, one cut-out card per voter, three
                to a page: the election's title, the code, the voter's label,
                ballot style and weight where they apply, the voting
                addresses, the voting period in the election's time zone and
                the instructions (time_zone and cards of the configuration;
                docs/election-config.md, "Cards")

The private files are created with mode 0600. Print the cards, hand each
voter theirs, and destroy both files after the election: whoever holds a
code can vote in that voter's name.

Nothing but the code links a card to the public roll: the roll lists the
keys sorted by value, and a card carries, besides the text every card of
the election shares, the code and a random card number (ten digits, for
printing and mailing; the files list the cards in card-number order), none
of which tells where the card's key is on the roll. A list of which voter got which card number therefore does
not reveal any voter's ballots.

Existing files are never overwritten unless --force is given. The summary
on standard output gives the roll hash and the SHA-256 of roll.json (the
credential_roll sha256 of the election configuration); no code is ever
printed. Progress goes to standard error for large counts.

The key derivation costs about --kdf-memory KiB and --kdf-time passes per
voter, on the voter's device too; keep the defaults (OWASP's Argon2id
profile) unless you know why. Cheaper values are for tests only.

Exit status: 0 on success, 1 if a file exists or cannot be written, 2 for
bad options.`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "config", Usage: "the election configuration `FILE`: its election id, and its voters' ballot styles and weights (voters.styles or voters.voter_list)"},
					&cli.StringFlag{Name: "election-id", Usage: "the election's id, for an election of one ballot style and no weights (instead of --config)"},
					&cli.IntFlag{Name: "count", Usage: "number of voters (with --election-id)"},
					&cli.StringFlag{Name: "out", Usage: "output folder `DIR`"},
					&cli.UintFlag{Name: "kdf-memory", Value: uint(credential.DefaultKDF.MemoryKiB), Usage: "Argon2id memory in `KiB`"},
					&cli.UintFlag{Name: "kdf-time", Value: uint(credential.DefaultKDF.Time), Usage: "Argon2id passes"},
					&cli.UintFlag{Name: "kdf-threads", Value: uint(credential.DefaultKDF.Threads), Usage: "Argon2id lanes"},
					&cli.IntFlag{Name: "workers", Usage: "derivations in parallel (default: all cores)"},
					&cli.BoolFlag{Name: "force", Usage: "overwrite existing files"},
				},
				Action: credentialsGenerate,
			},
			{
				Name:      "check",
				Usage:     "check that a typed credential code is well-formed",
				ArgsUsage: "[CODE]",
				Description: `Checks the code CODE (may be split over several arguments), or the first
line of standard input if no CODE is given (which keeps the code out of the
shell history). Case, spaces and dashes do not matter; O reads as 0, I and L
as 1. The check symbols catch any single mistyped character and any swap of
two neighbours; a single mistyped character is located.

A well-formed code is not necessarily on an election's roll: that needs the
key derivation, which the voting page does.

Exit status: 0 if the code is well-formed, 1 if not, 2 if no code is given.`,
				Action: credentialsCheck,
			},
			{
				Name:      "roll-hash",
				Usage:     "print the hash of a credential roll, in hex",
				ArgsUsage: "FILE",
				Description: `Reads a credential roll (JSON or binary form), checks it, and prints its
roll hash: SHA-256 over the tag "evote/v1/credential-roll", the roll's
binary header and the hashes of its chunks of 4096 keys
(docs/credentials.md, section 4.3).`,
				Action: credentialsRollHash,
			},
		},
	})
}

// credUsageError is the exit status 2 error of a credentials command given
// the wrong arguments.
func credUsageError(c *cli.Context, format string, args ...any) error {
	name := "credentials " + c.Command.Name
	return &exitError{code: 2, msg: fmt.Sprintf("%s: %s (see evote %s --help)", name, fmt.Sprintf(format, args...), name)}
}

// Files written by credentials generate.
const (
	rollFile      = "roll.json"
	codesCSVFile  = "codes.csv"
	codesHTMLFile = "codes.html"
)

func credentialsGenerate(c *cli.Context) error {
	if c.NArg() != 0 {
		return credUsageError(c, "unexpected argument %q", c.Args().First())
	}
	id, dir := c.String("election-id"), c.String("out")
	styles := []string{credential.DefaultStyle}
	var vs []config.Voter
	settings := &config.Cards{Instructions: config.DefaultInstructions(false)}
	switch {
	case c.IsSet("config") && (c.IsSet("election-id") || c.IsSet("count")):
		return credUsageError(c, "give --config, or --election-id and --count, not both")
	case c.IsSet("config"):
		m, a, err := config.LoadAssignment(c.String("config"))
		if err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("credentials generate: %v", err)}
		}
		if a == nil {
			return &exitError{code: 1, msg: fmt.Sprintf("credentials generate: %s names a credential roll already (voters.credential_roll); give roll_size and, for several ballot styles or weights, voters.styles or voters.voter_list", c.String("config"))}
		}
		// The file is read again for the cards section (Parse checked it).
		if _, settings, err = config.LoadCards(c.String("config")); err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("credentials generate: %v", err)}
		}
		id, vs, styles = m.ElectionID, a.Voters, m.StyleIDs()
	case id == "":
		return credUsageError(c, "--config, or --election-id and --count, are required")
	case !c.IsSet("count"):
		return credUsageError(c, "--count is required")
	default:
		n := c.Int("count")
		if n < 1 || n > credential.MaxRollSize {
			return credUsageError(c, "roll size %d is out of range: want 1 to %d", n, credential.MaxRollSize)
		}
		vs = make([]config.Voter, n)
		for i := range vs {
			vs[i] = config.Voter{Style: credential.DefaultStyle, Weight: 1}
		}
	}
	n := len(vs)
	switch {
	case dir == "":
		return credUsageError(c, "--out is required")
	case c.Uint("kdf-memory") > credential.MaxKDFMemoryKiB, c.Uint("kdf-time") > credential.MaxKDFTime, c.Uint("kdf-threads") > credential.MaxKDFThreads:
		return credUsageError(c, "KDF parameters out of range: at most %d KiB, %d passes, %d threads",
			credential.MaxKDFMemoryKiB, credential.MaxKDFTime, credential.MaxKDFThreads)
	}
	params := credential.KDFParams{Time: uint32(c.Uint("kdf-time")), MemoryKiB: uint32(c.Uint("kdf-memory")), Threads: uint8(c.Uint("kdf-threads"))}
	if err := (credential.Header{ElectionID: id, KDF: params, Count: n, Styles: styles, TotalWeight: uint64(n)}).Validate(); err != nil {
		return credUsageError(c, "%s", strings.TrimPrefix(err.Error(), "credential: "))
	}
	force := c.Bool("force")

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	paths := map[string]string{}
	for _, name := range []string{rollFile, codesCSVFile, codesHTMLFile} {
		p := filepath.Join(dir, name)
		paths[name] = p
		if _, err := os.Lstat(p); err == nil && !force {
			return &exitError{code: 1, msg: fmt.Sprintf("credentials generate: %s already exists; use --force to overwrite it", p)}
		}
	}
	stderr := c.App.ErrWriter
	if params.Weaker() {
		fmt.Fprintf(stderr, "warning: KDF parameters %s are weaker than the default %s; use them for tests only\n", params, credential.DefaultKDF)
	}

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	start := time.Now()
	entries := make([]credential.Entry, n)
	for i, v := range vs {
		entries[i] = credential.Entry{Style: v.Style, Weight: v.Weight}
	}
	codes, roll, err := credential.GenerateEntries(ctx, id, params, styles, entries, randReader, c.Int("workers"), progressPrinter(stderr, n, start))
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return &exitError{code: 1, msg: "credentials generate: interrupted; no file written"}
		}
		return &exitError{code: 1, msg: err.Error()}
	}
	cards, err := makeCards(randReader, codes, vs)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}

	rollSum := sha256.New()
	if err := writeFileAtomic(paths[rollFile], 0o644, force, func(w io.Writer) error {
		return roll.WriteJSON(io.MultiWriter(w, rollSum))
	}); err != nil {
		return err
	}
	if err := writeFileAtomic(paths[codesCSVFile], 0o600, force, func(w io.Writer) error { return writeCodesCSV(w, cards) }); err != nil {
		return err
	}
	if err := writeFileAtomic(paths[codesHTMLFile], 0o600, force, func(w io.Writer) error { return writeCodesHTML(w, id, settings, len(styles), cards) }); err != nil {
		return err
	}

	h := roll.Hash()
	out := c.App.Writer
	fmt.Fprintf(out, "Generated %d credentials for election %q (KDF %s) in %s.\n", n, id, params, time.Since(start).Round(time.Millisecond))
	if hdr := roll.Header(); len(styles) > 1 || hdr.Weighted() {
		fmt.Fprintf(out, "Ballot styles:     %s; total weight %d\n", votersByStyle(styles, vs), hdr.TotalWeight)
	}
	fmt.Fprintf(out, "Roll hash:         %s\n", hex.EncodeToString(h[:]))
	fmt.Fprintf(out, "roll.json SHA-256: %x (credential_roll sha256 in the election configuration)\n", rollSum.Sum(nil))
	fmt.Fprintf(out, "Public:  %s\n", paths[rollFile])
	fmt.Fprintf(out, "Private: %s, %s (mode 0600): hand each voter their card, never publish them\n", paths[codesCSVFile], paths[codesHTMLFile])
	return nil
}

// randReader is the randomness of generated codes.
var randReader io.Reader = rand.Reader

// progressPrinter returns a progress callback that reports to w at most
// every two seconds, and at the end, for counts of 100 or more.
func progressPrinter(w io.Writer, n int, start time.Time) func(int) {
	if n < 100 {
		return nil
	}
	last := start
	return func(done int) {
		now := time.Now()
		if done < n && now.Sub(last) < 2*time.Second {
			return
		}
		last = now
		msg := fmt.Sprintf("derived %d of %d credentials (%d%%)", done, n, done*100/n)
		if done < n {
			left := time.Duration(float64(now.Sub(start)) / float64(done) * float64(n-done))
			msg += fmt.Sprintf(", about %s left", left.Round(time.Second))
		}
		fmt.Fprintln(w, msg)
	}
}

// writeFileAtomic writes path through a temporary file in the same folder,
// with mode perm, so that a crash or an error leaves either no file or the
// whole file. Without force, it fails if path exists (even if it appeared
// after the first check).
func writeFileAtomic(path string, perm fs.FileMode, force bool, write func(io.Writer) error) (err error) {
	fail := func(err error) error {
		return &exitError{code: 1, msg: fmt.Sprintf("credentials generate: writing %s: %v", path, err)}
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fail(err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if force {
		if err := os.Rename(tmp, path); err != nil {
			return fail(err)
		}
		return nil
	}
	// Link fails if path exists, atomically; then the temporary name goes.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &exitError{code: 1, msg: fmt.Sprintf("credentials generate: %s already exists; use --force to overwrite it", path)}
		}
		// A file system without hard links: check, then rename.
		if _, serr := os.Lstat(path); serr == nil {
			return &exitError{code: 1, msg: fmt.Sprintf("credentials generate: %s already exists; use --force to overwrite it", path)}
		}
		if err := os.Rename(tmp, path); err != nil {
			return fail(err)
		}
		return nil
	}
	return os.Remove(tmp)
}

// card is one voter's card: a random card number and the code.
type card struct {
	Number string // cardDigits random digits, as two groups of five
	Code   credential.Code
	Voter  config.Voter // the voter list's label (or ""), the ballot style and the weight
}

// cardDigits is the number of digits of a card number.
const cardDigits = 10

// makeCards gives each code a distinct card number drawn uniformly at random
// from rand (so that it says nothing about where the code's key is on the
// roll) and returns the cards sorted by number.
func makeCards(rand io.Reader, codes []credential.Code, vs []config.Voter) ([]card, error) {
	const space = 10_000_000_000 // 10^cardDigits
	const limit = (1<<64 - 1) / space * space
	seen := make(map[uint64]bool, len(codes))
	nums := make([]uint64, 0, len(codes))
	var b [8]byte
	for len(nums) < len(codes) {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return nil, fmt.Errorf("credentials generate: reading randomness for card numbers: %w", err)
		}
		v := binary.BigEndian.Uint64(b[:])
		if v >= limit { // rejection sampling keeps the numbers uniform
			continue
		}
		if v %= space; !seen[v] {
			seen[v] = true
			nums = append(nums, v)
		}
	}
	cards := make([]card, len(codes))
	for i, code := range codes {
		n := fmt.Sprintf("%0*d", cardDigits, nums[i])
		cards[i] = card{Number: n[:cardDigits/2] + "-" + n[cardDigits/2:], Code: code, Voter: vs[i]}
	}
	slices.SortFunc(cards, func(a, b card) int { return strings.Compare(a.Number, b.Number) })
	return cards, nil
}

// writeCodesCSV writes "card,code,voter,style,weight" and one line per card:
// the voter is the voter list's label (empty without a list).
func writeCodesCSV(w io.Writer, cards []card) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"card", "code", "voter", "style", "weight"}); err != nil {
		return err
	}
	for _, c := range cards {
		if err := cw.Write([]string{c.Number, c.Code.Text(), c.Voter.Label, c.Voter.Style, strconv.FormatUint(c.Voter.Weight, 10)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

var codesHTMLHead = template.Must(template.New("head").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Credential codes: {{with .Cards.Title}}{{.}} ({{end}}{{.Election}}{{if .Cards.Title}}){{end}} (PRIVATE)</title>
<style>
  @page { size: auto; margin: 12mm; }
  * { box-sizing: border-box; }
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 0; color: #000; }
  .warning { border: 2px solid #000; padding: 4mm; margin-bottom: 6mm; font-weight: bold; }
  .card { border: 1px dashed #555; padding: 4mm 7mm; min-height: 70mm; margin: 0 0 3mm 0;
          break-inside: avoid; page-break-inside: avoid; position: relative; }
  .card:nth-of-type(3n) { break-after: page; page-break-after: always; }
  .card .head { display: flex; justify-content: space-between; gap: 4mm; font-size: 11pt; }
  .card .number { white-space: nowrap; }
  .card .id, .card .who { font-size: 9pt; margin: 1mm 0 0 0; }
  .card .label { margin: 2mm 0 0.5mm 0; font-size: 11pt; }
  .card .code { font-family: "DejaVu Sans Mono", "Consolas", "Courier New", monospace;
                font-variant-numeric: slashed-zero; font-size: 22pt; font-weight: bold;
                letter-spacing: 0.08em; white-space: nowrap; margin: 0 0 2mm 0; }
  .card .where, .card .when { font-size: 10pt; margin: 0 0 1.5mm 0; }
  .card .url { font-family: "DejaVu Sans Mono", "Consolas", "Courier New", monospace; font-weight: bold; overflow-wrap: anywhere; }
  .card .how { font-size: 9pt; line-height: 1.3; margin: 0 0 1mm 0; white-space: pre-line; }
  .card .keep { font-size: 9pt; line-height: 1.3; margin: 0; }
  .scissors { position: absolute; top: -3mm; left: 4mm; font-size: 9pt; background: #fff; }
  @media print { .warning { display: none; } }
</style>
</head>
<body>
<p class="warning">PRIVATE. Every card below is a voter's secret credential code. Print,
cut along the dashed lines, hand each voter their own card, then destroy this file.</p>
`))

var codesHTMLCard = template.Must(template.New("card").Parse(`<section class="card">
<span class="scissors">&#9986;</span>
<div class="head"><strong class="title">{{with .Cards.Title}}{{.}}{{else}}Election {{$.Election}}{{end}}</strong><span class="number">Card {{.Number}}</span></div>
{{if .Cards.Title}}<p class="id">Election {{.Election}}</p>
{{end}}{{if .Voter}}<p class="who">For: {{.Voter}}</p>
{{end}}{{if .Style}}<p class="who">Ballot: {{.Style}}</p>
{{end}}{{if .Weight}}<p class="who">Your vote counts {{.Weight}} times (weight {{.Weight}}).</p>
{{end}}<p class="label">Your voting credential code:</p>
<p class="code">{{.Code}}</p>
{{with .Cards.URLs}}<p class="where">Vote at {{range $i, $u := .}}{{if $i}} or {{end}}<span class="url">{{$u}}</span>{{end}}</p>
{{end}}{{with .Period}}<p class="when">Voting is open {{.}}.</p>
{{end}}<p class="how">{{.Cards.Instructions}}</p>
<p class="keep">Capital or small letters, with or without the dashes: all the same.
Keep this code secret: anyone who has it can vote in your name.
You may vote again with it until voting closes; only your last ballot counts.</p>
</section>
`))

// cardPage is what the head of the sheet and every card share.
type cardPage struct {
	Election string
	Cards    *config.Cards
	Period   string // the voting period, "" without a configuration
}

// writeCodesHTML writes the printable sheet, one card per voter (three to a
// page), streaming. A card gives the election's title, where and when to
// vote, and the instructions of settings; it names the voter's ballot style
// when the election has several, and the weight when it is not 1. Every
// text is escaped by html/template.
func writeCodesHTML(w io.Writer, electionID string, settings *config.Cards, styles int, cards []card) error {
	page := cardPage{Election: electionID, Cards: settings}
	if !settings.Start.IsZero() {
		page.Period = settings.Period()
	}
	if err := codesHTMLHead.Execute(w, page); err != nil {
		return err
	}
	for _, c := range cards {
		card := struct {
			cardPage
			Code, Number, Voter, Style, Weight string
		}{cardPage: page, Code: c.Code.Text(), Number: c.Number, Voter: c.Voter.Label}
		if styles > 1 {
			card.Style = c.Voter.Style
		}
		if c.Voter.Weight != 1 {
			card.Weight = strconv.FormatUint(c.Voter.Weight, 10)
		}
		if err := codesHTMLCard.Execute(w, card); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "</body>\n</html>\n")
	return err
}

func credentialsCheck(c *cli.Context) error {
	input := strings.Join(c.Args().Slice(), " ")
	if c.NArg() == 0 {
		in := c.App.Reader
		if in == nil {
			in = os.Stdin
		}
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && err != io.EOF {
			return &exitError{code: 1, msg: fmt.Sprintf("credentials check: reading standard input: %v", err)}
		}
		input = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(input) == "" {
			return credUsageError(c, "no CODE given")
		}
	}
	st := credential.CheckPartial(input)
	fail := func(format string, args ...any) error {
		return &exitError{code: 1, msg: "credentials check: " + fmt.Sprintf(format, args...)}
	}
	switch st.State {
	case credential.Valid:
		fmt.Fprintln(c.App.Writer, "ok: the code is well-formed")
		return nil
	case credential.Incomplete:
		return fail("the code is incomplete: %d of %d characters", st.Symbols, credential.CodeSymbols)
	case credential.TooLong:
		return fail("the code is too long: %d characters, want %d", st.Symbols, credential.CodeSymbols)
	case credential.BadCharacter:
		return fail("character %d of the input is not in the code alphabet (digits and letters except I, L, O, U)", st.Offset+1)
	case credential.BadChecksum:
		switch len(st.Suspects) {
		case 1:
			return fail("the code is mistyped: character %s is wrong", credential.SymbolPosition(st.Suspects[0]))
		case 2:
			return fail("the code is mistyped: characters %s and %s are swapped",
				credential.SymbolPosition(st.Suspects[0]), credential.SymbolPosition(st.Suspects[1]))
		}
		return fail("the code is mistyped (its check characters do not match); more than one character is wrong")
	}
	return fail("unexpected state %s", st.State)
}

func credentialsRollHash(c *cli.Context) error {
	if c.NArg() != 1 {
		return credUsageError(c, "want exactly one FILE, got %d arguments", c.NArg())
	}
	roll, err := credential.Load(c.Args().First())
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	h := roll.Hash()
	fmt.Fprintln(c.App.Writer, hex.EncodeToString(h[:]))
	return nil
}
