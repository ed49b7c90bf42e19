package ballot_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"slices"
	"testing"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
)

var cheapKDF = credential.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

func newCredential(t *testing.T, electionID string) *credential.Credential {
	t.Helper()
	code, err := credential.NewCode(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := credential.Derive(code, electionID, cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCastSignature(t *testing.T) {
	m := ballottest.Mixed()
	e, _ := ballottest.Election(t, m)
	voter, stranger := newCredential(t, m.ElectionID), newCredential(t, m.ElectionID)
	roll, err := credential.NewRoll(m.ElectionID, cheapKDF, []ed25519.PublicKey{voter.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := e.Encrypt(rand.Reader, voter.PublicKey(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.Sign(voter, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.VerifyCast(c, roll.Contains); err != nil {
		t.Fatalf("valid cast: %v", err)
	}
	d, err := e.DecodeCast(c.Encode())
	if err != nil || e.VerifyCast(d, roll.Contains) != nil || d.Ballot.Hash() != b.Hash() {
		t.Fatalf("round trip: %v", err)
	}
	// Signed by someone else than the ballot's credential.
	if _, err := e.Sign(stranger, b); err == nil {
		t.Fatal("signed a ballot encrypted for another credential")
	}
	// A credential not on the roll.
	sb, _, _ := e.Encrypt(rand.Reader, stranger.PublicKey(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
	sc, _ := e.Sign(stranger, sb)
	if err := e.VerifyCast(sc, roll.Contains); !errors.Is(err, ballot.ErrNotOnRoll) {
		t.Fatalf("credential not on the roll: %v", err)
	}
	// Every byte of the signature mutated.
	for i := range c.Signature {
		forged := &ballot.Cast{Ballot: b, Signature: slices.Clone(c.Signature)}
		forged.Signature[i] ^= 0x01
		if err := e.VerifyCast(forged, roll.Contains); !errors.Is(err, credential.ErrBadSignature) {
			t.Fatalf("signature byte %d mutated: %v", i, err)
		}
	}
	// The same signed ballot in another election (another key) fails.
	e2, _ := ballottest.Election(t, m)
	if err := e2.VerifyCast(c, roll.Contains); !errors.Is(err, credential.ErrBadSignature) {
		t.Fatalf("cast replayed in another election: %v", err)
	}
	if _, err := e.DecodeCast(c.Encode()[:100]); !errors.Is(err, ballot.ErrMalformed) {
		t.Fatalf("truncated cast: %v", err)
	}
	// CastHash reads the hash from the bytes, without decoding the ballot.
	if h, err := e.CastHash(c.Encode()); err != nil || h != b.Hash() {
		t.Fatalf("CastHash: %x, %v; want %x", h, err, b.Hash())
	}
	if _, err := e.CastHash(c.Encode()[:100]); !errors.Is(err, ballot.ErrMalformed) {
		t.Fatalf("CastHash of a truncated cast: %v", err)
	}
}
