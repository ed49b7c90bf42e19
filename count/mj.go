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
	// MajorityGrade[c] is candidate c's majority grade (lower median),
	// -1 when there are no ballots.
	MajorityGrade []int `json:"majority_grade"`
	// Sequences[c] is candidate c's majority-grade sequence, run-length
	// encoded: the grades obtained by repeatedly taking the majority grade
	// and removing one ballot with that grade. It is cut after the first
	// grade at which it differs from the sequences of the candidates just
	// before and just after c in Order, the grade that placed c there (at
	// least the first grade; the whole sequence for a candidate tied with a
	// neighbour).
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
	for c := range candidates {
		res.MajorityGrade[c] = -1
		it := newSeqIter(res.Profile[c])
		if r, ok := it.next(); ok {
			res.MajorityGrade[c] = r.Grade
		}
	}
	order := make([]int, candidates)
	for c := range order {
		order[c] = c
	}
	cmp := func(a, b int) int {
		_, d := firstDifference(res.Profile[a], res.Profile[b])
		return d
	}
	slices.SortStableFunc(order, cmp)
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && cmp(order[i], order[j]) == 0 {
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
	// Each recorded sequence stops after the grade that separates it from
	// its neighbours in the order (whole if tied with one).
	res.Sequences = make([][]GradeRun, candidates)
	for i, c := range res.Order {
		keep := int64(1) // at least the majority grade
		for _, j := range []int{i - 1, i + 1} {
			if j < 0 || j >= len(res.Order) {
				continue
			}
			at, d := firstDifference(res.Profile[c], res.Profile[res.Order[j]])
			if d == 0 {
				keep = -1
				break
			}
			keep = max(keep, at+1)
		}
		res.Sequences[c] = sequencePrefix(res.Profile[c], keep)
	}
	res.Winner = res.Order[0]
	res.TieBroken = len(res.Classes[0]) > 1
	return res, nil
}

// seqIter generates the majority-grade sequence of a profile (counts per
// grade, best first) run by run: one step per ballot, the grade at the
// median searched once per run.
type seqIter struct {
	h []int64
	m int64
}

func newSeqIter(profile []int64) *seqIter {
	it := &seqIter{h: slices.Clone(profile)}
	for _, x := range it.h {
		it.m += x
	}
	return it
}

// next returns the next run, or false when the sequence is over.
func (it *seqIter) next() (GradeRun, bool) {
	if it.m == 0 {
		return GradeRun{}, false
	}
	// The grade at 0-based position floor(m/2), best first.
	pos := it.m / 2
	grade := 0
	var below int64 // ballots with a better grade
	for ; below+it.h[grade] <= pos; grade++ {
		below += it.h[grade]
	}
	// The median stays at grade while floor(m/2) is in
	// [below, below+h[grade]), h[grade] and m decreasing together.
	var k int64
	for it.m > 0 && it.h[grade] > 0 {
		p := it.m / 2
		if p < below || p >= below+it.h[grade] {
			break
		}
		it.h[grade]--
		it.m--
		k++
	}
	return GradeRun{Grade: grade, Count: k}, true
}

// majoritySequence returns the whole run-length encoded majority-grade
// sequence of a profile.
func majoritySequence(profile []int64) []GradeRun {
	return sequencePrefix(profile, -1)
}

// sequencePrefix returns the first n grades of the sequence of a profile,
// run-length encoded, or all of it if n < 0.
func sequencePrefix(profile []int64, n int64) []GradeRun {
	var out []GradeRun
	it := newSeqIter(profile)
	for n != 0 {
		r, ok := it.next()
		if !ok {
			break
		}
		if n > 0 {
			r.Count = min(r.Count, n)
			n -= r.Count
		}
		if k := len(out); k > 0 && out[k-1].Grade == r.Grade {
			out[k-1].Count += r.Count
		} else {
			out = append(out, r)
		}
	}
	return out
}

// firstDifference compares the majority-grade sequences of two profiles
// with the same number of ballots: the index of the first grade at which
// they differ and the comparison there (negative if a's grade is better),
// or (-1, 0) if they are equal.
func firstDifference(a, b []int64) (int64, int) {
	ia, ib := newSeqIter(a), newSeqIter(b)
	var ra, rb GradeRun
	var at int64
	for {
		if ra.Count == 0 {
			ra, _ = ia.next()
		}
		if rb.Count == 0 {
			rb, _ = ib.next()
		}
		switch {
		case ra.Count == 0 && rb.Count == 0:
			return -1, 0
		case ra.Count == 0:
			return at, 1
		case rb.Count == 0:
			return at, -1
		case ra.Grade != rb.Grade:
			return at, ra.Grade - rb.Grade
		}
		step := min(ra.Count, rb.Count)
		ra.Count -= step
		rb.Count -= step
		at += step
	}
}
