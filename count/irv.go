package count

import "fmt"

// IRVResult is the outcome of an instant-runoff count with its record.
type IRVResult struct {
	Candidates int        `json:"candidates"`
	Ballots    int        `json:"ballots"` // valid ballots counted
	Winner     int        `json:"winner"`
	Rounds     []IRVRound `json:"rounds"`
}

// IRVRound is one round of an instant-runoff count.
type IRVRound struct {
	Round      int       `json:"round"`               // 1-based
	Votes      []int64   `json:"votes"`               // ballots for each candidate (0 once excluded)
	Continuing []int     `json:"continuing"`          // candidates still in the count, index order
	Active     int64     `json:"active"`              // ballots counting for a continuing candidate
	Exhausted  int64     `json:"exhausted"`           // ballots with no continuing candidate left (cumulative)
	Elected    []int     `json:"elected,omitempty"`   // the winner, in the last round
	Excluded   []int     `json:"excluded,omitempty"`  // the candidate excluded at the end of this round
	TieBreak   *TieBreak `json:"tie_break,omitempty"` // how a tie for exclusion was settled
}

// IRV counts single-seat instant-runoff voting. Rule (docs/spec-count.md §2):
//
//  1. Each ballot counts for its most preferred continuing candidate;
//     a ballot with none left is exhausted.
//  2. If a continuing candidate has more than half of the active
//     (non-exhausted) ballots, or is the only continuing candidate, it wins.
//  3. Otherwise the continuing candidate with the fewest ballots is
//     excluded, and the count returns to 1. A tie for fewest is settled by
//     the most recent earlier round at which the tied candidates had unequal
//     counts (fewest there is excluded, repeating back over earlier rounds
//     while a tie remains), then by the lot (the one latest in the lot is
//     excluded).
//
// Every ballot must pass CheckRanking; candidates must be at least 1.
func IRV(candidates int, ballots []Ranking, lot Lot) (*IRVResult, error) {
	if candidates <= 0 {
		return nil, fmt.Errorf("count: IRV: %d candidates", candidates)
	}
	lotPos, err := lot.positions(candidates)
	if err != nil {
		return nil, err
	}
	for i, b := range ballots {
		if err := CheckRanking(b, candidates); err != nil {
			return nil, fmt.Errorf("count: IRV: ballot %d: %w", i, err)
		}
	}
	res := &IRVResult{Candidates: candidates, Ballots: len(ballots), Winner: -1}
	continuing := make([]bool, candidates)
	for c := range continuing {
		continuing[c] = true
	}
	nCont := candidates
	pos := make([]int, len(ballots))   // index into the ranking of the current preference
	piles := make([][]int, candidates) // ballots currently with each candidate
	var exhausted int64
	for i, b := range ballots {
		piles[b[0]] = append(piles[b[0]], i)
	}
	var history [][]int64
	for round := 1; ; round++ {
		r := IRVRound{Round: round, Votes: make([]int64, candidates), Exhausted: exhausted}
		for c := range candidates {
			r.Votes[c] = int64(len(piles[c]))
			r.Active += r.Votes[c]
			if continuing[c] {
				r.Continuing = append(r.Continuing, c)
			}
		}
		history = append(history, r.Votes)
		for _, c := range r.Continuing {
			if 2*r.Votes[c] > r.Active || nCont == 1 {
				r.Elected = []int{c}
				res.Winner = c
				res.Rounds = append(res.Rounds, r)
				return res, nil
			}
		}
		low := int64(-1)
		var tied []int
		for _, c := range r.Continuing {
			switch v := r.Votes[c]; {
			case low < 0 || v < low:
				low, tied = v, []int{c}
			case v == low:
				tied = append(tied, c)
			}
		}
		x := tied[0]
		if len(tied) > 1 {
			x, r.TieBreak = breakTie(tied, history, true, lotPos)
		}
		r.Excluded = []int{x}
		res.Rounds = append(res.Rounds, r)
		continuing[x] = false
		nCont--
		for _, i := range piles[x] {
			b := ballots[i]
			p := pos[i] + 1
			for p < len(b) && !continuing[b[p]] {
				p++
			}
			pos[i] = p
			if p == len(b) {
				exhausted++
				continue
			}
			piles[b[p]] = append(piles[b[p]], i)
		}
		piles[x] = nil
	}
}
