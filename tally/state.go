package tally

import (
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
)

// Store layout (docs/tally.md, "State"). One store holds one election.
const (
	bucketMeta   = "tally-meta"   // "binding" → binding (JSON); "progress" → counters (JSON)
	bucketTotals = "tally-totals" // "totals" → the running totals, 64 bytes per selection
	bucketBallot = "tally-ballot" // tracking code → LP(style) ‖ the counted ballot's ciphertexts
	// bucketCurrent says which ballot of a credential counts: the rule by
	// which a re-vote replaces the credential's earlier ballot, applied by
	// the service itself rather than taken from the node's events, which
	// are not part of consensus.
	bucketCurrent = "tally-current" // credential key → tracking code of its ballot that counts
)

var (
	keyBinding  = []byte("binding")
	keyProgress = []byte("progress")
	keyTotals   = []byte("totals")
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

// counters is the service's own record of what it has processed, stored
// with every height.
type counters struct {
	BlockHash    []byte   `json:"block_hash,omitempty"` // of the last processed block
	Cast         int      `json:"cast"`                 // accepted ballots
	Replaced     int      `json:"replaced"`             // of which replaced by a re-vote
	Audited      int      `json:"audited"`
	Rejected     int      `json:"rejected"` // transactions of the election the chain rejected in a block
	ClosedHeight int64    `json:"closed_height,omitempty"`
	TotalsHeight int64    `json:"totals_height,omitempty"`
	Shares       []int    `json:"shares,omitempty"` // trustees whose shares are on the chain
	ResultHeight int64    `json:"result_height,omitempty"`
	Counts       []uint64 `json:"counts,omitempty"` // the result on the chain
}

func (c *counters) clone() counters {
	d := *c
	d.BlockHash = slices.Clone(c.BlockHash)
	d.Shares = slices.Clone(c.Shares)
	d.Counts = slices.Clone(c.Counts)
	return d
}

// state is the service's committed state.
type state struct {
	height  int64 // last processed chain height
	appHash []byte
	c       counters
	totals  []crypto.Ciphertext
}

// loadState reads the committed state of st; an empty store gives the zero
// totals of n selections at height 0.
func loadState(ctx context.Context, st store.Store, n int) (*state, error) {
	last, err := st.LastBlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("tally: reading the store: %w", err)
	}
	s := &state{height: last.Height, appHash: last.AppHash, totals: zeroTotals(n)}
	if last.Height == 0 {
		return s, nil
	}
	raw, err := st.Get(ctx, bucketMeta, keyProgress)
	if err != nil {
		return nil, fmt.Errorf("tally: reading the store: progress: %w", err)
	}
	if err := json.Unmarshal(raw, &s.c); err != nil {
		return nil, fmt.Errorf("tally: reading the store: progress: %w", err)
	}
	raw, err = st.Get(ctx, bucketTotals, keyTotals)
	if errors.Is(err, store.ErrNotFound) {
		return s, nil
	} else if err != nil {
		return nil, fmt.Errorf("tally: reading the store: totals: %w", err)
	}
	if s.totals, err = crypto.DecodeCiphertexts(raw, n); err != nil {
		return nil, fmt.Errorf("tally: reading the store: totals: %w", err)
	}
	return s, nil
}

func zeroTotals(n int) []crypto.Ciphertext {
	t := make([]crypto.Ciphertext, n)
	for i := range t {
		t[i] = crypto.ZeroCiphertext()
	}
	return t
}

// encodeStoredBallot returns a counted ballot as the service keeps it, so
// that a re-vote can take it out of the totals: LP(style) ‖ its selection
// ciphertexts as they were encoded in the ballot (ctBytes, 64 bytes each).
func encodeStoredBallot(style string, ctBytes []byte) []byte {
	out := make([]byte, 0, 8+len(style)+len(ctBytes))
	out = binary.BigEndian.AppendUint64(out, uint64(len(style)))
	out = append(out, style...)
	return append(out, ctBytes...)
}

func decodeStoredBallot(m *ballot.Manifest, raw []byte) (string, []crypto.Ciphertext, []int, error) {
	if len(raw) < 8 || binary.BigEndian.Uint64(raw) > uint64(len(raw)-8) {
		return "", nil, nil, errors.New("truncated")
	}
	l := binary.BigEndian.Uint64(raw)
	style := string(raw[8 : 8+l])
	pos, err := m.TotalsPositions(style)
	if err != nil {
		return "", nil, nil, err
	}
	cts, err := crypto.DecodeCiphertexts(raw[8+l:], len(pos))
	return style, cts, pos, err
}

// fold is one block's effect on the state, built in transaction order and
// committed at once.
type fold struct {
	m       *ballot.Manifest
	st      store.Store
	c       counters
	totals  []crypto.Ciphertext
	writes  []store.Write
	pending map[string][]byte // this block's counted ballots by tracking code; nil value: deleted
	current map[string]string // this block's ballot that counts, by credential key
	pos     map[string][]int  // totals positions by style
}

func newFold(s *state, m *ballot.Manifest, st store.Store) *fold {
	return &fold{m: m, st: st, c: s.c.clone(), totals: slices.Clone(s.totals),
		pending: map[string][]byte{}, current: map[string]string{}, pos: map[string][]int{}}
}

func (f *fold) positions(style string) ([]int, error) {
	if p, ok := f.pos[style]; ok {
		return p, nil
	}
	p, err := f.m.TotalsPositions(style)
	if err != nil {
		return nil, err
	}
	f.pos[style] = p
	return p, nil
}

// addBallot counts a ballot of credential: its ciphertexts, in ballot
// order, are added at the totals positions of its style, and it is kept
// under its tracking code (ctBytes are the same ciphertexts' encodings, kept
// without re-encoding). If the credential already has a ballot that counts,
// this one replaces it (the re-vote rule, docs/spec-chain.md §4): the old one
// is taken out of the totals and forgotten, and its tracking code returned.
func (f *fold) addBallot(ctx context.Context, code string, credential []byte, style string, cts []crypto.Ciphertext, ctBytes []byte) (replaced string, err error) {
	pos, err := f.positions(style)
	if err != nil {
		return "", err
	}
	if len(pos) != len(cts) || len(ctBytes) != len(cts)*crypto.CiphertextSize {
		return "", fmt.Errorf("ballot %s: %d ciphertexts for style %q of %d selections", code, len(cts), style, len(pos))
	}
	replaces, ok := f.current[string(credential)]
	if !ok {
		raw, err := f.st.Get(ctx, bucketCurrent, credential)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return "", err
		default:
			replaces = string(raw)
		}
	}
	if replaces != "" {
		raw, ok := f.pending[replaces]
		if !ok {
			raw, err = f.st.Get(ctx, bucketBallot, []byte(replaces))
			if errors.Is(err, store.ErrNotFound) {
				raw = nil
			} else if err != nil {
				return "", err
			}
		}
		if raw == nil {
			return "", &AlarmError{Item: "ballot " + code, Detail: fmt.Sprintf("replaces ballot %s, which the tally service does not hold as counted", replaces)}
		}
		_, old, oldPos, err := decodeStoredBallot(f.m, raw)
		if err != nil {
			return "", fmt.Errorf("tally: stored ballot %s: %w", replaces, err)
		}
		for i, p := range oldPos {
			f.totals[p] = f.totals[p].Sub(old[i])
		}
		f.pending[replaces] = nil
		f.writes = append(f.writes, store.Write{Bucket: bucketBallot, Key: []byte(replaces), Delete: true})
		f.c.Replaced++
	}
	f.current[string(credential)] = code
	f.writes = append(f.writes, store.Write{Bucket: bucketCurrent, Key: slices.Clone(credential), Value: []byte(code)})
	for i, p := range pos {
		f.totals[p] = f.totals[p].Add(cts[i])
	}
	raw := encodeStoredBallot(style, ctBytes)
	f.pending[code] = raw
	f.writes = append(f.writes, store.Write{Bucket: bucketBallot, Key: []byte(code), Value: raw})
	f.c.Cast++
	return replaces, nil
}

// changes returns the block's writes with the state's new app hash:
// H(tally-state, previous, u64(height), H(tally-changes, sorted writes)).
func (f *fold) changes(prev []byte, height int64) (*store.Changes, error) {
	progress, err := json.Marshal(&f.c)
	if err != nil {
		return nil, err
	}
	ws := append(f.writes,
		store.Write{Bucket: bucketMeta, Key: keyProgress, Value: progress},
		store.Write{Bucket: bucketTotals, Key: keyTotals, Value: crypto.EncodeCiphertexts(f.totals)})
	return &store.Changes{Height: height, AppHash: stateHash(prev, height, ws), Writes: ws}, nil
}

// stateHash chains the service's state changes like the chain's app hash
// (docs/spec-chain.md §6), with the tally's own tags. Of several writes to
// one key the last counts.
func stateHash(prev []byte, height int64, writes []store.Write) []byte {
	last := map[string]int{}
	for i, w := range writes {
		last[w.Bucket+"\x00"+string(w.Key)] = i
	}
	var ws []store.Write
	for i, w := range writes {
		if last[w.Bucket+"\x00"+string(w.Key)] == i {
			ws = append(ws, w)
		}
	}
	slices.SortFunc(ws, func(a, b store.Write) int {
		if c := strings.Compare(a.Bucket, b.Bucket); c != 0 {
			return c
		}
		return strings.Compare(string(a.Key), string(b.Key))
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
	ch := t.Sum256()
	h := crypto.Hash(tagState, prev, binary.BigEndian.AppendUint64(nil, uint64(height)), ch[:])
	return h[:]
}
