package count

import (
	"fmt"
	"math/bits"
	"slices"
)

// STVResult is the outcome of a single-transferable-vote count under the
// Scottish rules, with its record.
type STVResult struct {
	Candidates      int        `json:"candidates"`
	Seats           int        `json:"seats"`
	Ballots         int        `json:"ballots"` // valid ballot papers
	Quota           Value      `json:"quota"`
	Elected         []int      `json:"elected"` // in order of election
	Stages          []STVStage `json:"stages"`
	NonTransferable Value      `json:"non_transferable"` // total over all stages
	Loss            Value      `json:"loss"`             // total truncation loss (rule 48(3)) over all stages
}

// STVStage is one stage of the count (the Order's "stage of the count"):
// the first preferences, the transfer of one surplus, or one exclusion.
type STVStage struct {
	Stage int    `json:"stage"` // 1-based
	Kind  string `json:"kind"`  // "first-preferences", "surplus" or "exclusion"
	// From is the candidate whose surplus is transferred or who is
	// excluded; -1 at the first stage.
	From int `json:"from"`
	// Surplus is the surplus transferred (kind "surplus").
	Surplus Value `json:"surplus,omitempty"`
	// TransferValues lists, for each value at which From's papers were
	// held, the value at which they were transferred on (for an exclusion,
	// the same value), highest first.
	TransferValues []TransferValue `json:"transfer_values,omitempty"`
	// Received is what each candidate gained in this stage (From loses
	// the surplus or everything; it is not listed as a negative here).
	Received []Value `json:"received"`
	// Votes is each candidate's total at the end of the stage.
	Votes []Value `json:"votes"`
	// NonTransferable is the value set aside in this stage on papers with
	// no next available preference; Loss the value lost by truncating
	// transfer values to five decimal places.
	NonTransferable Value `json:"non_transferable"`
	Loss            Value `json:"loss"`
	// Elected lists the candidates that reached the quota at the end of
	// this stage (rule 47), highest total first.
	Elected []int `json:"elected,omitempty"`
	// LastVacancies lists the continuing candidates deemed elected at the
	// end of this stage because they were as many as the vacancies left
	// (rule 52), highest total first.
	LastVacancies []int `json:"last_vacancies,omitempty"`
	// TieBreak says how From was chosen among equal candidates
	// (rules 49(2)-(3), 51).
	TieBreak *TieBreak `json:"tie_break,omitempty"`
}

// TransferValue is one parcel of a transfer: Papers ballot papers held at
// value Received, of which Transferable had a next available preference
// and were passed on at value Value each.
type TransferValue struct {
	Received     Value `json:"received"`
	Value        Value `json:"value"`
	Papers       int   `json:"papers"`
	Transferable int   `json:"transferable"`
}

// DroopQuota returns the quota of rule 46: floor(valid/(seats+1)) + 1.
func DroopQuota(valid, seats int) int { return valid/(seats+1) + 1 }

// STV counts a multi-seat election by the single transferable vote with the
// Weighted Inclusive Gregory Method of The Scottish Local Government
// Elections Order 2007 (SSI 2007/42), Schedule 1, rules 45–52
// (docs/spec-count.md §3):
//
//   - rule 45: stage 1 credits each paper to its first preference at value 1;
//   - rule 46: quota = floor(valid papers / (seats + 1)) + 1;
//   - rule 47: a candidate whose votes equal or exceed the quota at the end
//     of a stage is deemed elected;
//   - rules 48–49: while vacancies remain, the largest untransferred
//     surplus is transferred, one per stage: every paper the candidate holds
//     goes to its next available preference at transfer value
//     floor5(surplus × value of the paper / candidate's total votes),
//     truncated to five decimal places; papers with no next preference are
//     non-transferable; the candidate keeps the quota; equal surpluses are
//     ordered by the most recent preceding stage at which those candidates
//     had unequal votes (highest first), then by lot;
//   - rules 50–51: with no surplus left to transfer, the continuing
//     candidate with the fewest votes is excluded and all its papers pass on
//     at the value at which it held them; a tie for fewest is settled by the
//     most recent preceding stage at which they had unequal votes (lowest
//     there is excluded), then by lot;
//   - rule 52: when the continuing candidates are no more than the
//     vacancies left, they are deemed elected and no further transfer is made.
//
// "The most recent preceding stage" is applied repeatedly: if some but not
// all of the tied candidates differ there, the rest stay tied and the stages
// before are examined. The lot favours candidates earlier in lot: the one
// latest in the lot is excluded, the one earliest transferred first.
// Arithmetic is exact in units of 0.00001 (Value). Every ballot must pass
// CheckRanking; seats must be at least 1.
func STV(candidates, seats int, ballots []Ranking, lot Lot) (*STVResult, error) {
	if candidates <= 0 || seats <= 0 {
		return nil, fmt.Errorf("count: STV: %d candidates, %d seats", candidates, seats)
	}
	lotPos, err := lot.positions(candidates)
	if err != nil {
		return nil, err
	}
	for i, b := range ballots {
		if err := CheckRanking(b, candidates); err != nil {
			return nil, fmt.Errorf("count: STV: ballot %d: %w", i, err)
		}
	}
	if len(ballots) > 1<<40 {
		return nil, fmt.Errorf("count: STV: %d ballots, more than 2^40", len(ballots))
	}
	quota := Value(DroopQuota(len(ballots), seats)) * One
	res := &STVResult{Candidates: candidates, Seats: seats, Ballots: len(ballots), Quota: quota}

	const (
		continuing = iota
		elected
		excluded
	)
	state := make([]int, candidates)
	votes := make([]Value, candidates)
	surplusDone := make([]bool, candidates) // elected and surplus transferred (or none)
	piles := make([][]int, candidates)
	value := make([]Value, len(ballots))
	pos := make([]int, len(ballots))
	var history [][]int64

	// byVotes orders candidates by total, highest first, then by lot.
	byVotes := func(cs []int) {
		slices.SortFunc(cs, func(a, b int) int {
			if votes[a] != votes[b] {
				if votes[a] > votes[b] {
					return -1
				}
				return 1
			}
			return lotPos[a] - lotPos[b]
		})
	}
	// endStage applies rules 47 and 52 and records the stage; it reports
	// whether the count is over.
	endStage := func(st *STVStage) bool {
		st.Votes = slices.Clone(votes)
		h := make([]int64, candidates)
		for c := range h {
			h[c] = int64(votes[c])
		}
		history = append(history, h)
		var reached []int
		for c := range candidates {
			if state[c] == continuing && votes[c] >= quota {
				reached = append(reached, c)
			}
		}
		byVotes(reached)
		for _, c := range reached {
			if len(res.Elected) == seats {
				break // cannot happen with the Droop quota; kept as a guard
			}
			state[c] = elected
			surplusDone[c] = votes[c] == quota
			res.Elected = append(res.Elected, c)
			st.Elected = append(st.Elected, c)
		}
		var cont []int
		for c := range candidates {
			if state[c] == continuing {
				cont = append(cont, c)
			}
		}
		if left := seats - len(res.Elected); left > 0 && len(cont) <= left {
			if cont == nil {
				cont = []int{}
			}
			byVotes(cont)
			for _, c := range cont {
				state[c] = elected
				surplusDone[c] = true
				res.Elected = append(res.Elected, c)
			}
			st.LastVacancies = cont
		}
		res.NonTransferable += st.NonTransferable
		res.Loss += st.Loss
		res.Stages = append(res.Stages, *st)
		return len(res.Elected) == seats || st.LastVacancies != nil || len(cont) == 0
	}
	// passOn moves paper i, now held at value v, to its next available
	// preference; it reports whether there was one.
	passOn := func(i int, v Value, st *STVStage) bool {
		b := ballots[i]
		p := pos[i] + 1
		for p < len(b) && state[b[p]] != continuing {
			p++
		}
		pos[i] = p
		if p == len(b) {
			return false
		}
		c := b[p]
		value[i] = v
		piles[c] = append(piles[c], i)
		votes[c] += v
		st.Received[c] += v
		return true
	}

	// Rule 45: first preferences.
	st := STVStage{Stage: 1, Kind: "first-preferences", From: -1, Received: make([]Value, candidates)}
	for i, b := range ballots {
		value[i] = One
		piles[b[0]] = append(piles[b[0]], i)
		votes[b[0]] += One
		st.Received[b[0]] += One
	}
	done := endStage(&st)
	for !done {
		st = STVStage{Stage: len(res.Stages) + 1, Received: make([]Value, candidates)}
		// Rules 48-49: the highest untransferred surplus.
		var top []int
		for c := range candidates {
			if state[c] != elected || surplusDone[c] {
				continue
			}
			if len(top) == 0 || votes[c] > votes[top[0]] {
				top = []int{c}
			} else if votes[c] == votes[top[0]] {
				top = append(top, c)
			}
		}
		if len(top) > 0 {
			e := top[0]
			if len(top) > 1 {
				e, st.TieBreak = breakTie(top, history, false, lotPos)
			}
			st.Kind, st.From = "surplus", e
			total := votes[e]
			surplus := total - quota
			st.Surplus = surplus
			groups := map[Value]*TransferValue{}
			var moved Value
			for _, i := range piles[e] {
				w := value[i]
				tv := transferValue(surplus, w, total)
				g := groups[w]
				if g == nil {
					g = &TransferValue{Received: w, Value: tv}
					groups[w] = g
				}
				g.Papers++
				if passOn(i, tv, &st) {
					g.Transferable++
				} else {
					st.NonTransferable += tv
				}
				moved += tv
			}
			st.Loss = surplus - moved
			st.TransferValues = sortedGroups(groups)
			piles[e] = nil
			votes[e] = quota
			surplusDone[e] = true
			done = endStage(&st)
			continue
		}
		// Rules 50-51: exclude the lowest continuing candidate.
		var low []int
		for c := range candidates {
			if state[c] != continuing {
				continue
			}
			if len(low) == 0 || votes[c] < votes[low[0]] {
				low = []int{c}
			} else if votes[c] == votes[low[0]] {
				low = append(low, c)
			}
		}
		x := low[0]
		if len(low) > 1 {
			x, st.TieBreak = breakTie(low, history, true, lotPos)
		}
		st.Kind, st.From = "exclusion", x
		state[x] = excluded
		groups := map[Value]*TransferValue{}
		for _, i := range piles[x] {
			w := value[i]
			g := groups[w]
			if g == nil {
				g = &TransferValue{Received: w, Value: w}
				groups[w] = g
			}
			g.Papers++
			if passOn(i, w, &st) {
				g.Transferable++
			} else {
				st.NonTransferable += w
			}
		}
		st.TransferValues = sortedGroups(groups)
		piles[x] = nil
		votes[x] = 0
		done = endStage(&st)
	}
	return res, nil
}

// transferValue is rule 48(3): surplus × w / total to five decimal places,
// any remainder ignored. In units of 0.00001 that is floor(surplus·w/total).
func transferValue(surplus, w, total Value) Value {
	hi, lo := bits.Mul64(uint64(surplus), uint64(w))
	q, _ := bits.Div64(hi, lo, uint64(total)) // surplus < total, so q < w
	return Value(q)
}

func sortedGroups(groups map[Value]*TransferValue) []TransferValue {
	out := make([]TransferValue, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b TransferValue) int {
		switch {
		case a.Received > b.Received:
			return -1
		case a.Received < b.Received:
			return 1
		}
		return 0
	})
	return out
}
