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

// admission is the Checker of CheckTx. A ballot this node verified already
// (a voter's, through its web server: App.VerifyBallot; or one of a block)
// has its cached result. Any other, a ballot gossiped by a peer, is admitted
// to the mempool on its encoding, signature and the state's checks: its
// proofs are verified in the background while the node waits for its block
// (backgroundVerifier), or with the rest of its block if that has not been
// done by then (FinalizeBlock's preverify), not in CheckTx. The
// block's outcome is the same either way; only the admission of a ballot
// with a bad proof differs (it fails in the block, code 7, instead of at
// the door). A ballot is signed over its proofs, so only the holder of a
// credential can make one, and each is refused at its own node's door.
type admission struct{ c checker }

func (d admission) CheckBallot(e *ballot.Election, raw, cast []byte) *rules.Verified {
	ck := cacheKey(e, raw)
	if v, ok := d.c.a.verified.get(ck); ok {
		return v
	}
	info, v := rules.InspectCast(e, cast)
	if v != nil {
		d.c.a.verified.put(ck, v) // malformed or badly signed, whatever its proofs
		return v
	}
	d.c.a.background.add(ck, e, info)
	return rules.Unverified(e, info)
}

func (d admission) CheckAudit(e *ballot.Election, raw, file []byte) *rules.Verified {
	return d.c.CheckAudit(e, raw, file)
}

// VerifyBallot verifies a ballot transaction in full (its proofs batched
// with concurrent ones) and caches the outcome, so that CheckTx then
// refuses a bad one at once: the web server calls it for the ballots its
// voters send before submitting them. Other transactions are left to
// CheckTx.
func (a *App) VerifyBallot(ctx context.Context, tx []byte) {
	d, err := wire.Decode(tx)
	b, ok := d.(*wire.Ballot)
	r := a.Rules()
	if err != nil || !ok || r == nil {
		return
	}
	o := newOverlay(a.store)
	o.committedView = true
	if _, ec, err := r.Election(committedState{view{ctx, o}, a}, b.ElectionID); err == nil && ec.Ballot != nil {
		checker{a}.CheckBallot(ec.Ballot, tx, b.Cast)
	}
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
	type candidate struct {
		g   *group
		key [32]byte
		tx  int
		b   *wire.Ballot
	}
	var todo []candidate
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
		todo = append(todo, candidate{g, ck, i, b})
	}
	// What the background verifier has not started is taken from it; what
	// it is verifying now is waited for.
	keys := make([][32]byte, len(todo))
	for i, c := range todo {
		keys[i] = c.key
	}
	for _, ch := range a.background.claim(keys) {
		<-ch
	}
	for _, c := range todo {
		if v, ok := a.verified.get(c.key); ok {
			out[c.tx] = v
			continue
		}
		c.g.keys, c.g.casts, c.g.txs = append(c.g.keys, c.key), append(c.g.casts, c.b.Cast), append(c.g.txs, c.tx)
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
