package count

import (
	"math/rand/v2"
	"testing"
)

// Benchmarks on 100,000 random ballots over 10 candidates (run with
// -benchtime=1x on the shared machine).
const benchBallots, benchCandidates = 100000, 10

func BenchmarkIRV(b *testing.B) {
	ballots := randomRankings(rand.New(rand.NewPCG(1, 1)), benchCandidates, benchBallots)
	for b.Loop() {
		if _, err := IRV(benchCandidates, ballots, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSTV3Seats(b *testing.B) {
	ballots := randomRankings(rand.New(rand.NewPCG(1, 1)), benchCandidates, benchBallots)
	for b.Loop() {
		if _, err := STV(benchCandidates, 3, ballots, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSchulze(b *testing.B) {
	ballots := randomRanks(rand.New(rand.NewPCG(1, 1)), benchCandidates, benchBallots)
	for b.Loop() {
		if _, err := Schulze(benchCandidates, ballots, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMajorityJudgment(b *testing.B) {
	ballots := randomGrades(rand.New(rand.NewPCG(1, 1)), benchCandidates, 6, benchBallots)
	grades := []string{"1", "2", "3", "4", "5", "6"}
	for b.Loop() {
		if _, err := MajorityJudgment(grades, benchCandidates, ballots, nil); err != nil {
			b.Fatal(err)
		}
	}
}
