package tally

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/internal/jsonout"
	"github.com/evote/evote/record"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// chainBlock is one committed block as the node reports it: its header's
// height, hash, parent and time, its transactions and their results.
type chainBlock struct {
	height       int64
	hash, parent []byte
	time         time.Time
	txs          [][]byte
	results      []*abci.ExecTxResult
}

// precheck verifies the proofs of the block's ballots of election id, as
// of the state st before the block, in one batch, for the rules to find
// (rules.Prechecked). Ballots of an election without its key yet are
// checked by the rules themselves.
func precheck(p *rules.Prechecked, r *rules.Rules, st rules.State, id string, txs []wire.Tx, raws [][]byte) {
	p.Clear()
	_, ec, err := r.Election(st, id)
	if err != nil || ec.Ballot == nil {
		return
	}
	var keys, casts [][]byte
	for i, tx := range txs {
		if b, ok := tx.(*wire.Ballot); ok && b.ElectionID == id {
			keys, casts = append(keys, raws[i]), append(casts, b.Cast)
		}
	}
	if len(casts) > 0 {
		p.Verify(ec.Ballot, keys, casts, 0)
	}
}

// processBlock applies the election's transactions of block b with the
// rules, each in its own layer of writes kept only if the rules accept it,
// compares every outcome with the chain's result, and commits the block's
// writes at b's height. Transactions of other elections are skipped: the
// rules keep every election's values apart.
func (s *Service) processBlock(ctx context.Context, b *chainBlock) error {
	s.mu.Lock()
	cur, bind, r, appState := s.s, s.bind, s.rules, s.appState
	computed := s.computed
	s.mu.Unlock()
	h := b.height
	if len(cur.p.BlockHash) > 0 && !bytes.Equal(b.parent, cur.p.BlockHash) {
		return &AlarmError{Height: h, Item: fmt.Sprintf("block %d", h),
			Detail: fmt.Sprintf("its parent is %X, but the service processed block %X at height %d: the node is on another chain", b.parent, cur.p.BlockHash, h-1)}
	}
	if len(b.results) != len(b.txs) {
		return fmt.Errorf("tally: block %d: %d transactions but %d results", h, len(b.txs), len(b.results))
	}
	st := newStoreState(ctx, s.st)
	if cur.height == 0 {
		raw, err := jsonout.Marshal(bind)
		if err != nil {
			return err
		}
		st.Put(bucketMeta, keyBinding, raw)
		// The chain commits its genesis writes with block 1, and so does
		// the service: its store holds the genesis it was made with.
		for _, w := range rules.GenesisWrites(r.ChainID(), appState) {
			st.Put(w.Bucket, w.Key, w.Value)
		}
	}
	p := progress{BlockHash: slices.Clone(b.hash), Rejected: cur.p.Rejected}
	txs := make([]wire.Tx, len(b.txs))
	for i, raw := range b.txs {
		tx, err := wire.Decode(raw)
		if err != nil {
			// Not the election's, as far as anyone can tell; but what does
			// not decode cannot be accepted.
			if b.results[i].Code == uint32(wire.OK) {
				return &AlarmError{Height: h, Item: fmt.Sprintf("transaction %d", i), Detail: "accepted by the chain but does not decode: " + err.Error()}
			}
			continue
		}
		if tx.Election() == s.id {
			txs[i] = tx
		}
	}
	precheck(s.pre, r, st, s.id, txs, b.txs)
	blk := r.Block(h, b.time)
	applied := 0
	for i, tx := range txs {
		if tx == nil {
			continue
		}
		applied++
		layer := rules.NewLayer(st)
		_, err := blk.Apply(layer, rules.Tx{Raw: b.txs[i], Tx: tx, Index: i})
		if err != nil && rules.AsRejection(err) == nil && !errors.Is(err, wire.ErrMalformed) {
			// A fault of the service's state, not of the transaction:
			// nothing of the block is stored, and it is processed again.
			return fmt.Errorf("tally: block %d, transaction %d: %w", h, i, err)
		}
		code, msg := rules.Outcome(err)
		if res := b.results[i]; uint32(code) != res.Code {
			return &AlarmError{Height: h, Item: txItem(i, tx),
				Detail: fmt.Sprintf("the chain's result is %s, the rules give %s", describeOutcome(wire.Code(res.Code), res.Log), describeOutcome(code, msg))}
		}
		if code != wire.OK {
			p.Rejected++
			continue
		}
		layer.Merge()
		if res, ok := tx.(*wire.Result); ok && computed != nil && !slices.Equal(computed, res.Counts) {
			return &AlarmError{Height: h, Item: "result", Detail: fmt.Sprintf("the chain accepted counts %v; the service decrypted %v", res.Counts, computed)}
		}
	}
	blk.End(st)
	rec, m, totals, err := readElection(st, s.id, cur.m)
	if err != nil {
		return err
	}
	if rec != nil && (!bytes.Equal(rec.ManifestHash, bind.ManifestHash) || rec.JointKey != nil && !bytes.Equal(rec.JointKey, bind.JointKey)) {
		return &AlarmError{Height: h, Item: "election " + s.id,
			Detail: fmt.Sprintf("by the rules, its manifest hash is %x and its key %s; the chain's record, to which the service is bound, says %x and %s", rec.ManifestHash, base64.StdEncoding.EncodeToString(rec.JointKey), bind.ManifestHash, base64.StdEncoding.EncodeToString(bind.JointKey))}
	}
	ch, err := st.changes(cur.appHash, h, p)
	if err != nil {
		return err
	}
	if err := s.st.Commit(ctx, ch); err != nil {
		// The outcome may be unknown (a lost connection after COMMIT):
		// read the store again before the next block.
		s.mu.Lock()
		s.reload = true
		s.mu.Unlock()
		return fmt.Errorf("tally: storing height %d: %w", h, err)
	}
	s.mu.Lock()
	s.s = &state{height: h, appHash: ch.AppHash, p: p, rec: rec, m: m, totals: totals}
	s.mu.Unlock()
	if applied > 0 {
		s.log.Debug("tally: block processed", "height", h, "transactions", applied, "state", hex.EncodeToString(ch.AppHash[:8]))
	}
	return nil
}

// txItem names transaction i of a block: its kind and, for a ballot or an
// audit, its tracking code.
func txItem(i int, tx wire.Tx) string {
	item := fmt.Sprintf("%s transaction %d", tx.Kind(), i)
	var hash [32]byte
	ok := false
	switch tx := tx.(type) {
	case *wire.Ballot:
		hash, _, ok = record.CastInfo(tx.Cast)
	case *wire.Audit:
		hash, ok = record.AuditHash(tx.File)
	}
	if ok {
		item += " (ballot " + ballot.TrackingCode(hash) + ")"
	}
	return item
}

// describeOutcome says a transaction's code and message.
func describeOutcome(code wire.Code, msg string) string {
	if code == wire.OK {
		return "code 0 (accepted)"
	}
	return fmt.Sprintf("code %d (%s: %s)", uint32(code), code, msg)
}
