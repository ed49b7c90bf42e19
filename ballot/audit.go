package ballot

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/strictjson"
)

// Errors of audited ballots.
var (
	// ErrAuditMismatch is returned when an audited ballot does not encrypt
	// the choices it reveals.
	ErrAuditMismatch = errors.New("ballot: audited ballot does not match its revealed choices")
	// ErrAuditSignature is returned for an audit that is not signed, or not
	// signed by the credential its ballot was encrypted for.
	ErrAuditSignature = errors.New("ballot: audit signature")
)

// tagAuditSignature separates a credential's signatures of audits from its
// signatures of casts: a published audit can never be cast.
const tagAuditSignature = "evote/v1/audit-signature"

// Audit is a ballot the voter audited instead of casting it (a Benaloh
// challenge): the encrypted ballot together with its secrets, signed with
// the voter's credential. Anyone can re-encrypt the revealed marks with the
// revealed randomness and compare, so a device that encrypted something
// other than the voter's choice is caught. An audited ballot is spoiled: it
// can never be cast (see Box).
type Audit struct {
	Ballot  *Ballot
	Secrets *Secrets
	// Signature is the Ed25519 signature of AuditMessage by the ballot's
	// credential (nil: unsigned, which VerifyAudit refuses).
	Signature []byte
}

// SignAudit reveals the secrets of b and signs the audit with the voter's
// credential. The ballot must have been encrypted for that credential.
func (e *Election) SignAudit(c *credential.Credential, b *Ballot, s *Secrets) (*Audit, error) {
	if !ed25519.PublicKey(b.Credential).Equal(c.PublicKey()) {
		return nil, errors.New("ballot: the audited ballot was encrypted for another credential")
	}
	if err := checkSecretsShape(b, s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return &Audit{Ballot: b, Secrets: s, Signature: c.Sign(AuditMessage(e.BaseHash, b.Hash(), s))}, nil
}

// AuditMessage returns what a credential signs to audit a ballot
// (docs/spec-ballot.md §5.1): the transcript
// LP("evote/v1/audit-signature") ‖ LP(base hash) ‖ LP(ballot hash) ‖ LP(secrets),
// where secrets is u64(mark) ‖ randomness (32 bytes) of every selection, in
// ballot order. The secrets must have the ballot's shape (a nil scalar is
// written as 32 zero bytes).
func AuditMessage(base crypto.Context, ballotHash [32]byte, s *Secrets) []byte {
	var sec []byte
	for i, row := range s.Marks {
		for k, m := range row {
			sec = binary.BigEndian.AppendUint64(sec, m)
			var enc [32]byte
			if i < len(s.Randomness) && k < len(s.Randomness[i]) && s.Randomness[i][k] != nil {
				enc = crypto.EncodeScalar(s.Randomness[i][k])
			}
			sec = append(sec, enc[:]...)
		}
	}
	return crypto.NewTranscript(tagAuditSignature).AppendBytes(base[:]).AppendBytes(ballotHash[:]).AppendBytes(sec).Bytes()
}

// checkSecretsShape checks that the secrets reveal one mark and one
// randomness for every selection of the ballot; callers wrap ErrMalformed.
func checkSecretsShape(b *Ballot, s *Secrets) error {
	if len(s.Marks) != len(b.Contests) || len(s.Randomness) != len(b.Contests) {
		return fmt.Errorf("secrets cover %d contests, ballot has %d", len(s.Marks), len(b.Contests))
	}
	for i, c := range b.Contests {
		if len(s.Marks[i]) != len(c.Selections) || len(s.Randomness[i]) != len(c.Selections) {
			return fmt.Errorf("contest %q: secrets cover %d selections, ballot has %d", c.ContestID, len(s.Marks[i]), len(c.Selections))
		}
		for k, r := range s.Randomness[i] {
			if r == nil {
				return fmt.Errorf("contest %q, selection %q: no randomness", c.ContestID, c.Selections[k].SelectionID)
			}
		}
	}
	return nil
}

// verifyAuditSignature checks that the audit is signed by its ballot's
// credential.
func (e *Election) verifyAuditSignature(a *Audit) error {
	code := a.Ballot.TrackingCode()
	switch {
	case a.Signature == nil:
		return fmt.Errorf("%w: the audit of ballot %s is unsigned", ErrAuditSignature, code)
	case len(a.Signature) != ed25519.SignatureSize || len(a.Ballot.Credential) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: the audit of ballot %s has a signature of %d bytes, want %d", ErrAuditSignature, code, len(a.Signature), ed25519.SignatureSize)
	case !ed25519.Verify(a.Ballot.Credential, AuditMessage(e.BaseHash, a.Ballot.Hash(), a.Secrets), a.Signature):
		return fmt.Errorf("%w: the audit of ballot %s is not signed by the ballot's credential for this election", ErrAuditSignature, code)
	}
	return nil
}

// VerifyAudit checks an audited ballot: that its secrets have the ballot's
// shape, its credential's signature (ErrAuditSignature), its structure and
// proofs, then that every selection's ciphertext is the encryption of the
// revealed mark (0 or 1) with the revealed randomness. It returns the
// revealed choices. It does not check that the credential is on the roll.
func (e *Election) VerifyAudit(a *Audit) (*Plaintext, error) {
	if a.Ballot == nil || a.Secrets == nil {
		return nil, fmt.Errorf("%w: missing ballot or secrets", ErrMalformed)
	}
	b, s := a.Ballot, a.Secrets
	if err := checkSecretsShape(b, s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := e.verifyAuditSignature(a); err != nil {
		return nil, err
	}
	if err := e.Validate(b); err != nil {
		return nil, err
	}
	for i, c := range b.Contests {
		for k, sel := range c.Selections {
			m, r := s.Marks[i][k], s.Randomness[i][k]
			if m > 1 {
				return nil, fmt.Errorf("%w: contest %q, selection %q: revealed mark %d", ErrAuditMismatch, c.ContestID, sel.SelectionID, m)
			}
			if !crypto.EncryptWithRandomness(e.Key, m, r).Equal(sel.Ciphertext) {
				return nil, fmt.Errorf("%w: contest %q, selection %q is not an encryption of %d", ErrAuditMismatch, c.ContestID, sel.SelectionID, m)
			}
		}
	}
	return plaintextFromMarks(e.Manifest, b.StyleID, s.Marks)
}

const auditFormat = "evote/v1/audited-ballot"

// MarshalJSON encodes the audit as the file a voter saves
// (docs/spec-ballot.md §5): "format", "election_id", "tracking_code",
// "ballot" (the canonical encoding, base64), "marks" (per contest, per
// selection) and "randomness" (per contest, per selection: the 32-byte
// scalars, base64) and "signature" (base64; left out if the audit is
// unsigned), in that order, in the bytes encoding/json wrote for them
// before (null for a nil list).
func (a *Audit) MarshalJSON() ([]byte, error) {
	b := []byte(`{"format":`)
	b = strictjson.AppendString(b, auditFormat)
	b = append(b, `,"election_id":`...)
	b = strictjson.AppendString(b, a.Ballot.ElectionID)
	b = append(b, `,"tracking_code":`...)
	b = strictjson.AppendString(b, a.Ballot.TrackingCode())
	b = append(b, `,"ballot":`...)
	b = strictjson.AppendBytes(b, a.Ballot.Encode())
	b = append(b, `,"marks":`...)
	b = appendList(b, a.Secrets.Marks, a.Secrets.Marks == nil, func(b []byte, row []uint64) []byte {
		return appendList(b, row, row == nil, func(b []byte, m uint64) []byte { return strconv.AppendUint(b, m, 10) })
	})
	b = append(b, `,"randomness":`...)
	rs := a.Secrets.Randomness
	b = appendList(b, rs, len(rs) == 0, func(b []byte, row []crypto.Scalar) []byte {
		return appendList(b, row, len(row) == 0, func(b []byte, r crypto.Scalar) []byte {
			e := crypto.EncodeScalar(r)
			return strictjson.AppendBytes(b, e[:])
		})
	})
	if a.Signature != nil {
		b = append(b, `,"signature":`...)
		b = strictjson.AppendBytes(b, a.Signature)
	}
	return append(b, '}'), nil
}

// appendList appends a JSON array of the elements, or null.
func appendList[E any](b []byte, list []E, null bool, elem func([]byte, E) []byte) []byte {
	if null {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, e := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, e)
	}
	return append(b, ']')
}

// DecodeAudit reads an audit file for this election: the members
// MarshalJSON writes, each once and no others, in any order ("signature"
// may be missing: VerifyAudit then refuses the audit as unsigned). It
// checks that the secrets have the ballot's shape but does not verify:
// call VerifyAudit.
func (e *Election) DecodeAudit(data []byte) (*Audit, error) {
	v, err := strictjson.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: audit file: %w", ErrMalformed, err)
	}
	var r strictjson.Reader
	o := r.Root(v).Object()
	format := o.Get("format").Str()
	electionID := o.Get("election_id").Str()
	tracking := o.Get("tracking_code").Str()
	enc := o.Get("ballot").Bytes()
	s := &Secrets{}
	for _, row := range o.Get("marks").Array() {
		var marks []uint64
		for _, m := range row.Array() {
			marks = append(marks, m.Uint64())
		}
		s.Marks = append(s.Marks, marks)
	}
	var raw [][][]byte
	for _, row := range o.Get("randomness").Array() {
		var rs [][]byte
		for _, f := range row.Array() {
			rs = append(rs, f.Bytes())
		}
		raw = append(raw, rs)
	}
	var sig []byte
	if f := o.Opt("signature"); f.Present() {
		sig = f.Bytes()
	}
	o.End()
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: audit file: %w", ErrMalformed, err)
	}
	if format != auditFormat {
		return nil, fmt.Errorf("%w: audit file format %q, want %q", ErrMalformed, format, auditFormat)
	}
	b, err := e.Decode(enc)
	if err != nil {
		return nil, err
	}
	if electionID != b.ElectionID {
		return nil, fmt.Errorf("%w: audit file names election %q, its ballot is for %q", ErrMalformed, electionID, b.ElectionID)
	}
	if tracking != b.TrackingCode() {
		return nil, fmt.Errorf("%w: audit file names tracking code %q, its ballot has %q", ErrMalformed, tracking, b.TrackingCode())
	}
	for i, row := range raw {
		var rs []crypto.Scalar
		for k, raw := range row {
			r, err := crypto.DecodeScalar(raw)
			if err != nil {
				return nil, fmt.Errorf("%w: randomness of contest %d, selection %d: %w", ErrMalformed, i, k, err)
			}
			rs = append(rs, r)
		}
		s.Randomness = append(s.Randomness, rs)
	}
	if err := checkSecretsShape(b, s); err != nil {
		return nil, fmt.Errorf("%w: audit file: %v", ErrMalformed, err)
	}
	if sig != nil && len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: audit file: signature is %d bytes, want %d", ErrMalformed, len(sig), ed25519.SignatureSize)
	}
	return &Audit{Ballot: b, Secrets: s, Signature: sig}, nil
}
