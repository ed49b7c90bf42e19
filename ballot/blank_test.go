package ballot_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/crypto"
)

// decryptBit decrypts a ciphertext that must encrypt 0 or 1.
func decryptBit(t *testing.T, ct crypto.Ciphertext, sk crypto.Scalar) uint64 {
	t.Helper()
	switch p := ct.DecryptToPoint(sk); {
	case p.IsIdentity():
		return 0
	case p.IsEqual(crypto.Generator()):
		return 1
	}
	t.Fatal("the ciphertext decrypts to neither 0 nor 1")
	return 0
}

// TestBlankEncryptValidate encrypts ballots of a count_blank contest, blank
// and not, and checks that the blank ciphertext encrypts 1 exactly for the
// blank ones, that every validator accepts them, and that the encoding, the
// ciphertext bytes and the totals positions carry it after the contest's
// selections.
func TestBlankEncryptValidate(t *testing.T) {
	m := ballottest.Blank()
	e, sk := ballottest.Election(t, m)
	for _, marks := range [][]string{nil, {"option-1"}, {"option-2", "option-3"}} {
		p := &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{"contest-1": marks, "contest-2": {"option-1"}}}
		b, sec, err := e.Encrypt(rand.Reader, ballottest.Credential(), p)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range b.Contests {
			if (c.Blank != nil) != (i == 0) {
				t.Fatalf("contest %q: blank part %v", c.ContestID, c.Blank)
			}
		}
		want := uint64(0)
		if len(marks) == 0 {
			want = 1
		}
		if got := decryptBit(t, b.Contests[0].Blank.Ciphertext, sk); got != want {
			t.Fatalf("marks %v: blank ciphertext encrypts %d, want %d", marks, got, want)
		}
		if len(sec.Marks[0]) != 3 || len(sec.Randomness[0]) != 3 {
			t.Fatalf("the secrets have a blank part: %v", sec.Marks)
		}
		enc := b.Encode()
		if err := e.Validate(b); err != nil {
			t.Fatal(err)
		}
		if err := e.ValidateEach(b); err != nil {
			t.Fatal(err)
		}
		if err := validateEncoded(e, enc); err != nil {
			t.Fatal(err)
		}
		d, err := e.Decode(enc)
		if err != nil || d.Hash() != b.Hash() || !bytes.Equal(d.Encode(), enc) {
			t.Fatalf("decode round trip: %v", err)
		}
		// Size: 3+1 ciphertexts with 0/1 proofs, the range proof [0, 2]
		// and the blank range proof [1, 3] in contest 1.
		header := 3*8 + len(b.ElectionID) + len(b.StyleID) + ballot.CredentialSize
		c1 := 4*(crypto.CiphertextSize+crypto.ZeroOneProofSize) + 3*crypto.RangeBranchSize + 3*crypto.RangeBranchSize
		rest := 6*(crypto.CiphertextSize+crypto.ZeroOneProofSize) + crypto.RangeBranchSize + 2*crypto.RangeBranchSize + 3*crypto.RangeBranchSize
		if len(enc) != header+c1+rest {
			t.Fatalf("encoding of %d bytes, want %d", len(enc), header+c1+rest)
		}
		cts, err := e.CiphertextBytes(enc)
		if err != nil {
			t.Fatal(err)
		}
		var wantCts []byte
		for _, c := range b.Contests {
			for _, s := range c.Selections {
				wantCts = append(wantCts, s.Ciphertext.Encode()...)
			}
			if c.Blank != nil {
				wantCts = append(wantCts, c.Blank.Ciphertext.Encode()...)
			}
		}
		if !bytes.Equal(cts, wantCts) {
			t.Fatal("CiphertextBytes differs from the selections' and blank ciphertexts")
		}
	}
	if got := m.TotalsLayout(); !slices.Equal(got, []int{4, 2, 2, 2}) {
		t.Fatalf("totals layout %v", got)
	}
	if pos, _ := m.TotalsPositions(ballot.DefaultStyleID); len(pos) != 10 || pos[3] != 3 || pos[9] != 9 {
		t.Fatalf("totals positions %v", pos)
	}
}

// TestBlankLies is a cheating device: a blank contest with B = 0, or a
// marked one with B = 1, each with an honest 0/1 proof of B and a blank
// range proof made by claiming the value the range needs. The blank range
// proof fails, and names the contest's blank range proof.
func TestBlankLies(t *testing.T) {
	m := ballottest.Blank()
	e, _ := ballottest.Election(t, m)
	for _, tc := range []struct {
		marks []string
		lie   uint64 // the B the device encrypts
	}{{nil, 0}, {[]string{"option-1"}, 1}, {[]string{"option-1", "option-3"}, 1}} {
		p := &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{"contest-1": tc.marks, "contest-2": {"option-2"}}}
		b, sec, err := e.Encrypt(rand.Reader, ballottest.Credential(), p)
		if err != nil {
			t.Fatal(err)
		}
		forgeBlank(t, e, b, sec, tc.lie)
		for name, err := range map[string]error{"batch": e.Validate(b), "each": e.ValidateEach(b), "encoded": validateEncoded(e, b.Encode())} {
			var pe *ballot.ProofError
			if !errors.As(err, &pe) || pe.Contest != "contest-1" || pe.Selection != ballot.BlankRangeSelection {
				t.Errorf("marks %v, B = %d: %s: %v, want the blank range proof of contest-1", tc.marks, tc.lie, name, err)
			}
		}
	}
}

// forgeBlank replaces contest 1's blank part by an encryption of lie with a
// valid 0/1 proof, and a blank range proof made by claiming that the sum
// encrypts the value in range nearest to the true one.
func forgeBlank(t *testing.T, e *ballot.Election, b *ballot.Ballot, sec *ballot.Secrets, lie uint64) {
	t.Helper()
	ctx := ballotContextForTest(e, b)
	bctx := ctx.Derive("blank", []byte("contest-1"))
	ct, r, err := crypto.Encrypt(rand.Reader, e.Key, lie)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := crypto.ProveZeroOne(rand.Reader, bctx, e.Key, ct, lie, r)
	if err != nil {
		t.Fatal(err)
	}
	sum, rsum, count := crypto.ZeroCiphertext(), crypto.NewScalar(), uint64(0)
	for k, s := range b.Contests[0].Selections {
		sum = sum.Add(s.Ciphertext)
		rsum.Add(rsum, sec.Randomness[0][k])
		count += sec.Marks[0][k]
	}
	const f = 3            // max + 1
	total := count + f*lie // 0 or 4..5: outside [1, 3]
	claim := min(max(total, 1), f)
	rt := crypto.NewScalar().Mul(r, crypto.ScalarFromUint64(f))
	rt.Add(rt, rsum)
	nonces := make([]crypto.RangeNonces, f)
	for i := range nonces {
		for _, s := range []*crypto.Scalar{&nonces[i].W, &nonces[i].C, &nonces[i].V} {
			*s, _ = crypto.RandomScalar(rand.Reader)
		}
	}
	rng, err := crypto.ProveRangeWithRandomness(ballot.TagBlankRange, bctx, e.Key, sum.Add(ct.Scale(f)), claim, rt, 1, f, nonces)
	if err != nil {
		t.Fatal(err)
	}
	b.Contests[0].Blank = &ballot.EncryptedBlank{Ciphertext: ct, Proof: proof, Range: rng}
}

// ballotContextForTest recomputes a ballot's proof context as
// docs/spec-ballot.md §2 defines it.
func ballotContextForTest(e *ballot.Election, b *ballot.Ballot) crypto.Context {
	return e.BaseHash.Derive("ballot", b.Credential, []byte(b.StyleID))
}

// TestBlankStructure: a count_blank contest without its blank part, a blank
// part in another contest, a blank ciphertext with α = O, proofs of the
// wrong shape, and the blank part moved between places are each refused at
// a named layer.
func TestBlankStructure(t *testing.T) {
	m := ballottest.Blank()
	e, _ := ballottest.Election(t, m)
	b, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(cs []ballot.EncryptedContest)) *ballot.Ballot {
		o := *b
		o.Contests = slices.Clone(b.Contests)
		blank := *b.Contests[0].Blank
		o.Contests[0].Blank = &blank
		f(o.Contests)
		return &o
	}
	malformed := map[string]*ballot.Ballot{
		"no blank part":         mutate(func(cs []ballot.EncryptedContest) { cs[0].Blank = nil }),
		"blank part elsewhere":  mutate(func(cs []ballot.EncryptedContest) { cs[1].Blank = cs[0].Blank }),
		"blank α = O":           mutate(func(cs []ballot.EncryptedContest) { cs[0].Blank.Ciphertext.Alpha = crypto.NewPoint() }),
		"blank 0/1 proof shape": mutate(func(cs []ballot.EncryptedContest) { cs[0].Blank.Proof = cs[0].Range }),
		"blank range shape":     mutate(func(cs []ballot.EncryptedContest) { cs[0].Blank.Range = cs[0].Selections[0].Proof }),
	}
	for name, o := range malformed {
		if err := e.Validate(o); !errors.Is(err, ballot.ErrMalformed) {
			t.Errorf("%s: %v, want a malformed ballot", name, err)
		}
	}
	// α = O on the wire: the encoded path refuses it as malformed too.
	enc := mutate(func(cs []ballot.EncryptedContest) { cs[0].Blank.Ciphertext.Alpha = crypto.NewPoint() }).Encode()
	if err := validateEncoded(e, enc); !errors.Is(err, ballot.ErrMalformed) || !strings.Contains(err.Error(), "blank ciphertext with α = O") {
		t.Errorf("encoded α = O: %v", err)
	}
	// Moved within the ballot: proofs are bound to their place.
	moved := map[string]*ballot.Ballot{
		"blank and selection swapped": mutate(func(cs []ballot.EncryptedContest) {
			cs[0].Selections = slices.Clone(cs[0].Selections)
			s := &cs[0].Selections[2]
			s.Ciphertext, cs[0].Blank.Ciphertext = cs[0].Blank.Ciphertext, s.Ciphertext
			s.Proof, cs[0].Blank.Proof = cs[0].Blank.Proof, s.Proof
		}),
		"blank from another ballot": func() *ballot.Ballot {
			other, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
			if err != nil {
				t.Fatal(err)
			}
			return mutate(func(cs []ballot.EncryptedContest) { cs[0].Blank = other.Contests[0].Blank })
		}(),
	}
	for name, o := range moved {
		if err := e.Validate(o); !ballot.IsProofError(err) {
			t.Errorf("%s: %v, want a proof error", name, err)
		}
		if err := e.ValidateEach(o); !ballot.IsProofError(err) {
			t.Errorf("%s (each): %v, want a proof error", name, err)
		}
	}
}

// TestBlankTamper flips bits in every 32-byte field of a count_blank
// ballot: each flip is refused, and those in the blank ciphertext, its
// proof and the blank range proof name the blank part.
func TestBlankTamper(t *testing.T) {
	m := ballottest.Blank()
	e, _ := ballottest.Election(t, m)
	b, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{"contest-2": {"option-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	layers := tamperAll(t, e, b)
	if layers[ballot.BlankSelection] == 0 || layers[ballot.BlankRangeSelection] == 0 {
		t.Fatalf("no mutation named the blank part: %v", layers)
	}
	t.Logf("mutations rejected by part: %v", layers)
}

// TestBlankManifest: count_blank in the canonical JSON (written only when
// true), and refused with a specific message where a contest has no blank
// ballot or its blank count is derived.
func TestBlankManifest(t *testing.T) {
	m := ballottest.Blank()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	js := m.CanonicalJSON()
	if bytes.Count(js, []byte(`"count_blank":true`)) != 1 || bytes.Contains(js, []byte(`"count_blank":false`)) {
		t.Fatalf("canonical JSON: %s", js)
	}
	d, err := ballot.DecodeManifestJSON(js)
	if err != nil || !d.Contests[0].CountBlank || d.Contests[1].CountBlank || d.Hash() != m.Hash() {
		t.Fatalf("decoded: %v", err)
	}
	noBlank := bytes.Replace(js, []byte(`"count_blank":true,`), nil, 1)
	if d, err := ballot.DecodeManifestJSON(noBlank); err != nil || d.Contests[0].CountBlank || d.Hash() == m.Hash() {
		t.Fatalf("without count_blank: %v", err)
	}
	for _, bad := range [][]byte{
		bytes.Replace(js, []byte(`"count_blank":true`), []byte(`"count_blank":false`), 1),
		bytes.Replace(js, []byte(`"count_blank":true`), []byte(`"count_blank":1`), 1),
		bytes.Replace(js, []byte(`"count_blank":true`), []byte(`"count_blank":"true"`), 1),
	} {
		if _, err := ballot.DecodeManifestJSON(bad); err == nil {
			t.Errorf("accepted %s", bad[:200])
		}
	}
	for _, tc := range []struct {
		contest int
		styles  bool
		want    string
	}{
		{1, false, `contests[1].count_blank: contest "contest-2": count_blank needs a rule that allows a blank ballot (min 0), but rule "exactly 1" asks for at least one mark`},
		{2, false, `contests[2].count_blank: contest "contest-3": count_blank is not needed: rule "up-to 1" allows at most one mark`},
		{2, true, ""}, // not on every style: the blank count is not derived, count_blank counts it
	} {
		m := ballottest.Blank()
		m.Contests[tc.contest].CountBlank = true
		if tc.styles {
			m.Styles = []ballot.Style{{ID: "a", Contests: []string{"contest-1", "contest-2", "contest-3"}}, {ID: "b", Contests: []string{"contest-1", "contest-2", "contest-4"}}}
		}
		err := m.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("contest %d: %v, want %q", tc.contest, err, tc.want)
		}
	}
}
