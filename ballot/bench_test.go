package ballot_test

import (
	"crypto/rand"
	"testing"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/crypto"
)

// The benchmark ballot: 10 contests of 3 selections, "exactly 1" each.

func BenchmarkEncryptBallot10x3(b *testing.B) {
	m := ballottest.TenByThree()
	e, _ := ballottest.Election(b, m)
	p := ballottest.FirstChoices(m, ballot.DefaultStyleID)
	cred := ballottest.Credential()
	for b.Loop() {
		if _, _, err := e.Encrypt(rand.Reader, cred, p); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBallots(b *testing.B, n int) (*ballot.Election, []*ballot.Ballot) {
	m := ballottest.TenByThree()
	e, _ := ballottest.Election(b, m)
	p := ballottest.FirstChoices(m, ballot.DefaultStyleID)
	var bs []*ballot.Ballot
	for range n {
		bl, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), p)
		if err != nil {
			b.Fatal(err)
		}
		bs = append(bs, bl)
	}
	return e, bs
}

// BenchmarkVerifyBallot10x3 verifies one ballot: each proof on its own
// ("each"), or all 40 proofs of the ballot in one batch ("batched").
func BenchmarkVerifyBallot10x3(b *testing.B) {
	e, bs := benchBallots(b, 1)
	b.Run("each", func(b *testing.B) {
		for b.Loop() {
			if err := e.ValidateEach(bs[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("batched", func(b *testing.B) {
		for b.Loop() {
			if err := e.Validate(bs[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyBlock10x3 verifies 100 ballots in one batch, as an
// authority node does for a block; reported per ballot, on one core.
func BenchmarkVerifyBlock10x3(b *testing.B) {
	e, bs := benchBallots(b, 100)
	verifyBlock(b, e, bs)
}

// verifyBlock verifies bs in one batch on one core, b.N times, and reports
// the time per ballot.
func verifyBlock(b *testing.B, e *ballot.Election, bs []*ballot.Ballot) {
	for b.Loop() {
		batch, _ := crypto.NewBatch(nil)
		batch.Workers = 1
		for _, bl := range bs {
			if _, err := e.AddToBatch(batch, bl); err != nil {
				b.Fatal(err)
			}
		}
		if f := batch.Verify(); f != nil {
			b.Fatal(f)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bs)), "ns/ballot")
}

// BenchmarkVerifyBlankContest prices count_blank: one contest "up-to 3"
// of 7, without and with count_blank (one more ciphertext with its 0/1
// proof and a blank range proof of 4 branches), in the same run. "ballot"
// verifies one ballot in a batch of its own, "block" 100 ballots in one
// batch on one core, reported per ballot, as an authority node does.
func BenchmarkVerifyBlankContest(b *testing.B) {
	for _, countBlank := range []bool{false, true} {
		m := ballottest.Manifest("blank-bench", []ballot.Rule{{Kind: ballot.UpTo, Max: 3}}, []int{7})
		m.Contests[0].CountBlank = countBlank
		e, _ := ballottest.Election(b, m)
		var bs []*ballot.Ballot
		for i := range 100 {
			p := &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{}}
			if i%4 != 0 { // a quarter of the ballots blank
				p.Choices["contest-1"] = []string{"option-2", "option-5"}
			}
			bl, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), p)
			if err != nil {
				b.Fatal(err)
			}
			bs = append(bs, bl)
		}
		name := map[bool]string{false: "plain", true: "count_blank"}[countBlank]
		b.Run(name+"/ballot", func(b *testing.B) {
			for b.Loop() {
				if err := e.Validate(bs[0]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(bs[0].Encode())), "bytes/ballot")
		})
		b.Run(name+"/block", func(b *testing.B) { verifyBlock(b, e, bs) })
	}
}
