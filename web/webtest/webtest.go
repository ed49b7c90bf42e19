// Package webtest starts a single-validator CometBFT node in-process, with
// evote's chain.App over a Pebble store, and sets up an open election on it,
// for the tests of package web and its client. Production code never imports
// it.
package webtest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/rpc/client/local"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// ChainID is the chain id of the test node.
const ChainID = "evote-webtest"

// ElectionID is the id of the election Start opens.
const ElectionID = "city-2026"

// Env is a running node with an open election.
type Env struct {
	App        *chain.App
	Node       *nm.Node
	Client     *local.Local
	ChainID    string
	Election   *chaintest.Election
	Ballot     *ballot.Election
	Validators *types.ValidatorSet
}

// Start runs a node whose blocks follow each other every blockTime (0: 100
// ms) and opens an election with the given number of voters. The node stops
// when the test ends.
func Start(tb testing.TB, voters int, blockTime time.Duration) *Env {
	tb.Helper()
	return StartWith(tb, Options{Voters: voters, BlockTime: blockTime})
}

// Options are the settings of StartWith.
type Options struct {
	Voters    int
	BlockTime time.Duration // 0: 100 ms
	// Manifest, if set, changes the election's manifest (titles, names)
	// before the election is defined; it must keep it valid, and keep the
	// trustees, their keys and the election id.
	Manifest func(*ballot.Manifest)
	// Base, if set, is the election's manifest in place of
	// ballottest.Mixed() (chaintest.NewWith sets its id, window and
	// official).
	Base *ballot.Manifest
	// Entries, if set, are the ballot style and weight of each voter's
	// credential (their Key is ignored), in place of Voters credentials of
	// the default style and weight 1.
	Entries []credential.Entry
}

// StartWith is Start with Options.
func StartWith(tb testing.TB, opts Options) *Env {
	tb.Helper()
	blockTime := opts.BlockTime
	if blockTime <= 0 {
		blockTime = 100 * time.Millisecond
	}
	dir := tb.TempDir()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	var e *chaintest.Election
	if opts.Base == nil && opts.Entries == nil {
		e = chaintest.New(tb, ChainID, ElectionID, opts.Voters, now.Add(-time.Hour), now.Add(24*time.Hour))
	} else {
		m, voters := opts.Base, opts.Entries
		if m == nil {
			m = ballottest.Mixed()
		}
		if voters == nil {
			for range opts.Voters {
				voters = append(voters, credential.Entry{Style: ballot.DefaultStyleID, Weight: 1})
			}
		}
		e = chaintest.NewWith(tb, ChainID, ElectionID, m, voters, now.Add(-time.Hour), now.Add(24*time.Hour))
	}
	if opts.Manifest != nil {
		opts.Manifest(e.Manifest)
		// The ceremony is bound to the manifest's hash.
		c, err := trustee.NewCeremony(e.Manifest)
		if err != nil {
			tb.Fatal(err)
		}
		e.Ceremony = c
	}

	st, err := pebblestore.New(ctx, pebblestore.Config{Dir: filepath.Join(dir, "state")})
	if err != nil {
		tb.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	app, err := chain.NewApp(st, chain.AppOptions{Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}

	cfg := cmtcfg.TestConfig()
	cfg.SetRoot(filepath.Join(dir, "cmt"))
	for _, d := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(cfg.RootDir, d), 0o700); err != nil {
			tb.Fatal(err)
		}
	}
	cfg.Moniker = "webtest"
	cfg.P2P.ListenAddress = "tcp://127.0.0.1:0"
	cfg.RPC.ListenAddress = ""
	cfg.GRPC.ListenAddress = ""
	cfg.Consensus.TimeoutCommit = blockTime
	//lint:ignore SA1019 CometBFT v1.0 still reads it, and TestConfig sets it
	cfg.Consensus.SkipTimeoutCommit = false
	cfg.Consensus.CreateEmptyBlocks = true
	cfg.Consensus.CreateEmptyBlocksInterval = 0

	pv, err := privval.GenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	pv.Save()
	nodeKey, err := p2p.LoadOrGenNodeKey(cfg.NodeKeyFile())
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := pv.GetPubKey()
	if err != nil {
		tb.Fatal(err)
	}
	gen := &types.GenesisDoc{
		ChainID:         ChainID,
		GenesisTime:     now,
		ConsensusParams: types.DefaultConsensusParams(),
		Validators:      []types.GenesisValidator{{Address: pub.Address(), PubKey: pub, Power: 10, Name: "webtest"}},
		AppState:        e.GenesisAppState(),
	}
	if err := gen.SaveAs(cfg.GenesisFile()); err != nil {
		tb.Fatal(err)
	}
	n, err := nm.NewNode(ctx, cfg, pv, nodeKey, node.NewClientCreator(app),
		nm.DefaultGenesisDocProviderFunc(cfg), cmtcfg.DefaultDBProvider,
		nm.DefaultMetricsProvider(cfg.Instrumentation), cmtlog.NewNopLogger())
	if err != nil {
		tb.Fatal(err)
	}
	if err := n.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = n.Stop()
		n.Wait()
		_ = st.Close()
	})
	env := &Env{App: app, Node: n, Client: local.New(n), ChainID: ChainID, Election: e,
		Validators: types.NewValidatorSet([]*types.Validator{types.NewValidator(pub, 10)})}
	for _, blk := range e.SetupBlocks(tb) {
		env.Commit(tb, blk...)
	}
	env.Ballot = e.BallotElection(tb)
	return env
}

// Commit broadcasts txs and waits until every one is in a committed block
// with result code 0.
func (env *Env) Commit(tb testing.TB, txs ...[]byte) {
	tb.Helper()
	ctx := context.Background()
	for _, tx := range txs {
		res, err := env.Client.BroadcastTxSync(ctx, tx)
		if err != nil {
			tb.Fatal(err)
		}
		if res.Code != 0 {
			tb.Fatalf("webtest: CheckTx: code %d: %s", res.Code, res.Log)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, tx := range txs {
		for {
			r, err := env.Client.Tx(ctx, types.Tx(tx).Hash(), false)
			if err == nil {
				if r.TxResult.Code != 0 {
					tb.Fatalf("webtest: block result: code %d: %s", r.TxResult.Code, r.TxResult.Log)
				}
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("webtest: transaction not committed within 20 s: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Cast returns voter i's signed cast ballot (the ballot.Cast encoding) for
// the first choice of every contest, and its tracking code.
func (env *Env) Cast(tb testing.TB, i int) ([]byte, string) {
	tb.Helper()
	p := ballottest.FirstChoices(env.Election.Manifest, ballot.DefaultStyleID)
	raw, b := env.Election.Cast(tb, env.Ballot, i, p)
	tx, err := wire.Decode(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return tx.(*wire.Ballot).Cast, b.TrackingCode()
}

// Audit returns an audited ballot file (JSON) of voter i, and its tracking
// code.
func (env *Env) Audit(tb testing.TB, i int) ([]byte, string) {
	tb.Helper()
	p := ballottest.FirstChoices(env.Election.Manifest, ballot.DefaultStyleID)
	b, sec, err := env.Ballot.Encrypt(rand.Reader, env.Election.Credentials[i].PublicKey(), p)
	if err != nil {
		tb.Fatal(err)
	}
	signed, err := env.Ballot.SignAudit(env.Election.Credentials[i], b, sec)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := signed.MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	return a, b.TrackingCode()
}
