package shuffle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/evote/evote/crypto"
)

// Negative vectors: one valid shuffle of 2 rows of width 2 and changes to
// it, each with the layer that must reject it ("decode", "shape" or
// "equation") and the error this implementation gives. A field left out
// of a case takes the base value.
//
// Regenerate with: go test ./crypto/shuffle -run TestNegativeVectors -update

const negativeFile = "testdata/negative.json"

type negativeFileT struct {
	Schema string       `json:"schema"`
	Notes  []string     `json:"notes"`
	Base   negativeBase `json:"base"`
	Cases  []negCase    `json:"cases"`
}

type negativeBase struct {
	N         int      `json:"n"`
	W         int      `json:"w"`
	Context   string   `json:"context"`
	PublicKey string   `json:"public_key"`
	Inputs    []string `json:"inputs"`  // one hex string per row: w ciphertexts of 64 bytes
	Outputs   []string `json:"outputs"` // likewise
	Proof     string   `json:"proof"`
}

type negCase struct {
	ID        int      `json:"id"`
	Comment   string   `json:"comment"`
	Context   string   `json:"context,omitempty"`
	PublicKey string   `json:"public_key,omitempty"`
	Outputs   []string `json:"outputs,omitempty"`
	Proof     string   `json:"proof,omitempty"`
	Result    string   `json:"result"`          // "valid" or "invalid"
	Layer     string   `json:"layer,omitempty"` // decode, shape, equation
	Error     string   `json:"error,omitempty"`
}

func encodeRows(rows [][]crypto.Ciphertext) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = hex.EncodeToString(crypto.EncodeCiphertexts(r))
	}
	return out
}

func decodeRows(t *testing.T, rows []string, w int) [][]crypto.Ciphertext {
	t.Helper()
	out := make([][]crypto.Ciphertext, len(rows))
	for i, s := range rows {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = crypto.DecodeCiphertexts(b, w); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// runNegative decodes and verifies one case against the base.
func runNegative(t *testing.T, base negativeBase, c negCase) (layer string, err error) {
	t.Helper()
	pick := func(v, dflt string) string {
		if v != "" {
			return v
		}
		return dflt
	}
	ctxB, _ := hex.DecodeString(pick(c.Context, base.Context))
	pkB, _ := hex.DecodeString(pick(c.PublicKey, base.PublicKey))
	proofB, _ := hex.DecodeString(pick(c.Proof, base.Proof))
	outRows := base.Outputs
	if c.Outputs != nil {
		outRows = c.Outputs
	}
	pk, err := crypto.DecodePoint(pkB)
	if err != nil {
		t.Fatal(err)
	}
	in := decodeRows(t, base.Inputs, base.W)
	out := decodeRows(t, outRows, base.W)
	p, err := Decode(proofB, base.N, base.W)
	if err != nil {
		return "decode", err
	}
	err = verifyAll(t, crypto.Context(ctxB), pk, in, out, p)
	var eq *EquationError
	switch {
	case err == nil:
		return "", nil
	case errors.Is(err, ErrShape):
		return "shape", err
	case errors.As(err, &eq):
		return "equation", err
	}
	return "other", err
}

func makeNegativeVectors(t *testing.T) negativeFileT {
	const n, w = 2, 2
	rnd := newStream("evote shuffle negative vectors")
	f := newFixture(t, rnd, n, w)
	ctx := testContext("evote shuffle negative vectors")
	out, p, err := Shuffle(rnd, ctx, f.pk, f.in)
	if err != nil {
		t.Fatal(err)
	}
	pk := crypto.EncodePoint(f.pk)
	enc := p.Encode()
	file := negativeFileT{
		Schema: "evote/v1/shuffle negative vectors",
		Notes: []string{
			"Each case changes the base statement or proof; fields a case leaves out take the base value.",
			"layer: where a verifier must reject (decode: the proof's bytes; shape: the statement's shape; equation: a verification equation). error is this implementation's message.",
			"Regenerate with: go test ./crypto/shuffle -run TestNegativeVectors -update",
		},
		Base: negativeBase{
			N: n, W: w, Context: hex.EncodeToString(ctx[:]), PublicKey: hex.EncodeToString(pk[:]),
			Inputs: encodeRows(f.in), Outputs: encodeRows(out), Proof: hex.EncodeToString(enc),
		},
	}
	add := func(c negCase) {
		c.ID = len(file.Cases) + 1
		file.Cases = append(file.Cases, c)
	}
	add(negCase{Comment: "the base shuffle, valid"})
	_, _, order := proofFields(p)
	for _, name := range order {
		q, err := Decode(enc, n, w)
		if err != nil {
			t.Fatal(err)
		}
		pts, scs, _ := proofFields(q)
		what := "G added to point"
		if x, ok := pts[name]; ok {
			*x = crypto.NewPoint().Add(*x, crypto.Generator())
		} else {
			*scs[name] = crypto.NewScalar().Add(*scs[name], crypto.ScalarFromUint64(1))
			what = "1 added to scalar"
		}
		add(negCase{Comment: fmt.Sprintf("%s %s", what, name), Proof: hex.EncodeToString(q.Encode())})
	}
	for i, name := range order {
		b := bytes.Clone(enc)
		copy(b[32*i:], bytes.Repeat([]byte{0xff}, 32))
		add(negCase{Comment: fmt.Sprintf("%s is 32 bytes of 0xff (not canonical)", name), Proof: hex.EncodeToString(b)})
	}
	add(negCase{Comment: "proof one byte short", Proof: hex.EncodeToString(enc[:len(enc)-1])})
	add(negCase{Comment: "proof one byte long", Proof: hex.EncodeToString(append(bytes.Clone(enc), 0))})
	rows := encodeRows(out)
	add(negCase{Comment: "output rows swapped", Outputs: []string{rows[1], rows[0]}})
	add(negCase{Comment: "output row 1 dropped", Outputs: rows[:1]})
	add(negCase{Comment: "output row 0 duplicated over row 1", Outputs: []string{rows[0], rows[0]}})
	fresh, _, err := crypto.Encrypt(rnd, f.pk, 3)
	if err != nil {
		t.Fatal(err)
	}
	repl := slices.Clone(out[1])
	repl[0] = fresh
	add(negCase{Comment: "output [1][0] replaced by a fresh encryption", Outputs: []string{rows[0], hex.EncodeToString(crypto.EncodeCiphertexts(repl))}})
	swapped := []crypto.Ciphertext{out[0][1], out[0][0]}
	add(negCase{Comment: "the two columns of output row 0 swapped", Outputs: []string{hex.EncodeToString(crypto.EncodeCiphertexts(swapped)), rows[1]}})
	other := testContext("another election")
	add(negCase{Comment: "another context (generator seed)", Context: hex.EncodeToString(other[:])})
	otherKey := crypto.EncodePoint(crypto.NewPoint().Add(f.pk, crypto.Generator()))
	add(negCase{Comment: "another public key", PublicKey: hex.EncodeToString(otherKey[:])})

	for i := range file.Cases {
		c := &file.Cases[i]
		layer, err := runNegative(t, file.Base, *c)
		if err == nil {
			c.Result = "valid"
		} else {
			c.Result, c.Layer, c.Error = "invalid", layer, err.Error()
		}
	}
	return file
}

func TestNegativeVectors(t *testing.T) {
	got := makeNegativeVectors(t)
	for _, c := range got.Cases {
		if (c.ID == 1) != (c.Result == "valid") {
			t.Errorf("case %d (%s): %s %s", c.ID, c.Comment, c.Result, c.Error)
		}
		if c.Layer == "other" {
			t.Errorf("case %d (%s): error without a layer: %s", c.ID, c.Comment, c.Error)
		}
	}
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(negativeFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(negativeFile)
	if err != nil {
		t.Fatal(err)
	}
	var want negativeFileT
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Cases) != len(got.Cases) {
		t.Fatalf("%d cases in %s, %d generated", len(want.Cases), negativeFile, len(got.Cases))
	}
	// Replay the stored cases as an outside verifier would, and compare.
	for _, c := range want.Cases {
		layer, err := runNegative(t, want.Base, c)
		switch {
		case c.Result == "valid" && err != nil:
			t.Errorf("case %d (%s): rejected: %v", c.ID, c.Comment, err)
		case c.Result == "invalid" && err == nil:
			t.Errorf("case %d (%s): accepted", c.ID, c.Comment)
		case err != nil && (layer != c.Layer || err.Error() != c.Error):
			t.Errorf("case %d (%s): %s %q, file says %s %q", c.ID, c.Comment, layer, err, c.Layer, c.Error)
		}
	}
	if !slices.EqualFunc(want.Cases, got.Cases, func(a, b negCase) bool {
		return a.ID == b.ID && a.Comment == b.Comment && a.Proof == b.Proof && a.Result == b.Result && a.Error == b.Error
	}) {
		t.Error("generated cases differ from the file; rerun with -update if the change is intended")
	}
}
