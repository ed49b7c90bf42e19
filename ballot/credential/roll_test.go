package credential

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/evote/evote/crypto"
)

// randomKeys returns n distinct pseudo-random 32-byte keys (not curve points:
// the roll treats keys as opaque bytes).
func randomKeys(n int, seed uint64) []ed25519.PublicKey {
	r := seeded(seed)
	keys := make([]ed25519.PublicKey, n)
	for i := range keys {
		keys[i] = make([]byte, PublicKeySize)
		r.Read(keys[i])
	}
	return keys
}

// sortedCopy returns keys in ascending order, the order of a roll.
func sortedCopy(keys []ed25519.PublicKey) []ed25519.PublicKey {
	out := slices.Clone(keys)
	slices.SortFunc(out, func(a, b ed25519.PublicKey) int { return bytes.Compare(a, b) })
	return out
}

func mustRoll(t testing.TB, n int, seed uint64) *Roll {
	t.Helper()
	r, err := NewRoll("lakeside-2026", testKDF, randomKeys(n, seed))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRollRoundTrip(t *testing.T) {
	for _, n := range []int{1, 2, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2*ChunkSize + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			keys := randomKeys(n, uint64(n))
			r, err := NewRoll("lakeside-2026", DefaultKDF, keys)
			if err != nil {
				t.Fatal(err)
			}
			if h := r.Header(); r.Len() != n || h.ElectionID != "lakeside-2026" || h.KDF != DefaultKDF || h.Count != n || h.TotalWeight != uint64(n) || !slices.Equal(h.Styles, []string{DefaultStyle}) || h.Weighted() {
				t.Fatalf("header %+v", r.Header())
			}
			for i, k := range sortedCopy(keys) {
				if !bytes.Equal(r.Key(i), k) {
					t.Fatalf("key %d differs", i)
				}
				if j, ok := r.Index(k); !ok || j != i {
					t.Fatalf("Index(key %d) = %d, %v", i, j, ok)
				}
				if e, ok := r.Lookup(k); !ok || !bytes.Equal(e.Key, k) || e.Style != DefaultStyle || e.Weight != 1 {
					t.Fatalf("Lookup(key %d) = %+v, %v", i, e, ok)
				}
			}
			if r.Key(-1) != nil || r.Key(n) != nil {
				t.Fatal("Key out of range is not nil")
			}
			enc := r.Encode()
			var buf bytes.Buffer
			if err := r.WriteBinary(&buf); err != nil || !bytes.Equal(buf.Bytes(), enc) {
				t.Fatalf("WriteBinary differs from Encode (%v)", err)
			}
			d, err := Decode(enc)
			if err != nil {
				t.Fatal(err)
			}
			if d.Hash() != r.Hash() || !bytes.Equal(d.Encode(), enc) {
				t.Fatal("binary round trip changed the roll")
			}
			var js bytes.Buffer
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			j, err := ReadJSON(bytes.NewReader(js.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			var js2 bytes.Buffer
			if err := j.WriteJSON(&js2); err != nil {
				t.Fatal(err)
			}
			if j.Hash() != r.Hash() || !bytes.Equal(js.Bytes(), js2.Bytes()) {
				t.Fatal("JSON round trip changed the roll")
			}
			// The hash from chunks, as the chain computes it.
			var chunks [][32]byte
			for i := 0; i < n; i += ChunkSize {
				chunks = append(chunks, ChunkHash(uint64(i/ChunkSize), enc[len(enc)-n*EntrySize+i*EntrySize:len(enc)-n*EntrySize+min(i+ChunkSize, n)*EntrySize]))
			}
			h, err := r.Header().RollHash(chunks)
			if err != nil || h != r.Hash() {
				t.Fatalf("RollHash from chunks = %x, %v; want %x", h, err, r.Hash())
			}
			if _, err := r.Header().RollHash(chunks[1:]); err == nil {
				t.Fatal("RollHash with a chunk missing succeeded")
			}
		})
	}
}

// TestRollHashLayout recomputes the roll hash from the specification, byte by
// byte, without the package's encoder.
func TestRollHashLayout(t *testing.T) {
	keys := sortedCopy(randomKeys(3, 1))
	r, err := NewRoll("ab", KDFParams{Time: 2, MemoryKiB: 19456, Threads: 1}, keys)
	if err != nil {
		t.Fatal(err)
	}
	hdr := []byte("EVCR\x00\x02\x02ab\x01\x00\x00\x00\x02\x00\x00\x4c\x00\x01\x00\x00\x00\x03" +
		"\x00\x00\x00\x00\x00\x00\x00\x03\x00\x01\x03all")
	if !bytes.Equal(r.Encode()[:len(hdr)], hdr) {
		t.Fatalf("header %x, want %x", r.Encode()[:len(hdr)], hdr)
	}
	lp := func(b []byte) []byte { return append(binary.BigEndian.AppendUint64(nil, uint64(len(b))), b...) }
	var flat []byte
	for _, k := range keys {
		flat = append(append(flat, k...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) // style 0, weight 1
	}
	chunkIn := append(append(lp([]byte("evote/v1/credential-roll-chunk")), lp(make([]byte, 8))...), lp(flat)...)
	chunk := sha256.Sum256(chunkIn)
	rollIn := append(append(lp([]byte("evote/v1/credential-roll")), lp(hdr)...), lp(chunk[:])...)
	if want := sha256.Sum256(rollIn); r.Hash() != want {
		t.Fatalf("roll hash %x, want %x", r.Hash(), want)
	}
	if crypto.Hash("evote/v1/credential-roll", hdr, chunk[:]) != r.Hash() {
		t.Fatal("crypto.Hash disagrees")
	}
}

func TestRollDuplicates(t *testing.T) {
	keys := randomKeys(10, 3)
	keys[7] = keys[2]
	_, err := NewRoll("lakeside-2026", testKDF, keys)
	var dup *DuplicateKeyError
	if !errors.As(err, &dup) || dup.Index != 7 || dup.First != 2 ||
		err.Error() != "credential: roll: the key at index 7 is a duplicate of the key at index 2" {
		t.Fatalf("NewRoll with a duplicate: %v", err)
	}
	// The same in the binary and JSON forms, where the keys are sorted: a
	// duplicate is the key before it again.
	good := mustRoll(t, 10, 3)
	enc := good.Encode()
	keyOff := len(enc) - 10*EntrySize
	copy(enc[keyOff+7*EntrySize:], enc[keyOff+6*EntrySize:keyOff+6*EntrySize+32])
	if _, err := Decode(enc); !errors.As(err, &dup) || dup.Index != 7 || dup.First != 6 {
		t.Fatalf("Decode with a duplicate: %v", err)
	}
	var js bytes.Buffer
	good.WriteJSON(&js)
	k6, k7 := hex.EncodeToString(good.Key(6)), hex.EncodeToString(good.Key(7))
	bad := strings.Replace(js.String(), k7, k6, 1)
	bad = bad[:strings.Index(bad, `  "roll_hash"`)] + bad[strings.Index(bad, `  "entries"`):]
	if _, err := ReadJSON(strings.NewReader(bad)); !errors.As(err, &dup) || dup.Index != 7 {
		t.Fatalf("ReadJSON with a duplicate: %v", err)
	}
}

// TestRollOrder: a roll's keys are in ascending order, which NewRoll makes
// and every decoder requires, so that the published order cannot carry the
// order in which credentials were made or handed out.
func TestRollOrder(t *testing.T) {
	keys := randomKeys(5, 8)
	r, err := NewRoll("lakeside-2026", testKDF, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range sortedCopy(keys) {
		if !bytes.Equal(r.Key(i), k) {
			t.Fatalf("roll key %d is not the %d-th smallest key", i, i)
		}
	}
	// Keys 1 and 3 swapped: the key at index 2 is now smaller than the one
	// before it, the old key 3.
	enc := r.Encode()
	off := len(enc) - 5*EntrySize
	swapped := bytes.Clone(enc)
	copy(swapped[off+1*EntrySize:], enc[off+3*EntrySize:off+4*EntrySize])
	copy(swapped[off+3*EntrySize:], enc[off+1*EntrySize:off+2*EntrySize])
	const want = "credential: malformed roll: the key at index 2 is smaller than the key at index 1: a roll lists its keys in ascending order"
	if _, err := Decode(swapped); !errors.Is(err, ErrMalformedRoll) || err.Error() != want {
		t.Fatalf("Decode of an unsorted roll: %v", err)
	}
	var js bytes.Buffer
	r.WriteJSON(&js)
	k1, k3 := hex.EncodeToString(r.Key(1)), hex.EncodeToString(r.Key(3))
	bad := strings.Replace(strings.Replace(strings.Replace(js.String(), k1, "K1", 1), k3, k1, 1), "K1", k3, 1)
	bad = bad[:strings.Index(bad, `  "roll_hash"`)] + bad[strings.Index(bad, `  "entries"`):]
	if _, err := ReadJSON(strings.NewReader(bad)); !errors.Is(err, ErrMalformedRoll) || err.Error() != want {
		t.Fatalf("ReadJSON of an unsorted roll: %v", err)
	}
	if w, err := CheckEntries(r.Header(), enc[off:]); err != nil || w != 5 {
		t.Fatal(w, err)
	}
	if _, err := CheckEntries(r.Header(), enc[off:off+EntrySize+1]); err == nil {
		t.Fatal("CheckEntries accepted a partial entry")
	}
}

func TestRollRejects(t *testing.T) {
	if _, err := NewRoll("lakeside-2026", testKDF, nil); err == nil || err.Error() != "credential: roll size 0 is out of range: want 1 to 1073741824" {
		t.Errorf("empty roll: %v", err)
	}
	if _, err := NewRoll("lakeside-2026", testKDF, []ed25519.PublicKey{make([]byte, 32), make([]byte, 31)}); err == nil ||
		err.Error() != "credential: roll: the key at index 1 is 31 bytes, want 32" {
		t.Errorf("short key: %v", err)
	}
	if _, err := NewRoll("Lakeside", testKDF, randomKeys(1, 1)); err == nil {
		t.Error("bad election id accepted")
	}
	if _, err := NewRoll("x", KDFParams{}, randomKeys(1, 1)); err == nil {
		t.Error("zero KDF params accepted")
	}

	enc := mustRoll(t, 3, 1).Encode()
	hdrLen := len(enc) - 3*EntrySize
	set := func(off int, b ...byte) []byte { e := bytes.Clone(enc); copy(e[off:], b); return e }
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "reading the header: unexpected EOF"},
		{"magic", set(0, 'X'), `does not start with "EVCR"`},
		{"version", set(5, 1), "format version 1, this program reads version 2"},
		{"id", set(7, 'L'), `election id "Lakeside-2026" is not valid`},
		{"id length 0", set(6, 0), "unknown KDF algorithm"},
		{"algorithm", set(7+13, 2), "unknown KDF algorithm 2"},
		{"time", set(7+13+1, 0, 0, 0, 0), "KDF time 0 is out of range"},
		{"memory", set(7+13+5, 0xff, 0xff, 0xff, 0xff), "KDF memory 4294967295 KiB is out of range"},
		{"threads", set(7+13+9, 0), "KDF threads 0 is out of range"},
		{"count 0", set(7+13+10, 0, 0, 0, 0), "roll size 0 is out of range"},
		{"count huge", set(7+13+10, 0xff, 0xff, 0xff, 0xff), "roll size 4294967295 is out of range"},
		{"truncated header", enc[:hdrLen-1], "reading the header: unexpected EOF"},
		{"no entries", enc[:hdrLen], "truncated: the header announces 3 entries, the input holds 0 bytes of entries"},
		{"truncated entries", enc[:len(enc)-1], "truncated: the header announces 3 entries, the input holds 125 bytes of entries"},
		{"trailing", append(bytes.Clone(enc), 0), "data after the 3 entries the header announces"},
		{"count 4", set(7+13+13, 4), "total weight 3 is out of range: want 4 (one per entry)"},
		{"count 4 weight 4", set(7+13+13, 4, 0, 0, 0, 0, 0, 0, 0, 4), "truncated: the header announces 4 entries, the input holds 126 bytes of entries"},
		{"count 2", set(7+13+13, 2), "data after the 2 entries the header announces"},
		{"weight over", set(7+13+14, 1, 0, 0, 0, 0, 0, 0, 0), "total weight 72057594037927936 is out of range"},
		{"weight 4", set(7+13+21, 4), "the weights add up to 3, the header says 4"},
		{"no styles", set(7+13+22, 0, 0), "0 ballot styles, want 1 to 65535"},
		{"two styles", set(7+13+22, 0, 2)[:hdrLen], "reading the header: unexpected EOF"},
		{"style id", set(7+13+25, 'A'), `ballot style 0, "All", is not a valid id`},
		{"style index", set(hdrLen+33, 1), "the entry at index 0 has ballot style 1; the roll has 1 styles"},
		{"weight 0", set(hdrLen+EntrySize-1, 0), "the entry at index 0 has weight 0"},
	} {
		_, err := Decode(tc.in)
		if !errors.Is(err, ErrMalformedRoll) || !strings.HasPrefix(err.Error(), "credential: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Decode = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestRollLyingCount: a header that claims a billion keys followed by a few
// costs no more memory than the few.
func TestRollLyingCount(t *testing.T) {
	enc := mustRoll(t, 3, 1).Encode()
	hdrLen := len(enc) - 3*EntrySize
	binary.BigEndian.PutUint32(enc[hdrLen-18:], MaxRollSize)
	binary.BigEndian.PutUint64(enc[hdrLen-14:], MaxRollSize)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(enc)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrMalformedRoll) {
		t.Fatal(err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
		t.Fatalf("decoding allocated %d bytes", d)
	}
}

func TestRollJSONRejects(t *testing.T) {
	r := mustRoll(t, 2, 5)
	var buf bytes.Buffer
	r.WriteJSON(&buf)
	good := buf.String()
	k0 := hex.EncodeToString(r.Key(0))
	rh := hex.EncodeToString(func() []byte { h := r.Hash(); return h[:] }())
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown member", `"count": 2,`, `"count": 2, "extra": 1,`, `roll: unknown member "extra"`},
		{"duplicate member", `"count": 2,`, `"count": 2, "count": 2,`, `JSON syntax error at byte 182: duplicate member name "count"`},
		{"invalid UTF-8", `"election_id": "`, "\"election_id\": \"\xff", `JSON syntax error at byte 73: invalid UTF-8 in a string`},
		{"lone surrogate", `"election_id": "`, `"election_id": "\ud800`, `lone surrogate in a \u escape`},
		{"missing member", `"format": "evote-credential-roll",`, ``, `roll: missing member "format"`},
		{"format", `evote-credential-roll`, `evote-roll`, `format is "evote-roll", want "evote-credential-roll"`},
		{"version", `"version": 2`, `"version": 1`, `format version 1, this program reads version 2`},
		{"version fraction", `"version": 2`, `"version": 2.0`, `version: 2.0 is not a whole number of at most 16 bits`},
		{"version string", `"version": 2`, `"version": "2"`, `version: want a whole number, got a string`},
		{"count null", `"count": 2`, `"count": null`, `count: want a whole number, got null`},
		{"count negative", `"count": 2`, `"count": -2`, `count: -2 is not a whole number`},
		{"count mismatch", `"count": 2`, `"count": 3`, `count is 3 but 2 entries are listed`},
		{"total weight", `"total_weight": 2`, `"total_weight": 3`, `the weights add up to 2, the header says 3`},
		{"weight zero", `"weight": 1}`, `"weight": 0}`, `the entry at index 0 has weight 0`},
		{"weight negative", `"weight": 1}`, `"weight": -1}`, `weight: -1 is not a whole number`},
		{"weight string", `"weight": 1}`, `"weight": "1"}`, `weight: want a whole number, got a string`},
		{"unknown style", `"style": "all"`, `"style": "ward-1"`, `entries: ballot style "ward-1" is not in "styles"`},
		{"styles empty", `"styles": ["all"]`, `"styles": []`, `0 ballot styles, want 1 to 65535`},
		{"styles twice", `"styles": ["all"]`, `"styles": ["all", "all"]`, `ballot style "all" is listed twice`},
		{"style hostile", `"styles": ["all"]`, `"styles": ["all", "<b>&\"'\\ü"]`, `ballot style 1, "<b>&\"'\\ü", is not a valid id`},
		{"entry unknown member", `"weight": 1}`, `"weight": 1, "name": "x"}`, `entries: the entry at index 0: unknown member "name"`},
		{"entry missing weight", `, "weight": 1}`, `}`, `entries: the entry at index 0: missing member "weight"`},
		{"kdf algorithm", `"argon2id"`, `"scrypt"`, `kdf: algorithm "scrypt", want "argon2id"`},
		{"kdf unknown", `"threads": 1}`, `"threads": 1, "salt": 1}`, `kdf: unknown member "salt"`},
		{"kdf threads overflow", `"threads": 1}`, `"threads": 256}`, `threads: 256 is not a whole number of at most 8 bits`},
		{"kdf memory", `"memory_kib": 64`, `"memory_kib": 4`, `KDF memory 4 KiB is out of range`},
		{"upper-case key", k0, strings.ToUpper(k0), `entries: the entry at index 0: key is not 64 lower-case hex digits`},
		{"short key", k0, k0[2:], `entries: the entry at index 0: key is not 64 lower-case hex digits`},
		{"key number", `"` + k0 + `"`, `7`, `key: want a string, got a number`},
		{"entries object", `"entries": [`, `"entries": {`, `roll: entries: want "[", got "{"`},
		{"entry string", `{"key": "` + k0 + `", "style": "all", "weight": 1}`, `"` + k0 + `"`, `entries: the entry at index 0: want "{", got a string`},
		{"roll hash", rh, strings.Repeat("0", 64), `roll_hash 0000000000000000000000000000000000000000000000000000000000000000 does not match the roll`},
		{"trailing", "]\n}\n", "]\n}\n{}", `data after the roll object`},
		{"truncated", "]\n}\n", "]\n", `unexpected EOF`},
		{"not an object", "{\n", "[\n", `roll: want "{", got "["`},
	} {
		in := strings.Replace(good, tc.old, tc.new, 1)
		if in == good {
			t.Fatalf("%s: replacement did not apply", tc.name)
		}
		_, err := ReadJSON(strings.NewReader(in))
		if !errors.Is(err, ErrMalformedRoll) || !strings.HasPrefix(err.Error(), "credential: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ReadJSON = %v, want %q", tc.name, err, tc.want)
		}
	}
	// roll_hash is optional, and members may come in any order.
	noHash := strings.Replace(good, `  "roll_hash": "`+rh+`",`+"\n", "", 1)
	reordered := strings.Replace(noHash, `"format": "evote-credential-roll",`, "", 1)
	reordered = strings.Replace(reordered, "\n  ]\n}", "\n  ],\n \"format\": \"evote-credential-roll\"}", 1)
	for _, in := range []string{noHash, reordered} {
		got, err := ReadJSON(strings.NewReader(in))
		if err != nil || got.Hash() != r.Hash() {
			t.Errorf("ReadJSON(%q) = %v", in, err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	r := mustRoll(t, 5, 9)
	bin, js := filepath.Join(dir, "roll.bin"), filepath.Join(dir, "roll.json")
	if err := os.WriteFile(bin, r.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r.WriteJSON(&buf)
	if err := os.WriteFile(js, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bin, js} {
		got, err := Load(p)
		if err != nil || got.Hash() != r.Hash() {
			t.Fatalf("Load(%s) = %v", p, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "none")); err == nil || !strings.HasPrefix(err.Error(), "credential: ") {
		t.Fatalf("Load of a missing file: %v", err)
	}
	os.WriteFile(bin, r.Encode()[:40], 0o644)
	if _, err := Load(bin); !errors.Is(err, ErrMalformedRoll) || !strings.Contains(err.Error(), "roll.bin") {
		t.Fatalf("Load of a truncated file: %v", err)
	}
}

// TestRollMillion: a roll of a million entries is written and read in both
// forms as streams, with memory close to the entries themselves (42 MB) plus
// the index (8 MB).
func TestRollMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("large roll")
	}
	const n = 1_000_000
	keys := make([]byte, n*PublicKeySize)
	seeded(11).Read(keys)
	flat := make([]byte, 0, n*EntrySize)
	for i := range n {
		flat = AppendEntry(flat, keys[i*PublicKeySize:(i+1)*PublicKeySize], i%2, uint64(1+i%3))
	}
	flat, err := sortEntries(flat)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for i := range n {
		_, _, w := EntryAt(flat, i)
		total += w
	}
	r, err := newRoll(Header{ElectionID: "big", KDF: DefaultKDF, Count: n, Styles: []string{"ward-1", "ward-2"}, TotalWeight: total}, flat)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{"binary", "json"} {
		pr, pw := io.Pipe()
		go func() {
			if form == "binary" {
				pw.CloseWithError(r.WriteBinary(pw))
			} else {
				pw.CloseWithError(r.WriteJSON(pw))
			}
		}()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var got *Roll
		if form == "binary" {
			got, err = ReadBinary(pr)
		} else {
			got, err = ReadJSON(pr)
		}
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got.Hash() != r.Hash() || !got.Contains(r.Key(n-1)) {
			t.Fatalf("%s: roll changed", form)
		}
		live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		t.Logf("%s: %d MB live after reading", form, live>>20)
		if live > 60<<20 {
			t.Errorf("%s: %d bytes live for a roll of %d keys", form, live, n)
		}
	}
}
