package count

import (
	"fmt"
	"slices"
)

// MJResult is the outcome of a majority-judgment count with its record.
type MJResult struct {
	Grades     []string `json:"grades"` // the grade names, best first
	Candidates int      `json:"candidates"`
	Ballots    int      `json:"ballots"`
	// Profile[c][g] is the number of ballots giving candidate c grade g.
	Profile [][]int64 `json:"profile"`
	// MajorityGrade[c] is candidate c's majority grade (lower median).
	MajorityGrade []int `json:"majority_grade"`
	// Sequences[c] is candidate c's majority-grade sequence, run-length
	// encoded: the grades obtained by repeatedly taking the majority grade
	// and removing one ballot with that grade. It is cut after the first
	// grade at which it differs from the sequences of the candidates just
	// before and just after c in Order, the grade that placed c there (the
	// whole sequence is kept for a candidate tied with a neighbour).
	Sequences [][]GradeRun `json:"sequences"`
	// Classes are the candidates from best to worst; a class of more than
	// one candidate have identical sequences (identical profiles) and are
	// tied by the method. Each class is in index order.
	Classes [][]int `json:"classes"`
	// Order is Classes flattened with each class ordered by the lot.
	Order     []int `json:"order"`
	Winner    int   `json:"winner"`
	TieBroken bool  `json:"tie_broken,omitempty"`
}

// GradeRun is Count consecutive entries of Grade in a majority-grade sequence.
type GradeRun struct {
	Grade int   `json:"grade"`
	Count int64 `json:"count"`
}

// MajorityJudgment counts majority judgment (Balinski and Laraki, "Majority
// Judgment: Measuring, Ranking, and Electing", MIT Press 2011;
// docs/spec-count.md §5). grades names the grades, best first; each ballot
// gives every candidate a grade index (0 best).
//
//   - A candidate's majority grade is the lower median of its grades: with
//     its m grades sorted best to worst, the one at 0-based position
//     floor(m/2) (for even m the worse of the two middle grades).
//   - Its majority-grade sequence is the majority grade, then the majority
//     grade after removing one ballot with that grade, and so on until none
//     is left.
//   - Candidates are ordered by their sequences lexicographically, a better
//     grade first winning; this is Balinski–Laraki's tie-break by removing
//     median grades one by one. Candidates with identical sequences (which
//     means identical profiles) are tied and ordered by the lot.
//
// Every ballot must pass CheckGrades.
func MajorityJudgment(grades []string, candidates int, ballots []Grades, lot Lot) (*MJResult, error) {
	if candidates <= 0 || len(grades) == 0 {
		return nil, fmt.Errorf("count: majority judgment: %d candidates, %d grades", candidates, len(grades))
	}
	lotPos, err := lot.positions(candidates)
	if err != nil {
		return nil, err
	}
	g := len(grades)
	res := &MJResult{Grades: slices.Clone(grades), Candidates: candidates, Ballots: len(ballots)}
	res.Profile = make([][]int64, candidates)
	for c := range res.Profile {
		res.Profile[c] = make([]int64, g)
	}
	for bi, b := range ballots {
		if err := CheckGrades(b, candidates, g); err != nil {
			return nil, fmt.Errorf("count: majority judgment: ballot %d: %w", bi, err)
		}
		for c, x := range b {
			res.Profile[c][x]++
		}
	}
	res.MajorityGrade = make([]int, candidates)
	res.Sequences = make([][]GradeRun, candidates)
	for c := range candidates {
		res.Sequences[c] = majoritySequence(res.Profile[c])
		res.MajorityGrade[c] = -1
		if len(res.Sequences[c]) > 0 {
			res.MajorityGrade[c] = res.Sequences[c][0].Grade
		}
	}
	order := make([]int, candidates)
	for c := range order {
		order[c] = c
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareRuns(res.Sequences[a], res.Sequences[b]) })
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && compareRuns(res.Sequences[order[i]], res.Sequences[order[j]]) == 0 {
			j++
		}
		class := slices.Clone(order[i:j])
		slices.Sort(class)
		res.Classes = append(res.Classes, class)
		byLot := slices.Clone(class)
		slices.SortFunc(byLot, func(a, b int) int { return lotPos[a] - lotPos[b] })
		res.Order = append(res.Order, byLot...)
		i = j
	}
	// Cut each sequence after the grade that separates it from its
	// neighbours in the order.
	cut := make([][]GradeRun, candidates)
	for i, c := range res.Order {
		var keep int64
		for _, j := range []int{i - 1, i + 1} {
			if j < 0 || j >= len(res.Order) {
				continue
			}
			d := firstDifference(res.Sequences[c], res.Sequences[res.Order[j]])
			if d < 0 {
				keep = -1
				break
			}
			keep = max(keep, d+1)
		}
		cut[c] = res.Sequences[c]
		if keep > 0 {
			cut[c] = prefixRuns(res.Sequences[c], keep)
		}
	}
	res.Sequences = cut
	res.Winner = res.Order[0]
	res.TieBroken = len(res.Classes[0]) > 1
	return res, nil
}

// firstDifference returns the first index at which two sequences of the
// same length differ, or -1 if they are equal.
func firstDifference(a, b []GradeRun) int64 {
	i, j := 0, 0
	var ua, ub, at int64
	for i < len(a) && j < len(b) {
		if a[i].Grade != b[j].Grade {
			return at
		}
		step := min(a[i].Count-ua, b[j].Count-ub)
		ua, ub, at = ua+step, ub+step, at+step
		if ua == a[i].Count {
			i, ua = i+1, 0
		}
		if ub == b[j].Count {
			j, ub = j+1, 0
		}
	}
	if i < len(a) || j < len(b) {
		return at
	}
	return -1
}

// prefixRuns returns the first n grades of a run-length encoded sequence.
func prefixRuns(runs []GradeRun, n int64) []GradeRun {
	var out []GradeRun
	for _, r := range runs {
		if n == 0 {
			break
		}
		k := min(r.Count, n)
		out = append(out, GradeRun{r.Grade, k})
		n -= k
	}
	return out
}

// majoritySequence returns the run-length encoded majority-grade sequence of
// a profile (counts per grade, best first): one step per ballot, the grade
// at the median searched once per run.
func majoritySequence(profile []int64) []GradeRun {
	h := slices.Clone(profile)
	var m int64
	for _, x := range h {
		m += x
	}
	var runs []GradeRun
	for m > 0 {
		// The grade at 0-based position floor(m/2), best first.
		pos := m / 2
		grade := 0
		var below int64 // ballots with a grade better than grade
		for acc := int64(0); ; grade++ {
			if acc+h[grade] > pos {
				below = acc
				break
			}
			acc += h[grade]
		}
		// The median stays at grade while floor(m'/2) is in
		// [below, below+h[grade]) for m' = m, m-1, …, with h[grade]
		// decreasing by one each step: count the steps.
		var k int64
		for m > 0 && h[grade] > 0 {
			p := m / 2
			if p < below || p >= below+h[grade] {
				break
			}
			h[grade]--
			m--
			k++
		}
		if n := len(runs); n > 0 && runs[n-1].Grade == grade {
			runs[n-1].Count += k
		} else {
			runs = append(runs, GradeRun{Grade: grade, Count: k})
		}
	}
	return runs
}

// compareRuns compares two majority-grade sequences lexicographically
// (a lower grade index is better): negative if a is better.
func compareRuns(a, b []GradeRun) int {
	i, j := 0, 0
	var ua, ub int64 // used from a[i], b[j]
	for i < len(a) && j < len(b) {
		if a[i].Grade != b[j].Grade {
			return a[i].Grade - b[j].Grade
		}
		step := min(a[i].Count-ua, b[j].Count-ub)
		ua += step
		ub += step
		if ua == a[i].Count {
			i, ua = i+1, 0
		}
		if ub == b[j].Count {
			j, ub = j+1, 0
		}
	}
	switch {
	case i < len(a):
		return -1
	case j < len(b):
		return 1
	}
	return 0
}
