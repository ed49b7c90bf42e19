package tally

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"slices"

	abci "github.com/cometbft/cometbft/abci/types"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/jsonout"
	"github.com/evote/evote/wire"
)

// op is one accepted transaction of the election in a block, decoded.
type op struct {
	tx       wire.Tx
	cast     *ballot.Cast
	entry    *ballot.BatchEntry
	code     string // the ballot's tracking code
	replaces string // the tracking code of the ballot it replaces, by the node's event
}

// processBlock folds the election's accepted transactions of block h into
// the state and commits it at height h. Every ballot is decoded and its
// signature and proofs verified again (one batch for the block) before
// anything is counted; a ballot the chain accepted that does not verify is
// an alarm.
func (s *Service) processBlock(ctx context.Context, h int64, hash, prevHash []byte, txs [][]byte, results *ctypes.ResultBlockResults) error {
	s.mu.Lock()
	cur, m, e, b := s.s, s.m, s.e, s.bind
	s.mu.Unlock()
	if len(cur.c.BlockHash) > 0 && !bytes.Equal(prevHash, cur.c.BlockHash) {
		return &AlarmError{Height: h, Item: "block " + fmt.Sprint(h),
			Detail: fmt.Sprintf("its parent is %X, but the service processed block %X at height %d: the node is on another chain", prevHash, cur.c.BlockHash, h-1)}
	}
	f := newFold(cur, m, s.st)
	f.c.BlockHash = slices.Clone(hash)
	if cur.height == 0 {
		raw, err := jsonout.Marshal(b)
		if err != nil {
			return err
		}
		f.writes = append(f.writes,
			store.Write{Bucket: bucketMeta, Key: keyBinding, Value: raw},
			store.Write{Bucket: bucketMeta, Key: []byte("manifest"), Value: m.CanonicalJSON()})
	}
	var ops []op
	var batch *crypto.Batch
	for i, raw := range txs {
		res := results.TxResults[i]
		tx, err := wire.Decode(raw)
		if err != nil {
			if res.Code == 0 {
				return &AlarmError{Height: h, Item: fmt.Sprintf("transaction %d", i), Detail: "accepted by the chain but does not decode: " + err.Error()}
			}
			continue
		}
		if tx.Election() != s.id {
			continue
		}
		if res.Code != 0 {
			f.c.Rejected++
			continue
		}
		o := op{tx: tx}
		switch tx := tx.(type) {
		case *wire.Ballot:
			if o.cast, err = e.DecodeCast(tx.Cast); err != nil {
				return &AlarmError{Height: h, Item: fmt.Sprintf("ballot transaction %d", i), Detail: "accepted by the chain but does not decode: " + err.Error()}
			}
			o.code = o.cast.Ballot.TrackingCode()
			if err := e.VerifyCast(o.cast, func(ed25519.PublicKey) bool { return true }); err != nil {
				return &AlarmError{Height: h, Item: "ballot " + o.code, Detail: "accepted by the chain but its signature does not verify: " + err.Error()}
			}
			if batch == nil {
				if batch, err = crypto.NewBatch(nil); err != nil {
					return fmt.Errorf("tally: %w", err)
				}
			}
			if o.entry, err = e.AddToBatch(batch, o.cast.Ballot); err != nil {
				return &AlarmError{Height: h, Item: "ballot " + o.code, Detail: "accepted by the chain but malformed: " + err.Error()}
			}
			ev, ok := findEvent(res.Events, "ballot")
			if !ok || ev["tracking_code"] != o.code {
				return &AlarmError{Height: h, Item: "ballot " + o.code, Detail: fmt.Sprintf("the chain's ballot event names tracking code %q", ev["tracking_code"])}
			}
			o.replaces = ev["replaces"]
		case *wire.Audit:
			a, err := e.DecodeAudit(tx.File)
			if err == nil {
				_, err = e.VerifyAudit(a)
			}
			if err != nil {
				return &AlarmError{Height: h, Item: fmt.Sprintf("audit transaction %d", i), Detail: "accepted by the chain but does not verify: " + err.Error()}
			}
		}
		ops = append(ops, o)
	}
	if batch != nil {
		failed := batch.Verify()
		for _, o := range ops {
			if o.entry == nil {
				continue
			}
			if err := o.entry.Failed(failed); err != nil {
				return &AlarmError{Height: h, Item: "ballot " + o.code, Detail: "accepted by the chain but a proof does not verify: " + err.Error()}
			}
		}
	}
	// Apply in block order: a totals transaction is compared with the totals
	// as they stand at its position.
	for _, o := range ops {
		switch tx := o.tx.(type) {
		case *wire.Ballot:
			cts := make([]crypto.Ciphertext, 0, len(o.cast.Ballot.Contests))
			for _, c := range o.cast.Ballot.Contests {
				for _, sel := range c.Selections {
					cts = append(cts, sel.Ciphertext)
				}
			}
			field := tx.Cast // LP(ballot encoding) ‖ LP(signature), decoded above
			ctBytes, err := e.CiphertextBytes(wire.NewReader(field).Bytes())
			if err != nil {
				return fmt.Errorf("tally: ballot %s: %w", o.code, err)
			}
			replaced, err := f.addBallot(ctx, o.code, o.cast.Ballot.Credential, o.cast.Ballot.StyleID, cts, ctBytes)
			if err != nil {
				if a, ok := err.(*AlarmError); ok {
					a.Height = h
				}
				return err
			}
			// The service applies the re-vote rule itself; the node's event
			// (not part of consensus) must agree with it.
			if replaced != o.replaces {
				return &AlarmError{Height: h, Item: "ballot " + o.code, Detail: fmt.Sprintf("the node's event says it replaces %q, but by the re-vote rule (the same credential) it replaces %q", o.replaces, replaced)}
			}
		case *wire.Audit:
			f.c.Audited++
		case *wire.Close:
			f.c.ClosedHeight = h
		case *wire.Totals:
			if !bytes.Equal(tx.Ciphertexts, crypto.EncodeCiphertexts(f.totals)) {
				return &AlarmError{Height: h, Item: "totals", Detail: "the encrypted totals the chain accepted differ from the tally service's own"}
			}
			f.c.TotalsHeight = h
		case *wire.Share:
			f.c.Shares = append(f.c.Shares, int(tx.Trustee))
			slices.Sort(f.c.Shares)
		case *wire.Result:
			counts := tx.Counts
			if len(counts) != len(f.totals) {
				return &AlarmError{Height: h, Item: "result", Detail: fmt.Sprintf("the chain accepted %d counts for %d totals", len(counts), len(f.totals))}
			}
			s.mu.Lock()
			computed := s.computed
			s.mu.Unlock()
			if computed != nil && !slices.Equal(computed, counts) {
				return &AlarmError{Height: h, Item: "result", Detail: fmt.Sprintf("the chain accepted counts %v; the service decrypted %v", counts, computed)}
			}
			f.c.ResultHeight, f.c.Counts = h, counts
		}
	}
	ch, err := f.changes(cur.appHash, h)
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
	s.s = &state{height: h, appHash: ch.AppHash, c: f.c, totals: f.totals}
	s.mu.Unlock()
	if len(ops) > 0 {
		s.log.Debug("tally: block processed", "height", h, "transactions", len(ops), "state", hex.EncodeToString(ch.AppHash[:8]))
	}
	return nil
}

// findEvent returns the attributes of the first event of the given type.
func findEvent(events []abci.Event, typ string) (map[string]string, bool) {
	for _, ev := range events {
		if ev.Type != typ {
			continue
		}
		out := map[string]string{}
		for _, a := range ev.Attributes {
			out[a.Key] = a.Value
		}
		return out, true
	}
	return map[string]string{}, false
}
