package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/crypto/dkg"
	"github.com/evote/evote/internal/keyfile"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// Environment variables that carry a trustee's passphrase. A passphrase is
// never taken from a command-line argument, which other users could see.
const (
	envPassphrase     = "EVOTE_PASSPHRASE"
	envPassphraseFile = "EVOTE_PASSPHRASE_FILE"
)

var kdfFlags = []cli.Flag{
	&cli.UintFlag{Name: "kdf-memory", Value: uint(keyfile.DefaultKDF.MemoryKiB), Usage: "Argon2id memory in KiB for the key file's encryption"},
	&cli.UintFlag{Name: "kdf-time", Value: uint(keyfile.DefaultKDF.Time), Usage: "Argon2id passes for the key file's encryption"},
}

func kdfFromFlags(c *cli.Context) keyfile.KDF {
	k := keyfile.DefaultKDF
	k.MemoryKiB, k.Time = uint32(c.Uint("kdf-memory")), uint32(c.Uint("kdf-time"))
	return k
}

func ceremonyFlags(withKey bool) []cli.Flag {
	fs := []cli.Flag{
		&cli.StringFlag{Name: "election", Required: true, Usage: "the election configuration `FILE` (YAML)"},
		&cli.StringFlag{Name: "dir", Usage: "the shared `FOLDER` where the trustees exchange messages (or use --node)"},
		nodeFlag,
	}
	if withKey {
		fs = append(fs, &cli.StringFlag{Name: "key", Required: true, Usage: "your trustee key `FILE`"})
	}
	return fs
}

func init() {
	register(&cli.Command{
		Name:  "trustee",
		Usage: "trustees' tools: key files and the key ceremony",
		Description: "A trustee holds a share of the election key. Any threshold k of the n trustees can decrypt\n" +
			"the totals; fewer cannot decrypt anything. Key files are encrypted with a passphrase taken from\n" +
			"$" + envPassphraseFile + " (a file holding it) or $" + envPassphrase + ".",
		Subcommands: []*cli.Command{
			{
				Name:      "init",
				Usage:     "make a trustee key file (identity and share-encryption keys)",
				ArgsUsage: " ",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "name", Required: true, Usage: "the trustee's `NAME` as in the election configuration"},
					&cli.StringFlag{Name: "out", Required: true, Usage: "the key `FILE` to write"},
					&cli.BoolFlag{Name: "force", Usage: "replace an existing key file"},
				}, kdfFlags...),
				Action: trusteeInit,
			},
			{
				Name:      "key",
				Usage:     "print the public keys of a trustee key file (no passphrase needed)",
				ArgsUsage: "FILE",
				Action:    trusteeShowKey,
			},
			{
				Name:        "ceremony",
				Usage:       "run the key ceremony, round by round, on the chain (or through a shared folder)",
				Description: ceremonyHelp,
				Subcommands: []*cli.Command{
					{Name: "register", Usage: "round 0: publish your share-encryption key", Flags: append(ceremonyFlags(true), kdfFlags...), Action: ceremonyRound(trustee.KindRegister)},
					{Name: "deal", Usage: "round 1: publish your commitments and encrypted shares", Flags: append(ceremonyFlags(true), kdfFlags...), Action: ceremonyRound(trustee.KindDealing)},
					{Name: "check", Usage: "round 2: check the shares dealt to you and publish complaints, if any", Flags: append(ceremonyFlags(true), kdfFlags...), Action: ceremonyRound(trustee.KindComplaints)},
					{Name: "justify", Usage: "round 3: answer the complaints against you (only if finish says some name you)", Flags: append(ceremonyFlags(true), kdfFlags...), Action: ceremonyRound(trustee.KindJustifications)},
					{Name: "finish", Usage: "close round 3 if no complaint names you, compute your share of the election key and store it in your key file",
						Flags:  append(append(ceremonyFlags(true), &cli.BoolFlag{Name: "force", Usage: "go on without trustees that sent nothing (after the deadline)"}), kdfFlags...),
						Action: ceremonyFinish},
					{Name: "status", Usage: "show which messages are on the chain (or in the shared folder)", Flags: ceremonyFlags(false), Action: ceremonyStatus},
					{Name: "result", Usage: "re-derive the election key from the transcript and write it (anyone can run this)",
						Flags: append(ceremonyFlags(false),
							&cli.StringFlag{Name: "out", Usage: "write the election key `FILE` (JSON)"},
							&cli.BoolFlag{Name: "force", Usage: "go on without trustees that sent nothing (after the deadline)"}),
						Action: ceremonyResult},
				},
			},
		},
	})
}

func trusteeInit(c *cli.Context) error {
	pass, err := keyfile.ReadPassphrase(envPassphrase, envPassphraseFile)
	if err != nil {
		return &exitError{2, err.Error()}
	}
	k, err := trustee.NewKey(rand.Reader, c.String("name"))
	if err != nil {
		return err
	}
	if err := k.Save(c.String("out"), pass, kdfFromFlags(c), c.Bool("force")); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s for trustee %q\n", c.String("out"), k.Name)
	fmt.Fprintf(c.App.Writer, "identity key: %s\n", k.IdentityText())
	fmt.Fprintln(c.App.Writer, "Give the identity key to the election official, to list under trustees in the election configuration.")
	return nil
}

func trusteeShowKey(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{2, "trustee key: give one key file"}
	}
	p, err := trustee.LoadPublic(c.Args().First())
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "name: %s\nidentity key: %s\nshare-encryption key (X25519): %s\n", p.Name, p.IdentityText(), base64.StdEncoding.EncodeToString(p.HPKE))
	return nil
}

// loadCeremony reads the election configuration and the ceremony's
// messages, from the shared folder (--dir) or from the chain (--node).
func loadCeremony(c *cli.Context) (*trustee.Ceremony, *trustee.Transcript, error) {
	m, err := config.Load(c.String("election"))
	if err != nil {
		return nil, nil, err
	}
	cer, err := trustee.NewCeremony(m)
	if err != nil {
		return nil, nil, err
	}
	var t *trustee.Transcript
	switch {
	case c.String("node") != "":
		ctx, cancel := commandContext(c)
		defer cancel()
		node, _, err := dialNode(ctx, c.String("node"))
		if err != nil {
			return nil, nil, err
		}
		var rec rules.ElectionRecord
		if err := chain.QueryJSON(ctx, node, "election/"+m.ElectionID, &rec); err != nil {
			return nil, nil, err
		}
		if mh := m.Hash(); !bytes.Equal(rec.ManifestHash, mh[:]) {
			return nil, nil, fmt.Errorf("the chain's election %q differs from %s (manifest hash %x on chain, %x here): do not take part until this is explained", m.ElectionID, c.String("election"), rec.ManifestHash, mh)
		}
		var files []json.RawMessage
		if err := chain.QueryJSON(ctx, node, "ceremony/"+m.ElectionID, &files); err != nil {
			return nil, nil, err
		}
		var msgs []*trustee.Message
		for _, f := range files {
			msg, err := trustee.DecodeMessage(f)
			if err != nil {
				return nil, nil, err
			}
			msgs = append(msgs, msg)
		}
		t = cer.Collect(msgs)
	case c.String("dir") != "":
		if err := os.MkdirAll(c.String("dir"), 0o755); err != nil {
			return nil, nil, err
		}
		if t, err = cer.Load(c.String("dir")); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, &exitError{2, "give --dir FOLDER (a shared folder) or --node URL (the chain)"}
	}
	for _, p := range t.Problems {
		fmt.Fprintln(c.App.ErrWriter, "warning:", p)
	}
	return cer, t, nil
}

// sendMessage publishes a ceremony message to the shared folder or the chain.
func sendMessage(c *cli.Context, msg *trustee.Message) (string, error) {
	if c.String("node") == "" {
		return trustee.WriteMessage(c.String("dir"), msg)
	}
	ctx, cancel := commandContext(c)
	defer cancel()
	node, _, err := dialNode(ctx, c.String("node"))
	if err != nil {
		return "", err
	}
	res, err := chain.Submit(ctx, node, wire.Encode(chain.CeremonyTx(msg)), true)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("the chain (height %d)", res.Height), nil
}

func loadKey(c *cli.Context) (*trustee.Key, []byte, error) {
	pass, err := keyfile.ReadPassphrase(envPassphrase, envPassphraseFile)
	if err != nil {
		return nil, nil, &exitError{2, err.Error()}
	}
	k, err := trustee.Load(c.String("key"), pass)
	return k, pass, err
}

// waitingExit turns "waiting for other trustees" into exit status 3, so
// scripts can tell it from a failure.
func waitingExit(err error) error {
	if errors.Is(err, trustee.ErrWaiting) {
		return &exitError{3, err.Error()}
	}
	return err
}

func ceremonyRound(kind string) cli.ActionFunc {
	return func(c *cli.Context) error {
		cer, t, err := loadCeremony(c)
		if err != nil {
			return err
		}
		k, pass, err := loadKey(c)
		if err != nil {
			return err
		}
		var msg *trustee.Message
		var detail string
		switch kind {
		case trustee.KindRegister:
			msg, err = cer.Register(k)
		case trustee.KindDealing:
			msg, err = cer.Deal(k, t)
			if err == nil {
				// The polynomial must be safe in the key file before the
				// dealing is published.
				err = k.Save(c.String("key"), pass, kdfFromFlags(c), true)
			}
		case trustee.KindComplaints:
			var cs []dkg.Complaint
			msg, cs, err = cer.Check(k, t)
			detail = fmt.Sprintf(" (%d complaints)", len(cs))
			for _, cp := range cs {
				fmt.Fprintf(c.App.ErrWriter, "complaint: the share %s dealt to you does not match its commitments\n", cer.Name(cp.Accused))
			}
		case trustee.KindJustifications:
			var js []dkg.Justification
			msg, js, err = cer.Justify(k, t)
			detail = fmt.Sprintf(" (%d justifications)", len(js))
		}
		if err != nil {
			return waitingExit(err)
		}
		path, err := sendMessage(c, msg)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "%s: wrote %s%s\n", cer.Name(msg.From), path, detail)
		return nil
	}
}

func printFaults(c *cli.Context, cer *trustee.Ceremony, faults []dkg.Fault) {
	for _, f := range faults {
		verdict := "reported"
		if f.Disqualified {
			verdict = "DISQUALIFIED"
		}
		fmt.Fprintf(c.App.Writer, "fault: %s %s: %s\n", cer.Name(f.Trustee), verdict, f.Reason)
	}
}

// ceremonyHelp is the help of evote trustee ceremony: the chain first.
const ceremonyHelp = `The trustees make the election key together, in rounds, each on their own
machine with their own key file (evote trustee init). Every trustee runs, in
order:

   register   round 0: publish your share-encryption key
   deal       round 1: publish your commitments and the shares you deal the
              others, each encrypted to its trustee
   check      round 2: check the shares dealt to you; publish the complaints,
              if any
   finish     compute your share of the election key and keep it in your key
              file; it first closes round 3 for you with an empty message when
              no complaint names you

Each round waits until every trustee's message of the previous round is in:
a command run too early exits with status 3 and names the trustees it waits
for; run it again later. A trustee that a complaint names is told so by
finish (exit status 1) and answers with justify (round 3) before finish; a
cheating trustee is named with the evidence.

On the chain (the usual way). After the official has published the election
(evote election publish), every command takes --node URL, an authority
node's CometBFT RPC address, with --election FILE, the configuration the
official published (its manifest hash is checked against the chain's), and
--key FILE, your key file:

   evote trustee ceremony register --election cfg.yaml --node http://NODE:26657 --key my.key
   evote trustee ceremony deal     --election cfg.yaml --node http://NODE:26657 --key my.key
   evote trustee ceremony check    --election cfg.yaml --node http://NODE:26657 --key my.key
   evote trustee ceremony finish   --election cfg.yaml --node http://NODE:26657 --key my.key

Each message is a transaction that every node checks (its trustee's
signature, its content, one message of each kind per trustee). Once every
trustee's round 3 message is on the chain, the nodes derive the election key
and the election is ready for its roll and its opening.

Offline, through a shared folder. Give --dir FOLDER instead of --node: each
message is a file KIND-FROM.json in a folder the trustees share (a network
share, a medium passed from hand to hand), with the same content as on the
chain (docs/spec-threshold.md §11). The chain is not involved and does not
learn the key: an election on the chain needs its ceremony on the chain. The
folder is for rehearsals and tests.

Anyone can run status (which messages are in) and result (re-derive the
election key from the messages, and write it with --out).`

func ceremonyFinish(c *cli.Context) error {
	cer, t, err := loadCeremony(c)
	if err != nil {
		return err
	}
	k, pass, err := loadKey(c)
	if err != nil {
		return err
	}
	// Round 3 is for answering complaints: with none against this trustee,
	// finish sends its empty message itself.
	msg, err := cer.NoJustification(k, t)
	switch {
	case errors.Is(err, trustee.ErrAccused):
		return &exitError{1, fmt.Sprintf("%v: answer with evote trustee ceremony justify, then run finish again", err)}
	case err != nil:
		return waitingExit(err)
	case msg != nil:
		path, err := sendMessage(c, msg)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "%s: no complaint names you; closed round 3 in %s\n", cer.Name(msg.From), path)
		if cer, t, err = loadCeremony(c); err != nil {
			return err
		}
	}
	res, err := cer.Finish(k, t, c.Bool("force"))
	if res != nil {
		printFaults(c, cer, res.Faults)
	}
	if err != nil {
		return waitingExit(err)
	}
	if err := k.Save(c.String("key"), pass, kdfFromFlags(c), true); err != nil {
		return err
	}
	jk := crypto.EncodePoint(res.PublicKey)
	fmt.Fprintf(c.App.Writer, "%s: your share of the election key is in %s\n", cer.Name(k.Ceremonies[cer.Manifest.ElectionID].Index), c.String("key"))
	fmt.Fprintf(c.App.Writer, "election key: %s\n", base64.StdEncoding.EncodeToString(jk[:]))
	return nil
}

func ceremonyStatus(c *cli.Context) error {
	cer, t, err := loadCeremony(c)
	if err != nil {
		return err
	}
	rows := []struct {
		kind string
		have []int
	}{{trustee.KindRegister, t.Registered}, {trustee.KindDealing, t.DealtBy}, {trustee.KindComplaints, t.ComplainedBy}, {trustee.KindJustifications, t.JustifiedBy}}
	fmt.Fprintf(c.App.Writer, "election %s: %d trustees, threshold %d\n", cer.Manifest.ElectionID, cer.Params.N, cer.Params.K)
	for _, r := range rows {
		fmt.Fprintf(c.App.Writer, "%-15s %d of %d", r.kind, len(r.have), cer.Params.N)
		if len(r.have) < cer.Params.N {
			fmt.Fprintf(c.App.Writer, " (waiting for")
			for l := 1; l <= cer.Params.N; l++ {
				if !contains(r.have, l) {
					fmt.Fprintf(c.App.Writer, " %d", l)
				}
			}
			fmt.Fprintf(c.App.Writer, ")")
		}
		fmt.Fprintln(c.App.Writer)
	}
	fmt.Fprintf(c.App.Writer, "complaints: %d, justifications: %d, rejected messages: %d\n", len(t.Complaints), len(t.Justifications), len(t.Problems))
	return nil
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func ceremonyResult(c *cli.Context) error {
	cer, t, err := loadCeremony(c)
	if err != nil {
		return err
	}
	res, err := cer.Resolve(t, c.Bool("force"))
	if res != nil {
		printFaults(c, cer, res.Faults)
	}
	if err != nil {
		return waitingExit(err)
	}
	ek := cer.ElectionKey(res)
	fmt.Fprintf(c.App.Writer, "qualified trustees: %v\nelection key: %s\n", res.Qualified, base64.StdEncoding.EncodeToString(ek.JointKey))
	if out := c.String("out"); out != "" {
		data, err := json.MarshalIndent(ek, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "wrote %s\n", out)
	}
	return nil
}
