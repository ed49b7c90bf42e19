package node

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/chain"
)

// ValidatorPower is the voting power of every authority: all count alike.
const ValidatorPower = 10

// GenesisValidator is one authority node in the genesis.
type GenesisValidator struct {
	// Name is for people (the node's moniker or the organisation).
	Name string `json:"name"`
	// Key is the node's validator public key, standard base64 of 32 Ed25519
	// bytes (Identity.ValidatorKey).
	Key string `json:"validator_key"`
}

// GenesisOptions describe a chain's genesis.
type GenesisOptions struct {
	// ChainID names the chain; a random "evote-XXXXXXXX" if empty.
	ChainID string
	// Validators are the authority nodes, with equal voting power.
	Validators []GenesisValidator
	// Officials are the officials' Ed25519 keys, "ed25519:<base64>", that
	// the application accepts election definitions from (app_state).
	Officials []string
	// Time is the genesis time; now if zero. Nodes wait for it before
	// their first block.
	Time time.Time
}

// MakeGenesis returns the genesis document of a new chain: the validators,
// consensus parameters sized for evote (MaxBlockBytes, no gas) and the
// application's state, chain.GenesisState with the officials' keys.
func MakeGenesis(opts GenesisOptions) (*types.GenesisDoc, error) {
	if len(opts.Validators) == 0 {
		return nil, errors.New("node: genesis: no validators")
	}
	appState, err := json.Marshal(chain.GenesisState{Officials: opts.Officials})
	if err != nil {
		return nil, fmt.Errorf("node: genesis: %w", err)
	}
	if _, _, err := chain.ParseGenesisState(appState); err != nil {
		return nil, fmt.Errorf("node: genesis: %w", err)
	}
	if opts.ChainID == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("node: genesis: %w", err)
		}
		opts.ChainID = "evote-" + hex.EncodeToString(b[:])
	}
	if opts.Time.IsZero() {
		opts.Time = time.Now()
	}
	params := types.DefaultConsensusParams()
	params.Block.MaxBytes = MaxBlockBytes
	params.Block.MaxGas = -1
	doc := &types.GenesisDoc{
		ChainID:         opts.ChainID,
		GenesisTime:     opts.Time.UTC().Round(0),
		InitialHeight:   1,
		ConsensusParams: params,
		AppState:        appState,
	}
	seen := map[string]bool{}
	for i, v := range opts.Validators {
		raw, err := base64.StdEncoding.DecodeString(v.Key)
		if err != nil || len(raw) != ed25519.PubKeySize {
			return nil, fmt.Errorf("node: genesis: validator %d (%q): key %q is not the base64 of a 32-byte Ed25519 public key", i, v.Name, v.Key)
		}
		if seen[string(raw)] {
			return nil, fmt.Errorf("node: genesis: validator %d (%q): key %s appears twice", i, v.Name, v.Key)
		}
		seen[string(raw)] = true
		pub := ed25519.PubKey(raw)
		doc.Validators = append(doc.Validators, types.GenesisValidator{
			Address: pub.Address(),
			PubKey:  pub,
			Power:   ValidatorPower,
			Name:    v.Name,
		})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("node: genesis: %w", err)
	}
	return doc, nil
}

// WriteGenesis writes a genesis made by MakeGenesis to file.
func WriteGenesis(file string, opts GenesisOptions) (*types.GenesisDoc, error) {
	doc, err := MakeGenesis(opts)
	if err != nil {
		return nil, err
	}
	if err := doc.SaveAs(file); err != nil {
		return nil, fmt.Errorf("node: write genesis: %w", err)
	}
	return doc, nil
}

// TestnetOptions configure GenerateTestnet.
type TestnetOptions struct {
	// Nodes is the number of authority nodes, 1 to 64.
	Nodes int
	// ChainID names the chain; random if empty.
	ChainID string
	// Officials are the officials' keys for the genesis app_state.
	Officials []string
	// BasePort, when not 0, numbers the ports: node i listens for peers on
	// BasePort+10i, serves CometBFT's RPC on BasePort+10i+1 and evote's HTTP
	// on BasePort+10i+2. When 0, free loopback ports are picked.
	BasePort int
	// IdleBlockInterval is how often an idle chain commits an empty block;
	// DefaultIdleBlockInterval if 0.
	IdleBlockInterval time.Duration
}

// NodeInfo describes one node of a testnet.
type NodeInfo struct {
	Name     string `json:"name"`
	Home     string `json:"home"` // relative to the testnet folder in testnet.json
	NodeID   string `json:"node_id"`
	P2PAddr  string `json:"p2p"`  // host:port
	RPCAddr  string `json:"rpc"`  // host:port of CometBFT's RPC
	HTTPAddr string `json:"http"` // host:port of evote's HTTP server
}

// Testnet is the content of TestnetFile.
type Testnet struct {
	ChainID string     `json:"chain_id"`
	Nodes   []NodeInfo `json:"nodes"`
}

// TestnetFile, in a testnet's folder, lists its nodes and their ports.
const TestnetFile = "testnet.json"

// GenerateTestnet writes the homes of a local testnet under dir, node0 to
// node<N-1>: each initialised as by Init, with its own 127.0.0.1 ports, the
// fast timeouts of a one-machine cluster, all other nodes as persistent
// peers, addr_book_strict off and duplicate IPs allowed, and one shared
// genesis in which every node is a validator of equal power. It also
// writes dir/testnet.json (LoadTestnet) and returns the nodes.
func GenerateTestnet(dir string, opts TestnetOptions) ([]NodeInfo, error) {
	if opts.Nodes < 1 || opts.Nodes > 64 {
		return nil, fmt.Errorf("node: testnet: %d nodes: give 1 to 64", opts.Nodes)
	}
	if opts.BasePort < 0 || opts.BasePort+10*opts.Nodes > 65535 {
		return nil, fmt.Errorf("node: testnet: base port %d out of range", opts.BasePort)
	}
	if _, err := os.Stat(filepath.Join(dir, TestnetFile)); err == nil {
		return nil, fmt.Errorf("node: testnet: %s already holds a testnet (%s)", dir, TestnetFile)
	}
	var ports []int
	if opts.BasePort == 0 {
		var err error
		if ports, err = freePorts(3 * opts.Nodes); err != nil {
			return nil, err
		}
	} else {
		for i := range opts.Nodes {
			b := opts.BasePort + 10*i
			ports = append(ports, b, b+1, b+2)
		}
	}

	nodes := make([]NodeInfo, opts.Nodes)
	var vals []GenesisValidator
	for i := range nodes {
		name := fmt.Sprintf("node%d", i)
		home := filepath.Join(dir, name)
		n := NodeInfo{
			Name:     name,
			Home:     home,
			P2PAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[3*i])),
			RPCAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[3*i+1])),
			HTTPAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[3*i+2])),
		}
		err := Init(home, InitOptions{
			Moniker:  name,
			P2PAddr:  "tcp://" + n.P2PAddr,
			RPCAddr:  "tcp://" + n.RPCAddr,
			HTTPAddr: n.HTTPAddr,
			local:    true,
			idle:     opts.IdleBlockInterval,
		})
		if err != nil {
			return nil, err
		}
		id, err := ReadIdentity(home)
		if err != nil {
			return nil, err
		}
		n.NodeID = id.NodeID
		nodes[i] = n
		vals = append(vals, GenesisValidator{Name: name, Key: id.ValidatorKey})
	}
	doc, err := MakeGenesis(GenesisOptions{ChainID: opts.ChainID, Validators: vals, Officials: opts.Officials})
	if err != nil {
		return nil, err
	}
	for i, n := range nodes {
		c, err := loadConfig(n.Home)
		if err != nil {
			return nil, err
		}
		if err := doc.SaveAs(c.GenesisFile()); err != nil {
			return nil, fmt.Errorf("node: write genesis: %w", err)
		}
		var peers []string
		for j, m := range nodes {
			if j != i {
				peers = append(peers, p2p.IDAddressString(p2p.ID(m.NodeID), m.P2PAddr))
			}
		}
		c.P2P.PersistentPeers = strings.Join(peers, ",")
		c.P2P.AddrBookStrict = false
		c.P2P.AllowDuplicateIP = true
		if err := writeConfig(n.Home, c); err != nil {
			return nil, err
		}
	}
	tn := Testnet{ChainID: doc.ChainID}
	for _, n := range nodes {
		n.Home = n.Name
		tn.Nodes = append(tn.Nodes, n)
	}
	b, err := json.MarshalIndent(tn, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("node: testnet: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, TestnetFile), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("node: testnet: %w", err)
	}
	return nodes, nil
}

// LoadTestnet reads dir/testnet.json; the homes it returns are paths under dir.
func LoadTestnet(dir string) (Testnet, error) {
	var tn Testnet
	b, err := os.ReadFile(filepath.Join(dir, TestnetFile))
	if err != nil {
		return tn, fmt.Errorf("node: testnet: %w", err)
	}
	if err := json.Unmarshal(b, &tn); err != nil {
		return tn, fmt.Errorf("node: testnet: %s: %w", filepath.Join(dir, TestnetFile), err)
	}
	for i := range tn.Nodes {
		if !filepath.IsLocal(tn.Nodes[i].Home) {
			return tn, fmt.Errorf("node: testnet: node %d: home %q is not a folder inside %s", i, tn.Nodes[i].Home, dir)
		}
		tn.Nodes[i].Home = filepath.Join(dir, tn.Nodes[i].Home)
	}
	return tn, nil
}

// freePorts returns n distinct free TCP ports of 127.0.0.1. They are free
// when picked; another program may take one before the node starts.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("node: pick a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
