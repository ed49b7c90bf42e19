package protocol

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/internal/strictjson"
	"github.com/evote/evote/wire"
)

// ReceiptFormat names the receipt's JSON format and version.
const ReceiptFormat = "evote/v1/receipt"

// Receipt kinds: the transaction holds a cast ballot or an audited one.
const (
	KindBallot = "ballot"
	KindAudit  = "audit"
)

// Receipt proves that a ballot (or an audited ballot) is in a committed
// block: the transaction with its Merkle proof against the block's data
// hash, the block header, the block id, and the commit that more than 2/3
// of the validators signed. See VerifyReceipt and docs/api.md.
type Receipt struct {
	Election     string
	Kind         string // KindBallot or KindAudit
	TrackingCode string
	TxHash       []byte // SHA-256 of the transaction (CometBFT's tx hash)
	Height       int64
	Index        int           // of the transaction in the block
	Proof        types.TxProof // Proof.Data is the transaction
	BlockID      types.BlockID
	Header       types.Header
	Commit       *types.Commit

	// Shared, if set, is the JSON of BlockID, Header and Commit (from
	// MarshalBlock), which MarshalJSON then writes unchanged: the receipts
	// of one block share one encoding of these.
	Shared *SharedBlock
}

// SharedBlock is the CometBFT JSON of the parts every receipt of a block
// shares.
type SharedBlock struct {
	blockID, header, commit json.RawMessage
}

// MarshalBlock encodes the shared parts of a block's receipts.
func MarshalBlock(blockID types.BlockID, header types.Header, commit *types.Commit) (*SharedBlock, error) {
	var b SharedBlock
	var err error
	if b.blockID, err = cmtjson.Marshal(blockID); err != nil {
		return nil, fmt.Errorf("web: receipt block id: %w", err)
	}
	if b.header, err = cmtjson.Marshal(header); err != nil {
		return nil, fmt.Errorf("web: receipt header: %w", err)
	}
	if b.commit, err = cmtjson.Marshal(commit); err != nil {
		return nil, fmt.Errorf("web: receipt commit: %w", err)
	}
	return &b, nil
}

// receiptJSON is the receipt's JSON: evote's fields, and CometBFT's own
// objects in CometBFT's JSON encoding (libs/json, as its RPC returns them).
type receiptJSON struct {
	Format       string          `json:"format"`
	Election     string          `json:"election"`
	Kind         string          `json:"kind"`
	TrackingCode string          `json:"tracking_code"`
	TxHash       string          `json:"tx_hash"`
	Height       int64           `json:"height"`
	Index        int             `json:"index"`
	Proof        json.RawMessage `json:"proof"`
	BlockID      json.RawMessage `json:"block_id"`
	Header       json.RawMessage `json:"header"`
	Commit       json.RawMessage `json:"commit"`
}

// MarshalJSON encodes the receipt (docs/api.md, "Receipt").
func (r *Receipt) MarshalJSON() ([]byte, error) {
	j := receiptJSON{Format: ReceiptFormat, Election: r.Election, Kind: r.Kind, TrackingCode: r.TrackingCode,
		TxHash: hex.EncodeToString(r.TxHash), Height: r.Height, Index: r.Index}
	var err error
	if j.Proof, err = cmtjson.Marshal(r.Proof); err != nil {
		return nil, fmt.Errorf("web: receipt proof: %w", err)
	}
	b := r.Shared
	if b == nil {
		if b, err = MarshalBlock(r.BlockID, r.Header, r.Commit); err != nil {
			return nil, err
		}
	}
	j.BlockID, j.Header, j.Commit = b.blockID, b.header, b.commit
	return json.Marshal(j)
}

// UnmarshalJSON decodes a receipt. It does not verify it: see VerifyReceipt.
func (r *Receipt) UnmarshalJSON(b []byte) error {
	// The same strict reading as the browser's (web/ui/receiptcheck):
	// duplicate member names, invalid UTF-8 and the like are refused before
	// encoding/json, which accepts them, reads the fields.
	if _, err := strictjson.Parse(b); err != nil {
		return fmt.Errorf("web: receipt: %w", err)
	}
	var j receiptJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("web: receipt: %w", err)
	}
	if j.Format != ReceiptFormat {
		return fmt.Errorf("web: receipt format %q, want %q", j.Format, ReceiptFormat)
	}
	h, err := hex.DecodeString(j.TxHash)
	if err != nil {
		return fmt.Errorf("web: receipt tx_hash: %w", err)
	}
	out := Receipt{Election: j.Election, Kind: j.Kind, TrackingCode: j.TrackingCode, TxHash: h, Height: j.Height, Index: j.Index}
	if err := unmarshalPart("proof", j.Proof, &out.Proof); err != nil {
		return err
	}
	if err := decodedBlocks.decode(&out, j.BlockID, j.Header, j.Commit); err != nil {
		return err
	}
	*r = out
	return nil
}

func unmarshalPart(name string, raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("web: receipt: no %s", name)
	}
	if err := cmtjson.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("web: receipt %s: %w", name, err)
	}
	return nil
}

// Steps of receipt verification, named in ReceiptError.
const (
	StepFormat       = "format"        // fields present and consistent
	StepTx           = "tx"            // the transaction decodes, is of the receipt's kind and election
	StepTxHash       = "tx-hash"       // SHA-256 of the transaction is the receipt's tx hash
	StepProof        = "proof"         // the Merkle proof leads from the transaction to the proof's root
	StepDataHash     = "data-hash"     // the proof's root is the header's data hash
	StepHeader       = "header"        // the header is of the chain and height
	StepBlockID      = "block-id"      // the header hashes to the block id
	StepValidators   = "validators"    // the header names the pinned validator set
	StepCommit       = "commit"        // the commit is for this height and block id
	StepSignatures   = "signatures"    // more than 2/3 of the voting power signed the commit
	StepTrackingCode = "tracking-code" // the transaction's ballot has the receipt's tracking code
)

// ReceiptError says which step of receipt verification failed.
type ReceiptError struct {
	Step string
	Err  error
}

func (e *ReceiptError) Error() string { return "receipt: " + e.Step + ": " + e.Err.Error() }
func (e *ReceiptError) Unwrap() error { return e.Err }

func stepErr(step, format string, args ...any) error {
	return &ReceiptError{Step: step, Err: fmt.Errorf(format, args...)}
}

// VerifyReceipt checks that the receipt's transaction is in the block at
// its height of the chain chainID, and that the validator set vals committed
// that block: the transaction's hash, the Merkle proof, the data hash, the
// header's chain id and height, the header's hash against the block id, the
// validator set hash, and the commit's signatures (more than 2/3 of vals'
// voting power). vals is the set the client pins; a receipt signed by any
// other set fails. It does not check the tracking code: see
// VerifyTrackingCode. A failure is a *ReceiptError naming the step.
func VerifyReceipt(r *Receipt, chainID string, vals *types.ValidatorSet) error {
	if r == nil || r.Commit == nil || vals == nil || vals.Size() == 0 {
		return stepErr(StepFormat, "receipt, commit or validator set missing")
	}
	if r.Height <= 0 || r.Index < 0 || r.TrackingCode == "" {
		return stepErr(StepFormat, "height %d, index %d, tracking code %q", r.Height, r.Index, r.TrackingCode)
	}
	tx, err := wire.Decode(r.Proof.Data)
	if err != nil {
		return &ReceiptError{Step: StepTx, Err: err}
	}
	if want := kindType(r.Kind); tx.Kind() != want || want == 0 {
		return stepErr(StepTx, "a %s transaction, the receipt is for a %q", tx.Kind(), r.Kind)
	}
	if tx.Election() != r.Election {
		return stepErr(StepTx, "transaction of election %q, the receipt is for %q", tx.Election(), r.Election)
	}
	if h := sha256.Sum256(r.Proof.Data); !bytes.Equal(h[:], r.TxHash) {
		return stepErr(StepTxHash, "transaction hashes to %x, the receipt says %x", h, r.TxHash)
	}
	p := r.Proof.Proof
	if p.Total <= 0 || p.Index != int64(r.Index) || p.Index >= p.Total {
		return stepErr(StepProof, "proof of leaf %d of %d, the receipt's index is %d", p.Index, p.Total, r.Index)
	}
	if err := p.Verify(r.Proof.RootHash, r.Proof.Leaf()); err != nil {
		return &ReceiptError{Step: StepProof, Err: err}
	}
	if !bytes.Equal(r.Proof.RootHash, r.Header.DataHash) {
		return stepErr(StepDataHash, "proof root %X, header data hash %X", []byte(r.Proof.RootHash), []byte(r.Header.DataHash))
	}
	if r.Header.ChainID != chainID {
		return stepErr(StepHeader, "chain %q, want %q", r.Header.ChainID, chainID)
	}
	if r.Header.Height != r.Height {
		return stepErr(StepHeader, "header of height %d, the receipt's height is %d", r.Header.Height, r.Height)
	}
	if hh := r.Header.Hash(); len(hh) == 0 || !bytes.Equal(hh, r.BlockID.Hash) {
		return stepErr(StepBlockID, "header hashes to %X, block id is %X", []byte(hh), []byte(r.BlockID.Hash))
	}
	if !bytes.Equal(r.Header.ValidatorsHash, vals.Hash()) {
		return stepErr(StepValidators, "header names validator set %X, the pinned set is %X", []byte(r.Header.ValidatorsHash), vals.Hash())
	}
	if r.Commit.Height != r.Height {
		return stepErr(StepCommit, "commit of height %d, the receipt's height is %d", r.Commit.Height, r.Height)
	}
	if !r.Commit.BlockID.Equals(r.BlockID) {
		return stepErr(StepCommit, "commit for block %v, the receipt's block is %v", r.Commit.BlockID, r.BlockID)
	}
	if err := verifiedCommits.verify(chainID, vals, r.BlockID, r.Height, r.Commit); err != nil {
		return &ReceiptError{Step: StepSignatures, Err: err}
	}
	return nil
}

func kindType(kind string) wire.Kind {
	switch kind {
	case KindBallot:
		return wire.KindBallot
	case KindAudit:
		return wire.KindAudit
	}
	return 0
}

// VerifyTrackingCode checks that the receipt's transaction holds a ballot of
// election e whose tracking code is the receipt's: it decodes the
// transaction, then the cast (or audited) ballot, and recomputes the ballot
// hash and its tracking code. Run it together with VerifyReceipt.
func VerifyTrackingCode(r *Receipt, e *ballot.Election) error {
	if r == nil || e == nil {
		return stepErr(StepFormat, "receipt or election missing")
	}
	tx, err := wire.Decode(r.Proof.Data)
	if err != nil {
		return &ReceiptError{Step: StepTx, Err: err}
	}
	if tx.Election() != e.Manifest.ElectionID || tx.Election() != r.Election {
		return stepErr(StepTx, "transaction of election %q, receipt for %q, checked against %q", tx.Election(), r.Election, e.Manifest.ElectionID)
	}
	var b *ballot.Ballot
	switch tx := tx.(type) {
	case *wire.Ballot:
		c, err := e.DecodeCast(tx.Cast)
		if err != nil {
			return &ReceiptError{Step: StepTrackingCode, Err: err}
		}
		b = c.Ballot
	case *wire.Audit:
		a, err := e.DecodeAudit(tx.File)
		if err != nil {
			return &ReceiptError{Step: StepTrackingCode, Err: err}
		}
		b = a.Ballot
	default:
		return stepErr(StepTx, "a %s transaction holds no ballot", tx.Kind())
	}
	want, err := ballot.NormalizeTrackingCode(r.TrackingCode)
	if err != nil {
		return &ReceiptError{Step: StepTrackingCode, Err: err}
	}
	if got := b.TrackingCode(); got != want {
		return stepErr(StepTrackingCode, "the ballot's tracking code is %s, the receipt says %s", got, want)
	}
	return nil
}

// ErrNotCommitted is returned by BuildReceipt when the block is not (yet)
// available from the node.
var ErrNotCommitted = errors.New("web: block not available")

// BuildReceipt assembles the receipt of the transaction at (height, index)
// from the node: the block, the Merkle proof computed from the block's
// transactions, and the commit (the canonical one once the next block
// exists, before that the commit the node saw). wantHash, when set, must be
// the transaction's hash.
func BuildReceipt(ctx context.Context, c rpcclient.SignClient, election, kind, trackingCode string, height int64, index int, wantHash []byte) (*Receipt, error) {
	rb, err := c.Block(ctx, &height)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d: %v", ErrNotCommitted, height, err)
	}
	if rb == nil || rb.Block == nil {
		return nil, fmt.Errorf("%w: block %d", ErrNotCommitted, height)
	}
	if index < 0 || index >= len(rb.Block.Txs) {
		return nil, fmt.Errorf("web: block %d has %d transactions, no index %d", height, len(rb.Block.Txs), index)
	}
	tx := rb.Block.Txs[index]
	h := sha256.Sum256(tx)
	if wantHash != nil && !bytes.Equal(h[:], wantHash) {
		return nil, fmt.Errorf("web: transaction %d of block %d has hash %x, want %x", index, height, h, wantHash)
	}
	rc, err := c.Commit(ctx, &height)
	if err != nil || rc == nil || rc.Commit == nil {
		return nil, fmt.Errorf("%w: commit of block %d: %v", ErrNotCommitted, height, err)
	}
	return &Receipt{Election: election, Kind: kind, TrackingCode: trackingCode, TxHash: h[:], Height: height, Index: index,
		Proof: rb.Block.Txs.Proof(index), BlockID: rb.BlockID, Header: rb.Block.Header, Commit: rc.Commit}, nil
}
