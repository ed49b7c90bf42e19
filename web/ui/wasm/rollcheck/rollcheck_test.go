package rollcheck

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/web/protocol"
)

const election = "district-vote"

var kdf = credential.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// testRoll builds a roll of n random keys over the styles north and south,
// entry i of style i%2 and weight 1+i%13, and returns it with its entries.
func testRoll(t *testing.T, n int) (*credential.Roll, []credential.Entry) {
	t.Helper()
	entries := make([]credential.Entry, n)
	for i := range entries {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		entries[i] = credential.Entry{Key: pub, Style: []string{"north", "south"}[i%2], Weight: uint64(1 + i%13)}
	}
	r, err := credential.BuildRoll(election, kdf, []string{"north", "south"}, entries)
	if err != nil {
		t.Fatal(err)
	}
	return r, entries
}

// indexOf is the answer of GET /api/elections/{id}/roll for r, as web's
// rollIndex writes it.
func indexOf(r *credential.Roll) protocol.RollIndex {
	h := r.Header()
	enc, _ := h.Encode()
	rh := r.Hash()
	x := protocol.RollIndex{Election: h.ElectionID, Header: enc, Complete: true, RollHash: hex.EncodeToString(rh[:]),
		Count: h.Count, Weight: h.TotalWeight, Styles: h.Styles, Chunks: []protocol.RollChunkEntry{}}
	for i := range h.Chunks() {
		c := r.Chunk(i)
		first, _, _ := credential.EntryAt(c, 0)
		last, _, _ := credential.EntryAt(c, len(c)/credential.EntrySize-1)
		ch := credential.ChunkHash(uint64(i), c)
		x.Chunks = append(x.Chunks, protocol.RollChunkEntry{Index: uint64(i), First: hex.EncodeToString(first), Last: hex.EncodeToString(last), Hash: hex.EncodeToString(ch[:])})
	}
	return x
}

func encode(t *testing.T, x protocol.RollIndex) []byte {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, r *credential.Roll, x protocol.RollIndex) *Index {
	t.Helper()
	h, _ := r.Header().Encode()
	rh := r.Hash()
	ix, err := DecodeIndex(encode(t, x), election, h, rh[:])
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestLookupEveryVoter looks up every key of a roll of three chunks from
// the one chunk ChunkFor names, and gets each key's style and weight.
func TestLookupEveryVoter(t *testing.T) {
	r, entries := testRoll(t, 2*credential.ChunkSize+100)
	ix := decode(t, r, indexOf(r))
	if ix.Chunks() != 3 {
		t.Fatalf("%d chunks, want 3", ix.Chunks())
	}
	seen := make([]int, 3)
	for i, e := range entries {
		c := ix.ChunkFor(e.Key)
		got, ok, err := ix.Lookup(c, r.Chunk(c), e.Key)
		if err != nil || !ok {
			t.Fatalf("entry %d in chunk %d: ok %v, %v", i, c, ok, err)
		}
		if got.Style != e.Style || got.Weight != e.Weight || !bytes.Equal(got.Key, e.Key) {
			t.Fatalf("entry %d: got %s weight %d, want %s weight %d", i, got.Style, got.Weight, e.Style, e.Weight)
		}
		if want, _ := r.Index(e.Key); want/credential.ChunkSize != c {
			t.Fatalf("entry %d is at index %d of the roll, ChunkFor says chunk %d", i, want, c)
		}
		seen[c]++
	}
	if seen[0] != credential.ChunkSize || seen[1] != credential.ChunkSize || seen[2] != 100 {
		t.Fatalf("keys per chunk %v", seen)
	}
}

// TestNotOnRoll: keys that are not on the roll, including ones before the
// first key and after the last, are found on no chunk, without an error.
func TestNotOnRoll(t *testing.T) {
	r, _ := testRoll(t, credential.ChunkSize+10)
	ix := decode(t, r, indexOf(r))
	keys := []ed25519.PublicKey{make([]byte, 32), bytes.Repeat([]byte{0xff}, 32)}
	for range 50 {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		keys = append(keys, pub)
	}
	for _, k := range keys {
		c := ix.ChunkFor(k)
		if _, ok, err := ix.Lookup(c, r.Chunk(c), k); ok || err != nil {
			t.Fatalf("key %x, not on the roll, in chunk %d: ok %v, %v", k, c, ok, err)
		}
	}
	if c := ix.ChunkFor(make([]byte, 32)); c != 0 {
		t.Fatalf("the zero key: chunk %d, want 0", c)
	}
	if _, _, err := ix.Lookup(0, r.Chunk(0), make([]byte, 31)); err == nil {
		t.Fatal("a 31-byte key was looked up")
	}
}

// TestBadChunk: a chunk that does not match the roll hash is an error, never
// "not on the roll".
func TestBadChunk(t *testing.T) {
	r, entries := testRoll(t, credential.ChunkSize+10)
	ix := decode(t, r, indexOf(r))
	key := entries[3].Key
	c := ix.ChunkFor(key)
	good := r.Chunk(c)
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 1
		return b
	}
	cases := map[string]struct {
		index   int
		entries []byte
		want    string
	}{
		"a bit of a key":    {c, flip(5), "does not hash"},
		"a bit of a weight": {c, flip(len(good) - 1), "does not hash"},
		"truncated":         {c, good[:len(good)-credential.EntrySize], "holds"},
		"one byte short":    {c, good[:len(good)-1], "holds"},
		"empty":             {c, nil, "holds"},
		"the other chunk":   {1 - c, good, ""},
		"chunk -1":          {-1, good, "chunk -1"},
		"chunk 2":           {2, good, "chunk 2"},
	}
	for name, tc := range cases {
		_, ok, err := ix.Lookup(tc.index, tc.entries, key)
		if err == nil || ok || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ok %v, error %v, want one with %q", name, ok, err, tc.want)
		}
	}
}

// TestBadIndex: an index that does not check out is refused, naming what is
// wrong.
func TestBadIndex(t *testing.T) {
	r, _ := testRoll(t, 2*credential.ChunkSize+1)
	other, _ := testRoll(t, 2*credential.ChunkSize+1)
	hdr, _ := r.Header().Encode()
	rh := r.Hash()
	otherHash := other.Hash()
	cases := map[string]struct {
		edit func(*protocol.RollIndex)
		data func([]byte) []byte
		hdr  []byte
		hash []byte
		want string
	}{
		"another election":         {edit: func(x *protocol.RollIndex) { x.Election = "a&<>\"'\\ é" }, want: `not "district-vote"`},
		"another header":           {hdr: append(bytes.Clone(hdr[:len(hdr)-1]), 'x'), want: "not the roll header of the election record"},
		"another roll hash":        {hash: otherHash[:], want: "not the election record's"},
		"a chunk hash changed":     {edit: func(x *protocol.RollIndex) { x.Chunks[1].Hash = x.Chunks[0].Hash }, want: "give the roll hash"},
		"the roll hash changed":    {edit: func(x *protocol.RollIndex) { x.RollHash = hex.EncodeToString(otherHash[:]) }, hash: otherHash[:], want: "give the roll hash"},
		"no roll hash":             {edit: func(x *protocol.RollIndex) { x.RollHash = "" }, want: "no roll_hash"},
		"a chunk missing":          {edit: func(x *protocol.RollIndex) { x.Chunks = x.Chunks[:2] }, want: "lists 2 chunks"},
		"chunks swapped":           {edit: func(x *protocol.RollIndex) { x.Chunks[0], x.Chunks[1] = x.Chunks[1], x.Chunks[0] }, want: "chunks[0] is chunk 1"},
		"ranges overlap":           {edit: func(x *protocol.RollIndex) { x.Chunks[0].Last = x.Chunks[1].First }, want: "does not start after"},
		"a range backwards":        {edit: func(x *protocol.RollIndex) { x.Chunks[1].First, x.Chunks[1].Last = x.Chunks[1].Last, x.Chunks[1].First }, want: "chunk 1 starts after it ends"},
		"a short key":              {edit: func(x *protocol.RollIndex) { x.Chunks[1].First = x.Chunks[1].First[:62] }, want: "chunks[1].first is 62 characters"},
		"a key not hex":            {edit: func(x *protocol.RollIndex) { x.Chunks[1].Last = "zz" + x.Chunks[1].Last[2:] }, want: "chunks[1].last is not hex"},
		"a wrong count":            {edit: func(x *protocol.RollIndex) { x.Count++ }, want: "count"},
		"a wrong total weight":     {edit: func(x *protocol.RollIndex) { x.Weight-- }, want: "total_weight"},
		"styles swapped":           {edit: func(x *protocol.RollIndex) { x.Styles = []string{"south", "north"} }, want: "styles"},
		"a header that is no roll": {edit: func(x *protocol.RollIndex) { x.Header = []byte("EVCR<script>") }, hdr: []byte("x"), want: "header"},
		"a member twice":           {data: func(b []byte) []byte { return append([]byte(`{"count":1,`), b[1:]...) }, want: "count"},
		"not JSON":                 {data: func([]byte) []byte { return []byte("<html>") }, want: "roll index"},
		"a chunk number as text":   {data: func(b []byte) []byte { return bytes.Replace(b, []byte(`"index":1,`), []byte(`"index":"1",`), 1) }, want: "chunks[1].index"},
		"deep nesting":             {data: func([]byte) []byte { return []byte(strings.Repeat("[", 100000)) }, want: "roll index"},
		"oversize":                 {data: func([]byte) []byte { return make([]byte, MaxIndexSize+1) }, want: "more than"},
	}
	for name, tc := range cases {
		x := indexOf(r)
		if tc.edit != nil {
			tc.edit(&x)
		}
		data := encode(t, x)
		if tc.data != nil {
			data = tc.data(data)
		}
		h, hash := hdr, rh[:]
		if tc.hdr != nil {
			h = tc.hdr
		}
		if tc.hash != nil {
			hash = tc.hash
		}
		if _, err := DecodeIndex(data, election, h, hash); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", name, err, tc.want)
		}
	}
	// Without the election record's header and hash, the index is checked
	// against itself alone.
	if _, err := DecodeIndex(encode(t, indexOf(r)), election, nil, nil); err != nil {
		t.Fatal(err)
	}
}

// TestIndexLiesAboutRange: an index whose key range for a chunk is not the
// chunk's (though ordered) is caught when the chunk is checked, so a key
// is never called "not on the roll" from a range the roll hash does not
// cover.
func TestIndexLiesAboutRange(t *testing.T) {
	r, entries := testRoll(t, credential.ChunkSize+10)
	x := indexOf(r)
	// A voter's key, first of chunk 1: the lying index moves chunk 1's
	// start past it, so that ChunkFor names chunk 0, where it is not.
	var key ed25519.PublicKey
	for _, e := range entries {
		if i, _ := r.Index(e.Key); i == credential.ChunkSize {
			key = e.Key
		}
	}
	second, _, _ := credential.EntryAt(r.Chunk(1), 1)
	x.Chunks[1].First = hex.EncodeToString(second)
	x.Chunks[0].Last = hex.EncodeToString(key)
	ix := decode(t, r, x)
	c := ix.ChunkFor(key)
	if c != 0 {
		t.Fatalf("chunk %d", c)
	}
	if _, ok, err := ix.Lookup(c, r.Chunk(c), key); err == nil || ok || !strings.Contains(err.Error(), "the roll index says from") {
		t.Fatalf("a chunk whose range the index misstates: ok %v, %v", ok, err)
	}
}

// TestIncomplete: a roll not all on the chain is an *IncompleteError with
// the counts.
func TestIncomplete(t *testing.T) {
	r, _ := testRoll(t, 2*credential.ChunkSize+1)
	x := indexOf(r)
	x.Complete, x.RollHash, x.Chunks = false, "", x.Chunks[:1]
	_, err := DecodeIndex(encode(t, x), election, nil, nil)
	var inc *IncompleteError
	if !errors.As(err, &inc) || inc.Loaded != 1 || inc.Chunks != 3 {
		t.Fatalf("incomplete roll: %v", err)
	}
}
