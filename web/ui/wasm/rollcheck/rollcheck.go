// Package rollcheck is how the voter's page learns, before it shows the
// ballot, whether its credential is on the election's public roll and which
// ballot style and weight the roll gives it (docs/ui.md, "The voting page,
// step by step"). The page reads the roll's index (GET
// /api/elections/{id}/roll: the header, the roll hash, and the key range and
// hash of every chunk), picks the one chunk whose range holds its key
// (Index.ChunkFor), fetches that chunk (GET /api/elections/{id}/roll/{n})
// and looks its key up in it (Index.Lookup), after checking the chunk
// against the roll hash. The node learns which chunk of
// credential.ChunkSize keys the voter's key is in, and nothing more.
//
// It is pure Go (the standard library, ballot/credential and
// internal/strictjson), so that the WebAssembly module (web/ui/wasm) can
// call it and its tests can run outside a browser.
package rollcheck

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/internal/strictjson"
)

// MaxIndexSize is the largest roll index DecodeIndex reads: enough for a
// roll of credential.MaxRollSize entries, whose index has 2^18 chunks of
// about 250 bytes of JSON each.
const MaxIndexSize = 96 << 20

// IncompleteError reports a roll whose chunks are not all on the chain yet:
// no chunk can be checked against a roll hash that does not exist yet.
type IncompleteError struct {
	Election       string
	Loaded, Chunks int
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("rollcheck: the credential roll of election %q is not complete: %d of its %d chunks are loaded", e.Election, e.Loaded, e.Chunks)
}

// Index is a decoded roll index whose chunk hashes and header give its roll
// hash.
type Index struct {
	Header   credential.Header
	RollHash [32]byte
	firsts   [][]byte
	lasts    [][]byte
	hashes   [][32]byte
}

// DecodeIndex reads the JSON answer of GET /api/elections/{id}/roll
// (protocol.RollIndex) of election electionID, and checks it: the election,
// the header (which must be header, byte for byte, when header is not nil:
// the roll header of the election record, which the voter's key was derived
// with), the count, total weight and styles the header gives, one chunk
// entry per chunk in order with 32-byte keys and hashes, key ranges in
// ascending order that do not overlap, and the roll hash, which the chunk
// hashes and the header must give and which must be rollHash when rollHash
// is not nil (the roll hash of the election record). A roll not complete
// yet is an *IncompleteError.
func DecodeIndex(data []byte, electionID string, header, rollHash []byte) (*Index, error) {
	if len(data) > MaxIndexSize {
		return nil, fmt.Errorf("rollcheck: the roll index is %d bytes, more than the %d a roll of %d entries needs", len(data), MaxIndexSize, credential.MaxRollSize)
	}
	v, err := strictjson.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("rollcheck: the roll index: %w", err)
	}
	var r strictjson.Reader
	o := r.Root(v).Object()
	election := o.Get("election").Str()
	hdrEnc := o.Get("header").Bytes()
	complete := o.Get("complete").Bool()
	hashHex := o.Opt("roll_hash").Str()
	count := o.Get("count").Int()
	weight := o.Get("total_weight").Uint64()
	styles := o.Get("styles").Strings()
	type chunk struct {
		index             uint64
		first, last, hash string
		path              string // "chunks[i]", for errors
	}
	var chunks []chunk
	for _, f := range o.Get("chunks").Array() {
		c := f.Object()
		chunks = append(chunks, chunk{index: c.Get("index").Uint64(), first: c.Get("first").Str(), last: c.Get("last").Str(), hash: c.Get("hash").Str(), path: f.Path()})
		c.IgnoreUnknown()
	}
	o.IgnoreUnknown()
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("rollcheck: the roll index: %w", err)
	}
	if election != electionID {
		return nil, fmt.Errorf("rollcheck: the roll index is of election %q, not %q", election, electionID)
	}
	h, err := credential.DecodeHeader(hdrEnc)
	if err != nil {
		return nil, fmt.Errorf("rollcheck: the roll index's header: %w", err)
	}
	switch {
	case h.ElectionID != electionID:
		return nil, fmt.Errorf("rollcheck: the roll index's header is of election %q, not %q", h.ElectionID, electionID)
	case header != nil && !bytes.Equal(header, hdrEnc):
		return nil, errors.New("rollcheck: the roll index's header is not the roll header of the election record")
	case count != h.Count:
		return nil, fmt.Errorf("rollcheck: the roll index says count %d, its header %d", count, h.Count)
	case weight != h.TotalWeight:
		return nil, fmt.Errorf("rollcheck: the roll index says total_weight %d, its header %d", weight, h.TotalWeight)
	case !slices.Equal(styles, h.Styles):
		return nil, fmt.Errorf("rollcheck: the roll index says styles %q, its header %q", styles, h.Styles)
	}
	if !complete {
		return nil, &IncompleteError{Election: electionID, Loaded: len(chunks), Chunks: h.Chunks()}
	}
	if len(chunks) != h.Chunks() {
		return nil, fmt.Errorf("rollcheck: the roll index lists %d chunks, a roll of %d entries has %d", len(chunks), h.Count, h.Chunks())
	}
	x := &Index{Header: h, firsts: make([][]byte, len(chunks)), lasts: make([][]byte, len(chunks)), hashes: make([][32]byte, len(chunks))}
	for i, c := range chunks {
		if c.index != uint64(i) {
			return nil, fmt.Errorf("rollcheck: the roll index's %s is chunk %d, want %d", c.path, c.index, i)
		}
		if x.firsts[i], err = key32(c.path+".first", c.first); err != nil {
			return nil, err
		}
		if x.lasts[i], err = key32(c.path+".last", c.last); err != nil {
			return nil, err
		}
		hb, err := key32(c.path+".hash", c.hash)
		if err != nil {
			return nil, err
		}
		x.hashes[i] = [32]byte(hb)
		if bytes.Compare(x.firsts[i], x.lasts[i]) > 0 {
			return nil, fmt.Errorf("rollcheck: the roll index's chunk %d starts after it ends", i)
		}
		if i > 0 && bytes.Compare(x.lasts[i-1], x.firsts[i]) >= 0 {
			return nil, fmt.Errorf("rollcheck: the roll index's chunk %d does not start after chunk %d ends", i, i-1)
		}
	}
	if hashHex == "" {
		return nil, errors.New("rollcheck: the roll index says the roll is complete but has no roll_hash")
	}
	rh, err := key32("roll_hash", hashHex)
	if err != nil {
		return nil, err
	}
	x.RollHash = [32]byte(rh)
	if rollHash != nil && !bytes.Equal(rollHash, rh) {
		return nil, fmt.Errorf("rollcheck: the roll index's roll hash %x is not the election record's %x", rh, rollHash)
	}
	got, err := h.RollHash(x.hashes)
	if err != nil {
		return nil, fmt.Errorf("rollcheck: %w", err)
	}
	if got != x.RollHash {
		return nil, fmt.Errorf("rollcheck: the roll index's header and chunk hashes give the roll hash %x, not its roll_hash %x", got, rh)
	}
	return x, nil
}

// key32 decodes 32 bytes of lowercase or uppercase hex.
func key32(path, s string) ([]byte, error) {
	if len(s) != 64 {
		return nil, fmt.Errorf("rollcheck: the roll index's %s is %d characters, want 64 hex digits", path, len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("rollcheck: the roll index's %s is not hex: %v", path, err)
	}
	return b, nil
}

// Chunks returns the number of chunks of the roll.
func (x *Index) Chunks() int { return len(x.hashes) }

// ChunkFor returns the chunk to fetch to look key up: the one whose key
// range holds key, or chunk 0 if key comes before the roll's first key
// (Lookup then proves, from chunk 0's first key, that key is on no chunk).
func (x *Index) ChunkFor(key ed25519.PublicKey) int {
	i, _ := credential.ChunkFor(x.firsts, key)
	return max(i, 0)
}

// Lookup checks entries as chunk number index of the roll
// (credential.LookupInChunk: its hash is the index's, which with the header
// gives the roll hash, and its entries are well formed), checks that its
// first and last keys are those the index names, and returns key's entry,
// with ok false if key is not in the chunk. Since the index's key ranges do
// not overlap and a chunk is checked against the roll hash, a key that is
// in the chunk's range and not in the chunk is on no chunk of the roll.
func (x *Index) Lookup(index int, entries []byte, key ed25519.PublicKey) (e credential.Entry, ok bool, err error) {
	if len(key) != credential.PublicKeySize {
		return credential.Entry{}, false, fmt.Errorf("rollcheck: a credential key is %d bytes, want %d", len(key), credential.PublicKeySize)
	}
	e, ok, err = credential.LookupInChunk(x.Header, x.RollHash, x.hashes, index, entries, key)
	if err != nil {
		return credential.Entry{}, false, fmt.Errorf("rollcheck: %w", err)
	}
	n := len(entries) / credential.EntrySize
	first, _, _ := credential.EntryAt(entries, 0)
	last, _, _ := credential.EntryAt(entries, n-1)
	if !bytes.Equal(first, x.firsts[index]) || !bytes.Equal(last, x.lasts[index]) {
		return credential.Entry{}, false, fmt.Errorf("rollcheck: chunk %d runs from key %x to %x, the roll index says from %x to %x", index, first, last, x.firsts[index], x.lasts[index])
	}
	return e, ok, nil
}
