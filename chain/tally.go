package chain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/trustee"
)

// The application keeps every election's encrypted running totals itself
// (one ciphertext per selection of every contest, in manifest order): a
// counted ballot is added, the ballot a re-vote replaces is subtracted, an
// audited ballot never counts. It checks the published totals against them,
// each trustee's decryption share against them, and the result against the
// combination of the shares.

// loadTotals returns the election's running totals as of the overlay.
func (x *execution) loadTotals(ec *electionCache) ([]crypto.Ciphertext, error) {
	id := ec.manifest.ElectionID
	if t, ok := x.totals[id]; ok {
		return t, nil
	}
	n := 0
	for _, c := range ec.manifest.TotalsLayout() {
		n += c
	}
	raw, err := x.o.get(x.ctx, bucketTotals, []byte(id))
	if errors.Is(err, store.ErrNotFound) {
		raw = make([]byte, n*crypto.CiphertextSize) // the zero ciphertexts
	} else if err != nil {
		return nil, err
	}
	t, err := crypto.DecodeCiphertexts(raw, n)
	if err != nil {
		return nil, fmt.Errorf("chain: stored totals of %q: %w", id, err)
	}
	if x.totals != nil {
		x.totals[id] = t
	}
	return t, nil
}

// addToTotals adds (or subtracts) a ballot's ciphertexts to the totals. In
// CheckTx, which keeps no totals, it does nothing.
func (x *execution) addToTotals(ec *electionCache, style string, cts []byte, decoded []crypto.Ciphertext, subtract bool) error {
	if x.totals == nil {
		return nil
	}
	t, err := x.loadTotals(ec)
	if err != nil {
		return err
	}
	pos, err := ec.manifest.TotalsPositions(style)
	if err != nil {
		return err
	}
	if x.changed == nil {
		x.changed = map[string]bool{}
	}
	x.changed[ec.manifest.ElectionID] = true
	bc := decoded
	if len(bc) != len(pos) {
		if bc, err = crypto.DecodeCiphertexts(cts, len(pos)); err != nil {
			return fmt.Errorf("chain: ballot ciphertexts: %w", err)
		}
	}
	for i, p := range pos {
		if subtract {
			t[p] = t[p].Sub(bc[i])
		} else {
			t[p] = t[p].Add(bc[i])
		}
	}
	return nil
}

// subtractStored takes the stored ballot with hash h out of the totals.
func (x *execution) subtractStored(ec *electionCache, h []byte) error {
	if x.totals == nil {
		return nil
	}
	raw, err := x.o.get(x.ctx, bucketBallotCT, key(ec.manifest.ElectionID, h))
	if err != nil {
		return fmt.Errorf("chain: ciphertexts of the replaced ballot: %w", err)
	}
	l := binary.BigEndian.Uint64(raw)
	return x.addToTotals(ec, string(raw[8:8+l]), raw[8+l:], nil, true)
}

// flushTotals stores the totals the block changed (not those it only read).
func (x *execution) flushTotals() {
	ids := make([]string, 0, len(x.changed))
	for id := range x.changed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		x.o.put(bucketTotals, []byte(id), crypto.EncodeCiphertexts(x.totals[id]))
	}
	clear(x.totals)
	clear(x.changed)
}

// currentTotalsBytes returns the encoded running totals, including this
// block's changes so far.
func (x *execution) currentTotalsBytes(ec *electionCache) ([]byte, error) {
	if x.totals != nil {
		if t, ok := x.totals[ec.manifest.ElectionID]; ok {
			return crypto.EncodeCiphertexts(t), nil
		}
	}
	t, err := x.loadTotals(ec)
	if err != nil {
		return nil, err
	}
	return crypto.EncodeCiphertexts(t), nil
}

func (x *execution) publishTotals(tx *Tx) ([]abci.Event, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	if rec.Phase != PhaseClosed || rec.TotalsHeight != 0 {
		if rec.TotalsHeight != 0 {
			return nil, txErr(CodeDuplicate, "totals: the totals of %q are already published", tx.ElectionID)
		}
		return nil, txErr(CodeWrongPhase, "totals: election %q is %s; totals are published after it closes", tx.ElectionID, rec.Phase)
	}
	want, err := x.currentTotalsBytes(ec)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(want, tx.Fields[0]) {
		return nil, txErr(CodeWrongTotals, "totals: the published totals of %q differ from the chain's (%d bytes, want %d)", tx.ElectionID, len(tx.Fields[0]), len(want))
	}
	rec.TotalsHeight = max(x.height, 1)
	x.o.putRecord(tx.ElectionID, rec)
	return []abci.Event{event("totals", "election", tx.ElectionID)}, nil
}

// verificationKeys decodes the trustees' verification keys.
func verificationKeys(rec *ElectionRecord) ([]crypto.Point, error) {
	var out []crypto.Point
	for i, raw := range rec.VerificationKeys {
		p, err := crypto.DecodeNonIdentityPoint(raw)
		if err != nil {
			return nil, fmt.Errorf("chain: stored verification key %d: %w", i+1, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func (x *execution) decryptionShare(tx *Tx) ([]abci.Event, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	if rec.TotalsHeight == 0 || rec.Phase == PhaseTallied {
		return nil, txErr(CodeWrongPhase, "decryption-share: election %q has no published totals to decrypt, or is already tallied", tx.ElectionID)
	}
	if len(tx.Fields[0]) != 8 {
		return nil, txErr(CodeMalformed, "decryption-share: trustee index is not 8 bytes")
	}
	l := binary.BigEndian.Uint64(tx.Fields[0])
	if l < 1 || l > uint64(len(rec.VerificationKeys)) {
		return nil, txErr(CodeMalformed, "decryption-share: no trustee %d", l)
	}
	name := ec.ceremony.Name(int(l))
	share, err := crypto.DecodeDecryptionShare(tx.Fields[1])
	if err != nil {
		return nil, txErr(CodeMalformed, "decryption-share: %s: the share does not decode: %v", name, err)
	}
	if share.Trustee != int(l) {
		return nil, txErr(CodeMalformed, "decryption-share: the transaction is %s's, but the share it carries is %s's", name, ec.ceremony.Name(share.Trustee))
	}
	sig, err := crypto.DecodeSchnorrProof(tx.Fields[2])
	if err != nil {
		return nil, txErr(CodeMalformed, "decryption-share: %s: signature: %v", name, err)
	}
	identity, err := ec.ceremony.IdentityKey(int(l))
	if err != nil {
		return nil, err
	}
	base := crypto.Context(rec.BaseHash)
	if err := trustee.VerifyShareSignature(identity, base, int(l), tx.Fields[1], sig); err != nil {
		return nil, txErr(CodeBadSignature, "decryption-share: %s: %v", name, err)
	}
	if slices.Contains(rec.Shares, int(l)) {
		return nil, txErr(CodeDuplicate, "decryption-share: %s already published a share", name)
	}
	totals, err := x.loadTotals(ec)
	if err != nil {
		return nil, err
	}
	vks, err := verificationKeys(rec)
	if err != nil {
		return nil, err
	}
	if err := crypto.VerifyShare(base, vks, totals, share); err != nil {
		return nil, txErr(CodeInvalidProof, "decryption-share: %s: %v", name, err)
	}
	x.o.put(bucketShare, key(tx.ElectionID, u64(l)), tx.Fields[1])
	rec.Shares = append(rec.Shares, int(l))
	slices.Sort(rec.Shares)
	x.o.putRecord(tx.ElectionID, rec)
	return []abci.Event{event("share", "election", tx.ElectionID, "trustee", strconv.FormatUint(l, 10))}, nil
}

func (x *execution) result(tx *Tx) ([]abci.Event, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	k := ec.manifest.Trustees.Threshold
	switch {
	case rec.Phase == PhaseTallied:
		return nil, txErr(CodeDuplicate, "result: election %q is already tallied", tx.ElectionID)
	case rec.TotalsHeight == 0:
		return nil, txErr(CodeWrongPhase, "result: election %q has no published totals", tx.ElectionID)
	case len(rec.Shares) < k:
		return nil, txErr(CodeWrongPhase, "result: waiting for decryption shares: %d of the %d needed", len(rec.Shares), k)
	}
	totals, err := x.loadTotals(ec)
	if err != nil {
		return nil, err
	}
	if len(tx.Fields[0]) != 8*len(totals) {
		return nil, txErr(CodeMalformed, "result: %d bytes of counts, want %d (8 per selection)", len(tx.Fields[0]), 8*len(totals))
	}
	var shares []crypto.DecryptionShare
	for _, l := range rec.Shares {
		raw, err := x.o.get(x.ctx, bucketShare, key(tx.ElectionID, u64(uint64(l))))
		if err != nil {
			return nil, err
		}
		s, err := crypto.DecodeDecryptionShare(raw)
		if err != nil {
			return nil, err
		}
		shares = append(shares, s)
	}
	vks, err := verificationKeys(rec)
	if err != nil {
		return nil, err
	}
	points, err := crypto.Combine(crypto.Context(rec.BaseHash), k, vks, totals, shares)
	if err != nil {
		return nil, fmt.Errorf("chain: combining stored shares: %w", err)
	}
	var res []ContestResult
	i := 0
	for _, c := range ec.manifest.Contests {
		cr := ContestResult{Contest: c.ID}
		for _, s := range c.Selections {
			n := binary.BigEndian.Uint64(tx.Fields[0][8*i:])
			if !crypto.BaseMul(crypto.ScalarFromUint64(n)).IsEqual(points[i]) {
				return nil, txErr(CodeWrongResult, "result: contest %q, selection %q: %d is not the decrypted total", c.ID, s.ID, n)
			}
			cr.Counts = append(cr.Counts, n)
			i++
		}
		res = append(res, cr)
	}
	rec.Result, rec.ResultHeight, rec.Phase = res, max(x.height, 1), PhaseTallied
	x.o.putRecord(tx.ElectionID, rec)
	return []abci.Event{event("result", "election", tx.ElectionID)}, nil
}
