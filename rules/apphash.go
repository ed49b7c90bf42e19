package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"sort"

	"github.com/evote/evote/internal/jsonout"
	"github.com/evote/evote/wire"
)

// Write is one change of the state: a key set to a value (Delete false) or
// removed.
type Write struct {
	Bucket string
	Key    []byte
	Value  []byte
	Delete bool
}

// Tags of the app hash (docs/spec.md §1.6).
const (
	TagChanges = "evote/v1/app-changes"
	TagAppHash = "evote/v1/app-hash"
)

// ChangesHash hashes a block's writes in canonical order, sorted by bucket
// then key (bytewise), each key once with its last value:
//
//	SHA-256(LP(TagChanges) ‖ for each write: LP(bucket) ‖ LP(key) ‖
//	        (LP(0x00) if deleted, else LP(0x01) ‖ LP(value)))
//
// so that the app hash depends on the state change only, not on the order
// of the writes. writes must hold each key once.
func ChangesHash(writes []Write) [32]byte {
	ws := append([]Write(nil), writes...)
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].Bucket != ws[j].Bucket {
			return ws[i].Bucket < ws[j].Bucket
		}
		return string(ws[i].Key) < string(ws[j].Key)
	})
	h := sha256.New()
	h.Write(wire.LP(nil, []byte(TagChanges)))
	var buf []byte
	for _, w := range ws {
		buf = wire.LP(buf[:0], []byte(w.Bucket))
		buf = wire.LP(buf, w.Key)
		if w.Delete {
			buf = wire.LP(buf, []byte{0})
		} else {
			buf = wire.LP(wire.LP(buf, []byte{1}), w.Value)
		}
		h.Write(buf)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// NextAppHash chains the app hash over a block that changed the state:
//
//	SHA-256(LP(TagAppHash) ‖ LP(previous app hash) ‖ LP(u64 height) ‖ LP(changes hash))
//
// The app hash before the first block is empty. A block that changes
// nothing keeps the previous app hash. It commits to the whole history of
// state changes, hence to the state.
func NextAppHash(prev []byte, height int64, changes [32]byte) []byte {
	b := wire.LP(nil, []byte(TagAppHash))
	b = wire.LP(b, prev)
	b = wire.LP(b, u64(uint64(height)))
	b = wire.LP(b, changes[:])
	h := sha256.Sum256(b)
	return h[:]
}

// GenesisWrites are what InitChain writes, committed with the first block:
// the chain id and the genesis app_state in a normal form
// (NormalAppState), docs/spec-chain.md §6.1.
func GenesisWrites(chainID string, appState []byte) []Write {
	return []Write{
		{Bucket: BucketMeta, Key: []byte("chain-id"), Value: []byte(chainID)},
		{Bucket: BucketMeta, Key: []byte("app-state"), Value: NormalAppState(appState)},
	}
}

// NormalAppState returns the genesis app_state without what depends on who
// wrote the genesis file: insignificant whitespace is removed, object
// members are sorted by name, numbers are kept as written, and strings are
// written as encoding/json writes them without HTML escaping (so "\u003c"
// and "<" are the same). evote's own app_state, {"officials": [...]}, is
// then its compact form. Bytes that are not JSON are kept as they are
// (InitChain refuses them before).
func NormalAppState(appState []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(appState))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return appState
	}
	out, err := jsonout.Marshal(v)
	if err != nil {
		return appState
	}
	return out
}
