package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/cometbft/cometbft/crypto/merkle"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"
	"github.com/evote/evote/web/protocol"
)

// blockCache keeps the last few blocks that receipts were built from, with
// all their transactions' Merkle proofs computed at once, so that the
// receipts of the hundreds of ballots in one block cost one block fetch and
// one tree instead of one each (which made receipt building quadratic in
// the block's size).
type blockCache struct {
	rpc rpcclient.SignClient
	max int

	mu      sync.Mutex
	entries map[int64]*cachedBlock
	order   []int64
}

type cachedBlock struct {
	once   sync.Once
	err    error
	block  *coretypes.ResultBlock
	commit *types.Commit
	root   []byte
	proofs []*merkle.Proof
	json   *protocol.SharedBlock // the JSON of the block id, header and commit, for receipts
}

func newBlockCache(rpc rpcclient.SignClient, max int) *blockCache {
	return &blockCache{rpc: rpc, max: max, entries: map[int64]*cachedBlock{}}
}

func (bc *blockCache) get(ctx context.Context, height int64) (*cachedBlock, error) {
	bc.mu.Lock()
	e := bc.entries[height]
	if e == nil {
		e = &cachedBlock{}
		bc.entries[height] = e
		bc.order = append(bc.order, height)
		if len(bc.order) > bc.max {
			delete(bc.entries, bc.order[0])
			bc.order = bc.order[1:]
		}
	}
	bc.mu.Unlock()
	e.once.Do(func() {
		rb, err := bc.rpc.Block(ctx, &height)
		if err != nil || rb == nil || rb.Block == nil {
			e.err = fmt.Errorf("%w: block %d: %v", protocol.ErrNotCommitted, height, err)
			return
		}
		rc, err := bc.rpc.Commit(ctx, &height)
		if err != nil || rc == nil || rc.Commit == nil {
			e.err = fmt.Errorf("%w: commit of block %d: %v", protocol.ErrNotCommitted, height, err)
			return
		}
		hashes := make([][]byte, len(rb.Block.Txs))
		for i, tx := range rb.Block.Txs {
			hashes[i] = tx.Hash()
		}
		if e.json, e.err = protocol.MarshalBlock(rb.BlockID, rb.Block.Header, rc.Commit); e.err != nil {
			return
		}
		e.block, e.commit = rb, rc.Commit
		e.root, e.proofs = merkle.ProofsFromByteSlices(hashes)
	})
	if e.err != nil {
		// Do not keep a failure: the block may not be there yet.
		bc.mu.Lock()
		if bc.entries[height] == e {
			delete(bc.entries, height)
		}
		bc.mu.Unlock()
		return nil, e.err
	}
	return e, nil
}

// receipt builds the receipt of the transaction at (height, index) from the
// cached block; it is BuildReceipt without the repeated work.
func (bc *blockCache) receipt(ctx context.Context, election, kind, trackingCode string, height int64, index int, wantHash []byte) (*protocol.Receipt, error) {
	e, err := bc.get(ctx, height)
	if err != nil {
		return nil, err
	}
	txs := e.block.Block.Txs
	if index < 0 || index >= len(txs) {
		return nil, fmt.Errorf("web: block %d has %d transactions, no index %d", height, len(txs), index)
	}
	h := sha256.Sum256(txs[index])
	if wantHash != nil && !bytes.Equal(h[:], wantHash) {
		return nil, fmt.Errorf("web: transaction %d of block %d has hash %x, want %x", index, height, h, wantHash)
	}
	return &protocol.Receipt{Election: election, Kind: kind, TrackingCode: trackingCode, TxHash: h[:], Height: height, Index: index,
		Proof:   types.TxProof{RootHash: e.root, Data: txs[index], Proof: *e.proofs[index]},
		BlockID: e.block.BlockID, Header: e.block.Block.Header, Commit: e.commit, Shared: e.json}, nil
}
