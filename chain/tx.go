package chain

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/evote/evote/crypto"
)

// TxType identifies a transaction's kind; it is the second byte of every
// transaction (docs/spec-chain.md).
type TxType byte

// Transaction types.
const (
	TxDefineElection TxType = 1  // an official publishes an election definition (manifest)
	TxCredentialRoll TxType = 2  // an official publishes one chunk of the credential roll
	TxCeremony       TxType = 3  // a trustee's key-ceremony message
	TxOpen           TxType = 4  // an official opens the election
	TxClose          TxType = 5  // an official closes the election
	TxBallot         TxType = 6  // a voter's signed ballot
	TxAudit          TxType = 7  // a voter's audited (spoiled) ballot
	TxTotals         TxType = 8  // the encrypted totals, published after close
	TxShare          TxType = 9  // a trustee's signed partial decryption of the totals
	TxResult         TxType = 10 // the decrypted counts
)

func (t TxType) String() string {
	switch t {
	case TxDefineElection:
		return "define-election"
	case TxCredentialRoll:
		return "credential-roll"
	case TxCeremony:
		return "ceremony"
	case TxOpen:
		return "open"
	case TxClose:
		return "close"
	case TxBallot:
		return "ballot"
	case TxAudit:
		return "audit"
	case TxTotals:
		return "totals"
	case TxShare:
		return "decryption-share"
	case TxResult:
		return "result"
	}
	return fmt.Sprintf("type-%d", byte(t))
}

// TxVersion is the first byte of every transaction.
const TxVersion = 1

// MaxTxSize bounds a transaction; credential roll chunks are the largest.
const MaxTxSize = 256 << 10

// Tx is a decoded transaction: its type, the election it concerns and its
// type-specific fields. Official transactions also carry the official's key
// and signature.
type Tx struct {
	Type       TxType
	ElectionID string
	// Fields are the type's fields in order (docs/spec-chain.md).
	Fields [][]byte
	// Official and Signature are set on official transactions (define,
	// roll, open, close).
	Official  ed25519.PublicKey
	Signature []byte
}

// official reports whether transactions of type t are signed by an official.
func (t TxType) official() bool {
	switch t {
	case TxDefineElection, TxCredentialRoll, TxOpen, TxClose:
		return true
	}
	return false
}

// fieldCount is the number of type-specific fields.
func (t TxType) fieldCount() (int, bool) {
	switch t {
	case TxDefineElection: // manifest canonical JSON
		return 1, true
	case TxCredentialRoll: // roll header, chunk index (u64), keys
		return 3, true
	case TxCeremony: // kind, from (u64), payload, signature
		return 4, true
	case TxOpen, TxClose:
		return 0, true
	case TxBallot: // cast encoding
		return 1, true
	case TxAudit: // audit file (JSON)
		return 1, true
	case TxTotals: // the encrypted totals: one ciphertext per selection of every contest
		return 1, true
	case TxShare: // u64(trustee), the decryption share, the trustee's signature
		return 3, true
	case TxResult: // the counts: u64 per selection of every contest
		return 1, true
	}
	return 0, false
}

// ErrMalformedTx is returned for bytes that are not a transaction.
var ErrMalformedTx = errors.New("chain: malformed transaction")

// body returns the signed part: u8(version) ‖ u8(type) ‖ LP(election id) ‖
// LP(field)…
func (tx *Tx) body() []byte {
	t := &crypto.Transcript{}
	out := []byte{TxVersion, byte(tx.Type)}
	t.AppendString(tx.ElectionID)
	for _, f := range tx.Fields {
		t.AppendBytes(f)
	}
	return append(out, t.Bytes()...)
}

// Encode returns the transaction's bytes: the body, then for official
// transactions LP(official key) ‖ LP(signature).
func (tx *Tx) Encode() []byte {
	out := tx.body()
	if tx.Type.official() {
		t := &crypto.Transcript{}
		t.AppendBytes(tx.Official).AppendBytes(tx.Signature)
		out = append(out, t.Bytes()...)
	}
	return out
}

// DecodeTx decodes a transaction's bytes (structure only).
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) > MaxTxSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformedTx, len(b), MaxTxSize)
	}
	if len(b) < 2 || b[0] != TxVersion {
		return nil, fmt.Errorf("%w: unknown version", ErrMalformedTx)
	}
	tx := &Tx{Type: TxType(b[1])}
	n, ok := tx.Type.fieldCount()
	if !ok {
		return nil, fmt.Errorf("%w: unknown type %d", ErrMalformedTx, b[1])
	}
	if tx.Type.official() {
		n += 2
	}
	parts, err := splitParts(b[2:], n+1)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformedTx, tx.Type, err)
	}
	if len(parts[0]) == 0 || len(parts[0]) > 64 {
		return nil, fmt.Errorf("%w: %s: election id of %d bytes", ErrMalformedTx, tx.Type, len(parts[0]))
	}
	tx.ElectionID = string(parts[0])
	tx.Fields = parts[1:]
	if tx.Type.official() {
		k := len(tx.Fields)
		tx.Official, tx.Signature = tx.Fields[k-2], tx.Fields[k-1]
		tx.Fields = tx.Fields[:k-2]
		if len(tx.Official) != ed25519.PublicKeySize || len(tx.Signature) != ed25519.SignatureSize {
			return nil, fmt.Errorf("%w: %s: official key or signature has the wrong length", ErrMalformedTx, tx.Type)
		}
	}
	return tx, nil
}

// splitParts splits exactly n length-prefixed parts (8-byte big-endian
// lengths) with nothing left over.
func splitParts(b []byte, n int) ([][]byte, error) {
	out := make([][]byte, 0, n)
	for i := range n {
		if len(b) < 8 {
			return nil, fmt.Errorf("field %d: truncated", i)
		}
		l := binary.BigEndian.Uint64(b)
		b = b[8:]
		if l > uint64(len(b)) {
			return nil, fmt.Errorf("field %d: length %d past the end", i, l)
		}
		out = append(out, b[:l])
		b = b[l:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(b))
	}
	return out, nil
}

// tagOfficial separates officials' transaction signatures from every other
// signature.
const tagOfficial = "evote/v1/official-transaction"

// OfficialMessage is what an official signs: the chain id and the body, so a
// signed transaction cannot be replayed on another chain.
func OfficialMessage(chainID string, tx *Tx) []byte {
	return crypto.NewTranscript(tagOfficial).AppendString(chainID).AppendBytes(tx.body()).Bytes()
}

// SignOfficial signs tx with an official's key for the chain chainID.
func SignOfficial(chainID string, tx *Tx, key ed25519.PrivateKey) {
	tx.Official = key.Public().(ed25519.PublicKey)
	tx.Signature = ed25519.Sign(key, OfficialMessage(chainID, tx))
}

// u64 encodes v as 8 big-endian bytes.
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// NewBallotTx wraps a cast ballot's encoding.
func NewBallotTx(electionID string, cast []byte) *Tx {
	return &Tx{Type: TxBallot, ElectionID: electionID, Fields: [][]byte{cast}}
}

// NewAuditTx wraps an audited ballot's file.
func NewAuditTx(electionID string, audit []byte) *Tx {
	return &Tx{Type: TxAudit, ElectionID: electionID, Fields: [][]byte{audit}}
}

// NewTotalsTx publishes an election's encrypted totals.
func NewTotalsTx(electionID string, totals []byte) *Tx {
	return &Tx{Type: TxTotals, ElectionID: electionID, Fields: [][]byte{totals}}
}

// NewShareTx publishes trustee l's signed decryption share.
func NewShareTx(electionID string, l int, share, signature []byte) *Tx {
	return &Tx{Type: TxShare, ElectionID: electionID, Fields: [][]byte{u64(uint64(l)), share, signature}}
}

// NewResultTx publishes the counts, one per selection of every contest in
// manifest order.
func NewResultTx(electionID string, counts []uint64) *Tx {
	var b []byte
	for _, c := range counts {
		b = append(b, u64(c)...)
	}
	return &Tx{Type: TxResult, ElectionID: electionID, Fields: [][]byte{b}}
}
