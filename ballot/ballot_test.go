package ballot_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/crypto"
)

// decryptMarks decrypts every selection with the test key.
func decryptMarks(t *testing.T, b *ballot.Ballot, sk crypto.Scalar) [][]uint64 {
	t.Helper()
	var out [][]uint64
	for _, c := range b.Contests {
		var row []uint64
		for _, s := range c.Selections {
			p := s.Ciphertext.DecryptToPoint(sk)
			switch {
			case p.IsIdentity():
				row = append(row, 0)
			case p.IsEqual(crypto.Generator()):
				row = append(row, 1)
			default:
				t.Fatalf("contest %q, selection %q decrypts to neither 0 nor 1", c.ContestID, s.SelectionID)
			}
		}
		out = append(out, row)
	}
	return out
}

func TestEncryptValidateDecrypt(t *testing.T) {
	m := ballottest.Mixed()
	e, sk := ballottest.Election(t, m)
	p := &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{
		"contest-1": {"option-3"},
		"contest-2": {"option-1", "option-7"},
		"contest-3": {"option-2"},
		// contest-4 (approval) left blank
	}}
	b, sec, err := e.Encrypt(rand.Reader, ballottest.Credential(), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Validate(b); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := e.ValidateEach(b); err != nil {
		t.Fatalf("ValidateEach: %v", err)
	}
	want := [][]uint64{{0, 0, 1, 0}, {1, 0, 0, 0, 0, 0, 1}, {0, 1, 0}, {0, 0, 0}}
	if got := decryptMarks(t, b, sk); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("decrypted marks %v, want %v", got, want)
	}
	if !slices.EqualFunc(sec.Marks, want, slices.Equal) {
		t.Fatalf("secret marks %v, want %v", sec.Marks, want)
	}
	// Canonical encoding round trip.
	enc := b.Encode()
	d, err := e.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if d.Hash() != b.Hash() || e.Validate(d) != nil {
		t.Fatal("decoded ballot differs")
	}
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`).MatchString(b.TrackingCode()) {
		t.Fatalf("tracking code %q has the wrong form", b.TrackingCode())
	}
}

func TestPlaintextRules(t *testing.T) {
	m := ballottest.Mixed()
	e, _ := ballottest.Election(t, m)
	cases := []struct {
		name    string
		choices map[string][]string
		want    string
	}{
		{"under-vote on exactly-1", map[string][]string{"contest-3": {"option-1"}}, `contest "contest-1": 0 selections marked, the rule is to choose exactly 1 of 4`},
		{"over-vote on exactly-1", map[string][]string{"contest-1": {"option-1", "option-2"}, "contest-3": {"option-1"}}, `contest "contest-1": 2 selections marked`},
		{"over-vote on up-to-3", map[string][]string{"contest-1": {"option-1"}, "contest-2": {"option-1", "option-2", "option-3", "option-4"}, "contest-3": {"option-1"}}, `contest "contest-2": 4 selections marked, the rule is to choose up to 3 of 7`},
		{"under-vote on range", map[string][]string{"contest-1": {"option-1"}}, `contest "contest-3": 0 selections marked`},
		{"unknown contest", map[string][]string{"nope": {"x"}}, `no contest "nope"`},
		{"unknown selection", map[string][]string{"contest-1": {"option-9"}}, `contest "contest-1" has no selection "option-9"`},
		{"duplicate", map[string][]string{"contest-1": {"option-1", "option-1"}}, `selection "option-1" chosen twice`},
	}
	for _, tc := range cases {
		_, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: tc.choices})
		if !errors.Is(err, ballot.ErrPlaintext) || !regexp.MustCompile(regexp.QuoteMeta(tc.want)).MatchString(err.Error()) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), &ballot.Plaintext{StyleID: "district-9"}); !errors.Is(err, ballot.ErrPlaintext) {
		t.Errorf("unknown style: got %v", err)
	}
}

// TestTamper mutates every 32-byte field of an encoded ballot (and its
// header fields) and checks that each mutation is rejected: at decoding if
// the bytes are no longer canonical, otherwise by the proofs, with the batch
// and the one-by-one validators agreeing. Either way it is a proof error
// naming the contest (the ballot's framing is intact).
func TestTamper(t *testing.T) {
	m := ballottest.Mixed()
	e, _ := ballottest.Election(t, m)
	b, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
	if err != nil {
		t.Fatal(err)
	}
	enc := b.Encode()
	layers := tamperAll(t, e, b)
	if layers["decode"] == 0 || layers["proof"] == 0 {
		t.Fatalf("tamper suite did not exercise both layers: %v", layers)
	}
	t.Logf("mutations rejected by layer: %v", layers)

	// Header fields and structure.
	other := *b
	other.ElectionID = "another-election"
	if _, err := e.Decode(other.Encode()); !errors.Is(err, ballot.ErrMalformed) {
		t.Errorf("wrong election: %v", err)
	}
	other = *b
	other.StyleID = "no-such-style"
	if err := e.Validate(&other); !errors.Is(err, ballot.ErrMalformed) {
		t.Errorf("unknown style: %v", err)
	}
	if _, err := e.Decode(enc[:len(enc)-1]); !errors.Is(err, ballot.ErrMalformed) {
		t.Errorf("truncated: %v", err)
	}
	if _, err := e.Decode(append(slices.Clone(enc), 0)); !errors.Is(err, ballot.ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
	// A ballot moved to another credential: its proofs are bound to the first.
	other = *b
	other.Credential = ballottest.Credential()
	if err := e.Validate(&other); !ballot.IsProofError(err) {
		t.Errorf("credential swapped: %v", err)
	}
	// Two selections swapped within a contest: proofs are bound to positions.
	other = *b
	other.Contests = slices.Clone(b.Contests)
	sel := slices.Clone(b.Contests[1].Selections)
	sel[0].Ciphertext, sel[1].Ciphertext = sel[1].Ciphertext, sel[0].Ciphertext
	sel[0].Proof, sel[1].Proof = sel[1].Proof, sel[0].Proof
	other.Contests[1].Selections = sel
	if err := e.Validate(&other); !ballot.IsProofError(err) {
		t.Errorf("selections swapped: %v", err)
	}
	// The same ballot in another election with the same manifest but another key.
	e2, _ := ballottest.Election(t, m)
	if err := e2.Validate(b); !ballot.IsProofError(err) {
		t.Errorf("ballot replayed under another election key: %v", err)
	}
}

// tamperAll flips bits in the credential and every 32-byte field after it
// of b's encoding and checks that each mutation is rejected: at decoding if
// the bytes are no longer canonical, otherwise by the proofs, with the
// batch, the one-by-one and the encoded validators agreeing. It counts the
// mutations by layer ("decode", "proof") and by the ballot part that the
// error names when it is a blank part (ballot.BlankSelection,
// ballot.BlankRangeSelection).
func tamperAll(t *testing.T, e *ballot.Election, b *ballot.Ballot) map[string]int {
	t.Helper()
	enc := b.Encode()
	header := 3*8 + len(b.ElectionID) + len(b.StyleID) + ballot.CredentialSize // three length-prefixed fields
	layers := map[string]int{}
	for off := header - 32; off+32 <= len(enc); off += 32 { // the credential, then every field
		for _, flip := range []struct {
			at  int
			bit byte
		}{{0, 1}, {31, 0x80}, {13, 0x10}} {
			mut := slices.Clone(enc)
			mut[off+flip.at] ^= flip.bit
			encErr := validateEncoded(e, mut)
			d, err := e.Decode(mut)
			if !ballot.IsProofError(encErr) || errors.Is(encErr, ballot.ErrMalformed) || (err != nil && err.Error() != encErr.Error()) {
				t.Fatalf("offset %d bit %x: decoding says %v, the encoded path says %v", off+flip.at, flip.bit, err, encErr)
			}
			var pe *ballot.ProofError
			if errors.As(encErr, &pe) && (pe.Selection == ballot.BlankSelection || pe.Selection == ballot.BlankRangeSelection) {
				layers[pe.Selection]++
			}
			if err != nil {
				if !errors.As(err, &pe) || pe.Contest == "" || errors.Is(err, ballot.ErrMalformed) {
					t.Fatalf("offset %d: decode error %v is not a proof error naming its contest", off, err)
				}
				layers["decode"]++
				continue
			}
			errBatch, errEach := e.Validate(d), e.ValidateEach(d)
			if !ballot.IsProofError(errBatch) || !ballot.IsProofError(errEach) {
				t.Fatalf("offset %d bit %x: mutation accepted or misclassified: batch %v, each %v", off+flip.at, flip.bit, errBatch, errEach)
			}
			layers["proof"]++
		}
	}
	return layers
}

// validateEncoded checks an encoded ballot through the byte-based batch path.
func validateEncoded(e *ballot.Election, enc []byte) error {
	batch, _ := crypto.NewBatch(nil)
	entry, err := e.AddToBatchEncoded(batch, enc)
	if err != nil {
		return err
	}
	return entry.Failed(batch.Verify())
}

func TestEncodedPathAcceptsValidBallots(t *testing.T) {
	m := ballottest.Mixed()
	e, _ := ballottest.Election(t, m)
	for range 3 {
		b, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
		if err != nil {
			t.Fatal(err)
		}
		if err := validateEncoded(e, b.Encode()); err != nil {
			t.Fatal(err)
		}
		if ballot.HashEncoding(b.Encode()) != b.Hash() {
			t.Fatal("HashEncoding differs from Hash")
		}
	}
}

func TestBatchOfBallotsFindsTheBadOne(t *testing.T) {
	m := ballottest.Mixed()
	e, _ := ballottest.Election(t, m)
	var ballots []*ballot.Ballot
	for range 6 {
		b, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
		if err != nil {
			t.Fatal(err)
		}
		ballots = append(ballots, b)
	}
	// Ballot 4 claims its first selection is the second ballot's.
	bad := ballots[4]
	bad.Contests[2].Selections[0].Ciphertext = ballots[1].Contests[2].Selections[0].Ciphertext
	batch, _ := crypto.NewBatch(nil)
	var entries []*ballot.BatchEntry
	for _, b := range ballots {
		en, err := e.AddToBatch(batch, b)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, en)
	}
	failed := batch.Verify()
	for i, en := range entries {
		err := en.Failed(failed)
		if (i == 4) != (err != nil) {
			t.Errorf("ballot %d: %v", i, err)
		}
	}
	var pe *ballot.ProofError
	if err := entries[4].Failed(failed); !errors.As(err, &pe) || pe.Contest != "contest-3" || pe.Selection != "option-1" {
		t.Errorf("bad ballot's error does not name contest-3/option-1: %v", err)
	}
}

func TestAudit(t *testing.T) {
	m := ballottest.Mixed()
	e, _ := ballottest.Election(t, m)
	p := ballottest.FirstChoices(m, ballot.DefaultStyleID)
	voter := newCredential(t, m.ElectionID)
	b, sec, err := e.Encrypt(rand.Reader, voter.PublicKey(), p)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.SignAudit(voter, b, sec)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := e.DecodeAudit(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.VerifyAudit(a2)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range p.Choices {
		if !slices.Equal(got.Choices[id], want) {
			t.Errorf("contest %q: revealed %v, chose %v", id, got.Choices[id], want)
		}
	}
	// A device that encrypted something else is caught: flip a revealed mark.
	lie := *sec
	lie.Marks = [][]uint64{slices.Clone(sec.Marks[0])}
	lie.Marks = append(lie.Marks, sec.Marks[1:]...)
	lie.Marks[0][0] ^= 1
	if _, err := e.VerifyAudit(resign(t, e, voter, b, &lie)); !errors.Is(err, ballot.ErrAuditMismatch) {
		t.Errorf("revealed mark changed: got %v", err)
	}
	wrongR := *sec
	wrongR.Randomness = [][]crypto.Scalar{slices.Clone(sec.Randomness[0])}
	wrongR.Randomness = append(wrongR.Randomness, sec.Randomness[1:]...)
	wrongR.Randomness[0][1] = crypto.ScalarFromUint64(42)
	if _, err := e.VerifyAudit(resign(t, e, voter, b, &wrongR)); !errors.Is(err, ballot.ErrAuditMismatch) {
		t.Errorf("revealed randomness changed: got %v", err)
	}
}

// resign signs an audit whatever its secrets are.
func resign(t *testing.T, e *ballot.Election, c *credential.Credential, b *ballot.Ballot, s *ballot.Secrets) *ballot.Audit {
	t.Helper()
	return &ballot.Audit{Ballot: b, Secrets: s, Signature: c.Sign(ballot.AuditMessage(e.BaseHash, b.Hash(), s))}
}

// TestAuditSignature: an audit is signed by its ballot's credential, over
// the election and the secrets; an unsigned audit, a forged signature, a
// signature by another credential or for another election, and a cast
// signature of the same ballot are all refused with ErrAuditSignature.
func TestAuditSignature(t *testing.T) {
	m := ballottest.Mixed()
	e, _ := ballottest.Election(t, m)
	other, _ := ballottest.Election(t, m) // the same manifest, another key
	voter, stranger := newCredential(t, m.ElectionID), newCredential(t, m.ElectionID)
	b, sec, err := e.Encrypt(rand.Reader, voter.PublicKey(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.SignAudit(stranger, b, sec); err == nil {
		t.Fatal("SignAudit with another credential than the ballot's")
	}
	good, err := e.SignAudit(voter, b, sec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.VerifyAudit(good); err != nil {
		t.Fatalf("signed audit: %v", err)
	}
	forged := slices.Clone(good.Signature)
	forged[9] ^= 4
	cast, _ := e.Sign(voter, b)
	otherSec := *sec
	otherSec.Marks = slices.Clone(sec.Marks)
	otherSec.Marks[0] = slices.Clone(sec.Marks[0])
	otherSec.Marks[0][0] ^= 1
	for name, sig := range map[string][]byte{
		"unsigned":               nil,
		"forged":                 forged,
		"another credential":     stranger.Sign(ballot.AuditMessage(e.BaseHash, b.Hash(), sec)),
		"another election":       voter.Sign(ballot.AuditMessage(other.BaseHash, b.Hash(), sec)),
		"the cast signature":     cast.Signature,
		"over other secrets":     voter.Sign(ballot.AuditMessage(e.BaseHash, b.Hash(), &otherSec)),
		"the ballot hash signed": voter.Sign(credential.BallotMessage(e.BaseHash, b.Hash())),
	} {
		a := &ballot.Audit{Ballot: b, Secrets: sec, Signature: sig}
		if _, err := e.VerifyAudit(a); !errors.Is(err, ballot.ErrAuditSignature) || !strings.Contains(err.Error(), b.TrackingCode()) {
			t.Errorf("%s: VerifyAudit = %v, want ErrAuditSignature naming %s", name, err, b.TrackingCode())
		}
		// Through the file too.
		j, _ := a.MarshalJSON()
		d, err := e.DecodeAudit(j)
		if err != nil {
			t.Fatalf("%s: DecodeAudit: %v", name, err)
		}
		if _, err := e.VerifyAudit(d); !errors.Is(err, ballot.ErrAuditSignature) {
			t.Errorf("%s: VerifyAudit of the decoded file = %v", name, err)
		}
	}
	// The audit message is the transcript of spec-ballot.md §5.1, byte by byte.
	var want []byte
	lp := func(x []byte) { want = binary.BigEndian.AppendUint64(want, uint64(len(x))); want = append(want, x...) }
	lp([]byte("evote/v1/audit-signature"))
	lp(e.BaseHash[:])
	h := b.Hash()
	lp(h[:])
	var secBytes []byte
	for i, row := range sec.Marks {
		for k, mk := range row {
			secBytes = binary.BigEndian.AppendUint64(secBytes, mk)
			r := crypto.EncodeScalar(sec.Randomness[i][k])
			secBytes = append(secBytes, r[:]...)
		}
	}
	lp(secBytes)
	if got := ballot.AuditMessage(e.BaseHash, b.Hash(), sec); !bytes.Equal(got, want) {
		t.Errorf("AuditMessage differs from the specification")
	}
}

// oldAuditJSON is how Audit.MarshalJSON wrote the audit file with
// encoding/json; saved files have these bytes.
func oldAuditJSON(t *testing.T, a *ballot.Audit) []byte {
	t.Helper()
	j := struct {
		Format     string     `json:"format"`
		ElectionID string     `json:"election_id"`
		Tracking   string     `json:"tracking_code"`
		Ballot     []byte     `json:"ballot"`
		Marks      [][]uint64 `json:"marks"`
		Randomness [][][]byte `json:"randomness"`
		Signature  []byte     `json:"signature,omitempty"`
	}{Format: "evote/v1/audited-ballot", ElectionID: a.Ballot.ElectionID, Tracking: a.Ballot.TrackingCode(),
		Ballot: a.Ballot.Encode(), Marks: a.Secrets.Marks, Signature: a.Signature}
	for _, rs := range a.Secrets.Randomness {
		var row [][]byte
		for _, r := range rs {
			e := crypto.EncodeScalar(r)
			row = append(row, e[:])
		}
		j.Randomness = append(j.Randomness, row)
	}
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAuditJSON: the audit file keeps the bytes encoding/json wrote, and
// DecodeAudit reads exactly its members, each once.
func TestAuditJSON(t *testing.T) {
	m := ballottest.Mixed()
	e, _ := ballottest.Election(t, m)
	voter := newCredential(t, m.ElectionID)
	b, sec, err := e.Encrypt(rand.Reader, voter.PublicKey(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := e.SignAudit(voter, b, sec)
	if err != nil {
		t.Fatal(err)
	}
	odd := *b
	odd.ElectionID = "<a&b>\u2028\"x\"\xff"
	r0 := sec.Randomness[0][0]
	for name, a := range map[string]*ballot.Audit{
		"real":          {Ballot: b, Secrets: sec},
		"signed":        signed,
		"escaped id":    {Ballot: &odd, Secrets: sec},
		"no secrets":    {Ballot: b, Secrets: &ballot.Secrets{}},
		"empty lists":   {Ballot: b, Secrets: &ballot.Secrets{Marks: [][]uint64{}, Randomness: [][]crypto.Scalar{}}},
		"nil and empty": {Ballot: b, Secrets: &ballot.Secrets{Marks: [][]uint64{nil, {}, {0, 1, 1 << 63}}, Randomness: [][]crypto.Scalar{nil, {}, {r0}}}},
	} {
		got, err := a.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if want := oldAuditJSON(t, a); string(got) != string(want) {
			t.Errorf("%s: MarshalJSON =\n%s\nencoding/json wrote\n%s", name, got, want)
		}
		if viaJSON, _ := json.Marshal(a); string(viaJSON) != string(got) {
			t.Errorf("%s: json.Marshal changes the bytes", name)
		}
	}

	good, _ := signed.MarshalJSON()
	var members map[string]json.RawMessage
	if err := json.Unmarshal(good, &members); err != nil {
		t.Fatal(err)
	}
	// build writes the members in the order given, with raw values.
	build := func(kv ...string) []byte {
		out := []byte("{")
		for i := 0; i < len(kv); i += 2 {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, `"`+kv[i]+`":`+kv[i+1]...)
		}
		return append(out, '}')
	}
	order := []string{"format", "election_id", "tracking_code", "ballot", "marks", "randomness", "signature"}
	with := func(change map[string]string, extra ...string) []byte {
		var kv []string
		for _, k := range order {
			v, ok := change[k]
			if !ok {
				v = string(members[k])
			}
			if v != "-" {
				kv = append(kv, k, v)
			}
		}
		return build(append(kv, extra...)...)
	}
	reversed := []string{}
	for i := len(order) - 1; i >= 0; i-- {
		reversed = append(reversed, order[i], string(members[order[i]]))
	}
	for name, in := range map[string][]byte{"as written": good, "rebuilt": with(nil), "reordered": build(reversed...), "spaced": []byte(" \n" + string(good) + "\n")} {
		a, err := e.DecodeAudit(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := e.VerifyAudit(a); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"duplicate member", with(nil, "marks", string(members["marks"])), `duplicate member name "marks"`},
		{"unknown member", with(nil, "note", `"x"`), `audit file: unknown field "note"`},
		{"case-folded member", with(map[string]string{"format": "-"}, "Format", string(members["format"])), `audit file: format: missing`},
		{"missing member", with(map[string]string{"election_id": "-"}), `audit file: election_id: missing`},
		{"format", with(map[string]string{"format": `"evote/v2/audited-ballot"`}), `audit file format "evote/v2/audited-ballot"`},
		{"mark fraction", with(map[string]string{"marks": `[[1.0]]`}), `audit file: marks[0][0]: want an integer, got 1.0`},
		{"mark negative", with(map[string]string{"marks": `[[0],[-1]]`}), `audit file: marks[1][0]: want a non-negative integer, got -1`},
		{"mark string", with(map[string]string{"marks": `[["1"]]`}), `audit file: marks[0][0]: want an integer, got a string`},
		{"randomness base64", with(map[string]string{"randomness": `[["!!"]]`}), `audit file: randomness[0][0]: want standard base64`},
		{"ballot type", with(map[string]string{"ballot": `7`}), `audit file: ballot: want a string, got a number`},
		{"tracking code", with(map[string]string{"tracking_code": `"AAAA-AAAA-AAAA-AAAA"`}), `names tracking code "AAAA-AAAA-AAAA-AAAA"`},
		{"election id", with(map[string]string{"election_id": `"another-election"`}), `names election "another-election"`},
		{"invalid utf-8", with(map[string]string{"election_id": "\"\xff\""}), `invalid UTF-8`},
		{"trailing data", append(slices.Clone(good), "{}"...), `data after the value`},
		{"not an object", []byte(`[]`), `audit file: want an object, got an array`},
		{"signature length", with(map[string]string{"signature": `"AAAA"`}), `audit file: signature is 3 bytes, want 64`},
		{"signature type", with(map[string]string{"signature": `7`}), `audit file: signature: want a string, got a number`},
		{"secrets shape", with(map[string]string{"marks": `[[0]]`, "randomness": `[["` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `"]]`}), `audit file: secrets cover 1 contests, ballot has 4`},
	} {
		_, err := e.DecodeAudit(tc.in)
		if !errors.Is(err, ballot.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: DecodeAudit = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestTrackingCodeNormalize(t *testing.T) {
	code := ballot.TrackingCode([32]byte{1, 2, 3})
	for _, typed := range []string{code, "  " + code + " ", regexp.MustCompile("-").ReplaceAllString(code, "")} {
		got, err := ballot.NormalizeTrackingCode(typed)
		if err != nil || got != code {
			t.Errorf("%q: got %q, %v", typed, got, err)
		}
	}
	if got, err := ballot.NormalizeTrackingCode("oooo-iiii-llll-0000"); err != nil || got != "0000-1111-1111-0000" {
		t.Errorf("look-alikes: %q %v", got, err)
	}
	for _, bad := range []string{"", "ABC", code + "A", "UUUU-UUUU-UUUU-UUUU"} {
		if _, err := ballot.NormalizeTrackingCode(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCiphertextBytes(t *testing.T) {
	m := ballottest.Mixed()
	e, _ := ballottest.Election(t, m)
	b, _, err := e.Encrypt(rand.Reader, ballottest.Credential(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
	if err != nil {
		t.Fatal(err)
	}
	enc := b.Encode()
	got, err := e.CiphertextBytes(enc)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, c := range b.Contests {
		for _, s := range c.Selections {
			want = append(want, s.Ciphertext.Encode()...)
		}
	}
	if string(got) != string(want) {
		t.Fatal("CiphertextBytes differs from the ciphertexts' encodings")
	}
	pos, err := m.TotalsPositions(ballot.DefaultStyleID)
	if err != nil || len(pos) != len(want)/64 || pos[len(pos)-1] != len(pos)-1 {
		t.Fatalf("positions %v, %v", pos, err)
	}
}
