package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/record"
)

// chainState is the walk over the blocks (check 3).
type chainState struct {
	expect      int64 // the next height expected
	prevID      types.BlockID
	prevHeader  *types.Header
	prevCommit  *types.Commit
	prevResults []byte // results hash of the previous block, if its results are known
	prevApp     []byte
	blockIDs    []types.BlockID // by height − 1, for fork comparison
	lastResults bool            // the last block's results are not committed by a later header
}

type walkItem struct {
	e   *record.Entry
	bad *Failure
}

// walk streams the blocks: a goroutine decodes them while this one checks
// the chain (check 3) and feeds the re-execution.
func (v *verifier) walk(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	items := make(chan walkItem, 4)
	errc := make(chan error, 1)
	go func() {
		defer close(items)
		errc <- v.rec.Blocks(1, v.rec.Index.LastHeight, nil, func(e *record.Entry) error {
			select {
			case items <- walkItem{e: e}:
				return ctx.Err()
			case <-ctx.Done():
				return ctx.Err()
			}
		}, func(path string, line int, err error) error {
			select {
			case items <- walkItem{bad: &Failure{File: fmt.Sprintf("%s line %d", path, line), Message: err.Error()}}:
				return ctx.Err()
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	v.expect = 1
	last := v.rec.Index.LastHeight
	for it := range items {
		if it.bad != nil {
			v.check(CheckBlocks).fail(it.bad)
			continue
		}
		ok := true
		v.timed(CheckBlocks, func() { ok = v.checkBlock(it.e) })
		v.prog.set("blocks", it.e.Height, last)
		if ok {
			v.e.addBlock(it.e)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		v.check(CheckBlocks).failf("reading the blocks: %v", err)
	}
	c := v.check(CheckBlocks)
	if v.expect != last+1 {
		c.fail(&Failure{Height: v.expect, Message: fmt.Sprintf("the record ends before height %d; record.json says it covers up to %d", v.expect, last)})
	}
	if v.lastResults {
		c.note("the results of the last block (%d) are not yet committed by a later header; they are checked by re-execution only", last)
	}
	c.add("blocks", int64(len(v.blockIDs)))
}

// checkBlock checks one block against its parent and the authority set and
// reports whether the block's position is right (it is then re-executed).
func (v *verifier) checkBlock(e *record.Entry) (ok bool) {
	c := v.check(CheckBlocks)
	h := e.Height
	fail := func(format string, args ...any) {
		c.fail(&Failure{Height: h, Message: fmt.Sprintf(format, args...)})
	}
	defer func() {
		if r := recover(); r != nil {
			fail("the block cannot be checked: %v", r)
		}
	}()
	if h != v.expect {
		if h < v.expect {
			fail("height %d again or out of order after height %d", h, v.expect-1)
			return false
		}
		fail("heights %d to %d are missing (found height %d after %d)", v.expect, h-1, h, v.expect-1)
	}
	b := e.Block
	hdr := &b.Header
	if hdr.Height != h {
		fail("the block's header says height %d", hdr.Height)
	}
	if v.genesisOK && hdr.ChainID != v.chainID {
		fail("chain id %q, genesis says %q", hdr.ChainID, v.chainID)
	}
	if err := b.ValidateBasic(); err != nil {
		fail("block does not validate (header, data hash, last commit hash, evidence hash): %v", err)
	}
	if !bytes.Equal(b.Data.Hash(), hdr.DataHash) {
		fail("data hash %X is not the Merkle root %X of the block's %d transactions", hdr.DataHash, b.Data.Hash(), len(b.Txs))
	}
	hash := hdr.Hash()
	if !bytes.Equal(hash, e.BlockID.Hash) {
		fail("block id %X, but the header hashes to %X", e.BlockID.Hash, hash)
	}
	if ps, err := b.MakePartSet(types.BlockPartSizeBytes); err != nil {
		fail("block does not encode: %v", err)
	} else if psh := ps.Header(); !psh.Equals(e.BlockID.PartSetHeader) {
		fail("part set header %v, the block gives %v", e.BlockID.PartSetHeader, psh)
	}
	if h > 1 && v.prevHeader != nil {
		if !hdr.LastBlockID.Equals(v.prevID) {
			fail("parent link: last block id %v, but block %d is %v", hdr.LastBlockID, h-1, v.prevID)
		}
		if !hdr.Time.After(v.prevHeader.Time) {
			fail("time %s is not after the parent's %s", hdr.Time, v.prevHeader.Time)
		}
		if v.prevCommit != nil && !bytes.Equal(hdr.LastCommitHash, v.prevCommit.Hash()) {
			// Both may be valid commits for the parent (the record's is the
			// one the node had); check the block's own too.
			if v.vals != nil && b.LastCommit != nil {
				if err := v.vals.VerifyCommitLightAllSignatures(v.chainID, v.prevID, h-1, b.LastCommit); err != nil {
					fail("the block's last commit does not sign block %d: %v", h-1, err)
				}
			}
		}
		if v.prevResults != nil && !bytes.Equal(hdr.LastResultsHash, v.prevResults) {
			fail("last results hash %X, but the results recorded for block %d hash to %X", hdr.LastResultsHash, h-1, v.prevResults)
		}
		if len(v.prevApp) > 0 && !bytes.Equal(hdr.AppHash, v.prevApp) {
			fail("app hash %X, but the record says the application's state after block %d is %X", hdr.AppHash, h-1, v.prevApp)
		}
	} else if h == 1 && !hdr.LastBlockID.IsNil() {
		fail("the first block names a parent %v", hdr.LastBlockID)
	}
	if v.vals != nil {
		vh := v.vals.Hash()
		if !bytes.Equal(hdr.ValidatorsHash, vh) || !bytes.Equal(hdr.NextValidatorsHash, vh) {
			fail("validator set hash %X (next %X), but evote's authority set is fixed at genesis: %X", hdr.ValidatorsHash, hdr.NextValidatorsHash, vh)
		}
		if !bytes.Equal(hdr.ConsensusHash, v.consensus) {
			fail("consensus parameters hash %X, genesis gives %X", hdr.ConsensusHash, v.consensus)
		}
		cm := e.Commit
		switch {
		case cm.Height != h:
			fail("the commit is for height %d", cm.Height)
		case !cm.BlockID.Equals(e.BlockID):
			fail("the commit signs block %v, not %v", cm.BlockID, e.BlockID)
		default:
			if err := v.vals.VerifyCommitLightAllSignatures(v.chainID, e.BlockID, h, cm); err != nil {
				fail("commit: %v", err)
			}
		}
	}
	if len(b.Evidence.Evidence) > 0 {
		c.note("height %d holds %d pieces of evidence of validator misbehaviour", h, len(b.Evidence.Evidence))
	}
	// Results: committed by the next header.
	v.prevResults, v.lastResults = nil, false
	switch {
	case e.Results == nil && len(b.Txs) > 0:
		c.note("height %d: the record holds no results; the outcomes are re-derived only", h)
	case len(e.Results) != len(b.Txs):
		fail("%d results for %d transactions", len(e.Results), len(b.Txs))
		e.Results = nil
	default:
		v.prevResults = resultsHash(e.Results)
		v.lastResults = true
	}
	v.prevApp = e.AppHash
	v.prevID, v.prevHeader, v.prevCommit = e.BlockID, hdr, e.Commit
	v.blockIDs = append(v.blockIDs, e.BlockID)
	if h >= v.expect {
		v.expect = h + 1
	}
	return h == v.expect-1
}

// resultsHash is CometBFT's LastResultsHash of a block's results.
func resultsHash(rs []record.TxResult) []byte {
	out := make([]*abci.ExecTxResult, len(rs))
	for i, r := range rs {
		out[i] = &abci.ExecTxResult{Code: r.Code, Data: r.Data, GasWanted: r.GasWanted, GasUsed: r.GasUsed}
	}
	return types.NewResults(out).Hash()
}

// headerJSON renders a header for fork evidence.
func headerJSON(h *types.Header) []byte {
	b, err := cmtjson.Marshal(h)
	if err != nil {
		return nil
	}
	return b
}
