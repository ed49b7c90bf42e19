package count

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
)

// A small election counted by hand under the Scottish rules (SSI 2007/42,
// Schedule 1, rules 45-52), with a surplus that contains transferred papers
// so that the weighted (inclusive) part of the method is exercised.
//
// 3 seats, candidates A B C D, 21 valid papers:
//
//	10 × A B C    2 × A C    1 × A    4 × B D    3 × C D    1 × D C
//
// Rule 46: quota = floor(21 / 4) + 1 = 6.
//
// Stage 1 (rule 45): A 13, B 4, C 3, D 1. A ≥ 6 is elected (rule 47),
// surplus 7.
//
// Stage 2, A's surplus (rule 48): every one of A's 13 papers has value 1;
// transfer value = 7 × 1 / 13 = 0.538461… → 0.53846.
// 10 papers go to B: 5.38460; 2 to C: 1.07692; 1 (A only) is
// non-transferable: 0.53846. Transferred in all 13 × 0.53846 = 6.99998,
// loss 7 − 6.99998 = 0.00002. A keeps 6.
// Totals: A 6, B 9.38460, C 4.07692, D 1. B is elected, surplus 3.38460.
//
// Stage 3, B's surplus: B's total is 9.38460, held on
//   - 4 papers B D at value 1: transfer value 3.38460 × 1 / 9.38460
//     = 0.360654… → 0.36065, to D: 4 × 0.36065 = 1.44260;
//   - 10 papers A B C at value 0.53846: 3.38460 × 0.53846 / 9.38460
//     = 0.194199… → 0.19419, to C (next continuing): 10 × 0.19419 = 1.94190.
//
// Transferred 3.38450, loss 0.00010. B keeps 6.
// Totals: A 6, B 6, C 6.01882, D 2.44260. C is elected; three seats filled.
//
// Conservation: 6 + 6 + 6.01882 + 2.44260 + 0.53846 (non-transferable)
// + 0.00012 (loss) = 21.
func TestSTVHandWorkedWIGM(t *testing.T) {
	const A, B, C, D = 0, 1, 2, 3
	ballots := expand([]group[Ranking]{
		{10, letters("ABC")}, {2, letters("AC")}, {1, letters("A")},
		{4, letters("BD")}, {3, letters("CD")}, {1, letters("DC")},
	})
	res, err := STV(4, 3, ballots, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Quota != 6*One {
		t.Errorf("quota %v", res.Quota)
	}
	if !slices.Equal(res.Elected, []int{A, B, C}) {
		t.Errorf("elected %v", res.Elected)
	}
	want := []struct {
		kind    string
		from    int
		surplus Value
		tvs     []TransferValue
		votes   []Value
		nt      Value
		loss    Value
		elected []int
	}{
		{"first-preferences", -1, 0, nil, []Value{1300000, 400000, 300000, 100000}, 0, 0, []int{A}},
		{"surplus", A, 700000, []TransferValue{{One, 53846, 13, 12}},
			[]Value{600000, 938460, 407692, 100000}, 53846, 2, []int{B}},
		{"surplus", B, 338460, []TransferValue{{One, 36065, 4, 4}, {53846, 19419, 10, 10}},
			[]Value{600000, 600000, 601882, 244260}, 0, 10, []int{C}},
	}
	if len(res.Stages) != len(want) {
		t.Fatalf("%d stages, want %d: %+v", len(res.Stages), len(want), res.Stages)
	}
	for i, w := range want {
		s := res.Stages[i]
		if s.Stage != i+1 || s.Kind != w.kind || s.From != w.from || s.Surplus != w.surplus ||
			!slices.Equal(s.TransferValues, w.tvs) || !slices.Equal(s.Votes, w.votes) ||
			s.NonTransferable != w.nt || s.Loss != w.loss || !slices.Equal(s.Elected, w.elected) {
			t.Errorf("stage %d:\n got %+v\nwant %+v", i+1, s, w)
		}
	}
	if res.NonTransferable != 53846 || res.Loss != 12 {
		t.Errorf("non-transferable %v loss %v", res.NonTransferable, res.Loss)
	}
	checkSTVInvariants(t, res)
}

// Exclusions, the tie-break of rule 51(2)(a) and the last vacancy (rule 52),
// one seat, 10 papers, quota floor(10/2) + 1 = 6:
//
//	4 × A    3 × B    2 × C    1 × D C
//
// Stage 1: A 4, B 3, C 2, D 1; no one has 6, D (lowest) is excluded.
// Stage 2: D's paper goes to C: A 4, B 3, C 3. B and C are lowest and equal;
// at the most recent preceding stage at which they were unequal (stage 1)
// C had fewer, so C is excluded in stage 3.
// Stage 3: C's 3 papers have no next preference: non-transferable 3.
// A 4, B 3: B is excluded (stage 4), its 3 papers are non-transferable.
// Stage 4: A is the only continuing candidate for the one vacancy and is
// deemed elected (rule 52) without reaching the quota.
func TestSTVExclusionTieLastVacancy(t *testing.T) {
	ballots := expand([]group[Ranking]{{4, letters("A")}, {3, letters("B")}, {2, letters("C")}, {1, letters("DC")}})
	res, err := STV(4, 1, ballots, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Elected, []int{0}) || len(res.Stages) != 4 {
		t.Fatalf("elected %v in %d stages", res.Elected, len(res.Stages))
	}
	s := res.Stages
	if s[1].Kind != "exclusion" || s[1].From != 3 || !slices.Equal(s[1].Votes, []Value{4 * One, 3 * One, 3 * One, 0}) {
		t.Errorf("stage 2 %+v", s[1])
	}
	if tb := s[2].TieBreak; s[2].From != 2 || tb == nil || tb.Rule != "earlier-stage" || tb.Stage != 1 {
		t.Errorf("stage 3 %+v tie %+v", s[2], tb)
	}
	if s[2].NonTransferable != 3*One || s[3].From != 1 || !slices.Equal(s[3].LastVacancies, []int{0}) || s[3].Elected != nil {
		t.Errorf("stages 3-4 %+v %+v", s[2], s[3])
	}
	if res.NonTransferable != 6*One {
		t.Errorf("non-transferable %v", res.NonTransferable)
	}
	checkSTVInvariants(t, res)
}

// Equal at every stage: the lot decides (rule 51(2)(b)).
func TestSTVLot(t *testing.T) {
	ballots := []Ranking{letters("A"), letters("B")}
	for _, c := range []struct {
		lot  Lot
		want int
	}{{nil, 0}, {Lot{1, 0}, 1}} {
		res, err := STV(2, 1, ballots, c.lot)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Elected, []int{c.want}) || res.Stages[1].TieBreak.Rule != "lot" {
			t.Errorf("lot %v: elected %v, stages %+v", c.lot, res.Elected, res.Stages)
		}
	}
}

// Equal surpluses (rule 49(2)), counted by hand. 4 seats, candidates
// A-F, 17 papers, quota floor(17/5) + 1 = 4:
//
//	8 × A C    5 × B D    1 × C E    1 × D    1 × E
//
// Stage 1: A 8, B 5, C 1, D 1, E 1, F 0; A and B are elected (surpluses
// 4 and 1); A's is the larger.
// Stage 2: A's 8 papers at 4 × 1 / 8 = 0.5 go to C: C 5, elected.
// Now B and C both have surplus 1; at the most recent preceding stage at
// which they were unequal (stage 1: B 5, C 1) B had more, so B's goes first.
// Stage 3: B's 5 papers at 1 × 1 / 5 = 0.2 to D: D 2.
// Stage 4: C's surplus 1 of a total 5: the paper C E (value 1) at
// 1 × 1 / 5 = 0.2 to E (E 1.2); the 8 papers A C (value 0.5) at
// 1 × 0.5 / 5 = 0.1 have no next preference: non-transferable 0.8.
// Stage 5: F (0) is excluded, no papers.
// Stage 6: E (1.2) is excluded; its papers (E at 1, C E at 0.2) are
// non-transferable. D is the only continuing candidate for the last
// vacancy and is deemed elected (rule 52).
func TestSTVEqualSurpluses(t *testing.T) {
	ballots := expand([]group[Ranking]{
		{8, letters("AC")}, {5, letters("BD")}, {1, letters("CE")}, {1, letters("D")}, {1, letters("E")},
	})
	res, err := STV(6, 4, ballots, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Elected, []int{0, 1, 2, 3}) || len(res.Stages) != 6 {
		t.Fatalf("elected %v in %d stages", res.Elected, len(res.Stages))
	}
	s := res.Stages
	if s[2].From != 1 || s[2].TieBreak == nil || s[2].TieBreak.Rule != "earlier-stage" || s[2].TieBreak.Stage != 1 {
		t.Errorf("stage 3 %+v", s[2])
	}
	if !slices.Equal(s[3].TransferValues, []TransferValue{{One, 20000, 1, 1}, {50000, 10000, 8, 0}}) || s[3].NonTransferable != 80000 {
		t.Errorf("stage 4 %+v", s[3])
	}
	if !slices.Equal(s[3].Votes, []Value{4 * One, 4 * One, 4 * One, 2 * One, 120000, 0}) {
		t.Errorf("stage 4 votes %v", s[3].Votes)
	}
	if s[4].From != 5 || s[5].From != 4 || !slices.Equal(s[5].LastVacancies, []int{3}) || res.NonTransferable != 200000 {
		t.Errorf("stages 5-6 %+v %+v", s[4], s[5])
	}
	checkSTVInvariants(t, res)
}

// breakTie, the rule shared by IRV and rules 49(2)-(3) and 51(2): going
// back stage by stage, keeping the tied candidates with the fewest
// (exclusion) or most (surplus) votes, then the lot.
func TestBreakTie(t *testing.T) {
	history := [][]int64{
		{600000, 500000, 100000}, // stage 1: X 6, Y 5
		{700000, 700000, 100000}, // stage 2: both 7 (equal surpluses)
	}
	lotPos := []int{0, 1, 2}
	got, tb := breakTie([]int{0, 1}, history, false, lotPos)
	if got != 0 || tb.Rule != "earlier-stage" || tb.Stage != 1 {
		t.Errorf("surplus tie: %d %+v", got, tb)
	}
	got, tb = breakTie([]int{0, 1}, history, true, lotPos)
	if got != 1 || tb.Rule != "earlier-stage" {
		t.Errorf("exclusion tie: %d %+v", got, tb)
	}
	// Three tied, two still tied at stage 2, settled at stage 1.
	history = [][]int64{{1, 2, 3}, {5, 5, 6}, {7, 7, 7}}
	got, tb = breakTie([]int{0, 1, 2}, history, true, lotPos)
	if got != 0 || tb.Stage != 1 {
		t.Errorf("three-way exclusion tie: %d %+v", got, tb)
	}
	got, tb = breakTie([]int{0, 1, 2}, history, false, lotPos)
	if got != 2 || tb.Stage != 2 {
		t.Errorf("three-way surplus tie: %d %+v", got, tb)
	}
	history = [][]int64{{5, 5, 5}, {7, 7, 7}}
	// Lot 1, 2, 0: positions 0→2, 1→0, 2→1; the latest in the lot (0) is excluded.
	got, tb = breakTie([]int{0, 1, 2}, history, true, []int{2, 0, 1})
	if got != 0 || tb.Rule != "lot" {
		t.Errorf("lot exclusion: %d %+v", got, tb)
	}
}

// checkSTVInvariants checks what must hold of every count: the value of the
// papers is conserved (votes + non-transferable + loss = papers, exactly),
// the loss of a surplus transfer is less than one unit per paper
// transferred, every elected candidate reached the quota or was elected as
// one of the last remaining (rule 52), and the seats are filled as far as
// there are candidates.
func checkSTVInvariants(t *testing.T, res *STVResult) {
	t.Helper()
	var nt, loss Value
	reached := map[int]bool{}
	last := map[int]bool{}
	for _, s := range res.Stages {
		nt += s.NonTransferable
		loss += s.Loss
		var sum Value
		for _, v := range s.Votes {
			sum += v
		}
		if sum+nt+loss != Value(res.Ballots)*One {
			t.Errorf("stage %d: votes %v + non-transferable %v + loss %v ≠ %d papers", s.Stage, sum, nt, loss, res.Ballots)
		}
		papers := 0
		for _, g := range s.TransferValues {
			papers += g.Papers
		}
		if s.Loss < 0 || (s.Kind == "surplus" && s.Loss >= Value(max(papers, 1))) || (s.Kind != "surplus" && s.Loss != 0) {
			t.Errorf("stage %d: loss %v over %d papers", s.Stage, s.Loss, papers)
		}
		for _, c := range s.Elected {
			if s.Votes[c] < res.Quota {
				t.Errorf("stage %d: %d elected with %v < quota %v", s.Stage, c, s.Votes[c], res.Quota)
			}
			reached[c] = true
		}
		for _, c := range s.LastVacancies {
			last[c] = true
		}
	}
	if nt != res.NonTransferable || loss != res.Loss {
		t.Errorf("totals %v %v, stages sum to %v %v", res.NonTransferable, res.Loss, nt, loss)
	}
	seen := map[int]bool{}
	for _, c := range res.Elected {
		if seen[c] {
			t.Errorf("%d elected twice", c)
		}
		seen[c] = true
		if !reached[c] && !last[c] {
			t.Errorf("%d elected without the quota or rule 52", c)
		}
	}
	if want := min(res.Seats, res.Candidates); len(res.Elected) != want {
		t.Errorf("%d elected, want %d", len(res.Elected), want)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Error(err)
	}
}

func randomRankings(r *rand.Rand, candidates, n int) []Ranking {
	out := make([]Ranking, n)
	for i := range out {
		p := r.Perm(candidates)
		out[i] = Ranking(p[:1+r.IntN(candidates)])
	}
	return out
}

func TestSTVInvariantsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + r.IntN(7)
		seats := 1 + r.IntN(n+1)
		ballots := randomRankings(r, n, r.IntN(80))
		res, err := STV(n, seats, ballots, LotFromSeed([]byte{byte(n)}, n))
		if err != nil {
			t.Fatal(err)
		}
		checkSTVInvariants(t, res)
		if t.Failed() {
			t.Fatalf("n=%d seats=%d ballots=%v", n, seats, ballots)
		}
	}
}
