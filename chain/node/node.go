// Package node runs one evote authority node in-process: CometBFT's node,
// with evote's ABCI application called directly (no socket), in a home
// folder laid out as `cometbft init` lays it out.
//
// Home folder:
//
//	config/config.toml               CometBFT's settings (tuned by Init, GenerateTestnet)
//	config/evote.toml                evote's settings (EvoteConfig)
//	config/genesis.json              the chain's genesis, shared by all nodes
//	config/node_key.json             the node's p2p identity
//	config/priv_validator_key.json   the node's consensus signing key
//	data/priv_validator_state.json   last height/round/step signed (never delete)
//	data/*.db, data/cs.wal           CometBFT's block store, state and WAL
//	data/evote-state                 the application state (Pebble), when embedded
//
// The application is connected as with
// proxy.NewConsensusSyncLocalClientCreator: calls on the consensus connection
// never overlap, while CheckTx and Query calls run concurrently with them and
// with each other, so that block execution never waits for the mempool. New
// transactions' CheckTx calls are answered asynchronously (clientCreator), so
// that all the ballots gossiped or submitted at one moment are checked at
// the same time and share one batch verification (chain.App). The
// application is therefore safe for concurrent calls.
//
// Crash recovery is CometBFT's: at start the node calls the application's
// Info, compares its last height and app hash with its block store, and
// replays the missing blocks through FinalizeBlock and Commit (the
// "handshake"), then the consensus WAL for the height in progress.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"
	dbm "github.com/cometbft/cometbft-db"
	abci "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/libs/service"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/rpc/client/local"
)

// Config configures Start.
type Config struct {
	// Home is the node's home folder (Init, GenerateTestnet).
	Home string
	// App is the ABCI application, normally a *chain.App.
	App abci.Application
	// Logger receives the node's log, CometBFT's included; slog.Default()
	// if nil.
	Logger *slog.Logger
	// CometLevel is the lowest level of CometBFT's own lines that are
	// logged; slog.LevelWarn if nil, which (CometBFT having no warning
	// level) keeps only its errors.
	CometLevel slog.Leveler
	// StallAfter is how long the node may go without a new block while a
	// peer is ahead before Health reports it stalled; DefaultStallAfter if
	// zero.
	StallAfter time.Duration
}

// Node is a running authority node.
type Node struct {
	cmt      *nm.Node
	client   *local.Local
	app      abci.Application
	cfg      *cmtcfg.Config
	chainID  string
	log      *slog.Logger
	logger   cmtLogger
	dbs      *databases
	stopOnce sync.Once
	stopErr  error

	failure     *failure
	progress    progress
	stopMonitor chan struct{}
}

// Start starts the node in cfg.Home with cfg.App. ctx bounds the start-up
// only (loading, the handshake with the application, which may replay
// blocks); the node then runs until Stop. Start returns once the node runs:
// consensus, p2p and, when configured, CometBFT's RPC server.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.App == nil {
		return nil, errors.New("node: no application given")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	c, err := loadConfig(cfg.Home)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.GenesisFile()); err != nil {
		return nil, fmt.Errorf("node: %s has no genesis (%s): generate one with evote node testnet or evote node genesis, or copy the chain's genesis there", cfg.Home, c.GenesisFile())
	}
	nodeKey, err := p2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("node: node key: %w", err)
	}
	pv, err := loadPrivValidator(c)
	if err != nil {
		return nil, err
	}
	for _, w := range c.CheckDeprecated() {
		log.Warn("node: deprecated setting in config.toml", "warning", w)
	}
	logger := newCmtLogger(log.With("moniker", c.Moniker), cfg.CometLevel)
	dbs := &databases{log: log}
	var n *nm.Node
	var newErr error
	err = catch("node: create", func() {
		n, newErr = nm.NewNode(ctx, c, pv, nodeKey,
			NewClientCreator(cfg.App),
			nm.DefaultGenesisDocProviderFunc(c),
			dbs.open,
			nm.DefaultMetricsProvider(c.Instrumentation),
			logger)
	})
	if err == nil && newErr != nil {
		err = fmt.Errorf("node: create: %w", newErr)
	}
	if err != nil {
		dbs.closeAll()
		return nil, err
	}
	if err := n.Start(); err != nil {
		// Undo what did start (listeners, reactors) before closing the
		// databases under it.
		logger.stopping.Store(true)
		_ = catch("node: start", n.OnStop)
		dbs.closeAll()
		return nil, fmt.Errorf("node: start: %w", err)
	}
	node := &Node{
		cmt:     n,
		client:  local.New(n),
		app:     cfg.App,
		cfg:     c,
		chainID: n.GenesisDoc().ChainID,
		log:     log,
		logger:  logger,
		dbs:     dbs,

		failure:     logger.failure,
		stopMonitor: make(chan struct{}),
	}
	stallAfter := cfg.StallAfter
	if stallAfter <= 0 {
		stallAfter = DefaultStallAfter
	}
	go node.monitor(250*time.Millisecond, stallAfter, node.stopMonitor)
	log.Info("node: started", "moniker", c.Moniker, "chain", node.chainID,
		"node_id", nodeKey.ID(), "p2p", c.P2P.ListenAddress, "rpc", c.RPC.ListenAddress)
	return node, nil
}

// databases opens CometBFT's databases as cmtcfg.DefaultDBProvider does,
// with Pebble's log sent to slog instead of the standard logger, and keeps
// them: CometBFT's Node.Stop closes its block store, state and evidence
// databases but not the indexers', which closeAll closes.
type databases struct {
	log *slog.Logger
	mu  sync.Mutex
	dbs []*onceDB
}

func (d *databases) open(ctx *cmtcfg.DBContext) (dbm.DB, error) {
	var db dbm.DB
	var err error
	if dbm.BackendType(ctx.Config.DBBackend) == dbm.PebbleDBBackend {
		db, err = dbm.NewPebbleDBWithOpts(ctx.ID, ctx.Config.DBDir(), &pebble.Options{Logger: pebbleLogger{d.log}})
	} else {
		db, err = cmtcfg.DefaultDBProvider(ctx)
	}
	if err != nil {
		return nil, err
	}
	o := &onceDB{DB: db}
	d.mu.Lock()
	d.dbs = append(d.dbs, o)
	d.mu.Unlock()
	return o, nil
}

func (d *databases) closeAll() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, db := range d.dbs {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}

// onceDB closes its database once (Pebble panics on a second Close), and
// answers reads after Close as if the key were absent instead of letting
// Pebble panic: some of CometBFT's peer goroutines outlive Node.Stop (the
// consensus reactor's queryMaj23Routine sleeps, then loads a commit without
// checking that the node still runs), and one such read of a closed block
// store took the whole process down with "pebble: closed".
type onceDB struct {
	dbm.DB
	once   sync.Once
	err    error
	mu     sync.RWMutex // held for reading by reads, for writing by Close
	closed bool
}

func (o *onceDB) Close() error {
	o.once.Do(func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.closed = true
		o.err = o.DB.Close()
	})
	return o.err
}

// Get reads the key, or returns nothing once the database is closed.
func (o *onceDB) Get(key []byte) ([]byte, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.closed {
		return nil, nil
	}
	return o.DB.Get(key)
}

// Has reports whether the key exists; false once the database is closed.
func (o *onceDB) Has(key []byte) (bool, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.closed {
		return false, nil
	}
	return o.DB.Has(key)
}

// Client returns CometBFT's in-process RPC client of the node: status,
// blocks, commits, transactions with their proofs, broadcast, ABCI queries,
// event subscriptions.
func (n *Node) Client() *local.Local { return n.client }

// App returns the application the node runs.
func (n *Node) App() abci.Application { return n.app }

// ChainID returns the chain's id, from the genesis.
func (n *Node) ChainID() string { return n.chainID }

// Home returns the node's home folder.
func (n *Node) Home() string { return n.cfg.RootDir }

// Moniker returns the node's name in config.toml.
func (n *Node) Moniker() string { return n.cfg.Moniker }

// Stop stops the node gracefully: consensus, p2p, the RPC server, then
// CometBFT's databases, and returns once they are closed. The application
// (and its store) may be closed after Stop returns. Stop may be called more
// than once.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		close(n.stopMonitor)
		n.logger.stopping.Store(true)
		if err := n.cmt.Stop(); err != nil && !errors.Is(err, service.ErrAlreadyStopped) {
			n.stopErr = fmt.Errorf("node: stop: %w", err)
		}
		n.cmt.Wait()
		if err := n.dbs.closeAll(); err != nil && n.stopErr == nil {
			n.stopErr = fmt.Errorf("node: stop: close databases: %w", err)
		}
		n.log.Info("node: stopped", "moniker", n.cfg.Moniker)
	})
	return n.stopErr
}

// Wait blocks until the node has stopped.
func (n *Node) Wait() { n.cmt.Wait() }
