// Package receiptcheck verifies evote receipts (docs/api.md, "How to verify
// a receipt") without CometBFT's Go packages, which do not build for
// WebAssembly: it is the verifier the voter's browser runs. It implements
// exactly the checks of protocol.VerifyReceipt — the transaction, its hash, the
// Merkle proof against the header's data hash, the header's hash (CometBFT's
// Header.Hash: the Merkle root of its protobuf-encoded fields) against the
// block id, the pinned validator set's hash, and commit signatures of more
// than 2/3 of the set's voting power (ValidatorSet.VerifyCommitLight) — over
// the receipt's JSON, and its tests check that both verifiers agree on real
// receipts and on every mutation of them.
//
// # Compatibility
//
// The encodings follow CometBFT v1.0 (block protocol version 11). Ed25519
// signatures are checked with crypto/ed25519 (RFC 8032, canonical S),
// which agrees with CometBFT on every signature an honest validator makes.
package receiptcheck

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evote/evote/internal/strictjson"
	"github.com/evote/evote/wire"
)

// Format is the receipt's JSON format (protocol.ReceiptFormat).
const Format = "evote/v1/receipt"

// Steps of verification, as web names them (web.Step...).
const (
	StepFormat     = "format"
	StepTx         = "tx"
	StepTxHash     = "tx-hash"
	StepProof      = "proof"
	StepDataHash   = "data-hash"
	StepHeader     = "header"
	StepBlockID    = "block-id"
	StepValidators = "validators"
	StepCommit     = "commit"
	StepSignatures = "signatures"
)

// Error says which step of verification failed.
type Error struct {
	Step string
	Err  error
}

func (e *Error) Error() string { return "receiptcheck: " + e.Step + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func stepErr(step, format string, args ...any) error {
	return &Error{Step: step, Err: fmt.Errorf(format, args...)}
}

// Validator is one member of a validator set.
type Validator struct {
	Address []byte // first 20 bytes of SHA-256(PubKey)
	PubKey  ed25519.PublicKey
	Power   int64
}

// ValidatorSet is a validator set in CometBFT's order: by voting power,
// then by address.
type ValidatorSet struct {
	Validators []Validator
}

// TotalPower is the sum of the voting powers.
func (vs *ValidatorSet) TotalPower() int64 {
	var t int64
	for _, v := range vs.Validators {
		t += v.Power
	}
	return t
}

// Hash is CometBFT's ValidatorSet.Hash: the Merkle root of each
// validator's SimpleValidator protobuf encoding.
func (vs *ValidatorSet) Hash() []byte {
	items := make([][]byte, len(vs.Validators))
	for i, v := range vs.Validators {
		var pk pb
		pk.bytes(1, v.PubKey) // PublicKey{ed25519}
		var sv pb
		sv.message(1, pk.b)
		sv.varint(2, uint64(v.Power))
		items[i] = sv.b
	}
	return merkleRoot(items)
}

// validatorJSON is a validator as /api/validators lists it.
type validatorJSON struct {
	address, keyType, power string
	key                     []byte
}

// readValidators reads the members of /api/validators that DecodeValidators
// checks.
func readValidators(data []byte) (chainID, setHash string, vals []validatorJSON, err error) {
	v, err := strictjson.Parse(data)
	if err != nil {
		return "", "", nil, err
	}
	var rd strictjson.Reader
	o := rd.Root(v).Object()
	chainID = o.Get("chain_id").Str()
	setHash = o.Opt("validators_hash").Str()
	for _, f := range o.Get("validators").Array() {
		vo := f.Object()
		pk := vo.Get("pub_key").Object()
		vals = append(vals, validatorJSON{address: vo.Get("address").Str(), keyType: pk.Get("type").Str(),
			key: pk.Get("value").Bytes(), power: vo.Get("voting_power").Str()})
		pk.IgnoreUnknown()
		vo.IgnoreUnknown()
	}
	o.IgnoreUnknown()
	return chainID, setHash, vals, rd.Err()
}

// DecodeValidators reads the answer of a node's /api/validators, checks
// every address against its key and the set against the hash the answer
// names, and returns the set and the chain id. The JSON must be strict
// JSON (internal/strictjson: no member named twice, valid UTF-8); members
// the verifier does not use ("block_height", "proposer_priority", any
// other) are ignored, as Decode ignores them.
func DecodeValidators(data []byte) (*ValidatorSet, string, error) {
	chainID, setHash, vals, err := readValidators(data)
	if err != nil {
		return nil, "", fmt.Errorf("receiptcheck: validators: %w", err)
	}
	if len(vals) == 0 {
		return nil, "", errors.New("receiptcheck: validators: the set is empty")
	}
	vs := &ValidatorSet{}
	var total int64
	for i, v := range vals {
		if v.keyType != "tendermint/PubKeyEd25519" || len(v.key) != ed25519.PublicKeySize {
			return nil, "", fmt.Errorf("receiptcheck: validator %d: not an Ed25519 key", i)
		}
		addr, err := hex.DecodeString(v.address)
		h := sha256.Sum256(v.key)
		if err != nil || !bytes.Equal(addr, h[:20]) {
			return nil, "", fmt.Errorf("receiptcheck: validator %d: address %q is not its key's", i, v.address)
		}
		p, err := strconv.ParseInt(v.power, 10, 64)
		if err != nil || p <= 0 || p > 1<<60 {
			return nil, "", fmt.Errorf("receiptcheck: validator %d: voting power %q", i, v.power)
		}
		if total += p; total > 1<<60 {
			return nil, "", errors.New("receiptcheck: validators: total voting power too large")
		}
		if slices.ContainsFunc(vs.Validators, func(o Validator) bool { return bytes.Equal(o.Address, addr) }) {
			return nil, "", fmt.Errorf("receiptcheck: validator %d: duplicate", i)
		}
		vs.Validators = append(vs.Validators, Validator{Address: addr, PubKey: ed25519.PublicKey(v.key), Power: p})
	}
	slices.SortStableFunc(vs.Validators, func(a, b Validator) int {
		if a.Power != b.Power {
			if a.Power > b.Power {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.Address, b.Address)
	})
	if h := hex.EncodeToString(vs.Hash()); setHash != "" && !strings.EqualFold(h, setHash) {
		return nil, "", fmt.Errorf("receiptcheck: validators: the set hashes to %s, the answer says %s", h, setHash)
	}
	return vs, chainID, nil
}

// BlockID is CometBFT's BlockID.
type BlockID struct {
	Hash       []byte
	PartsTotal uint32
	PartsHash  []byte
}

func (b BlockID) equal(o BlockID) bool {
	return bytes.Equal(b.Hash, o.Hash) && b.PartsTotal == o.PartsTotal && bytes.Equal(b.PartsHash, o.PartsHash)
}

func (b BlockID) isZero() bool {
	return len(b.Hash) == 0 && b.PartsTotal == 0 && len(b.PartsHash) == 0
}

// encode is the BlockID (or CanonicalBlockID) protobuf encoding.
func (b BlockID) encode() []byte {
	var psh pb
	psh.varint(1, uint64(b.PartsTotal))
	psh.bytes(2, b.PartsHash)
	var m pb
	m.bytes(1, b.Hash)
	m.message(2, psh.b) // non-nullable: always written
	return m.b
}

// Header is CometBFT's block header.
type Header struct {
	VersionBlock, VersionApp uint64
	ChainID                  string
	Height                   int64
	Time                     time.Time
	LastBlockID              BlockID
	LastCommitHash           []byte
	DataHash                 []byte
	ValidatorsHash           []byte
	NextValidatorsHash       []byte
	ConsensusHash            []byte
	AppHash                  []byte
	LastResultsHash          []byte
	EvidenceHash             []byte
	ProposerAddress          []byte
}

// Hash is CometBFT's Header.Hash.
func (h *Header) Hash() []byte {
	if len(h.ValidatorsHash) == 0 {
		return nil
	}
	var ver pb
	ver.varint(1, h.VersionBlock)
	ver.varint(2, h.VersionApp)
	wrapBytes := func(b []byte) []byte { var m pb; m.bytes(1, b); return m.b }
	var chain, height pb
	chain.bytes(1, []byte(h.ChainID))
	height.varint(1, uint64(h.Height))
	return merkleRoot([][]byte{
		ver.b, chain.b, height.b, timestamp(h.Time), h.LastBlockID.encode(),
		wrapBytes(h.LastCommitHash), wrapBytes(h.DataHash), wrapBytes(h.ValidatorsHash),
		wrapBytes(h.NextValidatorsHash), wrapBytes(h.ConsensusHash), wrapBytes(h.AppHash),
		wrapBytes(h.LastResultsHash), wrapBytes(h.EvidenceHash), wrapBytes(h.ProposerAddress),
	})
}

// CommitSig is one validator's entry of a commit.
type CommitSig struct {
	Flag      int // 1 absent, 2 commit, 3 nil
	Address   []byte
	Timestamp time.Time
	Signature []byte
}

// Commit is CometBFT's commit of a block.
type Commit struct {
	Height     int64
	Round      int32
	BlockID    BlockID
	Signatures []CommitSig
}

// voteSignBytes is what the validator at idx signed (CometBFT's
// Commit.VoteSignBytes: the length-delimited CanonicalVote).
func (c *Commit) voteSignBytes(chainID string, idx int) []byte {
	s := c.Signatures[idx]
	var m pb
	m.varint(1, 2) // SIGNED_MSG_TYPE_PRECOMMIT
	m.fixed64(2, uint64(c.Height))
	m.fixed64(3, uint64(int64(c.Round)))
	if s.Flag == 2 && !c.BlockID.isZero() {
		m.message(4, c.BlockID.encode())
	}
	m.message(5, timestamp(s.Timestamp))
	m.bytes(6, []byte(chainID))
	return append(binary.AppendUvarint(nil, uint64(len(m.b))), m.b...)
}

// Proof is the Merkle inclusion proof of a transaction.
type Proof struct {
	RootHash []byte
	Data     []byte // the transaction
	Total    int64
	Index    int64
	LeafHash []byte
	Aunts    [][]byte
}

// Receipt is a decoded receipt (docs/api.md, "Receipt").
type Receipt struct {
	Election     string
	Kind         string
	TrackingCode string
	TxHash       []byte
	Height       int64
	Index        int
	Proof        Proof
	BlockID      BlockID
	Header       Header
	Commit       Commit
}

// Decode reads a receipt's JSON (docs/api.md, "Receipt"): evote's members
// and CometBFT's objects in CometBFT's JSON encoding, as the node writes
// them. It does not verify it. The JSON must be strict JSON
// (internal/strictjson: no member named twice, valid UTF-8); every member
// the verifier uses must be there, with its type ("aunts" may be left out,
// as CometBFT does for a block of one transaction); other members are
// ignored, unless their name is a used one in another case (which
// encoding/json, and so protocol.VerifyReceipt, would read as that member).
func Decode(data []byte) (*Receipt, error) {
	v, err := strictjson.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("receiptcheck: %w", err)
	}
	var rd strictjson.Reader
	o := rd.Root(v).Object()
	format := o.Get("format").Str()
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("receiptcheck: %w", err)
	}
	if format != Format {
		return nil, fmt.Errorf("receiptcheck: receipt format %q, want %q", format, Format)
	}
	r := &Receipt{Election: o.Get("election").Str(), Kind: o.Get("kind").Str(), TrackingCode: o.Get("tracking_code").Str(),
		TxHash: hexField(o.Get("tx_hash")), Height: o.Get("height").Int64(), Index: o.Get("index").Int()}
	po := o.Get("proof").Object()
	pp := po.Get("proof").Object()
	r.Proof = Proof{RootHash: hexField(po.Get("root_hash")), Data: po.Get("data").Bytes(), Total: intField(pp.Get("total")),
		Index: intField(pp.Get("index")), LeafHash: pp.Get("leaf_hash").Bytes()}
	for _, a := range pp.Opt("aunts").Array() {
		r.Proof.Aunts = append(r.Proof.Aunts, a.Bytes())
	}
	pp.IgnoreUnknown()
	po.IgnoreUnknown()
	r.BlockID = blockIDField(o.Get("block_id"))
	h := o.Get("header").Object()
	ver := h.Get("version").Object()
	r.Header = Header{VersionBlock: uint64(intField(ver.Get("block"))), VersionApp: uint64(intField(ver.Get("app"))),
		ChainID: h.Get("chain_id").Str(), Height: intField(h.Get("height")), Time: timeField(h.Get("time")),
		LastBlockID: blockIDField(h.Get("last_block_id")), LastCommitHash: hexField(h.Get("last_commit_hash")),
		DataHash: hexField(h.Get("data_hash")), ValidatorsHash: hexField(h.Get("validators_hash")),
		NextValidatorsHash: hexField(h.Get("next_validators_hash")), ConsensusHash: hexField(h.Get("consensus_hash")),
		AppHash: hexField(h.Get("app_hash")), LastResultsHash: hexField(h.Get("last_results_hash")),
		EvidenceHash: hexField(h.Get("evidence_hash")), ProposerAddress: hexField(h.Get("proposer_address"))}
	ver.IgnoreUnknown()
	h.IgnoreUnknown()
	c := o.Get("commit").Object()
	r.Commit = Commit{Height: intField(c.Get("height")), Round: c.Get("round").Int32(), BlockID: blockIDField(c.Get("block_id"))}
	for _, f := range c.Get("signatures").Array() {
		so := f.Object()
		r.Commit.Signatures = append(r.Commit.Signatures, CommitSig{Flag: so.Get("block_id_flag").Int(),
			Address: hexField(so.Get("validator_address")), Timestamp: timeField(so.Get("timestamp")), Signature: so.Get("signature").Bytes()})
		so.IgnoreUnknown()
	}
	c.IgnoreUnknown()
	o.IgnoreUnknown()
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("receiptcheck: %w", err)
	}
	return r, nil
}

// hexField reads hex bytes (upper or lower case) from a string.
func hexField(f strictjson.Field) []byte {
	s := f.Str()
	if f.Value() == nil {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		f.Failf("hex %q: %v", s, err)
	}
	return b
}

// intField reads an integer from a string, as CometBFT writes an int64.
func intField(f strictjson.Field) int64 {
	s := f.Str()
	if f.Value() == nil {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f.Failf("integer %q: %v", s, err)
	}
	return v
}

// timeField reads an RFC 3339 time with nanoseconds.
func timeField(f strictjson.Field) time.Time {
	s := f.Str()
	if f.Value() == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		f.Failf("time %q: %v", s, err)
	}
	return t
}

func blockIDField(f strictjson.Field) BlockID {
	o := f.Object()
	parts := o.Get("parts").Object()
	id := BlockID{Hash: hexField(o.Get("hash")), PartsTotal: parts.Get("total").Uint32(), PartsHash: hexField(parts.Get("hash"))}
	parts.IgnoreUnknown()
	o.IgnoreUnknown()
	return id
}

// Verify checks r as protocol.VerifyReceipt does, step by step, against the
// chain id and the validator set the caller pinned. A failure is an *Error
// naming the step.
func Verify(r *Receipt, chainID string, vals *ValidatorSet) error {
	if r == nil || vals == nil || len(vals.Validators) == 0 {
		return stepErr(StepFormat, "receipt or validator set missing")
	}
	if r.Height <= 0 || r.Index < 0 || r.TrackingCode == "" {
		return stepErr(StepFormat, "height %d, index %d, tracking code %q", r.Height, r.Index, r.TrackingCode)
	}
	tx, err := wire.Decode(r.Proof.Data)
	if err != nil {
		return &Error{Step: StepTx, Err: err}
	}
	want := map[string]wire.Kind{"ballot": wire.KindBallot, "audit": wire.KindAudit}[r.Kind]
	if tx.Kind() != want || want == 0 {
		return stepErr(StepTx, "a %s transaction, the receipt is for a %q", tx.Kind(), r.Kind)
	}
	if tx.Election() != r.Election {
		return stepErr(StepTx, "transaction of election %q, the receipt is for %q", tx.Election(), r.Election)
	}
	if h := sha256.Sum256(r.Proof.Data); !bytes.Equal(h[:], r.TxHash) {
		return stepErr(StepTxHash, "transaction hashes to %x, the receipt says %x", h, r.TxHash)
	}
	p := r.Proof
	if p.Total <= 0 || p.Index != int64(r.Index) || p.Index >= p.Total {
		return stepErr(StepProof, "proof of leaf %d of %d, the receipt's index is %d", p.Index, p.Total, r.Index)
	}
	if err := verifyProof(p); err != nil {
		return &Error{Step: StepProof, Err: err}
	}
	if !bytes.Equal(p.RootHash, r.Header.DataHash) {
		return stepErr(StepDataHash, "proof root %X, header data hash %X", p.RootHash, r.Header.DataHash)
	}
	if r.Header.ChainID != chainID {
		return stepErr(StepHeader, "chain %q, want %q", r.Header.ChainID, chainID)
	}
	if r.Header.Height != r.Height {
		return stepErr(StepHeader, "header of height %d, the receipt's height is %d", r.Header.Height, r.Height)
	}
	if hh := r.Header.Hash(); len(hh) == 0 || !bytes.Equal(hh, r.BlockID.Hash) {
		return stepErr(StepBlockID, "header hashes to %X, block id is %X", hh, r.BlockID.Hash)
	}
	if !bytes.Equal(r.Header.ValidatorsHash, vals.Hash()) {
		return stepErr(StepValidators, "header names validator set %X, the pinned set is %X", r.Header.ValidatorsHash, vals.Hash())
	}
	if r.Commit.Height != r.Height {
		return stepErr(StepCommit, "commit of height %d, the receipt's height is %d", r.Commit.Height, r.Height)
	}
	if !r.Commit.BlockID.equal(r.BlockID) {
		return stepErr(StepCommit, "commit for block %X, the receipt's block is %X", r.Commit.BlockID.Hash, r.BlockID.Hash)
	}
	if err := verifyCommitLight(chainID, vals, &r.Commit); err != nil {
		return &Error{Step: StepSignatures, Err: err}
	}
	return nil
}

// verifyCommitLight is CometBFT's ValidatorSet.VerifyCommitLight for a
// commit whose height and block id were already checked: signatures are
// matched to validators by index, absent and nil votes are skipped, and
// verification stops once more than 2/3 of the voting power signed.
func verifyCommitLight(chainID string, vals *ValidatorSet, c *Commit) error {
	if len(vals.Validators) != len(c.Signatures) {
		return fmt.Errorf("%d signatures for %d validators", len(c.Signatures), len(vals.Validators))
	}
	needed := vals.TotalPower() * 2 / 3
	var tallied int64
	for i, s := range c.Signatures {
		if s.Flag != 2 { // absent and nil votes do not count
			continue
		}
		if len(s.Address) != 20 || len(s.Signature) == 0 || len(s.Signature) > 64 {
			return fmt.Errorf("invalid signature at index %d", i)
		}
		v := vals.Validators[i]
		if !ed25519.Verify(v.PubKey, c.voteSignBytes(chainID, i), s.Signature) {
			return fmt.Errorf("wrong signature (#%d)", i)
		}
		if tallied += v.Power; tallied > needed {
			return nil
		}
	}
	return fmt.Errorf("voting power signed %d, more than %d needed", tallied, needed)
}

// verifyProof is CometBFT's merkle.Proof.Verify with leaf SHA-256(tx).
func verifyProof(p Proof) error {
	if len(p.Aunts) > 100 {
		return fmt.Errorf("%d aunts, at most 100", len(p.Aunts))
	}
	th := sha256.Sum256(p.Data)
	lh := leafHash(th[:])
	if !bytes.Equal(lh, p.LeafHash) {
		return fmt.Errorf("leaf hash %X, want %X", p.LeafHash, lh)
	}
	root := rootFromAunts(p.Index, p.Total, lh, p.Aunts)
	if root == nil || !bytes.Equal(root, p.RootHash) {
		return fmt.Errorf("the proof leads to %X, not to the root %X", root, p.RootHash)
	}
	return nil
}

func rootFromAunts(index, total int64, leaf []byte, aunts [][]byte) []byte {
	if index >= total || index < 0 || total <= 0 {
		return nil
	}
	if total == 1 {
		if len(aunts) != 0 {
			return nil
		}
		return leaf
	}
	if len(aunts) == 0 {
		return nil
	}
	k := splitPoint(total)
	last := aunts[len(aunts)-1]
	if index < k {
		l := rootFromAunts(index, k, leaf, aunts[:len(aunts)-1])
		if l == nil {
			return nil
		}
		return innerHash(l, last)
	}
	r := rootFromAunts(index-k, total-k, leaf, aunts[:len(aunts)-1])
	if r == nil {
		return nil
	}
	return innerHash(last, r)
}

// merkleRoot is CometBFT's merkle.HashFromByteSlices (RFC 6962).
func merkleRoot(items [][]byte) []byte {
	switch len(items) {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		return leafHash(items[0])
	}
	k := splitPoint(int64(len(items)))
	return innerHash(merkleRoot(items[:k]), merkleRoot(items[k:]))
}

func splitPoint(n int64) int64 {
	k := int64(1)
	for k*2 < n {
		k *= 2
	}
	return k
}

func leafHash(b []byte) []byte {
	h := sha256.Sum256(append([]byte{0}, b...))
	return h[:]
}

func innerHash(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// pb writes protobuf fields as gogoproto does: proto3 scalars and bytes
// are left out when zero or empty.
type pb struct{ b []byte }

func (p *pb) tag(field, wire int) { p.b = binary.AppendUvarint(p.b, uint64(field<<3|wire)) }

func (p *pb) varint(field int, v uint64) {
	if v != 0 {
		p.tag(field, 0)
		p.b = binary.AppendUvarint(p.b, v)
	}
}

func (p *pb) fixed64(field int, v uint64) {
	if v != 0 {
		p.tag(field, 1)
		p.b = binary.LittleEndian.AppendUint64(p.b, v)
	}
}

func (p *pb) bytes(field int, b []byte) {
	if len(b) != 0 {
		p.message(field, b)
	}
}

// message writes an embedded message (or bytes) even when empty.
func (p *pb) message(field int, b []byte) {
	p.tag(field, 2)
	p.b = binary.AppendUvarint(p.b, uint64(len(b)))
	p.b = append(p.b, b...)
}

// timestamp is google.protobuf.Timestamp's encoding.
func timestamp(t time.Time) []byte {
	var m pb
	m.varint(1, uint64(t.Unix()))
	m.varint(2, uint64(int64(t.Nanosecond())))
	return m.b
}

// BallotField returns the transaction's ballot field: the cast encoding of
// a ballot receipt, the audit file of an audit receipt.
func (r *Receipt) BallotField() ([]byte, error) {
	tx, err := wire.Decode(r.Proof.Data)
	if err != nil {
		return nil, err
	}
	switch tx := tx.(type) {
	case *wire.Ballot:
		return tx.Cast, nil
	case *wire.Audit:
		return tx.File, nil
	}
	return nil, fmt.Errorf("receiptcheck: a %s transaction holds no ballot", tx.Kind())
}
