package rules

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// The rules keep every election's encrypted running totals (one ciphertext
// per selection of every contest, in manifest order, and after the
// selections of a contest with count_blank one for its blank ballots,
// ballot.Manifest.TotalsLayout): a counted ballot is
// added, the ballot a re-vote replaces is subtracted, an audited ballot
// never counts. The published totals are checked against them, each
// trustee's decryption share against them, and the result against the
// combination of the shares.

// EncodeStoredBallot is the value of BucketBallotCT: LP(style) ‖ the
// ballot's selection ciphertexts (64 bytes each, in manifest order).
func EncodeStoredBallot(style string, cts []byte) []byte {
	return append(wire.LP(nil, []byte(style)), cts...)
}

// DecodeStoredBallot splits a BucketBallotCT value.
func DecodeStoredBallot(raw []byte) (style string, cts []byte, err error) {
	r := wire.NewReader(raw)
	s := r.Bytes()
	if err := r.Err(); err != nil {
		return "", nil, fmt.Errorf("rules: stored ballot: %w", err)
	}
	rest := r.Fixed(r.Remaining())
	if len(rest)%crypto.CiphertextSize != 0 {
		return "", nil, fmt.Errorf("rules: stored ballot: %d bytes of ciphertexts", len(rest))
	}
	return string(s), rest, nil
}

// selections is the number of selections of every contest.
func selections(m *ballot.Manifest) int {
	n := 0
	for _, c := range m.TotalsLayout() {
		n += c
	}
	return n
}

// Totals reads an election's running totals from st (zero ciphertexts
// before the first ballot).
func Totals(st State, m *ballot.Manifest) ([]crypto.Ciphertext, error) {
	n := selections(m)
	raw, ok, err := st.Get(BucketTotals, []byte(m.ElectionID))
	if err != nil {
		return nil, err
	}
	if !ok {
		raw = make([]byte, n*crypto.CiphertextSize) // the zero ciphertexts
	}
	t, err := crypto.DecodeCiphertexts(raw, n)
	if err != nil {
		return nil, fmt.Errorf("rules: stored totals of %q: %w", m.ElectionID, err)
	}
	return t, nil
}

// loadTotals returns the election's running totals including the block's
// changes so far.
func (x *exec) loadTotals(ec *Election) ([]crypto.Ciphertext, error) {
	id := ec.Manifest.ElectionID
	if t, ok := x.b.totals[id]; ok {
		return t, nil
	}
	t, err := Totals(x.st, ec.Manifest)
	if err != nil {
		return nil, err
	}
	if x.b.totals != nil {
		x.b.totals[id] = t
	}
	return t, nil
}

// delta is a ballot's contribution to the totals: its ciphertexts and
// their positions.
type delta struct {
	pos []int
	cts []crypto.Ciphertext
}

// ballotDelta decodes a ballot's contribution (decoded, if it has the right
// length, are its ciphertexts already decoded): weight times its
// ciphertexts, for a ballot whose credential has that weight.
func ballotDelta(ec *Election, style string, cts []byte, decoded []crypto.Ciphertext, weight uint64) (delta, error) {
	pos, err := ec.Manifest.TotalsPositions(style)
	if err != nil {
		return delta{}, err
	}
	bc := decoded
	if len(bc) != len(pos) {
		if bc, err = crypto.DecodeCiphertexts(cts, len(pos)); err != nil {
			return delta{}, fmt.Errorf("rules: ballot ciphertexts: %w", err)
		}
	}
	if weight != 1 {
		bc = crypto.ScaleCiphertexts(bc, weight)
	}
	return delta{pos, bc}, nil
}

// addToTotals adds (or subtracts) a ballot's contribution to the totals. In
// Check, which keeps no totals, it does nothing.
func (x *exec) addToTotals(ec *Election, d delta, subtract bool) error {
	if x.b.check {
		return nil
	}
	t, err := x.loadTotals(ec)
	if err != nil {
		return err
	}
	x.b.changed[ec.Manifest.ElectionID] = true
	for i, p := range d.pos {
		if subtract {
			t[p] = t[p].Sub(d.cts[i])
		} else {
			t[p] = t[p].Add(d.cts[i])
		}
	}
	return nil
}

// storedBallot reads the style and ciphertexts of the stored ballot with
// hash h.
func (x *exec) storedBallot(id string, h []byte) (string, []byte, error) {
	raw, ok, err := x.get(BucketBallotCT, Key(id, h))
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, fmt.Errorf("rules: the ciphertexts of the replaced ballot %x are missing", h)
	}
	return DecodeStoredBallot(raw)
}

// publishTotals: docs/spec-chain.md §5, totals.
func (x *exec) publishTotals(tx *wire.Totals) ([]Event, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	if rec.TotalsHeight != 0 {
		return nil, reject(wire.CodeDuplicate, "totals: the totals of %q are already published", tx.ElectionID)
	}
	if rec.Phase != wire.PhaseClosed {
		return nil, reject(wire.CodeWrongPhase, "totals: election %q is %s; totals are published after it closes", tx.ElectionID, rec.Phase)
	}
	t, err := x.loadTotals(ec)
	if err != nil {
		return nil, err
	}
	if want := crypto.EncodeCiphertexts(t); !bytes.Equal(want, tx.Ciphertexts) {
		r := reject(wire.CodeWrongTotals, "totals: the published totals of %q differ from the chain's (%d bytes, want %d)", tx.ElectionID, len(tx.Ciphertexts), len(want))
		for i := range t {
			if len(tx.Ciphertexts) < (i+1)*crypto.CiphertextSize || !bytes.Equal(tx.Ciphertexts[i*64:(i+1)*64], want[i*64:(i+1)*64]) {
				r.Contest, r.Selection = Position(ec.Manifest, i)
				break
			}
		}
		return nil, r
	}
	rec.TotalsHeight = max(x.b.height, 1)
	x.putRecord(tx.ElectionID, rec)
	return []Event{event("totals", "election", tx.ElectionID)}, nil
}

// Position names the contest and selection of totals position i; the
// selection of a contest's blank position (count_blank) is
// ballot.BlankSelection.
func Position(m *ballot.Manifest, i int) (string, string) {
	for _, c := range m.Contests {
		if i < len(c.Selections) {
			return c.ID, c.Selections[i].ID
		}
		i -= len(c.Selections)
		if c.CountBlank {
			if i == 0 {
				return c.ID, ballot.BlankSelection
			}
			i--
		}
	}
	return "", ""
}

// VerificationKeys decodes the trustees' verification keys of a record.
func VerificationKeys(rec *ElectionRecord) ([]crypto.Point, error) {
	var out []crypto.Point
	for i, raw := range rec.VerificationKeys {
		p, err := crypto.DecodeNonIdentityPoint(raw)
		if err != nil {
			return nil, fmt.Errorf("rules: stored verification key %d: %w", i+1, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// decryptionShare: docs/spec-chain.md §5, decryption-share.
func (x *exec) decryptionShare(tx *wire.Share) ([]Event, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	if rec.TotalsHeight == 0 || rec.Phase == wire.PhaseTallied {
		return nil, reject(wire.CodeWrongPhase, "decryption-share: election %q has no published totals to decrypt, or is already tallied", tx.ElectionID)
	}
	l := tx.Trustee
	if l < 1 || l > uint64(len(rec.VerificationKeys)) {
		return nil, reject(wire.CodeMalformed, "decryption-share: no trustee %d", l)
	}
	name := ec.Ceremony.Name(int(l))
	withTrustee := func(r *Rejection) *Rejection { r.Trustee = int(l); return r }
	share, err := crypto.DecodeDecryptionShare(tx.Share)
	if err != nil {
		return nil, withTrustee(reject(wire.CodeMalformed, "decryption-share: %s: the share does not decode: %v", name, err))
	}
	if share.Trustee != int(l) {
		return nil, withTrustee(reject(wire.CodeMalformed, "decryption-share: the transaction is %s's, but the share it carries is %s's", name, ec.Ceremony.Name(share.Trustee)))
	}
	sig, err := crypto.DecodeSchnorrProof(tx.Signature)
	if err != nil {
		return nil, withTrustee(reject(wire.CodeMalformed, "decryption-share: %s: signature: %v", name, err))
	}
	identity, err := ec.Ceremony.IdentityKey(int(l))
	if err != nil {
		return nil, err
	}
	base := crypto.Context(rec.BaseHash)
	if err := trustee.VerifyShareSignature(identity, base, int(l), tx.Share, sig); err != nil {
		return nil, withTrustee(reject(wire.CodeBadSignature, "decryption-share: %s: %v", name, err))
	}
	if slices.Contains(rec.Shares, int(l)) {
		return nil, withTrustee(reject(wire.CodeDuplicate, "decryption-share: %s already published a share", name))
	}
	totals, err := x.loadTotals(ec)
	if err != nil {
		return nil, err
	}
	vks, err := VerificationKeys(rec)
	if err != nil {
		return nil, err
	}
	if err := crypto.VerifyShare(base, vks, totals, share); err != nil {
		r := withTrustee(reject(wire.CodeInvalidProof, "decryption-share: %s: %v", name, err))
		var te *crypto.TrusteeError
		if errors.As(err, &te) {
			var ci int
			if _, perr := fmt.Sscanf(te.Detail, "decryption share for ciphertext %d", &ci); perr == nil {
				r.Contest, r.Selection = Position(ec.Manifest, ci)
			}
		}
		return nil, r
	}
	x.st.Put(BucketShare, Key(tx.ElectionID, u64(l)), tx.Share)
	rec.Shares = append(rec.Shares, int(l))
	slices.Sort(rec.Shares)
	x.putRecord(tx.ElectionID, rec)
	return []Event{event("share", "election", tx.ElectionID, "trustee", strconv.FormatUint(l, 10))}, nil
}

// Shares reads the decryption shares of a record's trustees from st, in
// trustee order.
func Shares(st State, rec *ElectionRecord, id string) ([]crypto.DecryptionShare, error) {
	var out []crypto.DecryptionShare
	for _, l := range rec.Shares {
		raw, ok, err := st.Get(BucketShare, Key(id, u64(uint64(l))))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("rules: the share of trustee %d is missing", l)
		}
		s, err := crypto.DecodeDecryptionShare(raw)
		if err != nil {
			return nil, fmt.Errorf("rules: stored share of trustee %d: %w", l, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// result: docs/spec-chain.md §5, result.
func (x *exec) result(tx *wire.Result) ([]Event, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	k := ec.Manifest.Trustees.Threshold
	switch {
	case rec.Phase == wire.PhaseTallied:
		return nil, reject(wire.CodeDuplicate, "result: election %q is already tallied", tx.ElectionID)
	case rec.TotalsHeight == 0:
		return nil, reject(wire.CodeWrongPhase, "result: election %q has no published totals", tx.ElectionID)
	case len(rec.Shares) < k:
		return nil, reject(wire.CodeWrongPhase, "result: waiting for decryption shares: %d of the %d needed", len(rec.Shares), k)
	}
	totals, err := x.loadTotals(ec)
	if err != nil {
		return nil, err
	}
	if len(tx.Counts) != len(totals) {
		return nil, reject(wire.CodeMalformed, "result: %d counts, want %d (one per selection, and one for the blank ballots of each contest that counts them)", len(tx.Counts), len(totals))
	}
	shares, err := Shares(x.st, rec, tx.ElectionID)
	if err != nil {
		return nil, err
	}
	vks, err := VerificationKeys(rec)
	if err != nil {
		return nil, err
	}
	points, err := crypto.Combine(crypto.Context(rec.BaseHash), k, vks, totals, shares)
	if err != nil {
		return nil, fmt.Errorf("rules: combining stored shares: %w", err)
	}
	var res []ContestResult
	i := 0
	// check checks the count of totals position i, named sel.
	check := func(c *ballot.Contest, sel, what string) (uint64, error) {
		n := tx.Counts[i]
		if n > rec.WeightCounted {
			r := reject(wire.CodeWrongResult, "result: contest %q, %s: %d is more than the total weight %d of the counted ballots", c.ID, what, n, rec.WeightCounted)
			r.Contest, r.Selection = c.ID, sel
			return 0, r
		}
		if !crypto.BaseMul(crypto.ScalarFromUint64(n)).IsEqual(points[i]) {
			r := reject(wire.CodeWrongResult, "result: contest %q, %s: %d is not the decrypted total", c.ID, what, n)
			r.Contest, r.Selection = c.ID, sel
			return 0, r
		}
		i++
		return n, nil
	}
	for ci := range ec.Manifest.Contests {
		c := &ec.Manifest.Contests[ci]
		cr := ContestResult{Contest: c.ID}
		for _, s := range c.Selections {
			n, err := check(c, s.ID, fmt.Sprintf("selection %q", s.ID))
			if err != nil {
				return nil, err
			}
			cr.Counts = append(cr.Counts, n)
		}
		if c.CountBlank {
			n, err := check(c, ballot.BlankSelection, "blank ballots")
			if err != nil {
				return nil, err
			}
			cr.Blank = &n
		}
		res = append(res, cr)
	}
	rec.Result, rec.ResultHeight, rec.Phase = res, max(x.b.height, 1), wire.PhaseTallied
	x.putRecord(tx.ElectionID, rec)
	return []Event{event("result", "election", tx.ElectionID)}, nil
}
