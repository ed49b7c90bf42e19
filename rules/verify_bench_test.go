package rules_test

import (
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// BenchmarkVerifyCasts10 is everything a node must verify of the cluster
// benchmark's ballot (election-configs/benchmark-10-selections.yaml: up to
// 3 of 7, exactly 1 of 3): 100 signed casts, from their bytes (framing,
// signature, decoding of every point, every proof) in one batch on one
// core, per ballot. docs/benchmarks.md compares the cluster's node CPU per
// committed ballot with it.
func BenchmarkVerifyCasts10(b *testing.B) {
	m := ballottest.Manifest("bench-10", []ballot.Rule{{Kind: ballot.UpTo, Max: 3}, {Kind: ballot.Exactly, Count: 1}}, []int{7, 3})
	voters := make([]credential.Entry, 100)
	for i := range voters {
		voters[i] = credential.Entry{Style: ballot.DefaultStyleID, Weight: 1}
	}
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	e := chaintest.NewWith(b, "bench-chain", "bench-10", m, voters, t0, t0.Add(time.Hour))
	e.SetupBlocks(b) // the trustees' ceremony: the election key
	be := e.BallotElection(b)
	p := &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{"contest-1": {"option-1", "option-4", "option-7"}, "contest-2": {"option-2"}}}
	var casts [][]byte
	for i := range voters {
		tx, _ := e.Cast(b, be, i, p)
		d, err := wire.Decode(tx)
		if err != nil {
			b.Fatal(err)
		}
		casts = append(casts, d.(*wire.Ballot).Cast)
	}
	for b.Loop() {
		for i, v := range rules.VerifyBatch(be, casts, 1) {
			if v.Err != nil {
				b.Fatalf("cast %d: %v", i, v.Err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(casts)), "ns/ballot")
}
