package chain

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// Submit sends a transaction to a node (CheckTx) and, if wait is set, waits
// until it is in a committed block and returns its result there. A rejection
// is a *rules.Rejection with the application's code; a transaction the chain already
// holds (code CodeDuplicate) is returned as such, so callers that retry can
// tell "already there" from failure.
func Submit(ctx context.Context, c rpcclient.Client, tx []byte, wait bool) (*coretypes.ResultTx, error) {
	res, err := c.BroadcastTxSync(ctx, tx)
	if err != nil && strings.Contains(err.Error(), "tx already exists in cache") {
		// The node has seen these exact bytes: the transaction is in its
		// mempool or already in a block. Report what became of it.
		if !wait {
			return nil, nil
		}
		return WaitTx(ctx, c, types.Tx(tx).Hash())
	}
	if err != nil {
		// CometBFT v1 returns a CheckTx rejection as an error of the RPC
		// call; recover the application's code and message from it.
		if m := checkTxRejection.FindStringSubmatch(err.Error()); m != nil {
			code, _ := strconv.ParseUint(m[1], 10, 32)
			return nil, &rules.Rejection{Code: wire.Code(code), Msg: m[2]}
		}
		return nil, fmt.Errorf("chain: sending the transaction: %w", err)
	}
	if res.Code != 0 {
		return nil, &rules.Rejection{Code: wire.Code(res.Code), Msg: res.Log}
	}
	if !wait {
		return nil, nil
	}
	return WaitTx(ctx, c, types.Tx(tx).Hash())
}

// checkTxRejection matches CometBFT's "tx … is invalid: code=N, data=…,
// log='…', codespace='evote'" error.
var checkTxRejection = regexp.MustCompile(`code=(\d+), data=[^,]*, log='(.*)', codespace='evote'`)

// WaitTx polls for a transaction until it is in a committed block.
func WaitTx(ctx context.Context, c rpcclient.Client, hash []byte) (*coretypes.ResultTx, error) {
	delay := 50 * time.Millisecond
	for {
		r, err := c.Tx(ctx, hash, false)
		if err == nil {
			if r.TxResult.Code != 0 {
				return r, &rules.Rejection{Code: wire.Code(r.TxResult.Code), Msg: r.TxResult.Log}
			}
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("chain: waiting for transaction %X: %w", hash, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// QueryJSON runs an ABCI query against a node and decodes its JSON value.
func QueryJSON(ctx context.Context, c rpcclient.Client, path string, v any) error {
	res, err := c.ABCIQuery(ctx, path, nil)
	if err != nil {
		return fmt.Errorf("chain: query %s: %w", path, err)
	}
	if res.Response.Code != 0 {
		return &rules.Rejection{Code: wire.Code(res.Response.Code), Msg: res.Response.Log}
	}
	return json.Unmarshal(res.Response.Value, v)
}

// IsCode reports whether err is a rejection with the given code.
func IsCode(err error, code wire.Code) bool {
	r := rules.AsRejection(err)
	return r != nil && r.Code == code
}
