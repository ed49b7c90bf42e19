package count

import (
	"fmt"
	"slices"
)

// SchulzeResult is the outcome of a Schulze count with its record.
type SchulzeResult struct {
	Candidates int `json:"candidates"`
	Ballots    int `json:"ballots"`
	// D[i][j] is the number of ballots ranking i strictly above j.
	D [][]int64 `json:"d"`
	// P[i][j] is the strength of the strongest path from i to j.
	P [][]int64 `json:"p"`
	// Classes are the candidates in the Schulze order: Classes[0] holds the
	// candidates no one beats (p[j][i] > p[i][j] for no j), Classes[1] those
	// beaten only by candidates in Classes[0], and so on; each class in index
	// order. A class of more than one candidate is a tie of the method.
	Classes [][]int `json:"classes"`
	// Order is Classes flattened with each class ordered by the lot.
	Order []int `json:"order"`
	// Winner is Order[0]; TieBroken says that Classes[0] held more than one
	// candidate and the lot chose.
	Winner    int  `json:"winner"`
	TieBroken bool `json:"tie_broken,omitempty"`
}

// Schulze counts the Condorcet–Schulze method (Schulze 2011, "A new
// monotonic, clone-independent, reversal symmetric, and Condorcet-consistent
// single-winner election method"; docs/spec-count.md §4):
//
//   - d[i][j] = number of ballots with Ranks[i] better than Ranks[j]
//     (a ranked candidate is better than an unranked one; equal ranks and
//     two unranked candidates count for neither);
//   - p[i][j] = d[i][j] if d[i][j] > d[j][i], else 0; then for every k,
//     for every i ≠ k, j ∉ {i, k}: p[i][j] = max(p[i][j], min(p[i][k], p[k][j]))
//     (Floyd–Warshall widest paths, margins measured as winning votes);
//   - i beats j when p[i][j] > p[j][i]; this relation is transitive, and
//     the order is its layers (Classes); candidates of one layer are tied
//     and are ordered by the lot (earlier in the lot first).
//
// Every ballot must pass CheckRanks with ties allowed.
func Schulze(candidates int, ballots []Ranks, lot Lot) (*SchulzeResult, error) {
	if candidates <= 0 {
		return nil, fmt.Errorf("count: Schulze: %d candidates", candidates)
	}
	lotPos, err := lot.positions(candidates)
	if err != nil {
		return nil, err
	}
	n := candidates
	d := square(n)
	for bi, b := range ballots {
		if err := CheckRanks(b, n, true); err != nil {
			return nil, fmt.Errorf("count: Schulze: ballot %d: %w", bi, err)
		}
		for i := range n {
			for j := range n {
				if i != j && better(b[i], b[j]) {
					d[i][j]++
				}
			}
		}
	}
	p := square(n)
	for i := range n {
		for j := range n {
			if i != j && d[i][j] > d[j][i] {
				p[i][j] = d[i][j]
			}
		}
	}
	for k := range n {
		for i := range n {
			if i == k {
				continue
			}
			for j := range n {
				if j == i || j == k {
					continue
				}
				p[i][j] = max(p[i][j], min(p[i][k], p[k][j]))
			}
		}
	}
	res := &SchulzeResult{Candidates: n, Ballots: len(ballots), D: d, P: p}
	placed := make([]bool, n)
	for left := n; left > 0; {
		var class []int
		for i := range n {
			if placed[i] {
				continue
			}
			beaten := false
			for j := range n {
				if !placed[j] && j != i && p[j][i] > p[i][j] {
					beaten = true
					break
				}
			}
			if !beaten {
				class = append(class, i)
			}
		}
		if len(class) == 0 { // impossible: the relation is a strict partial order
			return nil, fmt.Errorf("count: Schulze: no unbeaten candidate among %d", left)
		}
		for _, c := range class {
			placed[c] = true
		}
		left -= len(class)
		res.Classes = append(res.Classes, class)
		byLot := slices.Clone(class)
		slices.SortFunc(byLot, func(a, b int) int { return lotPos[a] - lotPos[b] })
		res.Order = append(res.Order, byLot...)
	}
	res.Winner = res.Order[0]
	res.TieBroken = len(res.Classes[0]) > 1
	return res, nil
}

// better reports whether rank a is strictly preferred to rank b
// (1 is best, 0 is unranked and below every rank).
func better(a, b int) bool {
	if a == 0 {
		return false
	}
	return b == 0 || a < b
}

func square(n int) [][]int64 {
	m := make([][]int64, n)
	for i := range m {
		m[i] = make([]int64, n)
	}
	return m
}
