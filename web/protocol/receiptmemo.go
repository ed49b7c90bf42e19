package protocol

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"sync"

	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/crypto"
)

// Every receipt of a block carries the same block id, header and commit. A
// client that reads many receipts (a load generator, an observer following
// the chain) decodes each block's parts and checks each commit's signatures
// once: the memos below remember both, keyed by the hash of the bytes or
// values they were computed from, so a hit gives exactly what the work would.

// Tags of the memos' keys (docs/spec.md §1.6); the keys never leave the
// process.
const (
	tagReceiptBlockMemo  = "evote/v1/receipt-block-memo"
	tagReceiptCommitMemo = "evote/v1/receipt-commit-memo"
)

// memo is a small concurrency-safe map from a SHA-256 key; it forgets
// everything when it fills up.
type memo[V any] struct {
	mu  sync.Mutex
	max int
	m   map[[32]byte]V
}

func (m *memo[V]) get(k [32]byte) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

func (m *memo[V]) put(k [32]byte, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= m.max {
		m.m = make(map[[32]byte]V)
	}
	m.m[k] = v
}

// blockMemo remembers decoded block parts by the hash of their JSON.
type blockMemo struct{ memo[*blockParts] }

type blockParts struct {
	blockID types.BlockID
	header  types.Header
	commit  *types.Commit
}

var decodedBlocks = &blockMemo{memo[*blockParts]{max: 256}}

// decode fills r's BlockID, Header and Commit from their JSON. The values
// handed out are deep copies, so a caller may change its receipt freely.
func (bm *blockMemo) decode(r *Receipt, blockID, header, commit json.RawMessage) error {
	k := crypto.Hash(tagReceiptBlockMemo, blockID, header, commit)
	p, ok := bm.get(k)
	if !ok {
		p = &blockParts{}
		if err := unmarshalPart("block_id", blockID, &p.blockID); err != nil {
			return err
		}
		if err := unmarshalPart("header", header, &p.header); err != nil {
			return err
		}
		if err := unmarshalPart("commit", commit, &p.commit); err != nil {
			return err
		}
		bm.put(k, p)
	}
	r.BlockID = cloneBlockID(p.blockID)
	r.Header = cloneHeader(p.header)
	r.Commit = cloneCommit(p.commit)
	return nil
}

func cloneBlockID(b types.BlockID) types.BlockID {
	b.Hash = bytes.Clone(b.Hash)
	b.PartSetHeader.Hash = bytes.Clone(b.PartSetHeader.Hash)
	return b
}

func cloneHeader(h types.Header) types.Header {
	h.LastBlockID = cloneBlockID(h.LastBlockID)
	for _, f := range []*[]byte{
		(*[]byte)(&h.LastCommitHash), (*[]byte)(&h.DataHash), (*[]byte)(&h.ValidatorsHash),
		(*[]byte)(&h.NextValidatorsHash), (*[]byte)(&h.ConsensusHash), (*[]byte)(&h.AppHash),
		(*[]byte)(&h.LastResultsHash), (*[]byte)(&h.EvidenceHash), (*[]byte)(&h.ProposerAddress),
	} {
		*f = bytes.Clone(*f)
	}
	return h
}

func cloneCommit(c *types.Commit) *types.Commit {
	if c == nil {
		return nil
	}
	out := *c
	out.BlockID = cloneBlockID(c.BlockID)
	out.Signatures = make([]types.CommitSig, len(c.Signatures))
	for i, s := range c.Signatures {
		s.ValidatorAddress = bytes.Clone(s.ValidatorAddress)
		s.Signature = bytes.Clone(s.Signature)
		out.Signatures[i] = s
	}
	return &out
}

// commitMemo remembers the commits whose signatures verified, by the hash of
// everything the check depends on: the chain id, the validator set, the block
// id, the height and the commit itself.
type commitMemo struct{ memo[struct{}] }

var verifiedCommits = &commitMemo{memo[struct{}]{max: 1024}}

// verify is vals.VerifyCommitLight, remembered.
func (cm *commitMemo) verify(chainID string, vals *types.ValidatorSet, blockID types.BlockID, height int64, commit *types.Commit) error {
	cb, err := commit.ToProto().Marshal()
	if err != nil {
		return err
	}
	pb := blockID.ToProto()
	bb, err := pb.Marshal()
	if err != nil {
		return err
	}
	k := crypto.Hash(tagReceiptCommitMemo, []byte(chainID), vals.Hash(), bb, binary.BigEndian.AppendUint64(nil, uint64(height)), cb)
	if _, ok := cm.get(k); ok {
		return nil
	}
	if err := vals.VerifyCommitLight(chainID, blockID, height, commit); err != nil {
		return err
	}
	cm.put(k, struct{}{})
	return nil
}
