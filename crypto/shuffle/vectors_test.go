package shuffle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/evote/evote/crypto"
)

// Known-answer vectors: each case replays Shuffle on inputs and randomness
// drawn from a SHA-256 counter stream (stream in shuffle_test.go) and pins
// the hashes of the inputs, outputs and proof (and, for small cases, the
// proof itself).
//
// Regenerate with: go test ./crypto/shuffle -run TestVectors -update

var update = flag.Bool("update", false, "rewrite crypto/shuffle/testdata/vectors.json")

const vectorFile = "testdata/vectors.json"

type vectorFileT struct {
	Schema     string            `json:"schema"`
	Notes      []string          `json:"notes"`
	Generators []generatorVector `json:"generators"`
	Vectors    []vector          `json:"vectors"`
}

// generatorVector pins one generator: index 0 is H, index i+1 is H_i.
type generatorVector struct {
	Context string `json:"context"`
	Index   int    `json:"index"`
	Element string `json:"element"`
}

type vector struct {
	ID           int    `json:"id"`
	Comment      string `json:"comment"`
	N            int    `json:"n"`
	W            int    `json:"w"`
	Seed         string `json:"seed"`
	Context      string `json:"context"`
	PublicKey    string `json:"public_key"`
	InputSHA256  string `json:"input_sha256"`
	OutputSHA256 string `json:"output_sha256"`
	ProofSHA256  string `json:"proof_sha256"`
	Proof        string `json:"proof,omitempty"`
	Result       string `json:"result"`
}

var vectorShapes = [][2]int{{1, 1}, {2, 1}, {3, 2}, {10, 1}, {10, 5}, {100, 5}}

func rowsHash(rows [][]crypto.Ciphertext) string {
	h := sha256.New()
	for _, r := range rows {
		h.Write(crypto.EncodeCiphertexts(r))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func makeVector(t *testing.T, id, n, w int) vector {
	seed := fmt.Sprintf("evote shuffle vector %d", id)
	rnd := newStream(seed)
	f := newFixture(t, rnd, n, w)
	ctx := testContext(seed)
	out, p, err := Shuffle(rnd, ctx, f.pk, f.in)
	if err != nil {
		t.Fatal(err)
	}
	result := "valid"
	if err := Verify(ctx, f.pk, f.in, out, p); err != nil {
		result = err.Error()
	}
	enc := p.Encode()
	ph := sha256.Sum256(enc)
	pk := crypto.EncodePoint(f.pk)
	v := vector{
		ID: id, N: n, W: w, Seed: seed,
		Comment:      fmt.Sprintf("%d rows of %d ciphertexts; plaintext of row i column k is i·w+k", n, w),
		Context:      hex.EncodeToString(ctx[:]),
		PublicKey:    hex.EncodeToString(pk[:]),
		InputSHA256:  rowsHash(f.in),
		OutputSHA256: rowsHash(out),
		ProofSHA256:  hex.EncodeToString(ph[:]),
		Result:       result,
	}
	if n*w <= 6 {
		v.Proof = hex.EncodeToString(enc)
	}
	return v
}

func TestVectors(t *testing.T) {
	var got vectorFileT
	got.Schema = "evote/v1/shuffle vectors"
	got.Notes = []string{
		"Randomness: the stream SHA-256(seed ‖ BE64(counter)), counter from 0, read in order by: the secret key (crypto.RandomNonZeroScalar, 64 bytes), the encryption randomness of each input row-major (crypto.RandomScalar), then Shuffle.",
		"context = SHA-256 transcript of tag \"evote/v1/test\" and the seed (crypto.Hash).",
		"input_sha256 and output_sha256 hash the 64-byte ciphertext encodings, row-major.",
		"Regenerate with: go test ./crypto/shuffle -run TestVectors -update",
	}
	gctx := testContext("evote shuffle vector 1")
	h, hs := Generators(gctx, 3)
	for x, e := range append([]crypto.Point{h}, hs...) {
		enc := crypto.EncodePoint(e)
		got.Generators = append(got.Generators, generatorVector{
			Context: hex.EncodeToString(gctx[:]), Index: x, Element: hex.EncodeToString(enc[:]),
		})
	}
	for i, s := range vectorShapes {
		got.Vectors = append(got.Vectors, makeVector(t, i+1, s[0], s[1]))
	}
	for _, v := range got.Vectors {
		if v.Result != "valid" {
			t.Errorf("vector %d: %s", v.ID, v.Result)
		}
	}
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var want vectorFileT
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(want.Generators, got.Generators) {
		t.Errorf("generators differ:\n got %+v\nwant %+v", got.Generators, want.Generators)
	}
	if len(want.Vectors) != len(got.Vectors) {
		t.Fatalf("%d vectors in %s, %d generated", len(want.Vectors), vectorFile, len(got.Vectors))
	}
	for i := range want.Vectors {
		if want.Vectors[i] != got.Vectors[i] {
			t.Errorf("vector %d differs:\n got %+v\nwant %+v", want.Vectors[i].ID, got.Vectors[i], want.Vectors[i])
		}
	}
	// The pinned small proofs decode and verify on their own.
	for _, v := range want.Vectors {
		if v.Proof == "" {
			continue
		}
		b, _ := hex.DecodeString(v.Proof)
		if _, err := Decode(b, v.N, v.W); err != nil {
			t.Errorf("vector %d: %v", v.ID, err)
		}
	}
}
