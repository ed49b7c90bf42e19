package chain_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/wire"
)

// TestSwappedContests: a cast whose first two contests' encrypted data are
// swapped and signed again is refused as an invalid proof (7) naming the
// contest, not as malformed (1, "not a canonical scalar"): its framing and
// size are right, its contests' proofs are not. The same holds when the
// block verifies it (no CheckTx before), and for an audit of such a ballot
// (13). A truncated cast is still malformed, and an honest voter's ballot in
// the same block is accepted.
func TestSwappedContests(t *testing.T) {
	h, e, be := setup(t)
	choices := ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID)
	swapped := func(voter int) ([]byte, *ballot.Ballot) {
		_, b := e.Cast(t, be, voter, choices)
		if len(b.Contests[0].Selections) == len(b.Contests[1].Selections) {
			t.Fatal("the first two contests have the same layout: the test needs different ones")
		}
		b.Contests[0], b.Contests[1] = b.Contests[1], b.Contests[0]
		c, err := be.Sign(e.Credentials[voter], b)
		if err != nil {
			t.Fatal(err)
		}
		return wire.Encode(&wire.Ballot{ElectionID: "city-2026", Cast: c.Encode()}), b
	}
	checked, _ := swapped(0)
	// The swapped data are read in the manifest's layout: the first contest
	// whose bytes do not decode as its own names the refusal, which depends
	// on the random bytes (a misplaced 32-byte string is a canonical point
	// about one time in 8), so the contest is not always the first.
	const aContest = `contest "contest-`
	if r := h.check(checked); r.Code != uint32(wire.CodeInvalidProof) || !strings.Contains(r.Log, aContest) {
		t.Errorf("CheckTx of swapped contests: code %d %q, want %d naming a contest", r.Code, r.Log, wire.CodeInvalidProof)
	}
	unchecked, _ := swapped(1)
	honest, _ := e.Cast(t, be, 2, choices)
	cast, _ := be.Sign(e.Credentials[3], mustEncrypt(t, be, e.Credentials[3].PublicKey(), choices))
	truncated := wire.Encode(&wire.Ballot{ElectionID: "city-2026", Cast: cast.Encode()[:len(cast.Encode())-70]})

	// An audit of a ballot with swapped contests, signed by its credential.
	b, sec, err := be.Encrypt(rand.Reader, e.Credentials[4].PublicKey(), choices)
	if err != nil {
		t.Fatal(err)
	}
	b.Contests[0], b.Contests[1] = b.Contests[1], b.Contests[0]
	sec.Marks[0], sec.Marks[1] = sec.Marks[1], sec.Marks[0]
	sec.Randomness[0], sec.Randomness[1] = sec.Randomness[1], sec.Randomness[0]
	a, err := be.SignAudit(e.Credentials[4], b, sec)
	if err != nil {
		t.Fatal(err)
	}
	aj, _ := a.MarshalJSON()
	audit := wire.Encode(&wire.Audit{ElectionID: "city-2026", File: aj})

	want := []struct {
		name string
		code uint32
		says string
	}{
		{"swapped contests, checked before", uint32(wire.CodeInvalidProof), aContest},
		{"swapped contests, first seen in the block", uint32(wire.CodeInvalidProof), aContest},
		{"honest ballot", 0, ""},
		{"truncated cast", uint32(wire.CodeMalformed), "malformed"},
		{"audit of swapped contests", uint32(wire.CodeInvalidAudit), aContest},
	}
	for i, r := range h.block(checked, unchecked, honest, truncated, audit) {
		if r.Code != want[i].code || !strings.Contains(r.Log, want[i].says) {
			t.Errorf("%s: block code %d %q, want %d saying %q", want[i].name, r.Code, r.Log, want[i].code, want[i].says)
		}
	}
}

func mustEncrypt(t *testing.T, be *ballot.Election, pub []byte, p *ballot.Plaintext) *ballot.Ballot {
	t.Helper()
	b, _, err := be.Encrypt(rand.Reader, pub, p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
