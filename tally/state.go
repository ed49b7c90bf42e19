package tally

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// Store layout (docs/tally.md, "State"). One store holds one election: the
// rules' own buckets (rules.Bucket…, docs/spec-chain.md §6.1), holding what
// the rules wrote for this election's transactions and the genesis writes,
// and the service's bucket below.
const bucketMeta = "tally-meta" // "binding" → binding (JSON); "progress" → progress (JSON)

var (
	keyBinding  = []byte("binding")
	keyProgress = []byte("progress")
)

// Tags of the service's state hash chain.
const (
	tagChanges = "evote/v1/tally-changes"
	tagState   = "evote/v1/tally-state"
)

// binding ties a store to one election on one chain: the service refuses to
// continue over a store made for anything else.
type binding struct {
	ChainID      string `json:"chain_id"`
	ElectionID   string `json:"election_id"`
	ManifestHash []byte `json:"manifest_hash"`
	JointKey     []byte `json:"joint_key"`
}

// progress is what the service keeps of its own with every height; all
// the rest of its state is the rules'.
type progress struct {
	BlockHash []byte `json:"block_hash,omitempty"` // of the last processed block
	Rejected  int    `json:"rejected"`             // transactions of the election rejected in blocks
}

// state is the service's committed state at one height.
type state struct {
	height  int64 // last processed chain height
	appHash []byte
	p       progress
	// The election as the rules left it at height: nil before the
	// election is defined.
	rec    *rules.ElectionRecord
	m      *ballot.Manifest
	totals []crypto.Ciphertext
}

// counted is the number of ballots that count.
func (s *state) counted() int {
	if s.rec == nil {
		return 0
	}
	return s.rec.Counted()
}

// weightCounted is the total weight of the ballots that count: the bound of
// every decrypted count.
func (s *state) weightCounted() uint64 {
	if s.rec == nil {
		return 0
	}
	return s.rec.WeightCounted
}

// storeState is the rules.State of the service: its store's committed state
// under the pending writes of the block being processed, which are
// committed with the block, at once.
type storeState struct {
	ctx     context.Context
	st      store.Store
	pending map[string]int // bucket ‖ 0 ‖ key → position in writes
	writes  []store.Write
}

func newStoreState(ctx context.Context, st store.Store) *storeState {
	return &storeState{ctx: ctx, st: st, pending: map[string]int{}}
}

func stateKey(bucket string, k []byte) string { return bucket + "\x00" + string(k) }

// Get implements rules.State. A failed read is an error, never "absent".
func (s *storeState) Get(bucket string, k []byte) ([]byte, bool, error) {
	if i, ok := s.pending[stateKey(bucket, k)]; ok {
		return s.writes[i].Value, true, nil
	}
	v, err := s.st.Get(s.ctx, bucket, k)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("tally: reading %s/%x from the store: %w", bucket, k, err)
	}
	return v, true, nil
}

// Put implements rules.State: the write is pending until the block is
// committed; of several writes to one key the last is kept.
func (s *storeState) Put(bucket string, k, v []byte) {
	w := store.Write{Bucket: bucket, Key: bytes.Clone(k), Value: v}
	sk := stateKey(bucket, k)
	if i, ok := s.pending[sk]; ok {
		s.writes[i] = w
		return
	}
	s.pending[sk] = len(s.writes)
	s.writes = append(s.writes, w)
}

// readElection reads the election's record, manifest and running totals
// from st, or nils before the election is defined. m, if not nil, is the
// election's manifest already decoded (it never changes once defined).
func readElection(st rules.State, id string, m *ballot.Manifest) (*rules.ElectionRecord, *ballot.Manifest, []crypto.Ciphertext, error) {
	rec, err := rules.Record(st, id)
	if r := rules.AsRejection(err); r != nil && r.Code == wire.CodeUnknownElection {
		return nil, nil, nil, nil
	} else if err != nil {
		return nil, nil, nil, fmt.Errorf("tally: reading the election record: %w", err)
	}
	if m != nil {
		if h := m.Hash(); !bytes.Equal(h[:], rec.ManifestHash) {
			m = nil
		}
	}
	if m == nil {
		raw, err := rules.Manifest(st, id)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("tally: reading the manifest: %w", err)
		}
		if m, err = ballot.DecodeManifestJSON(raw); err != nil {
			return nil, nil, nil, fmt.Errorf("tally: the stored manifest of %q: %w", id, err)
		}
	}
	totals, err := rules.Totals(st, m)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tally: reading the totals: %w", err)
	}
	return rec, m, totals, nil
}

// loadState reads the committed state of st (height 0 if it is empty).
func loadState(ctx context.Context, st store.Store, id string) (*state, error) {
	last, err := st.LastBlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("tally: reading the store: %w", err)
	}
	s := &state{height: last.Height, appHash: last.AppHash}
	if last.Height == 0 {
		return s, nil
	}
	raw, err := st.Get(ctx, bucketMeta, keyProgress)
	if err != nil {
		return nil, fmt.Errorf("tally: reading the store: progress: %w", err)
	}
	if err := json.Unmarshal(raw, &s.p); err != nil {
		return nil, fmt.Errorf("tally: reading the store: progress: %w", err)
	}
	if s.rec, s.m, s.totals, err = readElection(newStoreState(ctx, st), id, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// changes returns the block's writes, with the service's progress, and the
// state's new hash.
func (s *storeState) changes(prev []byte, height int64, p progress) (*store.Changes, error) {
	raw, err := json.Marshal(&p)
	if err != nil {
		return nil, err
	}
	s.Put(bucketMeta, keyProgress, raw)
	return &store.Changes{Height: height, AppHash: stateHash(prev, height, s.writes), Writes: s.writes}, nil
}

// stateHash chains the service's state changes like the chain's app hash
// (docs/spec-chain.md §6.4), with the tally's own tags:
// H(tally-state, previous, u64(height), H(tally-changes, the writes sorted
// by bucket and key)). writes hold each key once; the service never
// deletes.
func stateHash(prev []byte, height int64, writes []store.Write) []byte {
	ws := slices.Clone(writes)
	slices.SortFunc(ws, func(a, b store.Write) int {
		if c := strings.Compare(a.Bucket, b.Bucket); c != 0 {
			return c
		}
		return bytes.Compare(a.Key, b.Key)
	})
	t := crypto.NewTranscript(tagChanges)
	for _, w := range ws {
		t.AppendString(w.Bucket).AppendBytes(w.Key).AppendBytes([]byte{1}).AppendBytes(w.Value)
	}
	ch := t.Sum256()
	h := crypto.Hash(tagState, prev, binary.BigEndian.AppendUint64(nil, uint64(height)), ch[:])
	return h[:]
}
