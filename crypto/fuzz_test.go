package crypto

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// Every decoder has a fuzz target: bad bytes give an error, never a panic,
// and whatever decodes re-encodes to the same bytes (one encoding per value).

func seedFromVectors(f *testing.F, kind, field string) {
	vf := readVectorsF(f, vectorFile)
	for _, v := range vf.Vectors {
		if v.Kind != kind {
			continue
		}
		if field == "proof" {
			f.Add(hexDecode(v.Proof))
		} else if s, ok := v.Public[field]; ok {
			f.Add(hexDecode(s))
		}
	}
}

func readVectorsF(f *testing.F, path string) vectorFileT {
	var vf vectorFileT
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	if err := json.Unmarshal(b, &vf); err != nil {
		f.Fatal(err)
	}
	return vf
}

func FuzzDecodePoint(f *testing.F) {
	for _, h := range badEncodings {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	for _, h := range smallMultiples {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePoint(b)
		if err != nil {
			return
		}
		if e := EncodePoint(p); !bytes.Equal(e[:], b) {
			t.Fatalf("decode→encode changed %x to %x", b, e)
		}
	})
}

func FuzzDecodeScalar(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeScalar(b)
		if err != nil {
			return
		}
		if e := EncodeScalar(s); !bytes.Equal(e[:], b) {
			t.Fatalf("decode→encode changed %x to %x", b, e)
		}
	})
}

func FuzzDecodeCiphertext(f *testing.F) {
	seedFromVectors(f, "elgamal", "ciphertext")
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCiphertext(b)
		if err != nil {
			return
		}
		if e := c.Encode(); !bytes.Equal(e, b) {
			t.Fatalf("decode→encode changed %x to %x", b, e)
		}
	})
}

func FuzzDecodeSchnorrProof(f *testing.F) {
	seedFromVectors(f, "schnorr", "proof")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeSchnorrProof(b)
		if err != nil {
			return
		}
		if e := p.Encode(); !bytes.Equal(e, b) {
			t.Fatalf("decode→encode changed %x to %x", b, e)
		}
	})
}

func FuzzDecodeChaumPedersenProof(f *testing.F) {
	seedFromVectors(f, "chaum-pedersen", "proof")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeChaumPedersenProof(b)
		if err != nil {
			return
		}
		if e := p.Encode(); !bytes.Equal(e, b) {
			t.Fatalf("decode→encode changed %x to %x", b, e)
		}
	})
}

// FuzzRangeProof decodes a range proof for a fuzzed range and verifies it
// against a fixed statement with both verifiers, which must agree.
func FuzzRangeProof(f *testing.F) {
	vf := readVectorsF(f, vectorFile)
	for _, v := range vf.Vectors {
		if v.Kind == "range" {
			f.Add(hexDecode(v.Proof), uint8(v.Lo), uint8(v.Hi))
		}
	}
	_, pk := keyPair(f)
	ct, _, _ := Encrypt(rand.Reader, pk, 1)
	ctx := testContext("fuzz")
	f.Fuzz(func(t *testing.T, b []byte, lo, hi uint8) {
		p, err := DecodeRangeProof(b, uint64(lo), uint64(hi))
		if err != nil {
			return
		}
		if e := p.Encode(); !bytes.Equal(e, b) {
			t.Fatalf("decode→encode changed the bytes")
		}
		single := p.Verify(TagRange, ctx, pk, ct, uint64(lo), uint64(hi))
		batch, _ := NewBatch(nil)
		batch.AddRange(TagRange, ctx, pk, ct, uint64(lo), uint64(hi), p)
		if (single == nil) != (batch.Verify() == nil) {
			t.Fatalf("single verifier says %v, batch disagrees", single)
		}
	})
}
