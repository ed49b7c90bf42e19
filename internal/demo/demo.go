// Package demo runs `evote demo`: a whole election on a local cluster of 4
// authority node processes (internal/cluster), phase by phase, each phase a
// numbered step printed with what it did and how long it took. Every phase
// is a method of Demo, in its own file, called in this order:
//
//	Prepare        the data folder (prepare.go)
//	StartCluster   4 nodes on 127.0.0.1 (cluster.go)
//	Publish        the election's manifest (publish.go)
//	Ceremony       the trustees' key ceremony on the chain (ceremony.go)
//	Credentials    the voters' credentials and the roll (credentials.go)
//	Open           the election opens (open.go)
//	Vote           simulated voters cast over websockets (vote.go)
//	StartTally     the tally service (tally.go), then Serve (serve.go) or
//	CloseElection  the encrypted totals (tally.go)
//	Decrypt        2 of 3 trustees decrypt (decrypt.go)
//	WaitResult     the published result (tally.go)
//	Verify         an observer's verification (verify.go)
//	Export         the election record (export.go)
//	Report         the counts against the voters' choices (report.go)
//
// OpenElection runs Publish to Open and Count runs CloseElection to
// WaitResult. The cluster tests of cmd/evote use the same phases.
package demo

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"sync"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/internal/cluster"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// Nodes is the number of authority nodes of the demo's cluster.
const Nodes = 4

// steps is the number of numbered steps the demo prints.
const steps = 11

// DefaultSchemaPrefix prefixes the PostgreSQL schemas of the demo's nodes
// (the node's name appended) when Config.SchemaPrefix is empty.
const DefaultSchemaPrefix = "evote_demo_"

// Config is what a run of the demo is given.
type Config struct {
	// Out receives the steps and the report.
	Out io.Writer
	// Dir is the data folder: the testnet, the tally service's state, the
	// verification report and the election record.
	Dir string
	// Exe is the evote binary the nodes run; the running one if empty.
	Exe string
	// DatabaseURL keeps the nodes' state in PostgreSQL, each node in its
	// own schema; embedded Pebble if empty.
	DatabaseURL string
	// SchemaPrefix prefixes the nodes' schemas; DefaultSchemaPrefix if
	// empty.
	SchemaPrefix string
	// P2PDelay, if not 0, delays every byte between two nodes by this much
	// each way (cluster.DelayP2P), as between distant organisations.
	P2PDelay time.Duration
}

// Demo is one run of the demo.
type Demo struct {
	cfg Config
	// Cluster is the node processes, once StartCluster has started them.
	Cluster *cluster.Cluster
	// relays delay the links between the nodes when Config.P2PDelay is set.
	relays cluster.Relays
	// ChainID is the chain's id, once StartCluster has started it.
	ChainID string
	// Manifest is the election's, once Publish has published it.
	Manifest *ballot.Manifest

	began    time.Time
	mu       sync.Mutex
	seen     int64 // the highest block height a submitted transaction landed in
	step     int
	t0       time.Time
	rpcs     []*rpchttp.HTTP
	official ed25519.PrivateKey
	trustees []*trustee.Key
}

// New returns a run of the demo with cfg; nothing has happened yet.
func New(cfg Config) *Demo {
	if cfg.SchemaPrefix == "" {
		cfg.SchemaPrefix = DefaultSchemaPrefix
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	return &Demo{cfg: cfg, began: time.Now()}
}

// stepf prints the start of the next numbered step.
func (d *Demo) stepf(format string, args ...any) {
	d.step++
	d.t0 = time.Now()
	fmt.Fprintf(d.cfg.Out, "[%2d/%d] %s … ", d.step, steps, fmt.Sprintf(format, args...))
}

// donef ends the step's line with its outcome and duration.
func (d *Demo) donef(format string, args ...any) {
	fmt.Fprintf(d.cfg.Out, "%s (%.1fs)\n", fmt.Sprintf(format, args...), time.Since(d.t0).Seconds())
}

// RPC returns node i's RPC client (round-robin over the nodes).
func (d *Demo) RPC(i int) *rpchttp.HTTP { return d.rpcs[i%len(d.rpcs)] }

// HTTPURL returns node i's public HTTP URL.
func (d *Demo) HTTPURL(i int) string { return "http://" + d.Cluster.Nodes[i].HTTPAddr }

// caughtUp waits until node i has the latest block a transaction of the
// demo landed in.
func (d *Demo) caughtUp(ctx context.Context, i int) error {
	d.mu.Lock()
	seen := d.seen
	d.mu.Unlock()
	for {
		st, err := d.RPC(i).Status(ctx)
		if err == nil && st.SyncInfo.LatestBlockHeight >= seen {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// saw records that a transaction of the demo landed at height h.
func (d *Demo) saw(h int64) {
	d.mu.Lock()
	d.seen = max(d.seen, h)
	d.mu.Unlock()
}

// submit sends a transaction through node i and waits for its block. Node i
// first catches up with the latest block the demo has seen committed, so
// that its CheckTx sees what the previous steps did.
func (d *Demo) submit(ctx context.Context, i int, tx wire.Tx) (int64, error) {
	if err := d.caughtUp(ctx, i); err != nil {
		return 0, err
	}
	res, err := chain.Submit(ctx, d.RPC(i), wire.Encode(tx), true)
	if err != nil {
		return 0, fmt.Errorf("demo: %s transaction: %w", tx.Kind(), err)
	}
	d.saw(res.Height)
	return res.Height, nil
}
