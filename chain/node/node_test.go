package node_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/chain/store/pebblestore"
)

func officialKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestInit(t *testing.T) {
	home := filepath.Join(t.TempDir(), "n")
	if err := node.Init(home, node.InitOptions{Moniker: "org-a"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config/config.toml", "config/evote.toml", "config/node_key.json",
		"config/priv_validator_key.json", "data/priv_validator_state.json"} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "config/genesis.json")); err == nil {
		t.Error("Init wrote a genesis")
	}
	id, err := node.ReadIdentity(home)
	if err != nil {
		t.Fatal(err)
	}
	if id.Moniker != "org-a" || len(id.NodeID) != 40 || id.ValidatorKey == "" {
		t.Errorf("identity %+v", id)
	}
	ec, err := node.LoadEvoteConfig(home)
	if err != nil || ec.HTTPAddr != "127.0.0.1:8080" {
		t.Errorf("evote config %+v, %v", ec, err)
	}
	err = node.Init(home, node.InitOptions{})
	if err == nil || !strings.Contains(err.Error(), "already holds a node") {
		t.Errorf("second Init: %v", err)
	}
	if err := node.Init(t.TempDir(), node.InitOptions{Moniker: "bad moniker"}); err == nil {
		t.Error("Init accepted a moniker with a space")
	}

	// Without a genesis the node does not start, and says why.
	st := openStore(t, home)
	app, err := chain.NewApp(st, chain.AppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = node.Start(context.Background(), node.Config{Home: home, App: app})
	if err == nil || !strings.Contains(err.Error(), "no genesis") {
		t.Errorf("Start without genesis: %v", err)
	}
}

func TestGenesisErrors(t *testing.T) {
	key := officialKey(t)
	val := node.GenesisValidator{Name: "a", Key: base64.StdEncoding.EncodeToString(make([]byte, 32))}
	for _, tc := range []struct {
		name string
		opts node.GenesisOptions
		want string
	}{
		{"no validators", node.GenesisOptions{Officials: []string{key}}, "no validators"},
		{"no officials", node.GenesisOptions{Validators: []node.GenesisValidator{val}}, "no officials"},
		{"bad official", node.GenesisOptions{Validators: []node.GenesisValidator{val}, Officials: []string{"ed25519:xyz"}}, "officials[0]"},
		{"bad validator", node.GenesisOptions{Validators: []node.GenesisValidator{{Name: "b", Key: "AAAA"}}, Officials: []string{key}}, "32-byte"},
		{"twice", node.GenesisOptions{Validators: []node.GenesisValidator{val, val}, Officials: []string{key}}, "twice"},
	} {
		_, err := node.MakeGenesis(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "node: ") {
			t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

func openStore(t *testing.T, home string) *pebblestore.Store {
	t.Helper()
	st, err := pebblestore.New(context.Background(), pebblestore.Config{Dir: filepath.Join(home, node.StateDir)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// startNode starts the node in home with a chain.App over a Pebble store.
// stop stops both; it is also called at the end of the test.
func startNode(t *testing.T, home string) (n *node.Node, stop func()) {
	t.Helper()
	st := openStore(t, home)
	app, err := chain.NewApp(st, chain.AppOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err = node.Start(ctx, node.Config{Home: home, App: app, Logger: testLogger(t)})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := n.Stop(); err != nil {
				t.Error(err)
			}
			if err := n.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
			if err := st.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return n, stop
}

func height(t *testing.T, n *node.Node) int64 {
	t.Helper()
	s, err := n.Client().Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.SyncInfo.LatestBlockHeight
}

// waitHeight waits until every node has committed height h.
func waitHeight(t *testing.T, h int64, timeout time.Duration, nodes ...*node.Node) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, n := range nodes {
		for height(t, n) < h {
			if time.Now().After(deadline) {
				t.Fatalf("%s: height %d after %v, want %d", n.Moniker(), height(t, n), timeout, h)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestSingleNode(t *testing.T) {
	dir := t.TempDir()
	nodes, err := node.GenerateTestnet(dir, node.TestnetOptions{
		Nodes: 1, ChainID: "evote-test", Officials: []string{officialKey(t)},
		IdleBlockInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	// A node whose p2p port is taken does not start, and leaves nothing
	// open behind it.
	l, err := net.Listen("tcp", nodes[0].P2PAddr)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, nodes[0].Home)
	app, err := chain.NewApp(st, chain.AppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = node.Start(context.Background(), node.Config{Home: nodes[0].Home, App: app, Logger: testLogger(t)})
	if err == nil || !strings.HasPrefix(err.Error(), "node: ") {
		t.Fatalf("Start with its p2p port taken: %v", err)
	}
	l.Close()
	st.Close()

	n, stop := startNode(t, nodes[0].Home)
	if n.ChainID() != "evote-test" {
		t.Errorf("chain id %q", n.ChainID())
	}
	waitHeight(t, 3, 10*time.Second, n)

	// A clean stop and a restart resume the chain.
	h := height(t, n)
	stop()
	n2, _ := startNode(t, nodes[0].Home)
	if got := height(t, n2); got < h {
		t.Fatalf("restarted at height %d, was %d", got, h)
	}
	waitHeight(t, h+2, 10*time.Second, n2)

	tn, err := node.LoadTestnet(dir)
	if err != nil || tn.ChainID != "evote-test" || len(tn.Nodes) != 1 || tn.Nodes[0].Home != nodes[0].Home {
		t.Errorf("LoadTestnet: %+v, %v", tn, err)
	}
	if _, err := node.GenerateTestnet(dir, node.TestnetOptions{Nodes: 1, Officials: []string{officialKey(t)}}); err == nil {
		t.Error("GenerateTestnet overwrote a testnet")
	}
}

// TestFourNodesInProcess runs a 4-validator chain in one process: every
// node commits the same blocks.
func TestFourNodesInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("a 4-node chain takes a few seconds; skipped with -short")
	}
	infos, err := node.GenerateTestnet(t.TempDir(), node.TestnetOptions{
		Nodes: 4, Officials: []string{officialKey(t)}, IdleBlockInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*node.Node
	for _, in := range infos {
		n, _ := startNode(t, in.Home)
		nodes = append(nodes, n)
	}
	waitHeight(t, 4, 20*time.Second, nodes...)
	ctx := context.Background()
	h := int64(3)
	var want string
	for _, n := range nodes {
		b, err := n.Client().Block(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		got := b.BlockID.Hash.String() + "/" + b.Block.AppHash.String()
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("%s: block %d is %s, node0's is %s", n.Moniker(), h, got, want)
		}
	}
}
