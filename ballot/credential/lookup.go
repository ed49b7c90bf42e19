package credential

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"sort"
)

// ChunkFor returns the index of the chunk whose key range holds key, given
// the first key of every chunk of a roll in order (firsts), or false if key
// is before the first chunk. A key in no chunk's range is on no chunk; a
// key in a range may still be absent from it.
func ChunkFor(firsts [][]byte, key []byte) (int, bool) {
	i := sort.Search(len(firsts), func(i int) bool { return bytes.Compare(firsts[i], key) > 0 })
	return i - 1, i > 0
}

// LookupInChunk finds key among the entries of chunk index of a roll with
// header h, after checking the chunk against the roll: the entries hash to
// chunkHashes[index], the chunk hashes with the header give rollHash, and
// the entries are well formed (CheckEntries). It is how a voter's page
// learns its credential's ballot style and weight from one chunk of the
// public roll, without trusting the node it fetched the chunk from more
// than the roll hash it was given. ok is false if key is not in the chunk.
func LookupInChunk(h Header, rollHash [32]byte, chunkHashes [][32]byte, index int, entries []byte, key ed25519.PublicKey) (e Entry, ok bool, err error) {
	got, err := h.RollHash(chunkHashes)
	if err != nil {
		return Entry{}, false, err
	}
	if got != rollHash {
		return Entry{}, false, fmt.Errorf("credential: the roll's chunk hashes and header give the roll hash %x, not %x", got, rollHash)
	}
	if index < 0 || index >= len(chunkHashes) {
		return Entry{}, false, fmt.Errorf("credential: chunk %d of a roll of %d chunks", index, len(chunkHashes))
	}
	if len(entries) != h.ChunkLen(index)*EntrySize {
		return Entry{}, false, fmt.Errorf("credential: chunk %d holds %d bytes, want %d entries", index, len(entries), h.ChunkLen(index))
	}
	if ChunkHash(uint64(index), entries) != chunkHashes[index] {
		return Entry{}, false, fmt.Errorf("credential: chunk %d does not hash to the roll's chunk hash", index)
	}
	if _, err := CheckEntries(h, entries); err != nil {
		return Entry{}, false, err
	}
	n := len(entries) / EntrySize
	i := sort.Search(n, func(i int) bool { k, _, _ := EntryAt(entries, i); return bytes.Compare(k, key) >= 0 })
	if i == n {
		return Entry{}, false, nil
	}
	k, st, w := EntryAt(entries, i)
	if !bytes.Equal(k, key) {
		return Entry{}, false, nil
	}
	return Entry{Key: append(ed25519.PublicKey(nil), k...), Style: h.Styles[st], Weight: w}, true, nil
}
