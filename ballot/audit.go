package ballot

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evote/evote/crypto"
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

// auditJSON is the file a voter saves from the browser: the ballot in its
// canonical encoding and the secrets.
type auditJSON struct {
	Format     string     `json:"format"`
	ElectionID string     `json:"election_id"`
	Tracking   string     `json:"tracking_code"`
	Ballot     []byte     `json:"ballot"`     // canonical encoding, base64
	Marks      [][]uint64 `json:"marks"`      // per contest, per selection
	Randomness [][][]byte `json:"randomness"` // per contest, per selection: 32-byte scalars, base64
}

const auditFormat = "evote/v1/audited-ballot"

// MarshalJSON encodes the audit as the file a voter saves.
func (a *Audit) MarshalJSON() ([]byte, error) {
	j := auditJSON{Format: auditFormat, ElectionID: a.Ballot.ElectionID, Tracking: a.Ballot.TrackingCode(),
		Ballot: a.Ballot.Encode(), Marks: a.Secrets.Marks}
	for _, rs := range a.Secrets.Randomness {
		var row [][]byte
		for _, r := range rs {
			e := crypto.EncodeScalar(r)
			row = append(row, e[:])
		}
		j.Randomness = append(j.Randomness, row)
	}
	return json.Marshal(j)
}

// DecodeAudit reads an audit file for this election. It decodes but does not
// verify: call VerifyAudit.
func (e *Election) DecodeAudit(data []byte) (*Audit, error) {
	var j auditJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%w: audit file: %w", ErrMalformed, err)
	}
	if j.Format != auditFormat {
		return nil, fmt.Errorf("%w: audit file format %q, want %q", ErrMalformed, j.Format, auditFormat)
	}
	b, err := e.Decode(j.Ballot)
	if err != nil {
		return nil, err
	}
	if j.Tracking != b.TrackingCode() {
		return nil, fmt.Errorf("%w: audit file names tracking code %q, its ballot has %q", ErrMalformed, j.Tracking, b.TrackingCode())
	}
	s := &Secrets{Marks: j.Marks}
	for i, row := range j.Randomness {
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
