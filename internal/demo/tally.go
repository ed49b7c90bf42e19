package demo

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/tally"
	"github.com/evote/evote/wire"
)

// tallyNode is the node the tally service follows.
const tallyNode = 3

// StartTally starts the tally service on the last node, with its state in
// Dir/tally and its log in Dir/tally.log. Call it once casting is over: it
// catches up from the first block. (In a deployment the service has its own
// machine, while here it would take CPU from the four nodes that share this
// one during the measured casting phase.) The service stops when ctx is
// done or stop is called; stop waits until it has closed its store, and may
// be called more than once.
func (d *Demo) StartTally(ctx context.Context) (stop func(), err error) {
	cl, err := rpchttp.New("tcp://" + d.Cluster.Nodes[tallyNode].RPCAddr)
	if err != nil {
		return nil, err
	}
	if err := cl.Start(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	st, err := pebblestore.New(ctx, pebblestore.Config{Dir: filepath.Join(d.cfg.Dir, "tally")})
	if err != nil {
		cancel()
		cl.Stop()
		return nil, err
	}
	logf, err := os.Create(filepath.Join(d.cfg.Dir, "tally.log"))
	if err != nil {
		cancel()
		st.Close()
		cl.Stop()
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(logf, nil))
	svc, err := tally.New(ctx, tally.Config{Client: cl, ElectionID: d.Manifest.ElectionID, Store: st, Logger: log, PollInterval: 300 * time.Millisecond})
	if err != nil {
		cancel()
		st.Close()
		cl.Stop()
		logf.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.Run(ctx)
		svc.Close()
		st.Close()
		cl.Stop()
		logf.Close()
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}, nil
}

// waitFor waits up to timeout until the election's record on node 1
// satisfies cond, and returns it.
func (d *Demo) waitFor(ctx context.Context, what string, timeout time.Duration, cond func(*rules.ElectionRecord) bool) (*rules.ElectionRecord, error) {
	deadline := time.Now().Add(timeout)
	for {
		var rec rules.ElectionRecord
		if err := chain.QueryJSON(ctx, d.RPC(1), "election/"+d.Manifest.ElectionID, &rec); err == nil && cond(&rec) {
			return &rec, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("demo: timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// CloseElection closes the election and waits until the tally service
// (StartTally) has published the encrypted totals.
func (d *Demo) CloseElection(ctx context.Context) error {
	d.stepf("closing the election; the tally service publishes the encrypted totals")
	if _, err := d.submit(ctx, 0, chain.CloseTx(d.ChainID, d.Manifest.ElectionID, d.official)); err != nil {
		return err
	}
	rec, err := d.waitFor(ctx, "the encrypted totals", time.Minute, func(r *rules.ElectionRecord) bool { return r.TotalsHeight > 0 })
	if err != nil {
		return err
	}
	d.saw(rec.TotalsHeight) // the tally service's transaction
	d.donef("%d ballots counted, totals at height %d", rec.Counted(), rec.TotalsHeight)
	return nil
}

// WaitResult waits until the tally service has combined the trustees'
// shares and the chain has accepted the result, and returns the election's
// record with it.
func (d *Demo) WaitResult(ctx context.Context) (*rules.ElectionRecord, error) {
	d.stepf("the tally service combines the shares and publishes the result")
	rec, err := d.waitFor(ctx, "the result", time.Minute, func(r *rules.ElectionRecord) bool { return r.Phase == wire.PhaseTallied })
	if err != nil {
		return nil, err
	}
	d.donef("result at height %d, checked by every authority node", rec.ResultHeight)
	return rec, nil
}

// Count runs the phases from CloseElection to WaitResult: the election
// closes, the trustees decrypt the totals and the result is published.
func (d *Demo) Count(ctx context.Context, e *ballot.Election) (*rules.ElectionRecord, error) {
	if err := d.CloseElection(ctx); err != nil {
		return nil, err
	}
	if err := d.Decrypt(ctx, e); err != nil {
		return nil, err
	}
	return d.WaitResult(ctx)
}
