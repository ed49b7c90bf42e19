package ballot

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/strictjson"
)

// ErrAuditMismatch is returned when an audited ballot does not encrypt the
// choices it reveals.
var ErrAuditMismatch = errors.New("ballot: audited ballot does not match its revealed choices")

// Audit is a ballot the voter audited instead of casting it (a Benaloh
// challenge): the encrypted ballot together with its secrets. Anyone can
// re-encrypt the revealed marks with the revealed randomness and compare, so
// a device that encrypted something other than the voter's choice is caught.
// An audited ballot is spoiled: it can never be cast (see Box).
type Audit struct {
	Ballot  *Ballot
	Secrets *Secrets
}

// VerifyAudit checks an audited ballot: its structure and proofs, then that
// every selection's ciphertext is the encryption of the revealed mark (0 or
// 1) with the revealed randomness. It returns the revealed choices.
func (e *Election) VerifyAudit(a *Audit) (*Plaintext, error) {
	if a.Ballot == nil || a.Secrets == nil {
		return nil, fmt.Errorf("%w: missing ballot or secrets", ErrMalformed)
	}
	if err := e.Validate(a.Ballot); err != nil {
		return nil, err
	}
	b, s := a.Ballot, a.Secrets
	if len(s.Marks) != len(b.Contests) || len(s.Randomness) != len(b.Contests) {
		return nil, fmt.Errorf("%w: secrets cover %d contests, ballot has %d", ErrMalformed, len(s.Marks), len(b.Contests))
	}
	for i, c := range b.Contests {
		if len(s.Marks[i]) != len(c.Selections) || len(s.Randomness[i]) != len(c.Selections) {
			return nil, fmt.Errorf("%w: contest %q: secrets cover %d selections, ballot has %d", ErrMalformed, c.ContestID, len(s.Marks[i]), len(c.Selections))
		}
		for k, sel := range c.Selections {
			m, r := s.Marks[i][k], s.Randomness[i][k]
			if m > 1 || r == nil {
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
// scalars, base64), in that order, in the bytes encoding/json wrote for
// them before (null for a nil list).
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
// MarshalJSON writes, each once and no others, in any order. It decodes but
// does not verify: call VerifyAudit.
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
	return &Audit{Ballot: b, Secrets: s}, nil
}
