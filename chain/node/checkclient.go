package node

import (
	"context"
	"sync"

	abcicli "github.com/cometbft/cometbft/abci/client"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/proxy"
	"github.com/evote/evote/wire"
)

// maxPendingChecks bounds the CheckTx calls in progress on the mempool
// connection; a caller (a peer's receive routine, an RPC submission) waits
// for a free slot, which pushes back on whoever floods the node.
const maxPendingChecks = 1024

// clientCreator connects the application as CometBFT's
// proxy.NewConsensusSyncLocalClientCreator does (consensus calls never
// overlap; queries run concurrently with them), except that first-time
// CheckTx calls on the mempool connection are answered asynchronously.
//
// With CometBFT's local client, a peer's receive routine runs CheckTx to the
// end before it reads the next transaction, so at most one ballot per peer
// (plus the node's own submissions) was being checked at any moment and the
// application's shared batch verification saw batches of two to four
// ballots. Answered asynchronously, every ballot gossiped or submitted
// meanwhile joins the batch being formed.
type clientCreator struct {
	proxy.ClientCreator
	app abci.Application
}

// NewClientCreator returns the connection of app to CometBFT that every
// evote node uses.
func NewClientCreator(app abci.Application) proxy.ClientCreator {
	return &clientCreator{ClientCreator: proxy.NewConsensusSyncLocalClientCreator(app), app: app}
}

// NewABCIMempoolClient implements proxy.ClientCreator.
func (c *clientCreator) NewABCIMempoolClient() (abcicli.Client, error) {
	inner, err := c.ClientCreator.NewABCIMempoolClient()
	if err != nil {
		return nil, err
	}
	a := &asyncCheckClient{Client: inner, app: c.app, slots: make(chan struct{}, maxPendingChecks)}
	a.idle = sync.NewCond(&a.mu)
	return a, nil
}

// asyncCheckClient is the mempool connection: first-time CheckTx calls run
// on their own goroutines; everything else, including the mempool's
// re-checks after a block, goes to the wrapped local client unchanged. (The
// client-wide response callback, deprecated and unused by CometBFT's
// mempool, is not called for the asynchronous answers.)
//
// The ordering CometBFT relies on holds:
//   - Flush returns only once every CheckTx started before it has been
//     answered and its callback has run. CometBFT flushes the mempool
//     connection under the mempool's lock before each Commit and re-check, so
//     no answer arrives while the mempool is updated or re-checked.
//   - The response is set and the request's callback invoked before the
//     request is marked done, so a waiter (the RPC's broadcast_tx_sync) reads
//     the mempool's verdict. If the answer comes before the mempool has set
//     its callback, ReqRes.SetCallback runs the callback at once, on the
//     mempool's goroutine, before its CheckTx returns to the waiter.
type asyncCheckClient struct {
	abcicli.Client
	app   abci.Application
	slots chan struct{}

	mu      sync.Mutex
	pending int        // CheckTx calls not yet answered
	idle    *sync.Cond // signalled when pending drops to 0
}

// CheckTxAsync implements abcicli.Client.
func (c *asyncCheckClient) CheckTxAsync(ctx context.Context, req *abci.CheckTxRequest) (*abcicli.ReqRes, error) {
	if req.Type != abci.CHECK_TX_TYPE_CHECK {
		return c.Client.CheckTxAsync(ctx, req)
	}
	rr := abcicli.NewReqRes(abci.ToCheckTxRequest(req))
	c.slots <- struct{}{}
	c.mu.Lock()
	c.pending++
	c.mu.Unlock()
	go func() {
		defer c.answered()
		// The call outlives the caller's context: it is answered even if
		// the submitter has gone, as the local client does.
		res, err := c.app.CheckTx(context.WithoutCancel(ctx), req)
		if err != nil {
			res = &abci.CheckTxResponse{Code: uint32(wire.CodeInternal), Log: "internal error: " + err.Error(), Codespace: wire.Codespace}
		}
		rr.Response = abci.ToCheckTxResponse(res)
		rr.InvokeCallback()
		rr.Done()
	}()
	return rr, nil
}

// answered ends a CheckTx call.
func (c *asyncCheckClient) answered() {
	<-c.slots
	c.mu.Lock()
	c.pending--
	if c.pending == 0 {
		c.idle.Broadcast()
	}
	c.mu.Unlock()
}

// Flush implements abcicli.Client: it waits until every CheckTx in progress
// has been answered.
func (c *asyncCheckClient) Flush(ctx context.Context) error {
	c.mu.Lock()
	for c.pending > 0 {
		c.idle.Wait()
	}
	c.mu.Unlock()
	return c.Client.Flush(ctx)
}
