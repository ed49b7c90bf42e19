package count

import (
	"slices"
	"testing"
)

// Wikipedia, "Instant-runoff voting", the Tennessee capital example: voters
// live in four cities and rank them by distance. Memphis 42%, Nashville 26%,
// Chattanooga 15%, Knoxville 17%. Round 1: Chattanooga (15) is excluded and
// its ballots go to Knoxville (32); round 2: Nashville (26) is excluded and
// its ballots go to Knoxville via Chattanooga; Knoxville wins 58 to 42.
func TestIRVWikipediaTennessee(t *testing.T) {
	const memphis, nashville, chattanooga, knoxville = 0, 1, 2, 3
	ballots := expand([]group[Ranking]{
		{42, Ranking{memphis, nashville, chattanooga, knoxville}},
		{26, Ranking{nashville, chattanooga, knoxville, memphis}},
		{15, Ranking{chattanooga, knoxville, nashville, memphis}},
		{17, Ranking{knoxville, chattanooga, nashville, memphis}},
	})
	res, err := IRV(4, ballots, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Winner != knoxville {
		t.Fatalf("winner %d, want Knoxville", res.Winner)
	}
	want := []struct {
		votes    []int64
		excluded []int
	}{
		{[]int64{42, 26, 15, 17}, []int{chattanooga}},
		{[]int64{42, 26, 0, 32}, []int{nashville}},
		{[]int64{42, 0, 0, 58}, nil},
	}
	if len(res.Rounds) != len(want) {
		t.Fatalf("%d rounds, want %d", len(res.Rounds), len(want))
	}
	for i, w := range want {
		r := res.Rounds[i]
		if !slices.Equal(r.Votes, w.votes) || !slices.Equal(r.Excluded, w.excluded) {
			t.Errorf("round %d: votes %v excluded %v, want %v %v", i+1, r.Votes, r.Excluded, w.votes, w.excluded)
		}
	}
	if last := res.Rounds[2]; !slices.Equal(last.Elected, []int{knoxville}) || last.Active != 100 {
		t.Errorf("last round %+v", last)
	}
}

// A tie for exclusion settled by the earlier round: in round 2 B and C both
// have 3, in round 1 C had fewer (2 against 3), so C is excluded; its
// ballots have no further preference and are exhausted. A then has 4 of the
// 7 active ballots, a majority.
func TestIRVTieEarlierRound(t *testing.T) {
	ballots := expand([]group[Ranking]{
		{4, letters("A")}, {3, letters("B")}, {2, letters("C")}, {1, letters("DC")},
	})
	res, err := IRV(4, ballots, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Winner != 0 || len(res.Rounds) != 3 {
		t.Fatalf("winner %d after %d rounds", res.Winner, len(res.Rounds))
	}
	tb := res.Rounds[1].TieBreak
	if tb == nil || tb.Rule != "earlier-stage" || tb.Stage != 1 || tb.Chosen != 2 || !slices.Equal(tb.Tied, []int{1, 2}) {
		t.Errorf("tie break %+v", tb)
	}
	if r := res.Rounds[2]; r.Exhausted != 3 || r.Active != 7 {
		t.Errorf("round 3: exhausted %d active %d", r.Exhausted, r.Active)
	}
}

// A tie at every round is settled by the lot: the candidate latest in the
// lot is excluded.
func TestIRVTieLot(t *testing.T) {
	ballots := []Ranking{letters("A"), letters("B")}
	res, err := IRV(2, ballots, nil)
	if err != nil || res.Winner != 0 || res.Rounds[0].TieBreak.Rule != "lot" {
		t.Fatalf("index-order lot: %+v, %v", res, err)
	}
	res, err = IRV(2, ballots, Lot{1, 0})
	if err != nil || res.Winner != 1 {
		t.Fatalf("lot B,A: %+v, %v", res, err)
	}
}

func TestIRVRejects(t *testing.T) {
	if _, err := IRV(3, []Ranking{{0, 0}}, nil); ReasonOf(err) != ReasonRepeatedCandidate {
		t.Errorf("repeated candidate: %v", err)
	}
	if _, err := IRV(0, nil, nil); err == nil {
		t.Error("no candidates accepted")
	}
	if _, err := IRV(2, nil, Lot{0}); err == nil {
		t.Error("short lot accepted")
	}
	// No ballots: all tie at zero, the lot excludes down to candidate 0.
	res, err := IRV(3, nil, nil)
	if err != nil || res.Winner != 0 {
		t.Errorf("no ballots: %+v, %v", res, err)
	}
}
