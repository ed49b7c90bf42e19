package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/crypto"
)

// Buckets of the application state (docs/spec-chain.md, "State").
const (
	bucketMeta       = "meta"       // "chain-id", "officials"
	bucketElection   = "election"   // election id → electionRecord (JSON, without the manifest)
	bucketManifest   = "manifest"   // election id → canonical manifest JSON
	bucketCeremony   = "ceremony"   // election id ‖ 0 ‖ kind ‖ 0 ‖ u64(from) → ceremony transaction fields
	bucketRollChunk  = "rollchunk"  // election id ‖ 0 ‖ u64(chunk) → chunk hash
	bucketRollBounds = "rollbounds" // election id ‖ 0 ‖ u64(chunk) → the chunk's first key ‖ last key
	bucketCred       = "cred"       // election id ‖ 0 ‖ credential key → u64(roll index)
	bucketCurrent    = "current"    // election id ‖ 0 ‖ credential key → ballot hash that counts
	bucketBallot     = "ballot"     // election id ‖ 0 ‖ ballot hash → ballotRecord (JSON)
	bucketTracking   = "tracking"   // election id ‖ 0 ‖ tracking code → ballot hash
	bucketAudited    = "audited"    // election id ‖ 0 ‖ ballot hash → auditRecord (JSON)
	bucketTotals     = "totals"     // election id → running encrypted totals (64 bytes per selection)
	bucketBallotCT   = "ballotct"   // election id ‖ 0 ‖ ballot hash → LP(style) ‖ the ballot's ciphertexts
	bucketShare      = "share"      // election id ‖ 0 ‖ u64(trustee) → decryption share ‖ signature
)

// Election phases.
const (
	PhaseCeremony = "ceremony" // defined; trustees run the key ceremony, the roll is loaded
	PhaseReady    = "ready"    // the election key exists; waiting for the roll and the open transaction
	PhaseOpen     = "open"
	PhaseClosed   = "closed"
	PhaseTallied  = "tallied" // the result is on the chain
)

// ElectionRecord is the chain's state of one election.
type ElectionRecord struct {
	// Manifest is the canonical manifest JSON. It is stored under its own
	// key, written once, so that the record a ballot updates stays small.
	Manifest      json.RawMessage `json:"manifest,omitempty"`
	ManifestHash  []byte          `json:"manifest_hash"`
	Phase         string          `json:"phase"`
	DefinedHeight int64           `json:"defined_height"`
	// Key ceremony outcome.
	JointKey         []byte   `json:"joint_key,omitempty"`
	BaseHash         []byte   `json:"base_hash,omitempty"`
	VerificationKeys [][]byte `json:"verification_keys,omitempty"`
	Qualified        []int    `json:"qualified,omitempty"`
	Faults           []string `json:"faults,omitempty"`
	KeyHeight        int64    `json:"key_height,omitempty"`
	// Credential roll.
	RollHeader   []byte `json:"roll_header,omitempty"`
	RollChunks   int    `json:"roll_chunks"`   // chunks received
	RollComplete bool   `json:"roll_complete"` // all chunks received
	RollHash     []byte `json:"roll_hash,omitempty"`
	RollCount    int    `json:"roll_count"` // credentials on the roll
	OpenedHeight int64  `json:"opened_height,omitempty"`
	ClosedHeight int64  `json:"closed_height,omitempty"`
	// Tally.
	TotalsHeight int64           `json:"totals_height,omitempty"` // the encrypted totals were published
	Shares       []int           `json:"shares,omitempty"`        // trustees whose decryption shares are on the chain
	ResultHeight int64           `json:"result_height,omitempty"`
	Result       []ContestResult `json:"result,omitempty"`
	// Counters.
	BallotsCast     int `json:"ballots_cast"`     // accepted ballot transactions
	BallotsReplaced int `json:"ballots_replaced"` // of which later replaced by a re-vote
	Audited         int `json:"audited"`
}

// ContestResult is one contest's decrypted counts, in selection order.
type ContestResult struct {
	Contest string   `json:"contest"`
	Counts  []uint64 `json:"counts"`
}

// clone returns a copy that shares nothing mutable with r.
func (r *ElectionRecord) clone() *ElectionRecord {
	c := *r
	c.Qualified = slices.Clone(r.Qualified)
	c.Faults = slices.Clone(r.Faults)
	c.Shares = slices.Clone(r.Shares)
	c.Result = slices.Clone(r.Result)
	c.VerificationKeys = slices.Clone(r.VerificationKeys)
	return &c
}

// Counted returns the number of ballots that count (one per credential).
func (r *ElectionRecord) Counted() int { return r.BallotsCast - r.BallotsReplaced }

// BallotRecord locates an accepted ballot on the chain.
type BallotRecord struct {
	Hash         []byte `json:"hash"`
	TrackingCode string `json:"tracking_code"`
	Credential   []byte `json:"credential"`
	Height       int64  `json:"height"`
	Index        int    `json:"index"` // transaction index in the block
	// ReplacedBy is the hash of the same credential's later ballot, if any.
	ReplacedBy []byte `json:"replaced_by,omitempty"`
}

// AuditRecord locates an audited ballot.
type AuditRecord struct {
	Hash         []byte `json:"hash"`
	TrackingCode string `json:"tracking_code"`
	Height       int64  `json:"height"`
	Index        int    `json:"index"`
}

// key joins an election id and a key within it. Election ids never contain a
// zero byte, so keys of different elections never collide.
func key(electionID string, parts ...[]byte) []byte {
	k := append([]byte(electionID), 0)
	for i, p := range parts {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, p...)
	}
	return k
}

// overlay buffers one block's writes on top of the committed store, so that
// nothing reaches the store before Commit and a crash in between loses the
// block cleanly (CometBFT replays it).
type overlay struct {
	st     store.Store
	parent *overlay // reads fall through to it before the store
	writes []store.Write
	index  map[string]int // bucket ‖ 0 ‖ key → position in writes
	// committedView marks CheckTx's overlays: reads of the last committed
	// state only, which may use caches keyed by the committed height.
	committedView bool
	// fault is the first failure of the store under this overlay (shared by
	// an overlay and its children). Once set, the block being executed has
	// no defined outcome on this node and must not be committed, whatever a
	// transaction's code did with the error.
	fault *storageFault
}

// storageFault records the first read of an execution that failed.
type storageFault struct{ err *StorageError }

// indexKey is the key of a write in an overlay's index: bucket ‖ 0 ‖ key.
func indexKey(bucket string, k []byte) string { return bucket + "\x00" + string(k) }

func newOverlay(st store.Store) *overlay {
	return &overlay{st: st, index: map[string]int{}, fault: &storageFault{}}
}

// child returns an overlay on top of o whose writes reach o only through
// merge: one transaction's changes, dropped whole if it is rejected.
func (o *overlay) child() *overlay {
	return &overlay{st: o.st, parent: o, index: map[string]int{}, fault: o.fault}
}

// read reads the store under the overlay. A failure other than
// store.ErrNotFound is a StorageError, and is remembered: an absent key and a
// key that could not be read must never be confused.
func (o *overlay) read(ctx context.Context, bucket string, k []byte) ([]byte, error) {
	v, err := o.st.Get(ctx, bucket, k)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		se := &StorageError{Op: "read " + bucket, Err: err}
		if o.fault.err == nil {
			o.fault.err = se
		}
		return nil, se
	}
	return v, err
}

// failed returns the first storage failure of the overlay's execution.
func (o *overlay) failed() error {
	if o.fault.err == nil {
		return nil
	}
	return o.fault.err
}

// merge applies a child's writes to o, in order.
func (o *overlay) merge(c *overlay) {
	for _, w := range c.writes {
		ik := indexKey(w.Bucket, w.Key)
		if i, ok := o.index[ik]; ok {
			o.writes[i] = w
			continue
		}
		o.index[ik] = len(o.writes)
		o.writes = append(o.writes, w)
	}
}

func (o *overlay) get(ctx context.Context, bucket string, k []byte) ([]byte, error) {
	if i, ok := o.index[indexKey(bucket, k)]; ok {
		if o.writes[i].Delete {
			return nil, store.ErrNotFound
		}
		return o.writes[i].Value, nil
	}
	if o.parent != nil {
		return o.parent.get(ctx, bucket, k)
	}
	return o.read(ctx, bucket, k)
}

// has reports whether the key exists, and fails only if it cannot be read.
func (o *overlay) has(ctx context.Context, bucket string, k []byte) (bool, error) {
	_, err := o.get(ctx, bucket, k)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, err
}

// written reports whether o or one of its parents holds a write (or a
// deletion) of the key, that is, whether get would not read the store.
func (o *overlay) written(bucket string, k []byte) bool {
	for ; o != nil; o = o.parent {
		if _, ok := o.index[indexKey(bucket, k)]; ok {
			return true
		}
	}
	return false
}

func (o *overlay) put(bucket string, k, v []byte) {
	ik := indexKey(bucket, k)
	if i, ok := o.index[ik]; ok {
		o.writes[i] = store.Write{Bucket: bucket, Key: k, Value: v}
		return
	}
	o.index[ik] = len(o.writes)
	o.writes = append(o.writes, store.Write{Bucket: bucket, Key: k, Value: v})
}

// putRecord stores an election's record; its manifest is stored apart, when
// the election is defined.
func (o *overlay) putRecord(id string, rec *ElectionRecord) {
	r := *rec
	r.Manifest = nil
	o.putJSON(bucketElection, []byte(id), &r)
}

func (o *overlay) putJSON(bucket string, k []byte, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("chain: state record does not marshal: " + err.Error())
	}
	o.put(bucket, k, b)
}

func (o *overlay) getJSON(ctx context.Context, bucket string, k []byte, v any) (bool, error) {
	b, err := o.get(ctx, bucket, k)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("chain: stored %s record: %w", bucket, err)
	}
	return true, nil
}

// changesHash hashes the block's writes in a canonical order (sorted by
// bucket and key), so the app hash depends on the resulting state change and
// not on map iteration or write order.
func (o *overlay) changesHash() [32]byte {
	ws := append([]store.Write(nil), o.writes...)
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].Bucket != ws[j].Bucket {
			return ws[i].Bucket < ws[j].Bucket
		}
		return string(ws[i].Key) < string(ws[j].Key)
	})
	t := crypto.NewTranscript(tagChanges)
	for _, w := range ws {
		t.AppendString(w.Bucket).AppendBytes(w.Key)
		if w.Delete {
			t.AppendBytes([]byte{0})
		} else {
			t.AppendBytes([]byte{1}).AppendBytes(w.Value)
		}
	}
	return t.Sum256()
}

// Tags of the app hash.
const (
	tagChanges = "evote/v1/app-changes"
	tagAppHash = "evote/v1/app-hash"
)

// nextAppHash chains the app hash: H(tag, previous, u64(height), changes).
// It commits to the whole history of state changes, hence to the state.
func nextAppHash(prev []byte, height int64, changes [32]byte) []byte {
	h := crypto.Hash(tagAppHash, prev, u64(uint64(height)), changes[:])
	return h[:]
}
