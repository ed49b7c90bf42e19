package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/urfave/cli/v2"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/internal/keyfile"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

func init() {
	register(&cli.Command{
		Name:  "official",
		Usage: "election officials' signing keys",
		Description: "An official's Ed25519 key signs the election definition, the credential roll and the open and\n" +
			"close transactions. The chain's genesis lists the officials allowed to define elections; the\n" +
			"election configuration lists those who may act on that election.",
		Subcommands: []*cli.Command{
			{
				Name:  "init",
				Usage: "make an official's key file (passphrase from $" + envPassphraseFile + " or $" + envPassphrase + ")",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "name", Required: true, Usage: "the official's `NAME`"},
					&cli.StringFlag{Name: "out", Required: true, Usage: "the key `FILE` to write"},
					&cli.BoolFlag{Name: "force", Usage: "replace an existing key file"},
				}, kdfFlags...),
				Action: officialInit,
			},
			{
				Name:      "key",
				Usage:     "print the public key of an official's key file (no passphrase needed)",
				ArgsUsage: "FILE",
				Action: func(c *cli.Context) error {
					data, err := os.ReadFile(c.Args().First())
					if err != nil {
						return err
					}
					var pub officialPublic
					if err := keyfile.Public(data, officialKeyFormat, &pub); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "name: %s\npublic key: %s\n", pub.Name, pub.Key)
					return nil
				},
			},
		},
	})
	keyFlag := &cli.StringFlag{Name: "key", Required: true, Usage: "the official's key `FILE`"}
	idFlag := &cli.StringFlag{Name: "election-id", Required: true, Usage: "the election `ID`"}
	registerSub("election", &cli.Command{
		Name:      "publish",
		Usage:     "publish an election definition on the chain (signed by an official)",
		ArgsUsage: "CONFIG.yaml",
		Flags:     []cli.Flag{nodeFlag, keyFlag},
		Action:    electionPublish,
	})
	for _, action := range []string{"open", "close"} {
		registerSub("election", &cli.Command{
			Name:   action,
			Usage:  action + " an election for voting (signed by an official)",
			Flags:  []cli.Flag{nodeFlag, keyFlag, idFlag},
			Action: electionOpenClose(action),
		})
	}
	registerSub("election", &cli.Command{
		Name:  "status",
		Usage: "show an election's state on the chain",
		Description: "With --wait PHASE it waits until the election has reached PHASE (ceremony, ready, open,\n" +
			"closed or tallied) or a later one, up to --timeout, for scripts; exit status 1 if it has not.",
		Flags: []cli.Flag{nodeFlag, idFlag,
			&cli.StringFlag{Name: "wait", Usage: "wait until the election reaches `PHASE` (e.g. tallied)"},
			&cli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Usage: "how long --wait waits (`DURATION`)"},
		},
		Action: electionStatus,
	})
	registerSub("credentials", &cli.Command{
		Name:      "upload",
		Usage:     "load a credential roll onto the chain, chunk by chunk (signed by an official)",
		ArgsUsage: "ROLL (roll.json or binary)",
		Flags:     []cli.Flag{nodeFlag, keyFlag},
		Action:    credentialsUpload,
	})
}

func officialInit(c *cli.Context) error {
	pass, err := keyfile.ReadPassphrase(envPassphrase, envPassphraseFile)
	if err != nil {
		return &exitError{2, err.Error()}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	p := officialPublic{Name: c.String("name"), Key: ballot.FormatEd25519Key(pub)}
	data, err := keyfile.Seal(officialKeyFormat, p, priv.Seed(), pass, kdfFromFlags(c))
	if err != nil {
		return err
	}
	if err := keyfile.Write(c.String("out"), data, c.Bool("force")); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s for official %q\npublic key: %s\n", c.String("out"), p.Name, p.Key)
	fmt.Fprintln(c.App.Writer, "List the public key under officials in the election configuration (and in the chain's genesis).")
	return nil
}

// officialSession opens the official's key file (--key) and connects to the
// node (--node): what every official command that acts on the chain needs.
func officialSession(ctx context.Context, c *cli.Context) (ed25519.PrivateKey, *rpchttp.HTTP, string, error) {
	key, _, err := loadOfficialKey(c.String("key"))
	if err != nil {
		return nil, nil, "", err
	}
	node, chainID, err := dialNode(ctx, c.String("node"))
	return key, node, chainID, err
}

func electionPublish(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{2, "election publish: give one configuration file"}
	}
	m, err := config.Load(c.Args().First())
	if err != nil {
		return err
	}
	ctx, cancel := commandContext(c)
	defer cancel()
	key, node, chainID, err := officialSession(ctx, c)
	if err != nil {
		return err
	}
	res, err := chain.Submit(ctx, node, wire.Encode(chain.DefineElectionTx(chainID, m, key)), true)
	if err != nil {
		return err
	}
	mh := m.Hash()
	fmt.Fprintf(c.App.Writer, "election %q published at height %d (manifest hash %s)\n", m.ElectionID, res.Height, hex.EncodeToString(mh[:]))
	fmt.Fprintln(c.App.Writer, "Next: the trustees run the key ceremony (evote trustee ceremony … --node), and the roll is uploaded.")
	return nil
}

func electionOpenClose(action string) cli.ActionFunc {
	return func(c *cli.Context) error {
		ctx, cancel := commandContext(c)
		defer cancel()
		key, node, chainID, err := officialSession(ctx, c)
		if err != nil {
			return err
		}
		var tx wire.Tx = chain.OpenTx(chainID, c.String("election-id"), key)
		if action == "close" {
			tx = chain.CloseTx(chainID, c.String("election-id"), key)
		}
		res, err := chain.Submit(ctx, node, wire.Encode(tx), true)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "election %q: %s at height %d\n", c.String("election-id"), map[string]string{"open": "opened", "close": "closed"}[action], res.Height)
		return nil
	}
}

func electionStatus(c *cli.Context) error {
	var want wire.Phase
	if w := c.String("wait"); w != "" {
		if err := want.UnmarshalText([]byte(w)); err != nil {
			return &exitError{2, fmt.Sprintf("election status: --wait %q: name a phase: ceremony, ready, open, closed or tallied", w)}
		}
	}
	timeout := c.Duration("timeout")
	ctx, cancel := context.WithTimeout(c.Context, 2*time.Minute+timeout)
	defer cancel()
	node, _, err := dialNode(ctx, c.String("node"))
	if err != nil {
		return err
	}
	var rec rules.ElectionRecord
	for deadline := time.Now().Add(timeout); ; {
		if err := chain.QueryJSON(ctx, node, "election/"+c.String("election-id"), &rec); err != nil {
			return err
		}
		if rec.Phase >= want {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("election %s: still %s after %v, not %s", c.String("election-id"), rec.Phase, timeout, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	w := c.App.Writer
	fmt.Fprintf(w, "election %s: %s (defined at height %d)\n", c.String("election-id"), rec.Phase, rec.DefinedHeight)
	if rec.JointKey != nil {
		fmt.Fprintf(w, "election key: %s (qualified trustees %v)\n", base64.StdEncoding.EncodeToString(rec.JointKey), rec.Qualified)
	}
	for _, f := range rec.Faults {
		fmt.Fprintf(w, "ceremony fault: %s\n", f)
	}
	fmt.Fprintf(w, "credential roll: %d chunks loaded, complete: %v, %d credentials\n", rec.RollChunks, rec.RollComplete, rec.RollCount)
	fmt.Fprintf(w, "ballots: %d cast, %d replaced by re-votes, %d counted, %d audited\n", rec.BallotsCast, rec.BallotsReplaced, rec.Counted(), rec.Audited)
	return nil
}

func credentialsUpload(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{2, "credentials upload: give one roll file"}
	}
	roll, err := credential.Load(c.Args().First())
	if err != nil {
		return err
	}
	ctx, cancel := commandContext(c)
	defer cancel()
	key, node, chainID, err := officialSession(ctx, c)
	if err != nil {
		return err
	}
	txs, err := chain.RollTxs(chainID, roll, key)
	if err != nil {
		return err
	}
	for i, tx := range txs {
		if _, err := chain.Submit(ctx, node, wire.Encode(tx), true); err != nil && !chain.IsCode(err, wire.CodeDuplicate) {
			return fmt.Errorf("chunk %d of %d: %w", i+1, len(txs), err)
		}
		fmt.Fprintf(c.App.ErrWriter, "uploaded chunk %d of %d\n", i+1, len(txs))
	}
	h := roll.Hash()
	fmt.Fprintf(c.App.Writer, "credential roll of %q loaded: %d credentials, roll hash %s\n", roll.Header().ElectionID, roll.Len(), hex.EncodeToString(h[:]))
	return nil
}
