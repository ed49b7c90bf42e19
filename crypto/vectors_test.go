package crypto

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/evote/evote/crypto/cryptotest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Known-answer and negative test vectors, in the shape of Wycheproof: each
// case has an id, a comment, its inputs with the explicit randomness used, and
// an expected outcome naming the layer that rejects it.
//
// Regenerate with: go test ./crypto -run TestVectors -update

var update = flag.Bool("update", false, "rewrite crypto/testdata vector files")

const (
	vectorFile   = "testdata/vectors.json"
	negativeFile = "testdata/negative.json"
)

// Layers at which a vector can be rejected.
const (
	layerDecode    = "decode"    // an encoding is malformed or non-canonical
	layerShape     = "shape"     // a proof has the wrong number of branches
	layerChallenge = "challenge" // branch challenges do not sum to the Fiat-Shamir challenge
	layerProof     = "proof"     // a verification equation fails
	layerPlaintext = "plaintext" // a ciphertext does not decrypt to the stated value
)

type vectorFileT struct {
	Schema  string   `json:"schema"`
	Notes   []string `json:"notes"`
	Vectors []vector `json:"vectors"`
}

// vector is one test case. Byte strings are hex. Kinds: "elgamal",
// "schnorr", "chaum-pedersen", "range".
type vector struct {
	ID      int    `json:"id"`
	Kind    string `json:"kind"`
	Comment string `json:"comment"`
	Tag     string `json:"tag,omitempty"`
	Context string `json:"context,omitempty"`
	// Secret is the encryption randomness r (elgamal, range) or the
	// discrete log x (schnorr, chaum-pedersen); Secret2 is the decryption key
	// of an elgamal vector.
	Secret  string   `json:"secret,omitempty"`
	Secret2 string   `json:"secret_key,omitempty"`
	Nonces  []string `json:"nonces,omitempty"`
	M       uint64   `json:"m"`
	Lo      uint64   `json:"lo"`
	Hi      uint64   `json:"hi"`
	// Public holds the statement: "pk", "ciphertext", "X", "H", "Y".
	Public map[string]string `json:"public"`
	Proof  string            `json:"proof,omitempty"`
	Result string            `json:"result"` // "valid" or "invalid"
	Layer  string            `json:"layer,omitempty"`
	Field  string            `json:"field,omitempty"`
}

// drbg is cryptotest's deterministic stream, from which the generator draws
// the explicit randomness it then records in each vector.
type drbg struct{ *cryptotest.DRBG }

func newDRBG(label string) *drbg { return &drbg{cryptotest.NewDRBG(label)} }

func (d *drbg) scalar() Scalar {
	s, _ := RandomScalar(d)
	return s
}

func hexS(s Scalar) string { e := EncodeScalar(s); return hex.EncodeToString(e[:]) }
func hexP(p Point) string  { e := EncodePoint(p); return hex.EncodeToString(e[:]) }

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// generateVectors builds the known-answer vectors from fixed seeds.
func generateVectors() []vector {
	var vs []vector
	add := func(v vector) { v.ID = len(vs) + 1; v.Result = "valid"; vs = append(vs, v) }
	ctxOf := func(label string) Context { return Context(Hash(tagPrefix+"test-vector", []byte(label))) }

	for i, m := range []uint64{0, 1, 7, 1000000} {
		d := newDRBG(fmt.Sprintf("elgamal/%d", i))
		sk, r := d.scalar(), d.scalar()
		pk := BaseMul(sk)
		ct := EncryptWithRandomness(pk, m, r)
		add(vector{Kind: "elgamal", Comment: fmt.Sprintf("encryption of %d", m), Secret: hexS(r), Secret2: hexS(sk), M: m,
			Public: map[string]string{"pk": hexP(pk), "ciphertext": hex.EncodeToString(ct.Encode())}})
	}
	for i := range 3 {
		d := newDRBG(fmt.Sprintf("schnorr/%d", i))
		ctx := ctxOf(fmt.Sprintf("schnorr/%d", i))
		x, w := d.scalar(), d.scalar()
		X := BaseMul(x)
		p := ProveSchnorrWithRandomness(ctx, x, X, w)
		add(vector{Kind: "schnorr", Comment: "proof of knowledge of a discrete log", Context: ctx.String(), Secret: hexS(x),
			Nonces: []string{hexS(w)}, Public: map[string]string{"X": hexP(X)}, Proof: hex.EncodeToString(p.Encode())})
	}
	for i, tag := range []string{TagChaumPedersen, TagDecryptionPart} {
		d := newDRBG(fmt.Sprintf("cp/%d", i))
		ctx := ctxOf(fmt.Sprintf("cp/%d", i))
		x, h, w := d.scalar(), d.scalar(), d.scalar()
		X, H := BaseMul(x), BaseMul(h)
		Y := NewPoint().Mul(H, x)
		p := ProveChaumPedersenWithRandomness(tag, ctx, x, X, H, Y, w)
		add(vector{Kind: "chaum-pedersen", Tag: tag, Comment: "equality of discrete logs", Context: ctx.String(), Secret: hexS(x),
			Nonces: []string{hexS(w)}, Public: map[string]string{"X": hexP(X), "H": hexP(H), "Y": hexP(Y)}, Proof: hex.EncodeToString(p.Encode())})
	}
	for i, tc := range []struct {
		tag         string
		m, lo, hi   uint64
		description string
	}{
		{TagZeroOne, 0, 0, 1, "0/1 proof of 0"},
		{TagZeroOne, 1, 0, 1, "0/1 proof of 1"},
		{TagRange, 0, 0, 3, "range proof of 0 in [0,3] (up to 3 of several)"},
		{TagRange, 3, 0, 3, "range proof of 3 in [0,3]"},
		{TagRange, 2, 1, 3, "range proof of 2 in [1,3]"},
		{TagRange, 1, 1, 1, "range proof of 1 in [1,1] (exactly one)"},
	} {
		d := newDRBG(fmt.Sprintf("range/%d", i))
		ctx := ctxOf(fmt.Sprintf("range/%d", i))
		sk, r := d.scalar(), d.scalar()
		pk := BaseMul(sk)
		ct := EncryptWithRandomness(pk, tc.m, r)
		nonces := make([]RangeNonces, tc.hi-tc.lo+1)
		var nonceHex []string
		for j := range nonces {
			nonces[j] = RangeNonces{W: d.scalar(), C: d.scalar(), V: d.scalar()}
			nonceHex = append(nonceHex, hexS(nonces[j].W), hexS(nonces[j].C), hexS(nonces[j].V))
		}
		p, err := ProveRangeWithRandomness(tc.tag, ctx, pk, ct, tc.m, r, tc.lo, tc.hi, nonces)
		if err != nil {
			panic(err)
		}
		add(vector{Kind: "range", Tag: tc.tag, Comment: tc.description, Context: ctx.String(), Secret: hexS(r), Nonces: nonceHex,
			M: tc.m, Lo: tc.lo, Hi: tc.hi, Public: map[string]string{"pk": hexP(pk), "ciphertext": hex.EncodeToString(ct.Encode())},
			Proof: hex.EncodeToString(p.Encode())})
	}
	return vs
}

// fieldsOf lists the mutable fields of a vector: name → (which byte string,
// offset, length).
type field struct {
	name   string
	where  string // "proof" or a Public key
	offset int
	isScal bool
}

func fieldsOf(v vector) []field {
	pointField := func(name, where string, off int) field { return field{name, where, off, false} }
	scalarField := func(name, where string, off int) field { return field{name, where, off, true} }
	var fs []field
	switch v.Kind {
	case "elgamal":
		fs = append(fs, pointField("alpha", "ciphertext", 0), pointField("beta", "ciphertext", 32))
	case "schnorr":
		fs = append(fs, pointField("X", "X", 0), pointField("commitment", "proof", 0), scalarField("response", "proof", 32))
	case "chaum-pedersen":
		fs = append(fs, pointField("X", "X", 0), pointField("H", "H", 0), pointField("Y", "Y", 0),
			pointField("commitment G", "proof", 0), pointField("commitment H", "proof", 32), scalarField("response", "proof", 64))
	case "range":
		fs = append(fs, pointField("pk", "pk", 0), pointField("alpha", "ciphertext", 0), pointField("beta", "ciphertext", 32))
		for j := uint64(0); j <= v.Hi-v.Lo; j++ {
			o := int(j) * RangeBranchSize
			fs = append(fs, pointField(fmt.Sprintf("branch %d a", j), "proof", o), pointField(fmt.Sprintf("branch %d b", j), "proof", o+32),
				scalarField(fmt.Sprintf("branch %d challenge", j), "proof", o+64), scalarField(fmt.Sprintf("branch %d response", j), "proof", o+96))
		}
	}
	return fs
}

// generateNegative mutates every field of every known-answer vector in
// several ways and records the layer that rejects each mutation.
func generateNegative(t testing.TB, valid []vector) []vector {
	var out []vector
	identity := EncodePoint(NewPoint())
	nonCanonicalScalar, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010") // ℓ
	nonCanonicalPoint, _ := hex.DecodeString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")  // p, RFC 9496 A.2
	for _, v := range valid {
		for _, f := range fieldsOf(v) {
			type mutation struct {
				how string
				fn  func([]byte)
			}
			muts := []mutation{
				{"low bit flipped", func(b []byte) { b[0] ^= 1 }},
				{"byte 17 changed", func(b []byte) { b[17] ^= 0x40 }},
			}
			if f.isScal {
				muts = append(muts,
					mutation{"replaced by ℓ (non-canonical zero)", func(b []byte) { copy(b, nonCanonicalScalar) }},
					mutation{"top bit set", func(b []byte) { b[31] |= 0x80 }},
					mutation{"replaced by another valid scalar", func(b []byte) { copy(b, hexDecode(hexS(ScalarFromUint64(12345)))) }})
			} else {
				muts = append(muts,
					mutation{"replaced by a non-canonical encoding", func(b []byte) { copy(b, nonCanonicalPoint) }},
					mutation{"replaced by the identity", func(b []byte) { copy(b, identity[:]) }},
					mutation{"replaced by the generator", func(b []byte) { e := EncodePoint(Generator()); copy(b, e[:]) }})
			}
			for _, m := range muts {
				nv := v
				nv.Public = map[string]string{}
				for k, x := range v.Public {
					nv.Public[k] = x
				}
				var target []byte
				if f.where == "proof" {
					target = hexDecode(v.Proof)
				} else {
					target = hexDecode(v.Public[f.where])
				}
				before := slices.Clone(target)
				m.fn(target[f.offset : f.offset+32])
				if slices.Equal(before, target) {
					continue // the mutation happened to change nothing
				}
				if f.where == "proof" {
					nv.Proof = hex.EncodeToString(target)
				} else {
					nv.Public[f.where] = hex.EncodeToString(target)
				}
				nv.Field, nv.Comment, nv.Result = f.name, fmt.Sprintf("vector %d (%s): %s %s", v.ID, v.Comment, f.name, m.how), "invalid"
				nv.Secret, nv.Secret2, nv.Nonces = "", "", nil
				nv.Layer = checkVector(t, nv, v.Secret2)
				if nv.Layer == "" {
					t.Fatalf("mutation accepted: %s", nv.Comment)
				}
				out = append(out, nv)
			}
		}
		// Shape mutations of range proofs: a branch missing or added.
		if v.Kind == "range" {
			p := hexDecode(v.Proof)
			for _, c := range []struct {
				how   string
				proof []byte
			}{{"last branch removed", p[:len(p)-RangeBranchSize]}, {"first branch repeated", append(slices.Clone(p[:RangeBranchSize]), p...)}} {
				nv := v
				nv.Proof = hex.EncodeToString(c.proof)
				nv.Field, nv.Comment, nv.Result = "branches", fmt.Sprintf("vector %d (%s): %s", v.ID, v.Comment, c.how), "invalid"
				nv.Secret, nv.Secret2, nv.Nonces = "", "", nil
				nv.Layer = checkVector(t, nv, "")
				out = append(out, nv)
			}
		}
	}
	for i := range out {
		out[i].ID = 1000 + i
	}
	return out
}

func hexDecode(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// checkVector decodes and verifies a vector's statement and proof and returns
// the layer that rejects it, or "" if it is valid. secretKey, for elgamal
// vectors, is the decryption key used to check the plaintext.
func checkVector(t testing.TB, v vector, secretKey string) string {
	t.Helper()
	var ctx Context
	copy(ctx[:], hexDecode(v.Context))
	layerOf := func(err error) string {
		switch {
		case err == nil:
			return ""
		case errors.Is(err, ErrDecode):
			return layerDecode
		case errors.Is(err, ErrRangeShape):
			return layerShape
		case errors.Is(err, ErrChallengeSum):
			return layerChallenge
		case errors.Is(err, ErrProof):
			return layerProof
		}
		t.Fatalf("vector %d: unclassified error %v", v.ID, err)
		return ""
	}
	pt := func(k string) (Point, error) { return DecodePoint(hexDecode(v.Public[k])) }
	key := func(k string) (Point, error) { return DecodeNonIdentityPoint(hexDecode(v.Public[k])) }
	switch v.Kind {
	case "elgamal":
		ct, err := DecodeCiphertext(hexDecode(v.Public["ciphertext"]))
		if err != nil {
			return layerOf(err)
		}
		sk, err := DecodeScalar(hexDecode(secretKey))
		if err != nil {
			t.Fatal(err)
		}
		if !ct.DecryptToPoint(sk).IsEqual(BaseMul(ScalarFromUint64(v.M))) {
			return layerPlaintext
		}
		return ""
	case "schnorr":
		X, err := key("X")
		if err != nil {
			return layerOf(err)
		}
		p, err := DecodeSchnorrProof(hexDecode(v.Proof))
		if err != nil {
			return layerOf(err)
		}
		single := layerOf(p.Verify(ctx, X))
		b, _ := NewBatch(nil)
		b.AddSchnorr(ctx, X, p)
		assertBatchAgrees(t, v, single, b.Verify())
		return single
	case "chaum-pedersen":
		X, err1 := key("X")
		H, err2 := key("H")
		Y, err3 := pt("Y")
		if err := errors.Join(err1, err2, err3); err != nil {
			return layerOf(err)
		}
		p, err := DecodeChaumPedersenProof(hexDecode(v.Proof))
		if err != nil {
			return layerOf(err)
		}
		single := layerOf(p.Verify(v.Tag, ctx, X, H, Y))
		b, _ := NewBatch(nil)
		b.AddChaumPedersen(v.Tag, ctx, X, H, Y, p)
		assertBatchAgrees(t, v, single, b.Verify())
		return single
	case "range":
		pk, err := key("pk")
		if err != nil {
			return layerOf(err)
		}
		ct, err := DecodeCiphertext(hexDecode(v.Public["ciphertext"]))
		if err != nil {
			return layerOf(err)
		}
		p, err := DecodeRangeProof(hexDecode(v.Proof), v.Lo, v.Hi)
		if err != nil {
			if errors.Is(err, ErrLength) {
				return layerShape
			}
			return layerOf(err)
		}
		single := layerOf(p.Verify(v.Tag, ctx, pk, ct, v.Lo, v.Hi))
		b, _ := NewBatch(nil)
		b.AddRange(v.Tag, ctx, pk, ct, v.Lo, v.Hi, p)
		assertBatchAgrees(t, v, single, b.Verify())
		return single
	}
	t.Fatalf("vector %d: unknown kind %q", v.ID, v.Kind)
	return ""
}

func assertBatchAgrees(t testing.TB, v vector, single string, failed []int) {
	t.Helper()
	if (single == "") != (failed == nil) {
		t.Errorf("vector %d (%s): single verifier says %q, batch verifier reports failures %v", v.ID, v.Comment, single, failed)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readVectors(t *testing.T, path string) vectorFileT {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./crypto -run TestVectors -update)", err)
	}
	var f vectorFileT
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestVectors checks the known-answer vectors: re-creating each from its
// recorded randomness gives the recorded bytes, and each verifies.
func TestVectors(t *testing.T) {
	if *update {
		vs := generateVectors()
		writeJSON(t, vectorFile, vectorFileT{Schema: "evote/v1 crypto known-answer vectors", Notes: []string{
			"Byte strings are hex. Scalars are 32-byte little-endian, points 32-byte ristretto255 encodings (RFC 9496).",
			"secret: encryption randomness r (elgamal, range) or discrete log x (schnorr, chaum-pedersen); secret_key: decryption key.",
			"nonces: the prover's randomness in order: schnorr/chaum-pedersen [w]; range: per branch lo..hi, (w, c, v).",
			"See docs/spec.md for every encoding, tag and equation.",
		}, Vectors: vs})
		writeJSON(t, negativeFile, vectorFileT{Schema: "evote/v1 crypto negative vectors", Notes: []string{
			"Each vector is a known-answer vector with one field mutated; layer names the check that must reject it:",
			"decode (malformed or non-canonical encoding, identity public key), shape (wrong number of branches),",
			"challenge (branch challenges do not sum to the Fiat-Shamir challenge), proof (an equation fails), plaintext (wrong decryption).",
		}, Vectors: generateNegative(t, vs)})
	}
	f := readVectors(t, vectorFile)
	if len(f.Vectors) < 15 {
		t.Fatalf("only %d vectors", len(f.Vectors))
	}
	for _, v := range f.Vectors {
		t.Run(fmt.Sprintf("%d-%s", v.ID, v.Kind), func(t *testing.T) {
			if got := checkVector(t, v, v.Secret2); got != "" {
				t.Fatalf("valid vector rejected at layer %s", got)
			}
			if got := recompute(t, v); got != v.Proof && v.Kind != "elgamal" || v.Kind == "elgamal" && got != v.Public["ciphertext"] {
				t.Fatalf("re-created from the recorded randomness:\n got  %s\n want %s", got, v.Proof+v.Public["ciphertext"])
			}
		})
	}
}

// recompute re-creates a vector's proof (or ciphertext) from its recorded
// secret and randomness.
func recompute(t *testing.T, v vector) string {
	sc := func(s string) Scalar {
		x, err := DecodeScalar(unhex(t, s))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	pt := func(k string) Point {
		p, err := DecodePoint(unhex(t, v.Public[k]))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var ctx Context
	copy(ctx[:], unhex(t, v.Context))
	switch v.Kind {
	case "elgamal":
		return hex.EncodeToString(EncryptWithRandomness(pt("pk"), v.M, sc(v.Secret)).Encode())
	case "schnorr":
		return hex.EncodeToString(ProveSchnorrWithRandomness(ctx, sc(v.Secret), pt("X"), sc(v.Nonces[0])).Encode())
	case "chaum-pedersen":
		return hex.EncodeToString(ProveChaumPedersenWithRandomness(v.Tag, ctx, sc(v.Secret), pt("X"), pt("H"), pt("Y"), sc(v.Nonces[0])).Encode())
	case "range":
		var nonces []RangeNonces
		for i := 0; i+2 < len(v.Nonces); i += 3 {
			nonces = append(nonces, RangeNonces{sc(v.Nonces[i]), sc(v.Nonces[i+1]), sc(v.Nonces[i+2])})
		}
		ct, err := DecodeCiphertext(unhex(t, v.Public["ciphertext"]))
		if err != nil {
			t.Fatal(err)
		}
		p, err := ProveRangeWithRandomness(v.Tag, ctx, pt("pk"), ct, v.M, sc(v.Secret), v.Lo, v.Hi, nonces)
		if err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(p.Encode())
	}
	return ""
}

// TestNegativeVectors checks that every mutated vector is rejected at the
// recorded layer, by the single and the batch verifier alike.
func TestNegativeVectors(t *testing.T) {
	f := readVectors(t, negativeFile)
	valid := readVectors(t, vectorFile)
	secretKeys := map[string]string{}
	for _, v := range valid.Vectors {
		if v.Kind == "elgamal" {
			secretKeys[v.Public["pk"]] = v.Secret2
		}
	}
	layers := map[string]int{}
	fields := map[string]bool{}
	for _, v := range f.Vectors {
		got := checkVector(t, v, secretKeys[v.Public["pk"]])
		if got != v.Layer {
			t.Errorf("vector %d (%s): rejected at layer %q, want %q", v.ID, v.Comment, got, v.Layer)
		}
		layers[v.Layer]++
		fields[v.Kind+"/"+strings.SplitN(v.Field, " ", 2)[0]] = true
	}
	// Every layer is exercised, so the suite cannot pass vacuously.
	for _, l := range []string{layerDecode, layerShape, layerChallenge, layerProof, layerPlaintext} {
		if layers[l] == 0 {
			t.Errorf("no negative vector fails at layer %s", l)
		}
	}
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	t.Logf("%d negative vectors over fields %v; by layer %v", len(f.Vectors), names, layers)
}
