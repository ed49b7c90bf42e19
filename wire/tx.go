package wire

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind identifies a transaction's kind; it is the second byte of every
// transaction.
type Kind byte

// Transaction kinds.
const (
	KindDefineElection Kind = 1  // an official publishes an election definition (manifest)
	KindCredentialRoll Kind = 2  // an official publishes one chunk of the credential roll
	KindCeremony       Kind = 3  // a trustee's key-ceremony message
	KindOpen           Kind = 4  // an official opens the election
	KindClose          Kind = 5  // an official closes the election
	KindBallot         Kind = 6  // a voter's signed ballot
	KindAudit          Kind = 7  // a voter's audited (spoiled) ballot
	KindTotals         Kind = 8  // the encrypted totals, published after close
	KindShare          Kind = 9  // a trustee's signed partial decryption of the totals
	KindResult         Kind = 10 // the decrypted counts
)

var kindNames = [...]string{
	KindDefineElection: "define-election", KindCredentialRoll: "credential-roll", KindCeremony: "ceremony",
	KindOpen: "open", KindClose: "close", KindBallot: "ballot", KindAudit: "audit", KindTotals: "totals",
	KindShare: "decryption-share", KindResult: "result",
}

// String returns the kind's name as docs/spec-chain.md writes it.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("type-%d", byte(k))
}

// Official reports whether transactions of kind k are signed by an official.
func (k Kind) Official() bool {
	switch k {
	case KindDefineElection, KindCredentialRoll, KindOpen, KindClose:
		return true
	}
	return false
}

// Version is the first byte of every transaction.
const Version = 1

// MaxTxSize bounds a transaction; credential roll chunks are the largest.
const MaxTxSize = 256 << 10

// MaxElectionID is the longest election id, in bytes.
const MaxElectionID = 64

// ErrMalformed is returned for bytes that are not a transaction.
var ErrMalformed = errors.New("wire: malformed transaction")

// Tx is a decoded transaction: one of *DefineElection, *CredentialRoll,
// *Ceremony, *Open, *Close, *Ballot, *Audit, *Totals, *Share and *Result.
type Tx interface {
	// Kind is the transaction's kind.
	Kind() Kind
	// Election is the id of the election it concerns.
	Election() string
	fields() [][]byte
	decode(r *Reader)
}

// OfficialTx is a transaction signed by an official: *DefineElection,
// *CredentialRoll, *Open and *Close.
type OfficialTx interface {
	Tx
	Signer() *Signed
}

// Signed is the official's key and signature that end an official
// transaction.
type Signed struct {
	Official  ed25519.PublicKey
	Signature []byte
}

// Signer returns the signature part.
func (s *Signed) Signer() *Signed { return s }

// DefineElection publishes an election's manifest (its canonical JSON).
type DefineElection struct {
	ElectionID string
	Manifest   []byte
	Signed
}

// CredentialRoll publishes chunk Chunk of the election's credential roll:
// the roll's header (the same in every chunk) and the chunk's public keys,
// 32 bytes each, in ascending order.
type CredentialRoll struct {
	ElectionID string
	Header     []byte
	Chunk      uint64
	Entries    []byte
	Signed
}

// Ceremony carries one trustee's signed key-ceremony message
// (docs/spec-threshold.md §11).
type Ceremony struct {
	ElectionID string
	Message    string // register, dealing, complaints, justifications
	From       uint64 // the sender's trustee index, from 1
	Payload    []byte
	Signature  []byte // the sender's Schnorr signature
}

// Open opens the election for voting.
type Open struct {
	ElectionID string
	Signed
}

// Close closes it.
type Close struct {
	ElectionID string
	Signed
}

// Ballot carries a voter's signed cast ballot (docs/spec.md §4).
type Ballot struct {
	ElectionID string
	Cast       []byte
}

// Audit carries an audited ballot's file: the ballot with its revealed
// choices and randomness (docs/spec.md §6).
type Audit struct {
	ElectionID string
	File       []byte
}

// Totals publishes the encrypted totals: one 64-byte ciphertext per
// selection of every contest, in manifest order.
type Totals struct {
	ElectionID  string
	Ciphertexts []byte
}

// Share publishes a trustee's decryption share of the totals with the
// trustee's Schnorr signature over it.
type Share struct {
	ElectionID string
	Trustee    uint64
	Share      []byte
	Signature  []byte
}

// Result publishes the decrypted counts, one per selection of every contest
// in manifest order.
type Result struct {
	ElectionID string
	Counts     []uint64
}

func (t *DefineElection) Kind() Kind { return KindDefineElection }
func (t *CredentialRoll) Kind() Kind { return KindCredentialRoll }
func (t *Ceremony) Kind() Kind       { return KindCeremony }
func (t *Open) Kind() Kind           { return KindOpen }
func (t *Close) Kind() Kind          { return KindClose }
func (t *Ballot) Kind() Kind         { return KindBallot }
func (t *Audit) Kind() Kind          { return KindAudit }
func (t *Totals) Kind() Kind         { return KindTotals }
func (t *Share) Kind() Kind          { return KindShare }
func (t *Result) Kind() Kind         { return KindResult }

func (t *DefineElection) Election() string { return t.ElectionID }
func (t *CredentialRoll) Election() string { return t.ElectionID }
func (t *Ceremony) Election() string       { return t.ElectionID }
func (t *Open) Election() string           { return t.ElectionID }
func (t *Close) Election() string          { return t.ElectionID }
func (t *Ballot) Election() string         { return t.ElectionID }
func (t *Audit) Election() string          { return t.ElectionID }
func (t *Totals) Election() string         { return t.ElectionID }
func (t *Share) Election() string          { return t.ElectionID }
func (t *Result) Election() string         { return t.ElectionID }

func (t *DefineElection) fields() [][]byte { return [][]byte{t.Manifest} }
func (t *CredentialRoll) fields() [][]byte { return [][]byte{t.Header, U64(t.Chunk), t.Entries} }
func (t *Ceremony) fields() [][]byte {
	return [][]byte{[]byte(t.Message), U64(t.From), t.Payload, t.Signature}
}
func (t *Open) fields() [][]byte   { return nil }
func (t *Close) fields() [][]byte  { return nil }
func (t *Ballot) fields() [][]byte { return [][]byte{t.Cast} }
func (t *Audit) fields() [][]byte  { return [][]byte{t.File} }
func (t *Totals) fields() [][]byte { return [][]byte{t.Ciphertexts} }
func (t *Share) fields() [][]byte  { return [][]byte{U64(t.Trustee), t.Share, t.Signature} }
func (t *Result) fields() [][]byte {
	b := make([]byte, 0, 8*len(t.Counts))
	for _, c := range t.Counts {
		b = binary.BigEndian.AppendUint64(b, c)
	}
	return [][]byte{b}
}

func (t *DefineElection) decode(r *Reader) { t.Manifest = r.Bytes() }
func (t *CredentialRoll) decode(r *Reader) {
	t.Header, t.Chunk, t.Entries = r.Bytes(), r.Uint64(), r.Bytes()
}
func (t *Ceremony) decode(r *Reader) {
	t.Message, t.From, t.Payload, t.Signature = string(r.Bytes()), r.Uint64(), r.Bytes(), r.Bytes()
}
func (t *Open) decode(*Reader)     {}
func (t *Close) decode(*Reader)    {}
func (t *Ballot) decode(r *Reader) { t.Cast = r.Bytes() }
func (t *Audit) decode(r *Reader)  { t.File = r.Bytes() }
func (t *Totals) decode(r *Reader) { t.Ciphertexts = r.Bytes() }
func (t *Share) decode(r *Reader)  { t.Trustee, t.Share, t.Signature = r.Uint64(), r.Bytes(), r.Bytes() }
func (t *Result) decode(r *Reader) {
	b := r.Bytes()
	if r.err == nil && len(b)%8 != 0 {
		r.err = fmt.Errorf("field 1: %d bytes of counts, not a multiple of 8", len(b))
		return
	}
	t.Counts = make([]uint64, len(b)/8)
	for i := range t.Counts {
		t.Counts[i] = binary.BigEndian.Uint64(b[8*i:])
	}
}

// newTx returns an empty transaction of kind k.
func newTx(k Kind) Tx {
	switch k {
	case KindDefineElection:
		return &DefineElection{}
	case KindCredentialRoll:
		return &CredentialRoll{}
	case KindCeremony:
		return &Ceremony{}
	case KindOpen:
		return &Open{}
	case KindClose:
		return &Close{}
	case KindBallot:
		return &Ballot{}
	case KindAudit:
		return &Audit{}
	case KindTotals:
		return &Totals{}
	case KindShare:
		return &Share{}
	case KindResult:
		return &Result{}
	}
	return nil
}

// Body returns the signed part of a transaction: u8(version) ‖ u8(kind) ‖
// LP(election id) ‖ LP(field)… (docs/spec-chain.md §2).
func Body(tx Tx) []byte {
	out := []byte{Version, byte(tx.Kind())}
	out = LP(out, []byte(tx.Election()))
	for _, f := range tx.fields() {
		out = LP(out, f)
	}
	return out
}

// Encode returns the transaction's bytes: the body, then for official
// transactions LP(official key) ‖ LP(signature).
func Encode(tx Tx) []byte {
	out := Body(tx)
	if o, ok := tx.(OfficialTx); ok {
		s := o.Signer()
		out = LP(LP(out, s.Official), s.Signature)
	}
	return out
}

// PeekKind returns the kind of an encoded transaction without decoding it,
// or false if b does not start as a transaction of a known kind.
func PeekKind(b []byte) (Kind, bool) {
	if len(b) < 2 || b[0] != Version || newTx(Kind(b[1])) == nil {
		return 0, false
	}
	return Kind(b[1]), true
}

// Decode decodes a transaction's bytes (its structure; what the fields mean
// is checked by the rules). Every error wraps ErrMalformed.
func Decode(b []byte) (Tx, error) {
	if len(b) > MaxTxSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(b), MaxTxSize)
	}
	if len(b) < 2 || b[0] != Version {
		return nil, fmt.Errorf("%w: unknown version", ErrMalformed)
	}
	k := Kind(b[1])
	tx := newTx(k)
	if tx == nil {
		return nil, fmt.Errorf("%w: unknown type %d", ErrMalformed, b[1])
	}
	r := NewReader(b[2:])
	id := r.Bytes()
	if r.err == nil && (len(id) == 0 || len(id) > MaxElectionID) {
		return nil, fmt.Errorf("%w: %s: election id of %d bytes", ErrMalformed, k, len(id))
	}
	tx.decode(r)
	if o, ok := tx.(OfficialTx); ok {
		s := o.Signer()
		s.Official, s.Signature = r.Bytes(), r.Bytes()
		if r.err == nil && (len(s.Official) != ed25519.PublicKeySize || len(s.Signature) != ed25519.SignatureSize) {
			return nil, fmt.Errorf("%w: %s: official key or signature has the wrong length", ErrMalformed, k)
		}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, k, err)
	}
	setElection(tx, string(id))
	return tx, nil
}

func setElection(tx Tx, id string) {
	switch t := tx.(type) {
	case *DefineElection:
		t.ElectionID = id
	case *CredentialRoll:
		t.ElectionID = id
	case *Ceremony:
		t.ElectionID = id
	case *Open:
		t.ElectionID = id
	case *Close:
		t.ElectionID = id
	case *Ballot:
		t.ElectionID = id
	case *Audit:
		t.ElectionID = id
	case *Totals:
		t.ElectionID = id
	case *Share:
		t.ElectionID = id
	case *Result:
		t.ElectionID = id
	}
}

// tagOfficial separates officials' transaction signatures from every other
// signature.
const tagOfficial = "evote/v1/official-transaction"

// OfficialMessage is what an official signs: LP(tag) ‖ LP(chain id) ‖
// LP(body), so that a signed transaction cannot be replayed on another
// chain.
func OfficialMessage(chainID string, tx Tx) []byte {
	out := LP(nil, []byte(tagOfficial))
	out = LP(out, []byte(chainID))
	return LP(out, Body(tx))
}

// Sign signs an official transaction with key for the chain chainID.
func Sign(chainID string, tx OfficialTx, key ed25519.PrivateKey) {
	s := tx.Signer()
	s.Official = key.Public().(ed25519.PublicKey)
	s.Signature = ed25519.Sign(key, OfficialMessage(chainID, tx))
}

// VerifyOfficial reports whether an official transaction's signature
// verifies for the chain chainID.
func VerifyOfficial(chainID string, tx OfficialTx) bool {
	s := tx.Signer()
	return len(s.Official) == ed25519.PublicKeySize && ed25519.Verify(s.Official, OfficialMessage(chainID, tx), s.Signature)
}
