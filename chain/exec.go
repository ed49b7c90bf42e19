package chain

import (
	"context"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// checker is the node's rules.Checker: the outcome of a ballot's or audit's
// pure checks is cached by transaction (a ballot checked in CheckTx is not
// checked again in its block), and ballots checked at the same time share a
// batch verification.
type checker struct{ a *App }

// cacheKey binds a pure check to the election it was made for.
func cacheKey(e *ballot.Election, raw []byte) [32]byte {
	h := txHash(raw)
	return crypto.Hash("evote/v1/verify-cache", e.BaseHash[:], h[:])
}

func (c checker) CheckBallot(e *ballot.Election, raw, cast []byte) *rules.Verified {
	ck := cacheKey(e, raw)
	if v, ok := c.a.verified.get(ck); ok {
		return v
	}
	v := c.a.ballots.verify(e, cast)
	c.a.verified.put(ck, v)
	return v
}

func (c checker) CheckAudit(e *ballot.Election, raw, file []byte) *rules.Verified {
	ck := cacheKey(e, raw)
	if v, ok := c.a.verified.get(ck); ok {
		return v
	}
	v := rules.CheckAudit(e, file)
	c.a.verified.put(ck, v)
	return v
}

// decoded is one transaction of a block.
type decoded struct {
	raw []byte
	tx  wire.Tx // nil if it does not decode
	err error
}

// preverify checks the signatures and proofs of the block's ballots that
// are not in the cache yet, with one batch verification per election, and
// returns the pure checks' result of every ballot it could check (by the
// transaction's index), for prefetch.
func (a *App) preverify(ctx context.Context, o *overlay, txs []decoded) map[int]*rules.Verified {
	type group struct {
		e     *ballot.Election
		keys  [][32]byte
		casts [][]byte
		txs   []int
	}
	out := map[int]*rules.Verified{}
	groups := map[string]*group{}
	var order []string
	for i, d := range txs {
		b, ok := d.tx.(*wire.Ballot)
		if !ok {
			continue
		}
		g, seen := groups[b.ElectionID]
		if !seen {
			// The parsed election depends only on the transaction's
			// election and its key, whatever the block does to its record.
			if _, ec, err := a.rules.Election(view{ctx, o}, b.ElectionID); err == nil && ec.Ballot != nil {
				g = &group{e: ec.Ballot}
			}
			groups[b.ElectionID] = g
			order = append(order, b.ElectionID)
		}
		if g == nil {
			continue
		}
		ck := cacheKey(g.e, d.raw)
		if v, ok := a.verified.get(ck); ok {
			out[i] = v
			continue
		}
		g.keys, g.casts, g.txs = append(g.keys, ck), append(g.casts, b.Cast), append(g.txs, i)
	}
	for _, id := range order {
		g := groups[id]
		if g == nil || len(g.casts) == 0 {
			continue
		}
		for i, v := range rules.VerifyBatch(g.e, g.casts, 0) {
			a.verified.put(g.keys[i], v)
			out[g.txs[i]] = v
		}
	}
	return out
}

// abciEvents converts the rules' events, every attribute indexed.
func abciEvents(evs []rules.Event) []abci.Event {
	out := make([]abci.Event, len(evs))
	for i, e := range evs {
		out[i].Type = e.Type
		for _, kv := range e.Attrs {
			out[i].Attributes = append(out[i].Attributes, abci.EventAttribute{Key: kv[0], Value: kv[1], Index: true})
		}
	}
	return out
}
