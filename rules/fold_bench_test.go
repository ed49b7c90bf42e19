package rules

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/crypto"
)

// BenchmarkFoldBallot measures what the rules do to fold one accepted
// ten-contest, 30-selection ballot into the running totals: decode nothing
// (the ciphertexts come decoded from verification), multiply each
// ciphertext by the credential's weight, and add it to its total. Weight 1
// is the unweighted baseline; 12 is a typical share count; 2^40−1 is the
// largest weight a roll allows (40 doublings per point).
func BenchmarkFoldBallot(b *testing.B) {
	m := ballottest.TenByThree()
	be, _ := ballottest.Election(b, m)
	p := ballottest.FirstChoices(m, ballot.DefaultStyleID)
	bal, _, err := be.Encrypt(rand.Reader, ballottest.Credential(), p)
	if err != nil {
		b.Fatal(err)
	}
	var cts []crypto.Ciphertext
	for _, c := range bal.Contests {
		for _, s := range c.Selections {
			cts = append(cts, s.Ciphertext)
		}
	}
	ec := &Election{Manifest: m, Ballot: be}
	for _, w := range []uint64{1, 12, 1<<40 - 1} {
		b.Run(fmt.Sprintf("weight=%d", w), func(b *testing.B) {
			totals := make([]crypto.Ciphertext, len(cts))
			for i := range totals {
				totals[i] = crypto.ZeroCiphertext()
			}
			b.ReportAllocs()
			for b.Loop() {
				d, err := ballotDelta(ec, ballot.DefaultStyleID, nil, cts, w)
				if err != nil {
					b.Fatal(err)
				}
				for i, p := range d.pos {
					totals[p] = totals[p].Add(d.cts[i])
				}
			}
		})
	}
}
