package count

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestCheckRanking(t *testing.T) {
	cases := []struct {
		name string
		r    Ranking
		n    int
		want Reason
	}{
		{"full", Ranking{2, 0, 1}, 3, ""},
		{"partial", Ranking{1}, 3, ""},
		{"empty", Ranking{}, 3, ReasonEmpty},
		{"too long", Ranking{0, 1, 2, 0}, 3, ReasonWrongLength},
		{"negative", Ranking{0, -1}, 3, ReasonCandidateRange},
		{"out of range", Ranking{3}, 3, ReasonCandidateRange},
		{"repeat", Ranking{1, 0, 1}, 3, ReasonRepeatedCandidate},
		{"no candidates", Ranking{0}, 0, ReasonNoCandidates},
	}
	for _, c := range cases {
		err := CheckRanking(c.r, c.n)
		if got := ReasonOf(err); got != c.want {
			t.Errorf("%s: reason %q, want %q (err %v)", c.name, got, c.want, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidBallot) {
			t.Errorf("%s: %v does not wrap ErrInvalidBallot", c.name, err)
		}
	}
}

func TestCheckRanks(t *testing.T) {
	cases := []struct {
		name string
		r    Ranks
		ties bool
		want Reason
	}{
		{"full", Ranks{2, 1, 3}, false, ""},
		{"partial", Ranks{0, 1, 0}, false, ""},
		{"tie allowed", Ranks{1, 1, 2}, true, ""},
		{"tie refused", Ranks{1, 1, 2}, false, ReasonRepeatedRank},
		{"gap", Ranks{1, 3, 0}, false, ReasonRankGap},
		{"gap with ties", Ranks{1, 1, 3}, true, ReasonRankGap},
		{"no first", Ranks{2, 0, 0}, false, ReasonRankGap},
		{"all unranked", Ranks{0, 0, 0}, true, ReasonEmpty},
		{"rank too big", Ranks{1, 4, 2}, false, ReasonRankRange},
		{"negative", Ranks{1, -1, 2}, false, ReasonRankRange},
		{"short", Ranks{1, 2}, false, ReasonWrongLength},
	}
	for _, c := range cases {
		err := CheckRanks(c.r, 3, c.ties)
		if got := ReasonOf(err); got != c.want {
			t.Errorf("%s: reason %q, want %q (err %v)", c.name, got, c.want, err)
		}
	}
	r, err := RankingFromRanks(Ranks{2, 0, 1}, 3)
	if err != nil || !slices.Equal(r, Ranking{2, 0}) {
		t.Errorf("RankingFromRanks = %v, %v", r, err)
	}
	if got := RanksOf(Ranking{2, 0}, 3); !slices.Equal(got, Ranks{2, 0, 1}) {
		t.Errorf("RanksOf = %v", got)
	}
}

func TestCheckGrades(t *testing.T) {
	if err := CheckGrades(Grades{0, 3, 1}, 3, 4); err != nil {
		t.Error(err)
	}
	if r := ReasonOf(CheckGrades(Grades{0, 4, 1}, 3, 4)); r != ReasonGradeRange {
		t.Errorf("grade 4 of 4: %q", r)
	}
	if r := ReasonOf(CheckGrades(Grades{0, -1, 1}, 3, 4)); r != ReasonGradeRange {
		t.Errorf("grade -1: %q", r)
	}
	if r := ReasonOf(CheckGrades(Grades{0, 1}, 3, 4)); r != ReasonWrongLength {
		t.Errorf("two grades for three: %q", r)
	}
}

func TestLotFromSeed(t *testing.T) {
	a := LotFromSeed([]byte("election 2027 mayor"), 12)
	b := LotFromSeed([]byte("election 2027 mayor"), 12)
	c := LotFromSeed([]byte("election 2027 council"), 12)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different lots")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds, same lot")
	}
	if _, err := a.positions(12); err != nil {
		t.Errorf("not a permutation: %v", err)
	}
	if _, err := (Lot{0, 0, 1}).positions(3); err == nil {
		t.Error("lot with a repeat accepted")
	}
	if _, err := (Lot{0, 1}).positions(3); err == nil {
		t.Error("short lot accepted")
	}
	// Every position is reachable: over many seeds, candidate 0 lands everywhere.
	seen := map[int]bool{}
	for s := range 200 {
		l := LotFromSeed([]byte{byte(s), byte(s >> 8)}, 5)
		seen[slices.Index(l, 0)] = true
	}
	if len(seen) != 5 {
		t.Errorf("candidate 0 reached positions %v only", seen)
	}
}

func TestValueText(t *testing.T) {
	for _, c := range []struct {
		v Value
		s string
	}{{0, "0.00000"}, {One, "1.00000"}, {53846, "0.53846"}, {938460, "9.38460"}, {-5, "-0.00005"}} {
		if got := c.v.String(); got != c.s {
			t.Errorf("%d: %q, want %q", int64(c.v), got, c.s)
		}
		var back Value
		if err := back.UnmarshalText([]byte(c.s)); err != nil || back != c.v {
			t.Errorf("%q: %d, %v", c.s, back, err)
		}
	}
	var v Value
	for _, s := range []string{"", "1.", ".5", "1.234567", "1e5", "--1", "+1", "1.-2"} {
		if err := v.UnmarshalText([]byte(s)); err == nil {
			t.Errorf("%q accepted as %v", s, v)
		}
	}
	b, err := json.Marshal(struct{ V Value }{123456})
	if err != nil || string(b) != `{"V":"1.23456"}` {
		t.Errorf("JSON %s, %v", b, err)
	}
}

func TestMethodBallots(t *testing.T) {
	for _, c := range []struct {
		r    Ranks
		want Ranking
		why  Reason
	}{
		{Ranks{1, 2, 3, 0}, Ranking{0, 1, 2}, ""},
		{Ranks{1, 2, 0, 4}, Ranking{0, 1}, ""},        // gap: counts up to it
		{Ranks{1, 2, 2, 3}, Ranking{0}, ""},           // repeated 2: counts 1 only
		{Ranks{3, 1, 0, 2}, Ranking{1, 3, 0}, ""},     //
		{Ranks{0, 2, 3, 0}, nil, ReasonNoFirst},       // no 1
		{Ranks{1, 1, 2, 0}, nil, ReasonRepeatedFirst}, // two 1s
		{Ranks{1, 5, 0, 0}, nil, ReasonRankRange},
		{Ranks{1, 2}, nil, ReasonWrongLength},
	} {
		got, err := STVBallot(c.r, 4)
		if ReasonOf(err) != c.why || !slices.Equal(got, c.want) {
			t.Errorf("STVBallot(%v) = %v, %v; want %v, %q", c.r, got, err, c.want, c.why)
		}
	}
	if _, err := IRVBallot(Ranks{1, 2, 0, 4}, 4); ReasonOf(err) != ReasonRankGap {
		t.Errorf("IRVBallot gap: %v", err)
	}
	if err := SchulzeBallot(Ranks{1, 1, 2, 0}, 4); err != nil {
		t.Errorf("SchulzeBallot tie: %v", err)
	}
	if err := MJBallot(Grades{0, 1, 2, 3}, 4, 3); ReasonOf(err) != ReasonGradeRange {
		t.Errorf("MJBallot: %v", err)
	}
}
