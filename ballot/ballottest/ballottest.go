// Package ballottest builds elections, keys and ballots for tests of evote's
// packages. Production code never imports it.
package ballottest

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/crypto"
)

// Manifest returns a valid manifest with the given contests: rules[i] is the
// rule of contest i and sizes[i] its number of selections.
func Manifest(id string, rules []ballot.Rule, sizes []int) *ballot.Manifest {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	m := &ballot.Manifest{
		ElectionID: id,
		Title:      "Test election " + id,
		Start:      time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC),
		End:        time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC),
		Trustees: ballot.Trustees{Threshold: 2, Members: []ballot.Trustee{
			{Index: 1, Name: "Ada"}, {Index: 2, Name: "Grace"}, {Index: 3, Name: "Edsger"}}},
		Authorities: []ballot.Authority{{ID: "org-a", Name: "Org A"}, {ID: "org-b", Name: "Org B"},
			{ID: "org-c", Name: "Org C"}, {ID: "org-d", Name: "Org D"}},
		Officials: []ballot.Official{{Name: "Returning officer", PublicKey: pub}},
		Voters:    ballot.Voters{RollSize: 1000},
	}
	for i, r := range rules {
		c := ballot.Contest{ID: fmt.Sprintf("contest-%d", i+1), Title: fmt.Sprintf("Contest %d", i+1), Rule: r}
		for k := range sizes[i] {
			c.Selections = append(c.Selections, ballot.Selection{ID: fmt.Sprintf("option-%d", k+1), Title: fmt.Sprintf("Option %d", k+1)})
		}
		m.Contests = append(m.Contests, c)
	}
	return m
}

// Mixed returns a manifest with one contest of each rule kind.
func Mixed() *ballot.Manifest {
	return Manifest("mixed-test", []ballot.Rule{
		{Kind: ballot.Exactly, Count: 1},
		{Kind: ballot.UpTo, Max: 3},
		{Kind: ballot.Range, Min: 1, Max: 2},
		{Kind: ballot.Approval},
	}, []int{4, 7, 3, 3})
}

// TenByThree returns a manifest of 10 contests of 3 selections each, each
// "exactly 1": 30 selections, the ballot size of the benchmarks.
func TenByThree() *ballot.Manifest {
	rules := make([]ballot.Rule, 10)
	sizes := make([]int, 10)
	for i := range rules {
		rules[i], sizes[i] = ballot.Rule{Kind: ballot.Exactly, Count: 1}, 3
	}
	return Manifest("ten-by-three", rules, sizes)
}

// Election binds m to a fresh single-holder key and returns the election and
// the secret key (tests decrypt with it; real elections have no such key).
func Election(tb testing.TB, m *ballot.Manifest) (*ballot.Election, crypto.Scalar) {
	tb.Helper()
	sk, err := crypto.RandomNonZeroScalar(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := ballot.NewElection(m, crypto.BaseMul(sk))
	if err != nil {
		tb.Fatal(err)
	}
	return e, sk
}

// Credential returns a random 32-byte credential public key.
func Credential() []byte {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	return pub
}

// FirstChoices marks, in every contest of the style, the first
// MinSelections (at least one, at most MaxSelections) selections.
func FirstChoices(m *ballot.Manifest, style string) *ballot.Plaintext {
	p := &ballot.Plaintext{StyleID: style, Choices: map[string][]string{}}
	cs, _ := m.StyleContests(style)
	for _, c := range cs {
		n := max(c.MinSelections(), 1)
		n = min(n, c.MaxSelections())
		for _, s := range c.Selections[:n] {
			p.Choices[c.ID] = append(p.Choices[c.ID], s.ID)
		}
	}
	return p
}

// Districts returns Mixed with two ballot styles: "north" holds contests 1
// to 3, "south" contests 1, 2 and 4.
func Districts() *ballot.Manifest {
	m := Mixed()
	m.ElectionID = "districts-test"
	m.Styles = []ballot.Style{
		{ID: "north", Contests: []string{"contest-1", "contest-2", "contest-3"}},
		{ID: "south", Contests: []string{"contest-1", "contest-2", "contest-4"}},
	}
	return m
}

// Blank returns a manifest whose contests have blank counts of each kind:
// contest 1 "up-to 2" of 3 counting its blank ballots encrypted
// (count_blank), contest 2 "exactly 1" of 2 (no blank ballot), contest 3
// "up-to 1" of 2 (its blank count derived from the counts) and contest 4
// "approval" of 2 (blank ballots not counted).
func Blank() *ballot.Manifest {
	m := Manifest("blank-test", []ballot.Rule{
		{Kind: ballot.UpTo, Max: 2},
		{Kind: ballot.Exactly, Count: 1},
		{Kind: ballot.UpTo, Max: 1},
		{Kind: ballot.Approval},
	}, []int{3, 2, 2, 2})
	m.Contests[0].CountBlank = true
	return m
}
