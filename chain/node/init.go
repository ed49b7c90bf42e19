package node

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
)

// InitOptions configure a new node home. Empty fields take the defaults
// shown.
type InitOptions struct {
	// Moniker names the node to its peers ("evote-node").
	Moniker string
	// P2PAddr is where the node listens for its peers
	// ("tcp://0.0.0.0:26656").
	P2PAddr string
	// ExternalAddr is the host:port the peers dial, when it differs from
	// P2PAddr (behind NAT); empty lets the peers learn it.
	ExternalAddr string
	// RPCAddr is where CometBFT's RPC server listens ("tcp://127.0.0.1:26657");
	// "none" disables it.
	RPCAddr string
	// HTTPAddr is the evote HTTP server's host:port ("127.0.0.1:8080").
	HTTPAddr string
	// PrivateNetwork lets the node peer with nodes on private, loopback or
	// shared addresses: several nodes on one host, or behind one NAT
	// (CometBFT's addr_book_strict off and allow_duplicate_ip on). Without
	// it, such peers are refused with "Cannot add non-routable address"
	// and the chain never makes a block.
	PrivateNetwork bool

	// local selects the fast timeouts of a one-machine cluster and
	// idle the empty-block interval (GenerateTestnet).
	local bool
	idle  time.Duration
}

var monikerRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Init creates a node's home folder as `cometbft init` does, without a
// genesis: config/config.toml (with evote's settings), config/evote.toml,
// config/node_key.json, config/priv_validator_key.json and
// data/priv_validator_state.json. The genesis, config/genesis.json, is
// written by GenerateTestnet or WriteGenesis, or copied in by the operator.
//
// Init refuses a home that already holds a node's keys: they identify the
// node to the chain and are never replaced.
func Init(home string, opts InitOptions) error {
	if home == "" {
		return errors.New("node: no home folder given")
	}
	if opts.Moniker == "" {
		opts.Moniker = "evote-node"
	}
	if !monikerRE.MatchString(opts.Moniker) {
		return fmt.Errorf("node: moniker %q: use 1 to 64 letters, digits, '.', '_' or '-'", opts.Moniker)
	}
	c := cmtcfg.DefaultConfig()
	c.SetRoot(home)
	c.Moniker = opts.Moniker
	c.P2P.ListenAddress = orDefault(opts.P2PAddr, "tcp://0.0.0.0:26656")
	c.P2P.ExternalAddress = opts.ExternalAddr
	switch opts.RPCAddr {
	case "":
		c.RPC.ListenAddress = "tcp://127.0.0.1:26657"
	case "none":
		c.RPC.ListenAddress = ""
	default:
		c.RPC.ListenAddress = opts.RPCAddr
	}
	tuneConfig(c, opts.local, opts.idle)
	if opts.PrivateNetwork {
		c.P2P.AddrBookStrict = false
		c.P2P.AllowDuplicateIP = true
	}
	if err := c.ValidateBasic(); err != nil {
		return fmt.Errorf("node: %w", err)
	}

	for _, f := range []string{c.NodeKeyFile(), c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()} {
		if _, err := os.Stat(f); err == nil {
			return fmt.Errorf("node: %s already holds a node (%s exists); its keys are never replaced: choose another folder", home, f)
		}
	}
	for _, d := range []string{filepath.Join(home, "config"), filepath.Join(home, "data")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("node: %w", err)
		}
	}
	if err := writeConfig(home, c); err != nil {
		return err
	}
	if err := WriteEvoteConfig(home, EvoteConfig{HTTPAddr: orDefault(opts.HTTPAddr, "127.0.0.1:8080")}); err != nil {
		return err
	}
	if _, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile()); err != nil {
		return fmt.Errorf("node: node key: %w", err)
	}
	pv, err := privval.GenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile(), nil)
	if err != nil {
		return fmt.Errorf("node: validator key: %w", err)
	}
	return catch("node: save validator key", pv.Save)
}

// Identity is what a node's operator hands over for the genesis ceremony.
type Identity struct {
	Moniker string `json:"moniker"`
	// NodeID is the node's p2p identity, written in persistent_peers as
	// NodeID@host:port.
	NodeID string `json:"node_id"`
	// ValidatorKey is the node's consensus (validator) public key, the
	// standard base64 of its 32 Ed25519 bytes.
	ValidatorKey string `json:"validator_key"`
	// ValidatorAddress is the hex address CometBFT derives from the key.
	ValidatorAddress string `json:"validator_address"`
	// PeerAddress is NodeID@host:port, what the other nodes list in their
	// persistent_peers (SetPeers): the node's external address, or its p2p
	// listening address when that names a host; empty otherwise.
	PeerAddress string `json:"peer_address,omitempty"`
}

// ReadIdentity returns the public identity of the node in home.
func ReadIdentity(home string) (Identity, error) {
	c, err := loadConfig(home)
	if err != nil {
		return Identity{}, err
	}
	nk, err := p2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		return Identity{}, fmt.Errorf("node: node key: %w", err)
	}
	pv, err := loadPrivValidator(c)
	if err != nil {
		return Identity{}, err
	}
	pub := pv.Key.PubKey
	return Identity{
		Moniker:          c.Moniker,
		NodeID:           string(nk.ID()),
		ValidatorKey:     base64.StdEncoding.EncodeToString(pub.Bytes()),
		ValidatorAddress: pub.Address().String(),
		PeerAddress:      peerAddress(nk.ID(), c.P2P.ExternalAddress, c.P2P.ListenAddress),
	}, nil
}

// loadPrivValidator loads the validator key and last-sign state. CometBFT's
// privval.LoadFilePV exits the process on a missing or damaged file, so both
// files are checked first and a problem is returned as an error.
func loadPrivValidator(c *cmtcfg.Config) (*privval.FilePV, error) {
	keyFile, stateFile := c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("node: validator key: %w", err)
	}
	var key privval.FilePVKey
	if err := cmtjson.Unmarshal(b, &key); err != nil {
		return nil, fmt.Errorf("node: validator key %s: %w", keyFile, err)
	}
	if key.PrivKey == nil {
		return nil, fmt.Errorf("node: validator key %s: no private key", keyFile)
	}
	b, err = os.ReadFile(stateFile)
	if err != nil {
		return nil, fmt.Errorf("node: validator state: %w (a validator must never lose its last-sign state; restore it from %s's backup)", err, stateFile)
	}
	var st privval.FilePVLastSignState
	if err := cmtjson.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("node: validator state %s: %w", stateFile, err)
	}
	return privval.LoadFilePV(keyFile, stateFile), nil
}

// catch runs f, which reports failure by panicking (as CometBFT's file
// writers do), and returns the panic as an error.
func catch(what string, f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", what, r)
		}
	}()
	f()
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
