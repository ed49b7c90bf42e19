package count

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

func mustJSON(t *testing.T, v any, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomRanks(r *rand.Rand, candidates, n int) []Ranks {
	out := make([]Ranks, n)
	for i := range out {
		// Distinct levels 1..m, each candidate at a level or unranked.
		m := 1 + r.IntN(candidates)
		b := make(Ranks, candidates)
		for c := range b {
			b[c] = r.IntN(m + 1)
		}
		b[r.IntN(candidates)] = 1
		// Close gaps: renumber the used levels densely.
		used := make([]bool, m+1)
		for _, k := range b {
			used[k] = true
		}
		dense := make([]int, m+1)
		next := 1
		for k := 1; k <= m; k++ {
			if used[k] {
				dense[k] = next
				next++
			}
		}
		for c, k := range b {
			b[c] = dense[k]
		}
		out[i] = b
	}
	return out
}

func randomGrades(r *rand.Rand, candidates, grades, n int) []Grades {
	out := make([]Grades, n)
	for i := range out {
		out[i] = make(Grades, candidates)
		for c := range out[i] {
			out[i][c] = r.IntN(grades)
		}
	}
	return out
}

func shuffled[B any](r *rand.Rand, bs []B) []B {
	out := append([]B(nil), bs...)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Each method gives the same record (byte for byte as JSON) when run twice
// and when the ballots are given in another order.
func TestDeterministicAndOrderInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		n := 1 + r.IntN(6)
		lot := LotFromSeed([]byte{byte(r.IntN(256))}, n)
		rk := randomRankings(r, n, r.IntN(60))
		rs := randomRanks(r, n, r.IntN(60))
		gs := randomGrades(r, n, 1+r.IntN(5), r.IntN(60))
		grades := []string{"A", "B", "C", "D", "E"}[:1+maxGrade(gs)]
		seats := 1 + r.IntN(n)
		run := func(rk []Ranking, rs []Ranks, gs []Grades) [4][]byte {
			i, err := IRV(n, rk, lot)
			a := mustJSON(t, i, err)
			s, err := STV(n, seats, rk, lot)
			b := mustJSON(t, s, err)
			z, err := Schulze(n, rs, lot)
			c := mustJSON(t, z, err)
			m, err := MajorityJudgment(grades, n, gs, lot)
			d := mustJSON(t, m, err)
			return [4][]byte{a, b, c, d}
		}
		first := run(rk, rs, gs)
		again := run(rk, rs, gs)
		other := run(shuffled(r, rk), shuffled(r, rs), shuffled(r, gs))
		for k, name := range []string{"IRV", "STV", "Schulze", "MajorityJudgment"} {
			if !bytes.Equal(first[k], again[k]) {
				t.Fatalf("%s not deterministic", name)
			}
			if !bytes.Equal(first[k], other[k]) {
				t.Fatalf("%s depends on ballot order:\n%s\n%s", name, first[k], other[k])
			}
		}
	}
}

func maxGrade(gs []Grades) int {
	m := 0
	for _, g := range gs {
		for _, x := range g {
			m = max(m, x)
		}
	}
	return m
}

// A Condorcet winner (beats every other candidate pairwise) is the Schulze
// winner, alone in the first class.
func TestSchulzeCondorcetWinner(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	found := 0
	for range 3000 {
		n := 2 + r.IntN(5)
		ballots := randomRanks(r, n, 1+r.IntN(25))
		res, err := Schulze(n, ballots, nil)
		if err != nil {
			t.Fatal(err)
		}
		for c := range n {
			wins := true
			for j := range n {
				if j != c && res.D[c][j] <= res.D[j][c] {
					wins = false
				}
			}
			if wins {
				found++
				if res.Winner != c || len(res.Classes[0]) != 1 {
					t.Fatalf("Condorcet winner %d, Schulze %d (classes %v, d %v)", c, res.Winner, res.Classes, res.D)
				}
			}
		}
	}
	if found < 500 {
		t.Errorf("only %d elections with a Condorcet winner", found)
	}
}

// IRV and STV with one seat elect the same candidate. Both exclude the
// lowest with the same tie-break, and a candidate with a majority of the
// active ballots (where IRV stops) is never the lowest afterwards, so STV
// elects it by the quota or as the last remaining. Checked on every random
// election, ties included.
func TestIRVEqualsSTVOneSeat(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 3000 {
		n := 1 + r.IntN(7)
		ballots := randomRankings(r, n, r.IntN(50))
		lot := LotFromSeed([]byte{byte(n), 1}, n)
		i, err := IRV(n, ballots, lot)
		if err != nil {
			t.Fatal(err)
		}
		s, err := STV(n, 1, ballots, lot)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Elected) != 1 || s.Elected[0] != i.Winner {
			t.Fatalf("IRV %d, STV %v, ballots %v", i.Winner, s.Elected, ballots)
		}
	}
}
