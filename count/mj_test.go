package count

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// After Wikipedia, "Majority judgment", the Tennessee capital example: the
// electorate lives in four cities (Memphis 42%, Nashville 26%, Chattanooga
// 15%, Knoxville 17%) and grades each city by its distance; the article's
// winner is Nashville. The grade table below is as recalled here for this
// test (it could not be checked against the article offline): each city's
// own voters grade it Excellent, Memphis is Poor for everyone else, and the
// grades of the others follow distance.
//
// Majority grades (lower median of 100): Memphis Poor (42 Excellent, 58
// Poor); Nashville Good (26 Excellent, 32 Good, 42 Fair); Chattanooga and
// Knoxville Fair (15 or 17 Excellent, 17 or 15 Good, 26 Fair, 42 Poor).
// Chattanooga and Knoxville have the same majority grade; removing median
// grades one by one, Knoxville's sequence (17 Excellent against 15) is the
// better at the first place where the two differ.
func TestMajorityJudgmentTennessee(t *testing.T) {
	const memphis, nashville, chattanooga, knoxville = 0, 1, 2, 3
	const excellent, good, fair, poor = 0, 1, 2, 3
	grades := []string{"Excellent", "Good", "Fair", "Poor"}
	ballots := expand([]group[Grades]{
		{42, Grades{excellent, fair, poor, poor}},
		{26, Grades{poor, excellent, fair, fair}},
		{15, Grades{poor, good, excellent, good}},
		{17, Grades{poor, good, good, excellent}},
	})
	res, err := MajorityJudgment(grades, 4, ballots, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Winner != nashville {
		t.Fatalf("winner %d, want Nashville", res.Winner)
	}
	if !slices.Equal(res.MajorityGrade, []int{poor, good, fair, fair}) {
		t.Errorf("majority grades %v", res.MajorityGrade)
	}
	if !slices.Equal(res.Order, []int{nashville, knoxville, chattanooga, memphis}) {
		t.Errorf("order %v", res.Order)
	}
	if !slices.Equal(res.Profile[nashville], []int64{26, 32, 42, 0}) {
		t.Errorf("profile %v", res.Profile)
	}
	// Memphis, last: Poor while floor(m/2) ≥ 42, i.e. 17 times; it differs
	// from Chattanooga's (Fair first) at once, so the record keeps one grade.
	if got := res.Sequences[memphis]; !slices.Equal(got, []GradeRun{{poor, 1}}) {
		t.Errorf("Memphis sequence %v", got)
	}
	full := majoritySequence(res.Profile[memphis])
	if full[0] != (GradeRun{poor, 17}) {
		t.Errorf("Memphis full sequence starts %v", full[0])
	}
	// Nashville's sequence differs from Knoxville's at its first grade.
	if got := res.Sequences[nashville]; !slices.Equal(got, []GradeRun{{good, 1}}) {
		t.Errorf("Nashville sequence %v", got)
	}
}

// bruteSequence is the majority-grade sequence by its definition: sort,
// take the element at floor(m/2), remove it, repeat.
func bruteSequence(profile []int64) []int {
	var list []int
	for g, n := range profile {
		for range n {
			list = append(list, g)
		}
	}
	var seq []int
	for len(list) > 0 {
		i := len(list) / 2
		seq = append(seq, list[i])
		list = slices.Delete(list, i, i+1)
	}
	return seq
}

func TestMajoritySequenceMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		p := make([]int64, 1+r.IntN(6))
		for i := range p {
			if r.IntN(3) > 0 {
				p[i] = int64(r.IntN(12))
			}
		}
		var got []int
		for _, run := range majoritySequence(p) {
			if run.Count <= 0 {
				t.Fatalf("empty run in %v", majoritySequence(p))
			}
			for range run.Count {
				got = append(got, run.Grade)
			}
		}
		if want := bruteSequence(p); !slices.Equal(got, want) {
			t.Fatalf("profile %v: %v, want %v", p, got, want)
		}
	}
}

func TestFirstDifference(t *testing.T) {
	// Against the sequences by their definition, on random profiles of the
	// same size.
	r := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		a := []int64{int64(r.IntN(5)), int64(r.IntN(5)), int64(r.IntN(5))}
		b := []int64{int64(r.IntN(5)), int64(r.IntN(5)), 0}
		b[2] = a[0] + a[1] + a[2] - b[0] - b[1]
		if b[2] < 0 {
			continue
		}
		sa, sb := bruteSequence(a), bruteSequence(b)
		at, d := firstDifference(a, b)
		want := slices.Compare(sa, sb)
		if (d < 0) != (want < 0) || (d > 0) != (want > 0) {
			t.Fatalf("%v %v: %d, want %d", a, b, d, want)
		}
		if want != 0 && (sa[at] == sb[at] || !slices.Equal(sa[:at], sb[:at])) {
			t.Fatalf("%v %v: first difference at %d", a, b, at)
		}
	}
}

// Even count: the lower median. Two ballots Excellent and Poor give Poor.
func TestMajorityJudgmentLowerMedian(t *testing.T) {
	res, err := MajorityJudgment([]string{"Excellent", "Poor"}, 1, []Grades{{0}, {1}}, nil)
	if err != nil || res.MajorityGrade[0] != 1 {
		t.Errorf("%+v %v", res, err)
	}
	// Identical profiles tie; the lot orders them.
	res, err = MajorityJudgment([]string{"Good", "Bad"}, 2, []Grades{{0, 0}, {1, 1}}, Lot{1, 0})
	if err != nil || res.Winner != 1 || !res.TieBroken || len(res.Classes) != 1 {
		t.Errorf("%+v %v", res, err)
	}
	if _, err := MajorityJudgment([]string{"Good"}, 2, []Grades{{0, 1}}, nil); ReasonOf(err) != ReasonGradeRange {
		t.Errorf("grade out of range: %v", err)
	}
}
