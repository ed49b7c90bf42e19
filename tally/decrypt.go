package tally

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// act does what the election's phase, by the service's own state, calls
// for once the service has processed the chain up to latest. It reports
// whether it published a transaction (which the caller then processes).
func (s *Service) act(ctx context.Context, latest int64) (bool, error) {
	s.mu.Lock()
	cur := s.s
	s.mu.Unlock()
	if cur.height < latest || cur.rec == nil {
		return false, nil
	}
	rec, k := cur.rec, cur.m.Trustees.Threshold
	switch {
	case rec.Phase == wire.PhaseClosed && rec.TotalsHeight == 0:
		// The chain accepts the totals only if they are byte for byte its
		// own: this is where the chain's count and the service's meet.
		_, err := chain.Submit(ctx, s.c, wire.Encode(&wire.Totals{ElectionID: s.id, Ciphertexts: crypto.EncodeCiphertexts(cur.totals)}), true)
		switch {
		case chain.IsCode(err, wire.CodeWrongTotals):
			return false, &AlarmError{Item: "totals", Detail: "the chain rejected the service's encrypted totals as different from its own (code 16): " + err.Error()}
		case chain.IsCode(err, wire.CodeDuplicate):
			return true, nil // published by another tally service meanwhile; checked when processed
		case err != nil:
			return false, fmt.Errorf("tally: publishing the totals: %w", err)
		}
		s.log.Info("tally: encrypted totals published", "counted", cur.counted())
		return true, nil

	case rec.TotalsHeight > 0 && rec.Phase != wire.PhaseTallied:
		if len(rec.Shares) < k {
			return false, nil
		}
		counts, err := s.decrypt(ctx, cur)
		if err != nil {
			return false, err
		}
		_, err = chain.Submit(ctx, s.c, wire.Encode(&wire.Result{ElectionID: s.id, Counts: counts}), true)
		switch {
		case chain.IsCode(err, wire.CodeWrongResult):
			return false, &AlarmError{Item: "result", Detail: "the chain rejected the service's decryption of its totals (code 17): " + err.Error()}
		case chain.IsCode(err, wire.CodeDuplicate):
			return true, nil
		case err != nil:
			return false, fmt.Errorf("tally: publishing the result: %w", err)
		}
		s.log.Info("tally: result published", "counts", counts)
		return true, nil

	case rec.Phase == wire.PhaseTallied:
		s.mu.Lock()
		checked := s.checked
		s.mu.Unlock()
		if checked {
			return false, nil
		}
		// Whoever published the result, the service decrypts the totals
		// itself and compares.
		counts, err := s.decrypt(ctx, cur)
		if err != nil {
			return false, err
		}
		if onChain := resultCounts(rec); !slices.Equal(counts, onChain) {
			return false, &AlarmError{Height: rec.ResultHeight, Item: "result", Detail: fmt.Sprintf("the chain's result is %v; the service decrypted %v", onChain, counts)}
		}
		s.mu.Lock()
		s.checked = true
		s.mu.Unlock()
	}
	return false, nil
}

// resultCounts returns a record's result in totals order.
func resultCounts(rec *rules.ElectionRecord) []uint64 {
	var out []uint64
	for _, c := range rec.Result {
		out = append(out, c.Values()...)
	}
	return out
}

// decrypt takes the decryption shares from the service's state, checks each
// against its totals, combines k valid ones and solves the counts, each
// bounded by the number of counted ballots.
func (s *Service) decrypt(ctx context.Context, cur *state) ([]uint64, error) {
	s.mu.Lock()
	if s.computed != nil {
		defer s.mu.Unlock()
		return s.computed, nil
	}
	s.mu.Unlock()
	rec := cur.rec
	k, base := cur.m.Trustees.Threshold, crypto.Context(rec.BaseHash)
	// The store holds the state at cur's height: Step runs one at a time.
	shares, err := rules.Shares(newStoreState(ctx, s.st), rec, s.id)
	if err != nil {
		return nil, fmt.Errorf("tally: decryption shares: %w", err)
	}
	vks, err := rules.VerificationKeys(rec)
	if err != nil {
		return nil, fmt.Errorf("tally: %w", err)
	}
	// The rules verified every share against these totals when they
	// accepted it; a share that does not verify now is reported loudly,
	// and left out.
	var good []crypto.DecryptionShare
	var bad []int
	for _, sh := range shares {
		if err := crypto.VerifyShare(base, vks, cur.totals, sh); err != nil {
			var te *crypto.TrusteeError
			if errors.As(err, &te) {
				bad = append(bad, te.Trustee)
			}
			s.log.Error("tally: a decryption share in the service's state does not verify against its totals; left out", "trustee", trusteeName(cur.m, sh.Trustee), "err", err)
			continue
		}
		good = append(good, sh)
	}
	s.mu.Lock()
	s.badShares = bad
	s.mu.Unlock()
	if len(good) < k {
		return nil, fmt.Errorf("tally: %d valid decryption shares of %d, need %d", len(good), len(shares), k)
	}
	points, err := crypto.Combine(base, k, vks, cur.totals, good)
	if err != nil {
		return nil, fmt.Errorf("tally: combining the decryption shares: %w", err)
	}
	bound := cur.weightCounted()
	table, err := s.dlogTable(max(bound, 1))
	if err != nil {
		return nil, err
	}
	counts, err := table.SolveMany(points, 0)
	if err != nil {
		return nil, &AlarmError{Item: "totals", Detail: fmt.Sprintf("a decrypted total is not a count between 0 and %d, the total weight of the %d counted ballots: %v", bound, cur.counted(), err)}
	}
	s.mu.Lock()
	s.computed = counts
	s.mu.Unlock()
	return counts, nil
}

func (s *Service) dlogTable(bound uint64) (*crypto.DlogTable, error) {
	s.mu.Lock()
	t := s.table
	s.mu.Unlock()
	if t != nil && t.Max() == bound {
		return t, nil
	}
	t, err := crypto.NewDlogTable(bound)
	if err != nil {
		return nil, fmt.Errorf("tally: %w", err)
	}
	s.mu.Lock()
	s.table = t
	s.mu.Unlock()
	return t, nil
}

// trusteeName names trustee l as the manifest does.
func trusteeName(m *ballot.Manifest, l int) string {
	for _, t := range m.Trustees.Members {
		if t.Index == l {
			return fmt.Sprintf("trustee %d (%s)", l, t.Name)
		}
	}
	return fmt.Sprintf("trustee %d", l)
}
