package count

import (
	"slices"
	"testing"
)

// Wikipedia, "Schulze method", the example with 45 voters and 5 candidates
// (A-E); the article gives the matrix of pairwise preferences d, the
// strongest paths p, and the order E > A > C > B > D.
func TestSchulzeWikipedia45(t *testing.T) {
	var ballots []Ranks
	for _, g := range []group[string]{
		{5, "ACBED"}, {5, "ADECB"}, {8, "BEDAC"}, {3, "CABED"},
		{7, "CAEBD"}, {2, "CBADE"}, {7, "DCEBA"}, {8, "EBADC"},
	} {
		for range g.n {
			ballots = append(ballots, RanksOf(letters(g.b), 5))
		}
	}
	res, err := Schulze(5, ballots, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := [][]int64{
		{0, 20, 26, 30, 22},
		{25, 0, 16, 33, 18},
		{19, 29, 0, 17, 24},
		{15, 12, 28, 0, 14},
		{23, 27, 21, 31, 0},
	}
	p := [][]int64{
		{0, 28, 28, 30, 24},
		{25, 0, 28, 33, 24},
		{25, 29, 0, 29, 24},
		{25, 28, 28, 0, 24},
		{25, 28, 28, 31, 0},
	}
	for i := range 5 {
		if !slices.Equal(res.D[i], d[i]) {
			t.Errorf("d[%c] = %v, want %v", 'A'+i, res.D[i], d[i])
		}
		if !slices.Equal(res.P[i], p[i]) {
			t.Errorf("p[%c] = %v, want %v", 'A'+i, res.P[i], p[i])
		}
	}
	const A, B, C, D, E = 0, 1, 2, 3, 4
	if res.Winner != E || !slices.Equal(res.Order, []int{E, A, C, B, D}) || res.TieBroken {
		t.Errorf("winner %d order %v tie %v", res.Winner, res.Order, res.TieBroken)
	}
}

// A three-way cycle with equal strengths is a tie of the method; the lot
// orders it and the record says so.
func TestSchulzeTie(t *testing.T) {
	ballots := []Ranks{{1, 2, 3}, {3, 1, 2}, {2, 3, 1}}
	res, err := Schulze(3, ballots, Lot{2, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Classes) != 1 || !slices.Equal(res.Order, []int{2, 0, 1}) || !res.TieBroken || res.Winner != 2 {
		t.Errorf("%+v", res)
	}
}

// Equal ranks and unranked candidates: {A=1, B=1, C unranked} prefers A and
// B to C and neither A nor B to the other.
func TestSchulzeTiesInBallot(t *testing.T) {
	res, err := Schulze(3, []Ranks{{1, 1, 0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int64{{0, 0, 1}, {0, 0, 1}, {0, 0, 0}}
	for i := range 3 {
		if !slices.Equal(res.D[i], want[i]) {
			t.Errorf("d = %v", res.D)
		}
	}
	if !slices.Equal(res.Classes[0], []int{0, 1}) || !slices.Equal(res.Classes[1], []int{2}) {
		t.Errorf("classes %v", res.Classes)
	}
	if _, err := Schulze(3, []Ranks{{1, 3, 0}}, nil); ReasonOf(err) != ReasonRankGap {
		t.Errorf("gap: %v", err)
	}
}
