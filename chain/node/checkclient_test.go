package node

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
)

// gatedApp answers CheckTx once its gate opens: code 0 for "ok", 7 otherwise.
type gatedApp struct {
	abci.BaseApplication
	gate    chan struct{}
	running atomic.Int32
}

func (a *gatedApp) CheckTx(_ context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	a.running.Add(1)
	defer a.running.Add(-1)
	<-a.gate
	if string(req.Tx) == "ok" {
		return &abci.CheckTxResponse{}, nil
	}
	return &abci.CheckTxResponse{Code: 7, Log: "bad"}, nil
}

func newTestClient(t *testing.T, app abci.Application) *asyncCheckClient {
	t.Helper()
	c, err := NewClientCreator(app).NewABCIMempoolClient()
	if err != nil {
		t.Fatal(err)
	}
	return c.(*asyncCheckClient)
}

var errRejected = errors.New("rejected")

// verdict is a mempool-like callback: an error for a non-zero code.
func verdict(r *abci.Response) error {
	if r.GetCheckTx().Code != 0 {
		return errRejected
	}
	return nil
}

func TestAsyncCheckTx(t *testing.T) {
	app := &gatedApp{gate: make(chan struct{})}
	c := newTestClient(t, app)

	// Checks run concurrently and are answered only once the app answers.
	ok, err := c.CheckTxAsync(context.Background(), &abci.CheckTxRequest{Tx: []byte("ok"), Type: abci.CHECK_TX_TYPE_CHECK})
	if err != nil {
		t.Fatal(err)
	}
	ok.SetCallback(verdict) // set before the answer: invoked by the client
	bad, _ := c.CheckTxAsync(context.Background(), &abci.CheckTxRequest{Tx: []byte("bad"), Type: abci.CHECK_TX_TYPE_CHECK})
	bad.SetCallback(verdict)
	for app.running.Load() != 2 {
		time.Sleep(time.Millisecond)
	}

	// Flush waits for both.
	flushed := make(chan struct{})
	go func() {
		c.Flush(context.Background())
		close(flushed)
	}()
	select {
	case <-flushed:
		t.Fatal("Flush returned while CheckTx calls were in progress")
	case <-time.After(50 * time.Millisecond):
	}
	close(app.gate)
	<-flushed
	// Once a request is done its callback has run: a waiter reads the verdict.
	ok.Wait()
	bad.Wait()
	if ok.Error() != nil || ok.Response.GetCheckTx().Code != 0 {
		t.Errorf("ok: %v, %v", ok.Error(), ok.Response)
	}
	if !errors.Is(bad.Error(), errRejected) || bad.Response.GetCheckTx().Code != 7 {
		t.Errorf("bad: %v, %v", bad.Error(), bad.Response)
	}

	// An answer that comes before the callback is set: SetCallback runs it
	// at once, so the verdict is there when the caller returns.
	early, _ := c.CheckTxAsync(context.Background(), &abci.CheckTxRequest{Tx: []byte("bad"), Type: abci.CHECK_TX_TYPE_CHECK})
	early.Wait()
	early.SetCallback(verdict)
	if !errors.Is(early.Error(), errRejected) {
		t.Errorf("early answer: %v", early.Error())
	}

	// Re-checks are answered at once, by the wrapped local client.
	re, err := c.CheckTxAsync(context.Background(), &abci.CheckTxRequest{Tx: []byte("bad"), Type: abci.CHECK_TX_TYPE_RECHECK})
	if err != nil || re.Response == nil || re.Response.GetCheckTx().Code != 7 {
		t.Fatalf("recheck: %v %v", err, re)
	}
	c.Flush(context.Background())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending != 0 || len(c.slots) != 0 {
		t.Fatalf("%d calls pending, %d slots taken after all were answered", c.pending, len(c.slots))
	}
}
