package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/chain/store/pgstore"
	"github.com/evote/evote/record"
)

// envDatabaseURL carries the PostgreSQL URL of a node's state, so that a
// password in it need not appear on a command line.
const envDatabaseURL = "EVOTE_DATABASE_URL"

// serveHTTP serves the voters' and observers' HTTP and websocket interface
// of a running node on addr (host:port) until ctx is done. It is the hook
// through which the web server is wired into `evote node start`; while it
// is nil the node runs without one.
var serveHTTP func(ctx context.Context, addr string, n *node.Node, app *chain.App) error

var homeFlag = &cli.StringFlag{Name: "home", Required: true, Usage: "the node's home `FOLDER`"}

func officialKeyFlag(required bool) cli.Flag {
	return &cli.StringSliceFlag{Name: "official-key", Required: required,
		Usage: "an election official's public `KEY` (ed25519:<base64>), repeatable: the officials the chain accepts election definitions from"}
}

var logLevelFlag = &cli.StringFlag{Name: "log-level", Value: "warn",
	Usage: "lowest `LEVEL` of CometBFT's log lines shown: debug, info, warn or error (evote's own start/stop lines are always shown)"}

func init() {
	register(&cli.Command{
		Name:  "node",
		Usage: "run an authority node of the ballot chain",
		Description: "An authority node runs CometBFT consensus with evote's application in one process.\n" +
			"Each organisation runs one node: `node init` makes its home folder and keys, the organisations\n" +
			"agree on one genesis (`node show`, `node genesis`), and `node start` runs it.\n" +
			"For a local cluster on one machine, see `node testnet` and `evote cluster`.\n" +
			"See docs/operations.md.",
		Subcommands: []*cli.Command{
			{
				Name:      "init",
				Usage:     "make a node's home folder: config, node key and validator key (no genesis)",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					homeFlag,
					&cli.StringFlag{Name: "moniker", Value: "evote-node", Usage: "the node's `NAME`, shown to its peers"},
					&cli.StringFlag{Name: "p2p", Value: "tcp://0.0.0.0:26656", Usage: "`ADDRESS` where the node listens for its peers"},
					&cli.StringFlag{Name: "external-address", Usage: "`HOST:PORT` the peers dial, if not the listening address (behind NAT)"},
					&cli.StringFlag{Name: "rpc", Value: "tcp://127.0.0.1:26657", Usage: "`ADDRESS` of CometBFT's RPC server, or none"},
					&cli.StringFlag{Name: "http", Value: "127.0.0.1:8080", Usage: "`HOST:PORT` of evote's HTTP server for voters and observers"},
					&cli.BoolFlag{Name: "private-network", Usage: "peer with nodes on private or shared addresses: several nodes on one host or behind one NAT (addr_book_strict off, allow_duplicate_ip on)"},
				},
				Action: nodeInit,
			},
			{
				Name:      "show",
				Usage:     "print the node's id and validator key (for the genesis ceremony and the peers' configs) and its genesis' fingerprint",
				ArgsUsage: " ",
				Flags:     []cli.Flag{homeFlag, &cli.BoolFlag{Name: "json", Usage: "print JSON"}},
				Action:    nodeShow,
			},
			nodeStatusCommand,
			{
				Name:      "peers",
				Usage:     "set the node's persistent peers from the other organisations' identity files",
				ArgsUsage: "FILE...",
				Description: "Each FILE is an organisation's identity (`evote node show --json`), the same files the\n" +
					"genesis was written from; the node's own is skipped. Writes persistent_peers in\n" +
					"HOME/config/config.toml. The node dials these peers when it starts.",
				Flags:  []cli.Flag{homeFlag},
				Action: nodePeers,
			},
			{
				Name:      "genesis",
				Usage:     "write the chain's genesis from the validators' keys and the officials' keys",
				ArgsUsage: " ",
				Description: "Every authority node must use the same genesis file: one person writes it and all copy it\n" +
					"to HOME/config/genesis.json. Validators are given as the identity files the organisations sent\n" +
					"(`evote node show --json > org.json`, --identity FILE) or as NAME=KEY, KEY the validator key\n" +
					"that `evote node show` prints. It prints the genesis fingerprint (SHA-256 of its canonical JSON,\n" +
					"docs/spec-verify.md) that everyone compares: `node show` on each node, `verify --genesis-sha256`.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "out", Required: true, Usage: "the genesis `FILE` to write"},
					&cli.StringFlag{Name: "chain-id", Required: true, Usage: "the chain's `ID`, e.g. evote-city-2027"},
					&cli.StringSliceFlag{Name: "identity", Usage: "a validator's identity `FILE` (evote node show --json), repeatable"},
					&cli.StringSliceFlag{Name: "validator", Usage: "a validator `NAME=KEY`, repeatable"},
					officialKeyFlag(true),
					&cli.TimestampFlag{Name: "time", Layout: time.RFC3339, Usage: "genesis `TIME` (RFC 3339); nodes make no block before it (default now)"},
				},
				Action: nodeGenesis,
			},
			{
				Name:      "testnet",
				Usage:     "write the homes of a local testnet: N nodes on 127.0.0.1 sharing one genesis",
				ArgsUsage: " ",
				Flags: append(testnetFlags(),
					&cli.StringFlag{Name: "out", Required: true, Usage: "the `FOLDER` to write node0 … nodeN-1 and testnet.json into"}),
				Action: nodeTestnet,
			},
			{
				Name:      "start",
				Usage:     "run the node until interrupted (SIGINT or SIGTERM stop it gracefully)",
				ArgsUsage: " ",
				Description: "The application state is kept in HOME/" + node.StateDir + " (Pebble), or in PostgreSQL when\n" +
					"--database-url (or $" + envDatabaseURL + ") is given, in the schema --database-schema,\n" +
					"database_schema of config/evote.toml, or evote_<moniker>.",
				Flags: append([]cli.Flag{
					homeFlag,
					&cli.StringFlag{Name: "database-url", EnvVars: []string{envDatabaseURL}, Usage: "PostgreSQL `URL` of the application state (default: embedded Pebble)"},
					&cli.StringFlag{Name: "database-schema", Usage: "PostgreSQL `SCHEMA` of the application state"},
					&cli.StringFlag{Name: "http", Usage: "`HOST:PORT` of evote's HTTP server for this run (default: http_addr of config/evote.toml)"},
					logLevelFlag,
				}, webLimitFlags...),
				Action: nodeStart,
			},
		},
	})
}

func testnetFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "nodes", Value: 4, Usage: "number of authority `N`odes"},
		officialKeyFlag(false),
		&cli.StringFlag{Name: "chain-id", Usage: "the chain's `ID` (default random)"},
		&cli.IntFlag{Name: "base-port", Usage: "number the ports from `PORT`: node i uses PORT+10i (p2p), +1 (CometBFT RPC), +2 (HTTP); 0 picks free ports"},
		&cli.DurationFlag{Name: "idle-block-interval", Value: node.DefaultIdleBlockInterval, Usage: "how often an idle chain commits an empty block (`DURATION`)"},
	}
}

func nodeInit(c *cli.Context) error {
	home := c.String("home")
	err := node.Init(home, node.InitOptions{
		Moniker:      c.String("moniker"),
		P2PAddr:      c.String("p2p"),
		ExternalAddr: c.String("external-address"),
		RPCAddr:      c.String("rpc"),
		HTTPAddr:     c.String("http"),

		PrivateNetwork: c.Bool("private-network"),
	})
	if err != nil {
		return err
	}
	id, err := node.ReadIdentity(home)
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "initialised node %q in %s\n", id.Moniker, home)
	printIdentity(w, id)
	fmt.Fprintf(w, "Next: send this identity (evote node show --home %s --json > %s.json) to whoever writes the genesis\n", home, id.Moniker)
	fmt.Fprintf(w, "(evote node genesis --identity …); copy the genesis to %s, set the peers from the others'\n",
		filepath.Join(home, "config", "genesis.json"))
	fmt.Fprintln(w, "identity files (evote node peers --home … FILE...), and run evote node start.")
	fmt.Fprintf(w, "Back up %s and %s: they are the node's identity.\n",
		filepath.Join(home, "config", "priv_validator_key.json"), filepath.Join(home, "config", "node_key.json"))
	return nil
}

func printIdentity(w io.Writer, id node.Identity) {
	fmt.Fprintf(w, "moniker:           %s\n", id.Moniker)
	fmt.Fprintf(w, "node id:           %s\n", id.NodeID)
	fmt.Fprintf(w, "validator key:     %s\n", id.ValidatorKey)
	fmt.Fprintf(w, "validator address: %s\n", id.ValidatorAddress)
}

func nodeShow(c *cli.Context) error {
	home := c.String("home")
	id, err := node.ReadIdentity(home)
	if err != nil {
		return err
	}
	genFile, gen, err := homeGenesis(home)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		out := struct {
			node.Identity
			GenesisSHA256 string `json:"genesis_sha256,omitempty"`
		}{Identity: id}
		if gen != nil {
			out.GenesisSHA256 = gen.Fingerprint
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, string(b))
		return nil
	}
	w := c.App.Writer
	printIdentity(w, id)
	if id.PeerAddress != "" {
		fmt.Fprintf(w, "peer address:      %s\n", id.PeerAddress)
	} else {
		fmt.Fprintln(w, "peer address:      none (the p2p address listens on every interface: init with --external-address HOST:PORT)")
	}
	switch {
	case gen == nil:
		fmt.Fprintf(w, "genesis SHA-256:   none yet (no %s)\n", genFile)
	case gen.Canonical:
		fmt.Fprintf(w, "genesis SHA-256:   %s\n", gen.Fingerprint)
	default:
		fmt.Fprintf(w, "genesis SHA-256:   %s\n", gen.Fingerprint)
		fmt.Fprintf(w, "(%s is not in canonical form, so sha256sum of it prints another value: compare this one)\n", genFile)
	}
	return nil
}

// homeGenesis reads the genesis of a node's home, if it has one yet: the
// file's path and its fingerprint (record.GenesisFingerprint), nil when
// there is no file.
func homeGenesis(home string) (string, *record.GenesisInfo, error) {
	file, err := node.GenesisFile(home)
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return file, nil, nil
	}
	gen, err := record.ReadGenesisFile(file)
	if err != nil {
		return file, nil, err
	}
	return file, &gen, nil
}

// readIdentities reads the identity files named by the command's
// arguments or flag values.
func readIdentities(files []string) ([]node.Identity, error) {
	var ids []node.Identity
	for _, f := range files {
		id, err := node.ReadIdentityFile(f)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func nodePeers(c *cli.Context) error {
	if c.NArg() == 0 {
		return &exitError{2, "node peers: name the identity files of the other nodes (evote node show --json of each)"}
	}
	ids, err := readIdentities(c.Args().Slice())
	if err != nil {
		return err
	}
	peers, err := node.SetPeers(c.String("home"), ids)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s: %d persistent peers\n", c.String("home"), len(peers))
	for _, p := range peers {
		fmt.Fprintf(c.App.Writer, "  %s\n", p)
	}
	return nil
}

func nodeGenesis(c *cli.Context) error {
	var vals []node.GenesisValidator
	ids, err := readIdentities(c.StringSlice("identity"))
	if err != nil {
		return err
	}
	for _, id := range ids {
		vals = append(vals, node.GenesisValidator{Name: id.Moniker, Key: id.ValidatorKey})
	}
	if len(vals)+len(c.StringSlice("validator")) == 0 {
		return &exitError{2, "node genesis: name the validators with --identity FILE or --validator NAME=KEY"}
	}
	for _, v := range c.StringSlice("validator") {
		name, key, ok := strings.Cut(v, "=")
		if !ok || name == "" || key == "" {
			return &exitError{2, fmt.Sprintf("node genesis: --validator %q: write NAME=KEY", v)}
		}
		vals = append(vals, node.GenesisValidator{Name: name, Key: key})
	}
	var t time.Time
	if ts := c.Timestamp("time"); ts != nil {
		t = *ts
	}
	out := c.String("out")
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("node genesis: %s exists; a chain's genesis is never replaced", out)
	}
	doc, err := node.WriteGenesis(out, node.GenesisOptions{
		ChainID: c.String("chain-id"), Validators: vals, Officials: c.StringSlice("official-key"), Time: t,
	})
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "wrote %s: chain %s, %d validators, %d officials, genesis time %s\n",
		out, doc.ChainID, len(doc.Validators), len(c.StringSlice("official-key")), doc.GenesisTime.Format(time.RFC3339))
	gen, err := record.ReadGenesisFile(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "genesis SHA-256:   %s\n", gen.Fingerprint)
	fmt.Fprintln(w, "Publish this fingerprint with the file: every operator checks it with evote node show after")
	fmt.Fprintln(w, "copying the file (sha256sum of this file prints it too), observers pass it to evote verify --genesis-sha256.")
	return nil
}

func nodeTestnet(c *cli.Context) error {
	nodes, err := generateTestnet(c, c.String("out"))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %d node homes in %s\n", len(nodes), c.String("out"))
	printNodes(c.App.Writer, nodes)
	return nil
}

func generateTestnet(c *cli.Context, dir string) ([]node.NodeInfo, error) {
	keys := c.StringSlice("official-key")
	if len(keys) == 0 {
		return nil, &exitError{2, "a new testnet needs at least one --official-key (ed25519:<base64>)"}
	}
	return node.GenerateTestnet(dir, node.TestnetOptions{
		Nodes:             c.Int("nodes"),
		ChainID:           c.String("chain-id"),
		Officials:         keys,
		BasePort:          c.Int("base-port"),
		IdleBlockInterval: c.Duration("idle-block-interval"),
	})
}

func printNodes(w io.Writer, nodes []node.NodeInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tP2P\tRPC\tHTTP\tHOME")
	for _, n := range nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Name, n.P2PAddr, n.RPCAddr, n.HTTPAddr, n.Home)
	}
	tw.Flush()
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, &exitError{2, fmt.Sprintf("--log-level %q: use debug, info, warn or error", s)}
	}
	return l, nil
}

func nodeStart(c *cli.Context) error {
	home := c.String("home")
	level, err := parseLevel(c.String("log-level"))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: min(level, slog.LevelInfo)}))

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()

	ec, err := node.LoadEvoteConfig(home)
	if err != nil {
		return err
	}
	moniker, err := node.Moniker(home)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, home, moniker, c.String("database-url"), c.String("database-schema"), ec, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("node: close the state store", "err", err)
		}
	}()
	app, err := chain.NewApp(st, chain.AppOptions{Logger: log})
	if err != nil {
		return err
	}
	n, err := node.Start(ctx, node.Config{Home: home, App: app, Logger: log, CometLevel: level})
	if err != nil {
		return err
	}
	httpAddr := ec.HTTPAddr
	if c.IsSet("http") {
		httpAddr = c.String("http")
	}
	httpDone := make(chan error, 1)
	if serveHTTP != nil && httpAddr != "" {
		webLimits = webLimitsFromFlags(c)
		go func() { httpDone <- serveHTTP(ctx, httpAddr, n, app) }()
	} else {
		log.Info("node: no HTTP server in this build", "http", httpAddr)
	}

	nodeDone := make(chan struct{})
	go func() { n.Wait(); close(nodeDone) }()
	var runErr error
	select {
	case <-ctx.Done():
		log.Info("node: stopping", "moniker", moniker)
	case <-nodeDone:
		runErr = errors.New("node: CometBFT stopped by itself")
	case <-n.Failed():
		// It cannot make progress (its store or disk failed, or it
		// disagrees with its peers): stop rather than linger as if healthy.
		// Restarted once the fault is fixed, it executes its last block again.
		runErr = fmt.Errorf("node: stopping: %w", n.Err())
		log.Error("node: cannot go on; stopping (restart it once the cause is fixed)", "err", n.Err())
	case err := <-httpDone:
		runErr = fmt.Errorf("node: HTTP server: %w", err)
	}
	// Signals stay caught while the node stops: under `evote cluster start`
	// a Ctrl-C reaches a node twice, from the terminal and forwarded.
	if err := n.Stop(); err != nil {
		return err
	}
	return runErr
}

// openStore opens the node's application state: PostgreSQL when dbURL is
// given, else Pebble in HOME/data/evote-state.
func openStore(ctx context.Context, home, moniker, dbURL, schema string, ec node.EvoteConfig, log *slog.Logger) (store.Store, error) {
	if dbURL == "" {
		return pebblestore.New(ctx, pebblestore.Config{Dir: filepath.Join(home, node.StateDir)})
	}
	if schema == "" {
		schema = ec.DatabaseSchema
	}
	if schema == "" {
		schema = schemaFor(moniker)
	}
	log.Info("node: application state in PostgreSQL", "schema", schema)
	return pgstore.New(ctx, pgstore.Config{URL: dbURL, Schema: schema})
}

// schemaFor derives a PostgreSQL schema name from a moniker: "evote_" and
// the moniker in lower case, other characters than a-z, 0-9 and _ as _.
func schemaFor(moniker string) string {
	var b strings.Builder
	b.WriteString("evote_")
	for _, r := range strings.ToLower(moniker) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}
