package ballot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/evote/evote/crypto"
)

// CredentialSize is the size of a voter credential's public key (Ed25519).
const CredentialSize = 32

// Ballot is an encrypted ballot: for each contest of the voter's ballot
// style, in ballot order, one ciphertext per selection with its 0/1 proof and
// one range proof that the contest's marks add up to a number its rule
// allows. Every proof is bound to the election and to the voter's credential.
type Ballot struct {
	ElectionID string
	StyleID    string
	Credential []byte // the voter's credential public key
	Contests   []EncryptedContest
}

// EncryptedContest is the encrypted part of a ballot for one contest.
type EncryptedContest struct {
	ContestID  string
	Selections []EncryptedSelection
	// Range proves that the sum of Selections encrypts a value in
	// [MinSelections, MaxSelections] of the contest.
	Range crypto.RangeProof
	// Blank is the blank part of a contest that counts its blank ballots
	// (Contest.CountBlank), nil for any other contest.
	Blank *EncryptedBlank
}

// EncryptedBlank is the blank part of an encrypted contest of a contest
// with CountBlank: B, an encryption of 1 if no selection is marked and of 0
// otherwise, its 0/1 proof, and the range proof that the sum of the
// selections plus (max+1)·B encrypts a value in [1, max+1], which with the
// contest's range proof (sum in [0, max]) makes B = 1 exactly when the sum
// is 0 (docs/spec-ballot.md §3.2).
type EncryptedBlank struct {
	Ciphertext crypto.Ciphertext
	Proof      crypto.RangeProof
	Range      crypto.RangeProof
}

// TagBlankRange is the Fiat-Shamir tag of the blank range proof of a
// contest with CountBlank.
const TagBlankRange = "evote/v1/proof/blank-range"

// Names of the blank part of a contest where a selection id stands in
// errors and in the totals' positions; neither is a valid id.
const (
	// BlankSelection names the blank ciphertext (its 0/1 proof, its place in
	// the totals).
	BlankSelection = "(blank)"
	// BlankRangeSelection names the blank range proof.
	BlankRangeSelection = "(blank range)"
)

// blankRange returns the range [1, max+1] of a blank range proof, whose
// upper end is also the factor of B in the sum it is about.
func blankRange(c *Contest) (lo, hi uint64) { return 1, uint64(c.MaxSelections()) + 1 }

// blankSum returns Σ selections + (max+1)·B, the ciphertext of the blank
// range proof, as parts to sum: the selections and (max+1)·B.
func blankSum(c *Contest, sels []crypto.Ciphertext, b crypto.Ciphertext) []crypto.Ciphertext {
	_, f := blankRange(c)
	return append(append(make([]crypto.Ciphertext, 0, len(sels)+1), sels...), b.Scale(f))
}

// EncryptedSelection is one encrypted selection mark with its 0/1 proof.
type EncryptedSelection struct {
	SelectionID string
	Ciphertext  crypto.Ciphertext
	Proof       crypto.RangeProof
}

// Errors of decoding and checking encrypted ballots.
var (
	// ErrMalformed is returned for a ballot whose bytes or structure do not
	// match the election: wrong election, unknown style, wrong sizes.
	ErrMalformed = errors.New("ballot: malformed ballot")
	// ErrInvalidProof is returned when a ballot's proofs do not verify.
	ErrInvalidProof = errors.New("ballot: a proof does not verify")
)

// Encode returns the ballot's canonical encoding (docs/spec-ballot.md):
// LP(election id) ‖ LP(style id) ‖ LP(credential) ‖ for each contest, each
// selection's ciphertext and 0/1 proof, (count_blank) the blank ciphertext
// and its 0/1 proof, the contest's range proof, (count_blank) the blank range
// proof. Every size after the three prefixed fields is fixed by the manifest.
func (b *Ballot) Encode() []byte {
	t := crypto.NewTranscript(b.ElectionID) // LP(election id)
	t.AppendString(b.StyleID).AppendBytes(b.Credential)
	out := t.Bytes()
	for _, c := range b.Contests {
		for _, s := range c.Selections {
			out = append(out, s.Ciphertext.Encode()...)
			out = append(out, s.Proof.Encode()...)
		}
		if c.Blank != nil {
			out = append(out, c.Blank.Ciphertext.Encode()...)
			out = append(out, c.Blank.Proof.Encode()...)
		}
		out = append(out, c.Range.Encode()...)
		if c.Blank != nil {
			out = append(out, c.Blank.Range.Encode()...)
		}
	}
	return out
}

// Hash returns H("evote/v1/ballot", Encode()), the ballot's identity.
func (b *Ballot) Hash() [32]byte { return crypto.Hash(tagBallot, b.Encode()) }

// TrackingCode returns the ballot's tracking code (see TrackingCode).
func (b *Ballot) TrackingCode() string { return TrackingCode(b.Hash()) }

// trackingAlphabet is Crockford's base32: no I, L, O or U, so that a code
// read aloud or copied by hand is unambiguous.
const trackingAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// TrackingCode derives the human-friendly tracking code of a ballot hash:
// the first 80 bits of H("evote/v1/tracking-code", hash) in Crockford base32,
// as four groups of four characters, such as "7KQ2-M9XH-4TBD-R1CW".
func TrackingCode(ballotHash [32]byte) string {
	h := crypto.Hash(tagTracking, ballotHash[:])
	var sb strings.Builder
	var acc uint64
	bits := 0
	n := 0
	for _, by := range h[:10] {
		acc = acc<<8 | uint64(by)
		bits += 8
		for bits >= 5 {
			bits -= 5
			if n > 0 && n%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(trackingAlphabet[(acc>>bits)&31])
			n++
		}
	}
	return sb.String()
}

// NormalizeTrackingCode canonicalises a tracking code typed by a person:
// upper case, dashes and spaces ignored, O read as 0 and I or L as 1. It
// returns an error if the result is not 16 base32 characters.
func NormalizeTrackingCode(s string) (string, error) {
	raw, err := trackingSymbols(s)
	if err != nil {
		return "", err
	}
	if len(raw) != 16 {
		return "", fmt.Errorf("ballot: tracking code %q: %d characters, want 16", s, len(raw))
	}
	return groupTracking(raw), nil
}

// NormalizeTrackingPrefix reads the start of a tracking code as
// NormalizeTrackingCode reads a whole one (0 to 16 characters, spaces and
// dashes ignored) and returns it in the canonical form's layout, dashes
// after every group of four: "pda41t" gives "PDA4-1T", a prefix of every
// code that starts so.
func NormalizeTrackingPrefix(s string) (string, error) {
	raw, err := trackingSymbols(s)
	if err != nil {
		return "", err
	}
	if len(raw) > 16 {
		return "", fmt.Errorf("ballot: tracking code %q: %d characters, a code has 16", s, len(raw))
	}
	return groupTracking(raw), nil
}

// trackingSymbols returns the tracking-code characters of s, upper case,
// with O read as 0 and I, L as 1, spaces and dashes left out.
func trackingSymbols(s string) ([]byte, error) {
	var raw []byte
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 127 || strings.IndexByte(trackingAlphabet, byte(r)) < 0 {
			return nil, fmt.Errorf("ballot: tracking code %q: %q is not a tracking-code character", s, r)
		}
		if len(raw) > 64 {
			return nil, fmt.Errorf("ballot: tracking code %q: far more than 16 characters", s[:min(len(s), 80)])
		}
		raw = append(raw, byte(r))
	}
	return raw, nil
}

// groupTracking puts a dash after every group of four characters but the
// last.
func groupTracking(raw []byte) string {
	var b strings.Builder
	for i, c := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Decode decodes a ballot's canonical encoding for this election. It checks
// the structure against the manifest (election, style, sizes: ErrMalformed)
// and that every ciphertext and proof is made of canonical points and
// scalars, but not the proofs: see Validate. A ciphertext or proof that does
// not decode is a *ProofError naming its contest and selection: with the
// ballot's size right, it is the proof of that place that is wrong (as when
// two contests' data are swapped), not the ballot's framing.
func (e *Election) Decode(data []byte) (*Ballot, error) {
	h, err := e.parseHeader(data)
	if err != nil {
		return nil, err
	}
	eid, style, cred, contests, rest := e.Manifest.ElectionID, h.style, h.credential, h.contests, h.rest
	b := &Ballot{ElectionID: string(eid), StyleID: string(style), Credential: cred, Contests: make([]EncryptedContest, len(contests))}
	for i, c := range contests {
		ec := EncryptedContest{ContestID: c.ID, Selections: make([]EncryptedSelection, len(c.Selections))}
		for k, s := range c.Selections {
			ct, err := crypto.DecodeCiphertext(rest[:crypto.CiphertextSize])
			if err != nil {
				return nil, &ProofError{Contest: c.ID, Selection: s.ID, Err: err}
			}
			rest = rest[crypto.CiphertextSize:]
			p, err := crypto.DecodeRangeProof(rest[:crypto.ZeroOneProofSize], 0, 1)
			if err != nil {
				return nil, &ProofError{Contest: c.ID, Selection: s.ID, Err: err}
			}
			rest = rest[crypto.ZeroOneProofSize:]
			ec.Selections[k] = EncryptedSelection{SelectionID: s.ID, Ciphertext: ct, Proof: p}
		}
		if c.CountBlank {
			ct, err := crypto.DecodeCiphertext(rest[:crypto.CiphertextSize])
			if err != nil {
				return nil, &ProofError{Contest: c.ID, Selection: BlankSelection, Err: err}
			}
			rest = rest[crypto.CiphertextSize:]
			p, err := crypto.DecodeRangeProof(rest[:crypto.ZeroOneProofSize], 0, 1)
			if err != nil {
				return nil, &ProofError{Contest: c.ID, Selection: BlankSelection, Err: err}
			}
			rest = rest[crypto.ZeroOneProofSize:]
			ec.Blank = &EncryptedBlank{Ciphertext: ct, Proof: p}
		}
		lo, hi := uint64(c.MinSelections()), uint64(c.MaxSelections())
		n := int(hi-lo+1) * crypto.RangeBranchSize
		p, err := crypto.DecodeRangeProof(rest[:n], lo, hi)
		if err != nil {
			return nil, &ProofError{Contest: c.ID, Err: err}
		}
		rest = rest[n:]
		ec.Range = p
		if c.CountBlank {
			lo, hi := blankRange(c)
			n := int(hi-lo+1) * crypto.RangeBranchSize
			if ec.Blank.Range, err = crypto.DecodeRangeProof(rest[:n], lo, hi); err != nil {
				return nil, &ProofError{Contest: c.ID, Selection: BlankRangeSelection, Err: err}
			}
			rest = rest[n:]
		}
		b.Contests[i] = ec
	}
	return b, nil
}

// header is the parsed start of a ballot's encoding.
type header struct {
	style      string
	credential []byte
	contests   []*Contest
	rest       []byte // the contests' ciphertexts and proofs, of the exact size
}

// parseHeader reads the three length-prefixed fields of a ballot encoding
// and checks them and the total size against the manifest.
func (e *Election) parseHeader(data []byte) (*header, error) {
	field := func(what string, max int) ([]byte, error) {
		if len(data) < 8 {
			return nil, fmt.Errorf("%w: %s: truncated", ErrMalformed, what)
		}
		n := binary.BigEndian.Uint64(data)
		if n > uint64(max) || n > uint64(len(data)-8) {
			return nil, fmt.Errorf("%w: %s: bad length", ErrMalformed, what)
		}
		f := data[8 : 8+n]
		data = data[8+n:]
		return f, nil
	}
	eid, err := field("election id", 64)
	if err != nil {
		return nil, err
	}
	if string(eid) != e.Manifest.ElectionID {
		return nil, fmt.Errorf("%w: ballot is for election %q, not %q", ErrMalformed, eid, e.Manifest.ElectionID)
	}
	style, err := field("style", 64)
	if err != nil {
		return nil, err
	}
	cred, err := field("credential", CredentialSize)
	if err != nil {
		return nil, err
	}
	if len(cred) != CredentialSize {
		return nil, fmt.Errorf("%w: credential is %d bytes, want %d", ErrMalformed, len(cred), CredentialSize)
	}
	contests, err := e.Manifest.StyleContests(string(style))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if want := encodedContestsSize(contests); len(data) != want {
		return nil, fmt.Errorf("%w: style %q needs %d bytes of contests, ballot has %d", ErrMalformed, style, want, len(data))
	}
	return &header{style: string(style), credential: append([]byte(nil), cred...), contests: contests, rest: data}, nil
}

// HashEncoding returns the hash of a ballot from its canonical encoding,
// equal to Ballot.Hash of the decoded ballot.
func HashEncoding(encoding []byte) [32]byte { return crypto.Hash(tagBallot, encoding) }

// encodedContestsSize is the size of the contests part of a ballot of the
// given contests.
func encodedContestsSize(contests []*Contest) int {
	n := 0
	for _, c := range contests {
		n += (len(c.Selections) + c.BlankSlots()) * (crypto.CiphertextSize + crypto.ZeroOneProofSize)
		n += rangeProofsSize(c)
	}
	return n
}

// rangeProofsSize is the size of a contest's range proofs: its own and,
// with count_blank, the blank range proof.
func rangeProofsSize(c *Contest) int {
	n := (c.MaxSelections() - c.MinSelections() + 1) * crypto.RangeBranchSize
	if c.CountBlank {
		lo, hi := blankRange(c)
		n += int(hi-lo+1) * crypto.RangeBranchSize
	}
	return n
}

// CiphertextBytes returns the encodings of a ballot's selection ciphertexts
// and blank ciphertexts (each contest's selections, then its blank
// ciphertext if it counts blank ballots), in ballot order, sliced out of its
// canonical encoding: 64 bytes each, one per totals position of the ballot
// (TotalsPositions). Keeping them costs no re-encoding.
func (e *Election) CiphertextBytes(encoding []byte) ([]byte, error) {
	h, err := e.parseHeader(encoding)
	if err != nil {
		return nil, err
	}
	rest := h.rest
	var out []byte
	for _, c := range h.contests {
		for range len(c.Selections) + c.BlankSlots() {
			out = append(out, rest[:crypto.CiphertextSize]...)
			rest = rest[crypto.CiphertextSize+crypto.ZeroOneProofSize:]
		}
		rest = rest[rangeProofsSize(c):]
	}
	return out, nil
}

// TotalsLayout returns, for every contest of the manifest in order, its
// number of totals positions: one per selection and, for a contest that
// counts its blank ballots, one more for them, last. Encrypted totals and
// results list one value per position of every contest, in this order,
// whatever the ballot styles.
func (m *Manifest) TotalsLayout() []int {
	out := make([]int, len(m.Contests))
	for i, c := range m.Contests {
		out[i] = len(c.Selections) + c.BlankSlots()
	}
	return out
}

// TotalsPositions maps each ciphertext of a ballot of the given style, in
// ballot order (CiphertextBytes), to its position in the manifest's totals
// layout.
func (m *Manifest) TotalsPositions(style string) ([]int, error) {
	contests, err := m.StyleContests(style)
	if err != nil {
		return nil, err
	}
	offset := map[string]int{}
	n := 0
	for _, c := range m.Contests {
		offset[c.ID] = n
		n += len(c.Selections) + c.BlankSlots()
	}
	var out []int
	for _, c := range contests {
		for k := range len(c.Selections) + c.BlankSlots() {
			out = append(out, offset[c.ID]+k)
		}
	}
	return out, nil
}
