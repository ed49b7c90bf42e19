package count

import (
	"slices"
	"testing"
)

func toBytes(r []int) []byte {
	b := make([]byte, len(r))
	for i, x := range r {
		b[i] = byte(int8(x))
	}
	return b
}

func ints(data []byte) []int {
	out := make([]int, len(data))
	for i, b := range data {
		out[i] = int(int8(b))
	}
	return out
}

// FuzzCheckRanking: any bytes give a result, never a panic; a ranking the
// check accepts is counted by IRV and STV, and round-trips through Ranks.
func FuzzCheckRanking(f *testing.F) {
	f.Add([]byte{2, 0, 1}, uint8(3))
	f.Add([]byte{}, uint8(3))
	f.Add([]byte{1, 0, 1}, uint8(3))
	f.Add([]byte{0xff}, uint8(2))
	f.Add([]byte{0}, uint8(0))
	seedFromVectors(f, func(r []int) { f.Add(toBytes(r), uint8(len(r))) })
	f.Fuzz(func(t *testing.T, data []byte, nc uint8) {
		n := int(nc % 12)
		r := Ranking(ints(data))
		err := CheckRanking(r, n)
		if err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			if _, err2 := IRV(n, []Ranking{r}, nil); err2 == nil {
				t.Fatal("IRV accepted an invalid ballot")
			}
			return
		}
		if _, err := IRV(n, []Ranking{r, r}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := STV(n, 1+len(r)%n, []Ranking{r}, nil); err != nil {
			t.Fatal(err)
		}
		back, err := RankingFromRanks(RanksOf(r, n), n)
		if err != nil || !slices.Equal(back, r) {
			t.Fatalf("round trip %v → %v, %v", r, back, err)
		}
	})
}

// FuzzCheckRanks: a rank ballot the check accepts is counted by Schulze;
// without ties it converts to a Ranking that passes CheckRanking and back.
func FuzzCheckRanks(f *testing.F) {
	f.Add([]byte{2, 1, 3}, true)
	f.Add([]byte{1, 1, 2}, false)
	f.Add([]byte{1, 3, 0}, true)
	f.Add([]byte{0, 0, 0}, true)
	f.Add([]byte{1, 4, 2}, false)
	seedFromVectors(f, func(r []int) { f.Add(toBytes(r), true); f.Add(toBytes(r), false) })
	f.Fuzz(func(t *testing.T, data []byte, ties bool) {
		r := Ranks(ints(data))
		n := len(r)
		// STVBallot accepts more than CheckRanks (it truncates), never panics,
		// and what it returns is a well-formed ranking.
		if rk, err := STVBallot(r, n); err == nil {
			if err := CheckRanking(rk, n); err != nil {
				t.Fatalf("STVBallot(%v) = %v: %v", r, rk, err)
			}
		} else if ReasonOf(err) == "" {
			t.Fatalf("STVBallot error without a reason: %v", err)
		}
		err := CheckRanks(r, n, ties)
		if err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			if ties {
				if _, err2 := Schulze(max(n, 1), []Ranks{r}, nil); err2 == nil {
					t.Fatal("Schulze accepted an invalid ballot")
				}
			}
			return
		}
		if _, err := Schulze(n, []Ranks{r}, nil); err != nil {
			t.Fatal(err)
		}
		if ties {
			return
		}
		rk, err := RankingFromRanks(r, n)
		if err != nil || CheckRanking(rk, n) != nil || !slices.Equal(RanksOf(rk, n), r) {
			t.Fatalf("%v → %v, %v", r, rk, err)
		}
		if s, err := STVBallot(r, n); err != nil || !slices.Equal(s, rk) {
			t.Fatalf("STVBallot(%v) = %v, %v; RankingFromRanks gives %v", r, s, err, rk)
		}
	})
}

// FuzzCheckGrades: a grade ballot the check accepts is counted.
func FuzzCheckGrades(f *testing.F) {
	f.Add([]byte{0, 3, 1}, uint8(3), uint8(4))
	f.Add([]byte{0, 4}, uint8(2), uint8(4))
	f.Add([]byte{0xff}, uint8(1), uint8(1))
	seedFromVectors(f, func(r []int) { f.Add(toBytes(r), uint8(len(r)), uint8(4)) })
	f.Fuzz(func(t *testing.T, data []byte, nc, ng uint8) {
		g := Grades(ints(data))
		n, k := int(nc%10), int(ng%8)
		err := CheckGrades(g, n, k)
		if err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		names := make([]string, k)
		if _, err := MajorityJudgment(names, n, []Grades{g}, nil); err != nil {
			t.Fatal(err)
		}
	})
}
