package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/viper"
)

// Consensus timing and sizes evote writes into every node's config.toml
// (CometBFT v1.0.1 reads them from there; v1.0 still has timeout_commit, the
// consensus-parameter replacement next_block_delay only arrives in v1.1).
//
// Under load a block is committed every TimeoutCommit plus a round of
// proposal and votes and the block's execution: about 0.5–0.7 s on a local
// cluster; about 0.8 s with the links delayed 50 ms each way (4 nodes on 2
// cores, blocks of about 200 ballots; docs/operations.md §6). An idle chain makes no block for every
// TimeoutCommit: it waits for a transaction, and otherwise commits one empty
// "heartbeat" block every IdleBlockInterval (create_empty_blocks_interval),
// so block time, and with it the opening and closing of elections by time,
// keeps moving and a stalled chain is noticed.
const (
	// DefaultIdleBlockInterval is how often an idle chain commits an empty block.
	DefaultIdleBlockInterval = 10 * time.Second

	// LocalTimeoutCommit is the pause after each block on a local cluster
	// (GenerateTestnet); WANTimeoutCommit the one Init writes for a
	// deployment across organisations: with 50 ms between the nodes each
	// way, 100 ms gave the most ballots per second and the lowest receipt
	// latency of 100 ms, 250 ms, 500 ms and 1 s (docs/operations.md §6).
	LocalTimeoutCommit = 500 * time.Millisecond
	WANTimeoutCommit   = 100 * time.Millisecond

	// MempoolSize is the number of transactions a node's mempool holds:
	// 10,000 ballots of about 20 KB fit (MempoolBytes).
	MempoolSize  = 10_000
	MempoolBytes = 256 << 20
	// MaxTxBytes is the largest transaction a node accepts (credential roll
	// chunks are the largest evote transactions).
	MaxTxBytes = 1 << 20
	// MaxBlockBytes is the consensus limit on a block, set in the genesis.
	MaxBlockBytes = 8 << 20
)

// Files in a node's home folder, besides CometBFT's own.
const (
	// EvoteConfigFile holds the evote settings of a node (EvoteConfig).
	EvoteConfigFile = "config/evote.toml"
	// StateDir is where the embedded (Pebble) application state lives.
	StateDir = "data/evote-state"
)

// tuneConfig applies evote's settings to a CometBFT configuration. local
// selects the fast timeouts of a cluster on one machine; otherwise the
// timeouts suit nodes of different organisations talking over the Internet.
func tuneConfig(c *cmtcfg.Config, local bool, idle time.Duration) {
	if idle <= 0 {
		idle = DefaultIdleBlockInterval
	}
	cs := c.Consensus
	cs.CreateEmptyBlocks = true
	cs.CreateEmptyBlocksInterval = idle
	if local {
		cs.TimeoutPropose = 1000 * time.Millisecond
		cs.TimeoutProposeDelta = 200 * time.Millisecond
		cs.TimeoutPrevote = 300 * time.Millisecond
		cs.TimeoutPrevoteDelta = 200 * time.Millisecond
		cs.TimeoutPrecommit = 300 * time.Millisecond
		cs.TimeoutPrecommitDelta = 200 * time.Millisecond
		cs.TimeoutCommit = LocalTimeoutCommit
		cs.PeerGossipSleepDuration = 20 * time.Millisecond
	} else {
		// CometBFT's defaults for propose and vote timeouts (3 s, 1 s),
		// which only a proposer down or votes missing make a node wait
		// for; gossip polled every 20 ms rather than 100 ms.
		cs.TimeoutCommit = WANTimeoutCommit
		cs.PeerGossipSleepDuration = 20 * time.Millisecond
	}

	m := c.Mempool
	m.Size = MempoolSize
	m.MaxTxsBytes = MempoolBytes
	m.MaxTxBytes = MaxTxBytes
	m.CacheSize = 2 * MempoolSize
	// No recheck of the whole mempool after each block: every transaction
	// is checked again when its block is executed, and under load a recheck
	// reads the state for every waiting ballot after every block (on
	// PostgreSQL, round trips). A ballot a block made invalid (its election
	// closed, a limit reached) then stays until its own block refuses it
	// with its code, which its voter is told, instead of being dropped.
	m.Recheck = false

	// Full 8 MiB blocks and gossip of 20 KB ballots need more than
	// CometBFT's 5 MB/s per peer.
	c.P2P.SendRate = 20 << 20
	c.P2P.RecvRate = 20 << 20
	c.P2P.MaxPacketMsgPayloadSize = 10 << 10

	// Room for a base64 transaction of MaxTxBytes in a JSON-RPC request.
	c.RPC.MaxBodyBytes = 4 << 20
	c.RPC.TimeoutBroadcastTxCommit = 10 * time.Second

	// Transactions are indexed so that a receipt (tx hash) can be looked up.
	c.TxIndex.Indexer = "kv"
}

// loadConfig reads HOME/config/config.toml as CometBFT's own command does.
func loadConfig(home string) (*cmtcfg.Config, error) {
	if home == "" {
		return nil, errors.New("node: no home folder given")
	}
	file := filepath.Join(home, "config", "config.toml")
	if _, err := os.Stat(file); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("node: %s is not a node's home: no config/config.toml (run evote node init)", home)
		}
		return nil, fmt.Errorf("node: %w", err)
	}
	v := viper.New()
	v.SetConfigFile(file)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("node: read %s: %w", file, err)
	}
	c := cmtcfg.DefaultConfig()
	if err := v.Unmarshal(c); err != nil {
		return nil, fmt.Errorf("node: read %s: %w", file, err)
	}
	c.SetRoot(home)
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("node: %s: %w", file, err)
	}
	return c, nil
}

// writeConfig writes c to HOME/config/config.toml with CometBFT's template.
// CometBFT panics when it cannot write; that becomes an error here.
func writeConfig(home string, c *cmtcfg.Config) (err error) {
	file := filepath.Join(home, "config", "config.toml")
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("node: write %s: %v", file, r)
		}
	}()
	cmtcfg.WriteConfigFile(file, c)
	return nil
}

// EvoteConfig holds the settings of a node that are evote's rather than
// CometBFT's, in HOME/config/evote.toml.
type EvoteConfig struct {
	// HTTPAddr is the host:port of the HTTP and websocket server for voters
	// and observers.
	HTTPAddr string `mapstructure:"http_addr"`
	// PublicHosts are the host names voters and observers reach the HTTP
	// server by (web.Config.PublicHosts); requests for other hosts than
	// these and loopback are refused.
	PublicHosts []string `mapstructure:"public_hosts"`
	// DatabaseSchema is the PostgreSQL schema of the application state when
	// the node runs on PostgreSQL; empty means one derived from the moniker.
	DatabaseSchema string `mapstructure:"database_schema"`
}

// LoadEvoteConfig reads HOME/config/evote.toml. A missing file gives the
// zero EvoteConfig.
func LoadEvoteConfig(home string) (EvoteConfig, error) {
	var ec EvoteConfig
	file := filepath.Join(home, EvoteConfigFile)
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return ec, nil
	}
	v := viper.New()
	v.SetConfigFile(file)
	if err := v.ReadInConfig(); err != nil {
		return ec, fmt.Errorf("node: read %s: %w", file, err)
	}
	if err := v.Unmarshal(&ec); err != nil {
		return ec, fmt.Errorf("node: read %s: %w", file, err)
	}
	return ec, nil
}

// WriteEvoteConfig writes HOME/config/evote.toml.
func WriteEvoteConfig(home string, ec EvoteConfig) error {
	var b strings.Builder
	b.WriteString("# evote settings of this authority node; CometBFT's own are in config.toml.\n\n")
	b.WriteString("# host:port of the HTTP and websocket server for voters and observers.\n")
	fmt.Fprintf(&b, "http_addr = %q\n\n", ec.HTTPAddr)
	b.WriteString("# Host names voters and observers reach the HTTP server by (the reverse proxy's\n")
	b.WriteString("# name, such as \"vote.example.org\"); requests naming another host are refused,\n")
	b.WriteString("# except loopback (localhost, 127.0.0.1, ::1). Also --public-host.\n")
	b.WriteString("public_hosts = [")
	for i, h := range ec.PublicHosts {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", h)
	}
	b.WriteString("]\n\n")
	b.WriteString("# PostgreSQL schema of the application state, when the node is started with\n")
	b.WriteString("# --database-url; empty means \"evote_\" and the node's moniker.\n")
	fmt.Fprintf(&b, "database_schema = %q\n", ec.DatabaseSchema)
	file := filepath.Join(home, EvoteConfigFile)
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// Moniker returns the moniker in HOME/config/config.toml.
func Moniker(home string) (string, error) {
	c, err := loadConfig(home)
	if err != nil {
		return "", err
	}
	return c.Moniker, nil
}

// SetWANTiming rewrites the config.toml of the node in home, one of a
// local testnet's (GenerateTestnet), for links as slow as those between
// organisations: the consensus timeouts Init writes for a deployment in
// place of a local cluster's, its empty-block interval kept, and no peer
// exchange, so that the node dials its persistent peers only and learns no
// other address of theirs. internal/cluster uses it when delaying relays
// stand in for the links (evote demo --p2p-delay).
func SetWANTiming(home string) error {
	c, err := loadConfig(home)
	if err != nil {
		return err
	}
	cs := cmtcfg.DefaultConsensusConfig()
	cs.RootDir, cs.WalPath = c.Consensus.RootDir, c.Consensus.WalPath
	idle := c.Consensus.CreateEmptyBlocksInterval
	c.Consensus = cs
	tuneConfig(c, false, idle)
	c.P2P.PexReactor = false
	return writeConfig(home, c)
}
