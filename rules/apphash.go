package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"sort"

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
// the chain id and the genesis app_state with its insignificant whitespace
// removed (encoding/json's Compact: the genesis file is indented, and how
// depends on who wrote it), docs/spec-chain.md §6.1.
func GenesisWrites(chainID string, appState []byte) []Write {
	var b bytes.Buffer
	if err := json.Compact(&b, appState); err != nil {
		// Not JSON: ParseGenesisState refuses it before; keep the bytes.
		b.Reset()
		b.Write(appState)
	}
	return []Write{
		{Bucket: BucketMeta, Key: []byte("chain-id"), Value: []byte(chainID)},
		{Bucket: BucketMeta, Key: []byte("app-state"), Value: b.Bytes()},
	}
}
