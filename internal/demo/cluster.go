package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/jackc/pgx/v5"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/internal/cluster"
)

// readyTimeout is how long StartCluster waits for every node's first block.
const readyTimeout = time.Minute

// StartCluster generates a testnet of Nodes nodes in Dir/net, whose only
// election official is a key made for this run, starts its node processes
// and waits until each has committed a block. With a database URL, the
// nodes' schemas of an earlier run are dropped first. With a P2PDelay,
// relays delay the links between the nodes. If it fails, the processes and
// relays it started are stopped.
func (d *Demo) StartCluster(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			d.StopCluster()
		}
	}()
	if d.cfg.P2PDelay > 0 {
		d.stepf("starting %d authority nodes on 127.0.0.1, their p2p links delayed %v each way", Nodes, d.cfg.P2PDelay)
	} else {
		d.stepf("starting %d authority nodes on 127.0.0.1", Nodes)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("demo: the official's key: %w", err)
	}
	d.official = priv
	if d.cfg.DatabaseURL != "" {
		// A new chain: the nodes' schemas from an earlier run go.
		if err := DropSchemas(ctx, d.cfg.DatabaseURL, d.cfg.SchemaPrefix); err != nil {
			return err
		}
	}
	nodes, err := node.GenerateTestnet(filepath.Join(d.cfg.Dir, "net"), node.TestnetOptions{Nodes: Nodes, Officials: []string{ballot.FormatEd25519Key(pub)}, IdleBlockInterval: 2 * time.Second})
	if err != nil {
		return err
	}
	if d.cfg.P2PDelay > 0 {
		if d.relays, err = cluster.DelayP2P(nodes, d.cfg.P2PDelay); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	for _, n := range nodes {
		if d.cfg.DatabaseURL != "" {
			ec, err := node.LoadEvoteConfig(n.Home)
			if err != nil {
				return err
			}
			ec.DatabaseSchema = d.cfg.SchemaPrefix + n.Name
			if err := node.WriteEvoteConfig(n.Home, ec); err != nil {
				return err
			}
		}
		cl, err := rpchttp.New("tcp://" + n.RPCAddr)
		if err != nil {
			return err
		}
		d.rpcs = append(d.rpcs, cl)
	}
	c, err := cluster.New(nodes, cluster.Options{Exe: d.cfg.Exe, LogLevel: "error", DatabaseURL: d.cfg.DatabaseURL,
		// Every simulated voter comes from 127.0.0.1: raise the
		// per-address limits the nodes apply to the public.
		Env: []string{"EVOTE_CAST_RATE_PER_IP=10000", "EVOTE_MAX_CONNS_PER_IP=10000"}})
	if err != nil {
		return err
	}
	d.Cluster = c
	if err := d.startAndWait(ctx); err != nil {
		return err
	}
	d.donef("chain %s", d.ChainID)
	return nil
}

// startAndWait starts the cluster's processes, waits for their first
// blocks and reads the chain's id.
func (d *Demo) startAndWait(ctx context.Context) error {
	if err := d.Cluster.Start(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := d.Cluster.WaitReady(ctx, readyTimeout); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	st, err := d.rpcs[0].Status(ctx)
	if err != nil {
		return err
	}
	d.ChainID = st.NodeInfo.Network
	return nil
}

// StopCluster stops the node processes (SIGINT, then SIGKILL after
// cluster.StopTimeout), then the relays between them.
func (d *Demo) StopCluster() {
	if d.Cluster != nil {
		d.Cluster.Stop()
	}
	d.relays.Close()
	d.relays = nil
}

// DropSchemas drops the PostgreSQL schemas of the demo's nodes, named
// prefix followed by the node's name, at databaseURL.
func DropSchemas(ctx context.Context, databaseURL, prefix string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("demo: PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	for i := range Nodes {
		name := pgx.Identifier{fmt.Sprintf("%snode%d", prefix, i)}.Sanitize()
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
			return fmt.Errorf("demo: PostgreSQL: %w", err)
		}
	}
	return nil
}
