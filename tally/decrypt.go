package tally

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// act does what the election's phase calls for once the service has
// processed the chain up to latest. It reports whether it published a
// transaction (which the caller then processes).
func (s *Service) act(ctx context.Context, rec *rules.ElectionRecord, latest int64) (bool, error) {
	s.mu.Lock()
	cur := s.s
	k := s.m.Trustees.Threshold
	s.mu.Unlock()
	if cur.height < latest {
		return false, nil
	}
	switch {
	case rec.Phase == wire.PhaseClosed && rec.TotalsHeight == 0:
		if cur.height < rec.ClosedHeight {
			return false, nil
		}
		// The chain accepts the totals only if they are byte for byte its
		// own: this is where two independent counts meet.
		_, err := chain.Submit(ctx, s.c, wire.Encode(&wire.Totals{ElectionID: s.id, Ciphertexts: crypto.EncodeCiphertexts(cur.totals)}), true)
		switch {
		case chain.IsCode(err, wire.CodeWrongTotals):
			return false, &AlarmError{Item: "totals", Detail: "the chain rejected the service's encrypted totals as different from its own (code 16): " + err.Error()}
		case chain.IsCode(err, wire.CodeDuplicate):
			return true, nil // published by another tally service meanwhile; compared when processed
		case err != nil:
			return false, fmt.Errorf("tally: publishing the totals: %w", err)
		}
		s.log.Info("tally: encrypted totals published", "counted", cur.c.Cast-cur.c.Replaced)
		return true, nil

	case rec.TotalsHeight > 0 && rec.Phase != wire.PhaseTallied:
		if cur.c.TotalsHeight == 0 || len(rec.Shares) < k {
			return false, nil
		}
		counts, err := s.decrypt(ctx, rec, cur)
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
		if cur.c.ResultHeight == 0 {
			return false, nil
		}
		s.mu.Lock()
		checked := s.checked
		s.mu.Unlock()
		if checked {
			return false, nil
		}
		// Whoever published the result, the service decrypts the totals
		// itself and compares.
		counts, err := s.decrypt(ctx, rec, cur)
		if err != nil {
			return false, err
		}
		if !slices.Equal(counts, cur.c.Counts) {
			return false, &AlarmError{Height: cur.c.ResultHeight, Item: "result", Detail: fmt.Sprintf("the chain's result is %v; the service decrypted %v", cur.c.Counts, counts)}
		}
		s.mu.Lock()
		s.checked = true
		s.mu.Unlock()
	}
	return false, nil
}

// decrypt fetches the decryption shares from the chain, checks each against
// the service's totals, combines k valid ones and solves the counts, each
// bounded by the number of counted ballots.
func (s *Service) decrypt(ctx context.Context, rec *rules.ElectionRecord, cur *state) ([]uint64, error) {
	s.mu.Lock()
	if s.computed != nil {
		defer s.mu.Unlock()
		return s.computed, nil
	}
	k, base := s.m.Trustees.Threshold, s.e.BaseHash
	s.mu.Unlock()
	var q struct {
		Shares [][]byte `json:"shares"`
	}
	if err := chain.QueryJSON(ctx, s.c, "shares/"+s.id, &q); err != nil {
		return nil, fmt.Errorf("tally: decryption shares: %w", err)
	}
	var shares []crypto.DecryptionShare
	for i, raw := range q.Shares {
		sh, err := crypto.DecodeDecryptionShare(raw)
		if err != nil {
			return nil, &AlarmError{Item: fmt.Sprintf("decryption share %d", i+1), Detail: "on the chain but does not decode: " + err.Error()}
		}
		shares = append(shares, sh)
	}
	var vks []crypto.Point
	for i, raw := range rec.VerificationKeys {
		p, err := crypto.DecodeNonIdentityPoint(raw)
		if err != nil {
			return nil, fmt.Errorf("tally: verification key of trustee %d: %w", i+1, err)
		}
		vks = append(vks, p)
	}
	// Check every share: the chain should have refused a bad one, so a bad
	// share is reported loudly, and left out.
	var good []crypto.DecryptionShare
	var bad []int
	for _, sh := range shares {
		if err := crypto.VerifyShare(base, vks, cur.totals, sh); err != nil {
			var te *crypto.TrusteeError
			if errors.As(err, &te) {
				bad = append(bad, te.Trustee)
			}
			s.log.Error("tally: a decryption share on the chain does not verify against the service's totals; left out", "trustee", s.trusteeName(sh.Trustee), "err", err)
			continue
		}
		good = append(good, sh)
	}
	s.mu.Lock()
	s.badShares = bad
	s.mu.Unlock()
	if len(good) < k {
		return nil, fmt.Errorf("tally: %d valid decryption shares of %d on the chain, need %d", len(good), len(shares), k)
	}
	points, err := crypto.Combine(base, k, vks, cur.totals, good)
	if err != nil {
		return nil, fmt.Errorf("tally: combining the decryption shares: %w", err)
	}
	counted := uint64(max(cur.c.Cast-cur.c.Replaced, 0))
	table, err := s.dlogTable(max(counted, 1))
	if err != nil {
		return nil, err
	}
	counts, err := table.SolveMany(points, 0)
	if err != nil {
		return nil, &AlarmError{Item: "totals", Detail: fmt.Sprintf("a decrypted total is not a count between 0 and %d counted ballots: %v", counted, err)}
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
func (s *Service) trusteeName(l int) string {
	for _, m := range s.m.Trustees.Members {
		if m.Index == l {
			return fmt.Sprintf("trustee %d (%s)", l, m.Name)
		}
	}
	return fmt.Sprintf("trustee %d", l)
}
