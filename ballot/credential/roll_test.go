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
			if r.Len() != n || r.Header() != (Header{ElectionID: "lakeside-2026", KDF: DefaultKDF, Count: n}) {
				t.Fatalf("header %+v", r.Header())
			}
			for i, k := range sortedCopy(keys) {
				if !bytes.Equal(r.Key(i), k) {
					t.Fatalf("key %d differs", i)
				}
				if j, ok := r.Index(k); !ok || j != i {
					t.Fatalf("Index(key %d) = %d, %v", i, j, ok)
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
				chunks = append(chunks, ChunkHash(uint64(i/ChunkSize), enc[len(enc)-n*32+i*32:len(enc)-n*32+min(i+ChunkSize, n)*32]))
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
	hdr := []byte("EVCR\x00\x01\x02ab\x01\x00\x00\x00\x02\x00\x00\x4c\x00\x01\x00\x00\x00\x03")
	if !bytes.Equal(r.Encode()[:len(hdr)], hdr) {
		t.Fatalf("header %x, want %x", r.Encode()[:len(hdr)], hdr)
	}
	lp := func(b []byte) []byte { return append(binary.BigEndian.AppendUint64(nil, uint64(len(b))), b...) }
	var flat []byte
	for _, k := range keys {
		flat = append(flat, k...)
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
	keyOff := len(enc) - 10*32
	copy(enc[keyOff+7*32:], enc[keyOff+6*32:keyOff+7*32])
	if _, err := Decode(enc); !errors.As(err, &dup) || dup.Index != 7 || dup.First != 6 {
		t.Fatalf("Decode with a duplicate: %v", err)
	}
	var js bytes.Buffer
	good.WriteJSON(&js)
	k6, k7 := hex.EncodeToString(good.Key(6)), hex.EncodeToString(good.Key(7))
	bad := strings.Replace(js.String(), k7, k6, 1)
	bad = bad[:strings.Index(bad, `  "roll_hash"`)] + bad[strings.Index(bad, `  "keys"`):]
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
	off := len(enc) - 5*32
	swapped := bytes.Clone(enc)
	copy(swapped[off+1*32:], enc[off+3*32:off+4*32])
	copy(swapped[off+3*32:], enc[off+1*32:off+2*32])
	const want = "credential: malformed roll: the key at index 2 is smaller than the key at index 1: a roll lists its keys in ascending order"
	if _, err := Decode(swapped); !errors.Is(err, ErrMalformedRoll) || err.Error() != want {
		t.Fatalf("Decode of an unsorted roll: %v", err)
	}
	var js bytes.Buffer
	r.WriteJSON(&js)
	k1, k3 := hex.EncodeToString(r.Key(1)), hex.EncodeToString(r.Key(3))
	bad := strings.Replace(strings.Replace(strings.Replace(js.String(), k1, "K1", 1), k3, k1, 1), "K1", k3, 1)
	bad = bad[:strings.Index(bad, `  "roll_hash"`)] + bad[strings.Index(bad, `  "keys"`):]
	if _, err := ReadJSON(strings.NewReader(bad)); !errors.Is(err, ErrMalformedRoll) || err.Error() != want {
		t.Fatalf("ReadJSON of an unsorted roll: %v", err)
	}
	if err := CheckKeyOrder(enc[off:]); err != nil {
		t.Fatal(err)
	}
	if err := CheckKeyOrder(enc[off : off+33]); err == nil {
		t.Fatal("CheckKeyOrder accepted a partial key")
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
	hdrLen := len(enc) - 3*32
	set := func(off int, b ...byte) []byte { e := bytes.Clone(enc); copy(e[off:], b); return e }
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "reading the header: unexpected EOF"},
		{"magic", set(0, 'X'), `does not start with "EVCR"`},
		{"version", set(5, 2), "format version 2, this program reads version 1"},
		{"id", set(7, 'L'), `election id "Lakeside-2026" is not valid`},
		{"id length 0", set(6, 0), "unknown KDF algorithm"},
		{"algorithm", set(7+13, 2), "unknown KDF algorithm 2"},
		{"time", set(7+13+1, 0, 0, 0, 0), "KDF time 0 is out of range"},
		{"memory", set(7+13+5, 0xff, 0xff, 0xff, 0xff), "KDF memory 4294967295 KiB is out of range"},
		{"threads", set(7+13+9, 0), "KDF threads 0 is out of range"},
		{"count 0", set(7+13+10, 0, 0, 0, 0), "roll size 0 is out of range"},
		{"count huge", set(7+13+10, 0xff, 0xff, 0xff, 0xff), "roll size 4294967295 is out of range"},
		{"truncated header", enc[:hdrLen-1], "reading the header: unexpected EOF"},
		{"no keys", enc[:hdrLen], "truncated: the header announces 3 keys, the input holds 0 bytes of keys"},
		{"truncated keys", enc[:len(enc)-1], "truncated: the header announces 3 keys, the input holds 95 bytes of keys"},
		{"trailing", append(bytes.Clone(enc), 0), "data after the 3 keys the header announces"},
		{"count 4", set(7+13+13, 4), "truncated: the header announces 4 keys, the input holds 96 bytes of keys"},
		{"count 2", set(7+13+13, 2), "data after the 2 keys the header announces"},
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
	hdrLen := len(enc) - 3*32
	binary.BigEndian.PutUint32(enc[hdrLen-4:], MaxRollSize)
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
		{"version", `"version": 1`, `"version": 2`, `format version 2, this program reads version 1`},
		{"version fraction", `"version": 1`, `"version": 1.0`, `version: 1.0 is not a whole number of at most 16 bits`},
		{"version string", `"version": 1`, `"version": "1"`, `version: want a whole number, got a string`},
		{"count null", `"count": 2`, `"count": null`, `count: want a whole number, got null`},
		{"count negative", `"count": 2`, `"count": -2`, `count: -2 is not a whole number`},
		{"count mismatch", `"count": 2`, `"count": 3`, `count is 3 but 2 keys are listed`},
		{"kdf algorithm", `"argon2id"`, `"scrypt"`, `kdf: algorithm "scrypt", want "argon2id"`},
		{"kdf unknown", `"threads": 1}`, `"threads": 1, "salt": 1}`, `kdf: unknown member "salt"`},
		{"kdf threads overflow", `"threads": 1}`, `"threads": 256}`, `threads: 256 is not a whole number of at most 8 bits`},
		{"kdf memory", `"memory_kib": 64`, `"memory_kib": 4`, `KDF memory 4 KiB is out of range`},
		{"upper-case key", k0, strings.ToUpper(k0), `keys: the key at index 0 is not 64 lower-case hex digits`},
		{"short key", k0, k0[2:], `keys: the key at index 0 is not 64 lower-case hex digits`},
		{"key number", `"` + k0 + `"`, `7`, `keys: want a string, got a number`},
		{"keys object", `"keys": [`, `"keys": {`, `roll: keys: want "[", got "{"`},
		{"roll hash", rh, strings.Repeat("0", 64), `roll_hash 0000000000000000000000000000000000000000000000000000000000000000 does not match the roll`},
		{"trailing", "}\n", "}\n{}", `data after the roll object`},
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

// TestRollMillion: a roll of a million keys is written and read in both forms
// as streams, with memory close to the keys themselves (32 MB) plus the index
// (8 MB).
func TestRollMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("large roll")
	}
	const n = 1_000_000
	flat := make([]byte, n*PublicKeySize)
	seeded(11).Read(flat)
	flat, err := sortKeys(flat)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRoll(Header{ElectionID: "big", KDF: DefaultKDF, Count: n}, flat)
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
		if live > 48<<20 {
			t.Errorf("%s: %d bytes live for a roll of %d keys", form, live, n)
		}
	}
}
