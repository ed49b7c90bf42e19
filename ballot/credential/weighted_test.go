package credential

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestWeightedRoll: a roll binds each key to its ballot style and weight,
// in both forms, and BuildRoll refuses what a roll cannot hold.
func TestWeightedRoll(t *testing.T) {
	keys := randomKeys(6, 21)
	styles := []string{"district-1", "district-2"}
	var entries []Entry
	for i, k := range keys {
		entries = append(entries, Entry{Key: k, Style: styles[i%2], Weight: uint64(1 + 100*i)})
	}
	r, err := BuildRoll("assembly-2027", testKDF, styles, entries)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.TotalWeight != 1506 || !h.Weighted() || len(h.Styles) != 2 {
		t.Fatalf("header %+v", h)
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"total_weight": 1506,`) || !strings.Contains(js.String(), `"styles": ["district-1", "district-2"],`) ||
		!strings.Contains(js.String(), `"style": "district-2", "weight": 501}`) {
		t.Fatalf("JSON form:\n%s", js.String())
	}
	fromJSON, err := ReadJSON(&js)
	if err != nil {
		t.Fatal(err)
	}
	fromBinary, err := Decode(r.Encode())
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*Roll{r, fromJSON, fromBinary} {
		if got.Hash() != r.Hash() {
			t.Fatal("round trip changed the roll hash")
		}
		for _, e := range entries {
			g, ok := got.Lookup(e.Key)
			if !ok || g.Style != e.Style || g.Weight != e.Weight {
				t.Fatalf("Lookup = %+v, %v; want %+v", g, ok, e)
			}
		}
	}
	// The style and the weight are in the roll hash.
	other := append([]Entry(nil), entries...)
	other[0].Style = "district-2"
	if o, err := BuildRoll("assembly-2027", testKDF, styles, other); err != nil || o.Hash() == r.Hash() {
		t.Fatalf("another style, same roll hash (%v)", err)
	}
	other[0].Style, other[0].Weight = entries[0].Style, 2
	if o, err := BuildRoll("assembly-2027", testKDF, styles, other); err != nil || o.Hash() == r.Hash() {
		t.Fatalf("another weight, same roll hash (%v)", err)
	}

	for _, tc := range []struct {
		name   string
		styles []string
		edit   func(e []Entry)
		want   string
	}{
		{"unknown style", styles, func(e []Entry) { e[3].Style = "district-3" }, `the entry at index 3 has ballot style "district-3", which is not one of the election's styles ["district-1" "district-2"]`},
		{"weight 0", styles, func(e []Entry) { e[2].Weight = 0 }, "the entry at index 2 has weight 0; a weight is at least 1"},
		{"total over", styles, func(e []Entry) { e[1].Weight = MaxTotalWeight }, "the total weight is more than 1099511627776, the largest a tally can count"},
		{"weight overflow", styles, func(e []Entry) { e[1].Weight = 1<<64 - 1 }, "the total weight is more than 1099511627776"},
		{"styles twice", []string{"district-1", "district-1"}, func([]Entry) {}, `ballot style "district-1" is listed twice`},
		{"hostile style", []string{"district-1", "<&\"'\\>"}, func([]Entry) {}, `ballot style 1, "<&\"'\\>", is not a valid id`},
	} {
		e := append([]Entry(nil), entries...)
		for i := range e {
			if e[i].Style == "district-2" {
				e[i].Style = tc.styles[1]
			}
		}
		tc.edit(e)
		if _, err := BuildRoll("assembly-2027", testKDF, tc.styles, e); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestGenerateEntries: each code's key is on the roll with its voter's
// style and weight.
func TestGenerateEntries(t *testing.T) {
	styles := []string{"north", "south"}
	voters := []Entry{{Style: "south", Weight: 3}, {Style: "north", Weight: 1}, {Style: "south", Weight: 250}, {Style: "north", Weight: 12}}
	codes, roll, err := GenerateEntries(context.Background(), "assembly-2027", testKDF, styles, voters, seeded(4), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if roll.Header().TotalWeight != 266 {
		t.Fatalf("total weight %d", roll.Header().TotalWeight)
	}
	for i, c := range codes {
		cred, err := Derive(c, "assembly-2027", testKDF)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := roll.Lookup(cred.PublicKey())
		if !ok || e.Style != voters[i].Style || e.Weight != voters[i].Weight {
			t.Fatalf("voter %d: %+v, %v", i, e, ok)
		}
	}
	bad := []Entry{{Style: "east", Weight: 1}}
	if _, _, err := GenerateEntries(context.Background(), "assembly-2027", testKDF, styles, bad, seeded(4), 1, nil); err == nil ||
		err.Error() != `credential: voter 0 has ballot style "east", which is not one of the election's styles ["north" "south"]` {
		t.Fatalf("unknown style: %v", err)
	}
	if _, _, err := GenerateEntries(context.Background(), "assembly-2027", testKDF, styles, []Entry{{Style: "north"}}, seeded(4), 1, nil); err == nil ||
		err.Error() != "credential: voter 0 has weight 0; a weight is at least 1" {
		t.Fatalf("weight 0: %v", err)
	}
}

// TestLookupInChunk: a key is found in its chunk with its style and weight,
// and a chunk or hash list that is not the roll's is refused.
func TestLookupInChunk(t *testing.T) {
	const n = 2*ChunkSize + 10
	keys := randomKeys(n, 31)
	var entries []Entry
	for i, k := range keys {
		entries = append(entries, Entry{Key: k, Style: []string{"a", "b"}[i%2], Weight: uint64(1 + i%5)})
	}
	r, err := BuildRoll("lookup-2027", testKDF, []string{"a", "b"}, entries)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	var firsts [][]byte
	var hashes [][32]byte
	for i := range h.Chunks() {
		firsts = append(firsts, r.Chunk(i)[:PublicKeySize])
		hashes = append(hashes, ChunkHash(uint64(i), r.Chunk(i)))
	}
	for _, e := range []Entry{entries[0], entries[4097], entries[n-1]} {
		c, ok := ChunkFor(firsts, e.Key)
		if !ok {
			t.Fatal("no chunk")
		}
		got, ok, err := LookupInChunk(h, r.Hash(), hashes, c, r.Chunk(c), e.Key)
		if err != nil || !ok || got.Style != e.Style || got.Weight != e.Weight {
			t.Fatalf("lookup = %+v, %v, %v; want %+v", got, ok, err, e)
		}
	}
	stranger := randomKeys(1, 99)[0]
	if c, ok := ChunkFor(firsts, stranger); ok {
		if _, found, err := LookupInChunk(h, r.Hash(), hashes, c, r.Chunk(c), stranger); err != nil || found {
			t.Fatalf("a stranger's key: %v, %v", found, err)
		}
	}
	if _, ok := ChunkFor(firsts, make([]byte, 32)); ok && !bytes.Equal(firsts[0], make([]byte, 32)) {
		t.Fatal("the zero key is before every chunk")
	}
	bad := bytes.Clone(r.Chunk(1))
	bad[len(bad)-1] ^= 1 // a weight changed
	if _, _, err := LookupInChunk(h, r.Hash(), hashes, 1, bad, entries[0].Key); err == nil {
		t.Fatal("a changed chunk was accepted")
	}
	if _, _, err := LookupInChunk(h, [32]byte{1}, hashes, 1, r.Chunk(1), entries[0].Key); err == nil {
		t.Fatal("another roll hash was accepted")
	}
	if _, _, err := LookupInChunk(h, r.Hash(), hashes, 0, r.Chunk(1), entries[0].Key); err == nil {
		t.Fatal("chunk 1 was accepted as chunk 0")
	}
}
