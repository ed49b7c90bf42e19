package shuffle

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/evote/evote/crypto"
)

// validCase is one honest shuffle to mutate.
type validCase struct {
	ctx  crypto.Context
	f    fixture
	out  [][]crypto.Ciphertext
	p    *Proof
	n, w int
}

func newValidCase(t *testing.T, n, w int) validCase {
	t.Helper()
	rnd := newStream(fmt.Sprintf("negative %d %d", n, w))
	f := newFixture(t, rnd, n, w)
	ctx := testContext("negative")
	out, p, err := Shuffle(rnd, ctx, f.pk, f.in)
	if err != nil {
		t.Fatal(err)
	}
	return validCase{ctx: ctx, f: f, out: out, p: p, n: n, w: w}
}

// proofFields returns a pointer to every point and scalar of p with its name,
// in encoding order.
func proofFields(p *Proof) (pts map[string]*crypto.Point, scs map[string]*crypto.Scalar, order []string) {
	pts, scs = map[string]*crypto.Point{}, map[string]*crypto.Scalar{}
	addP := func(name string, x *crypto.Point) { pts[name] = x; order = append(order, name) }
	addS := func(name string, x *crypto.Scalar) { scs[name] = x; order = append(order, name) }
	for i := range p.Commitments {
		addP(fmt.Sprintf("commitments[%d]", i), &p.Commitments[i])
	}
	for i := range p.Chain {
		addP(fmt.Sprintf("chain[%d]", i), &p.Chain[i])
	}
	addP("t1", &p.T1)
	addP("t2", &p.T2)
	addP("t3", &p.T3)
	for k := range p.T4 {
		addP(fmt.Sprintf("t4[%d].alpha", k), &p.T4[k].Alpha)
		addP(fmt.Sprintf("t4[%d].beta", k), &p.T4[k].Beta)
	}
	for i := range p.TChain {
		addP(fmt.Sprintf("t-chain[%d]", i), &p.TChain[i])
	}
	addS("s1", &p.S1)
	addS("s2", &p.S2)
	addS("s3", &p.S3)
	for k := range p.S4 {
		addS(fmt.Sprintf("s4[%d]", k), &p.S4[k])
	}
	for i := range p.SChain {
		addS(fmt.Sprintf("s-chain[%d]", i), &p.SChain[i])
	}
	for i := range p.SPrime {
		addS(fmt.Sprintf("s-prime[%d]", i), &p.SPrime[i])
	}
	return pts, scs, order
}

// TestMutatedProofFields changes each point (adding G) and each scalar
// (adding 1) of a valid proof in turn: every change must be rejected at the
// equation layer, by the batched and the unbatched check alike.
func TestMutatedProofFields(t *testing.T) {
	for _, shape := range [][2]int{{3, 2}, {1, 1}} {
		vc := newValidCase(t, shape[0], shape[1])
		enc := vc.p.Encode()
		_, _, order := proofFields(vc.p)
		for _, name := range order {
			t.Run(fmt.Sprintf("N=%d/w=%d/%s", vc.n, vc.w, name), func(t *testing.T) {
				q, err := Decode(enc, vc.n, vc.w)
				if err != nil {
					t.Fatal(err)
				}
				pts, scs, _ := proofFields(q)
				if x, ok := pts[name]; ok {
					*x = crypto.NewPoint().Add(*x, crypto.Generator())
				} else {
					*scs[name] = crypto.NewScalar().Add(*scs[name], crypto.ScalarFromUint64(1))
				}
				err = verifyAll(t, vc.ctx, vc.f.pk, vc.f.in, vc.out, q)
				var eq *EquationError
				if !errors.As(err, &eq) || !errors.Is(err, ErrProof) {
					t.Fatalf("mutated %s: got %v, want an equation error", name, err)
				}
			})
		}
	}
}

// TestNegativeStatements changes the statement around a valid proof.
func TestNegativeStatements(t *testing.T) {
	vc := newValidCase(t, 4, 2)
	rnd := newStream("negative statements")
	copyRows := func() [][]crypto.Ciphertext {
		out := make([][]crypto.Ciphertext, len(vc.out))
		for i := range out {
			out[i] = append([]crypto.Ciphertext(nil), vc.out[i]...)
		}
		return out
	}
	fresh, _, err := crypto.Encrypt(rnd, vc.f.pk, 7)
	if err != nil {
		t.Fatal(err)
	}
	other := newFixture(t, rnd, 1, 1)
	cases := []struct {
		name  string
		ctx   crypto.Context
		pk    crypto.Point
		out   func() [][]crypto.Ciphertext
		layer string // "shape" or "equation"
	}{
		{"valid", vc.ctx, vc.f.pk, copyRows, ""},
		{"swapped pair of outputs", vc.ctx, vc.f.pk, func() [][]crypto.Ciphertext {
			o := copyRows()
			o[0], o[1] = o[1], o[0]
			return o
		}, "equation"},
		{"dropped output", vc.ctx, vc.f.pk, func() [][]crypto.Ciphertext { return copyRows()[1:] }, "shape"},
		{"duplicated output", vc.ctx, vc.f.pk, func() [][]crypto.Ciphertext {
			o := copyRows()
			o[2] = o[1]
			return o
		}, "equation"},
		{"fresh encryption replacing an output", vc.ctx, vc.f.pk, func() [][]crypto.Ciphertext {
			o := copyRows()
			o[3][1] = fresh
			return o
		}, "equation"},
		{"swapped columns of one output", vc.ctx, vc.f.pk, func() [][]crypto.Ciphertext {
			o := copyRows()
			o[0][0], o[0][1] = o[0][1], o[0][0]
			return o
		}, "equation"},
		{"changed generator seed", testContext("another election"), vc.f.pk, copyRows, "equation"},
		{"wrong public key", vc.ctx, other.pk, copyRows, "equation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := verifyAll(t, c.ctx, c.pk, vc.f.in, c.out(), vc.p)
			var eq *EquationError
			switch c.layer {
			case "":
				if err != nil {
					t.Fatalf("valid shuffle rejected: %v", err)
				}
			case "shape":
				if !errors.Is(err, ErrShape) {
					t.Fatalf("got %v, want a shape error", err)
				}
			case "equation":
				if !errors.As(err, &eq) {
					t.Fatalf("got %v, want an equation error", err)
				}
				t.Logf("%s: %v", c.name, err)
			}
		})
	}
}

// TestDecodeErrors puts 32 bytes of 0xff (neither a canonical point nor a
// reduced scalar) in each field in turn, and checks the error names it.
func TestDecodeErrors(t *testing.T) {
	vc := newValidCase(t, 2, 2)
	enc := vc.p.Encode()
	_, _, order := proofFields(vc.p)
	if len(order)*32 != len(enc) {
		t.Fatalf("%d fields for %d bytes", len(order), len(enc))
	}
	for i, name := range order {
		b := bytes.Clone(enc)
		copy(b[32*i:], bytes.Repeat([]byte{0xff}, 32))
		_, err := Decode(b, vc.n, vc.w)
		if !errors.Is(err, crypto.ErrDecode) || !strings.Contains(err.Error(), "shuffle: decode: "+name+":") {
			t.Errorf("field %s: got %v", name, err)
		}
	}
	for _, c := range []struct {
		name string
		b    []byte
		n, w int
	}{
		{"one byte short", enc[:len(enc)-1], 2, 2},
		{"one byte long", append(bytes.Clone(enc), 0), 2, 2},
		{"wrong N", enc, 3, 2},
		{"wrong w", enc, 2, 1},
		{"N zero", nil, 0, 1},
		{"w zero", nil, 1, 0},
		{"N too large", nil, MaxRows + 1, 1},
		{"w too large", nil, 1, MaxWidth + 1},
	} {
		if _, err := Decode(c.b, c.n, c.w); err == nil || !strings.HasPrefix(err.Error(), "shuffle: decode:") {
			t.Errorf("%s: got %v", c.name, err)
		}
	}
}

func FuzzDecodeProof(f *testing.F) {
	for _, shape := range [][2]int{{1, 1}, {2, 1}, {2, 2}} {
		rnd := newStream(fmt.Sprintf("fuzz %d %d", shape[0], shape[1]))
		fx := newFixture(f, rnd, shape[0], shape[1])
		_, p, err := Shuffle(rnd, testContext("fuzz"), fx.pk, fx.in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Encode(), uint8(shape[0]), uint8(shape[1]))
	}
	f.Fuzz(func(t *testing.T, b []byte, n, w uint8) {
		p, err := Decode(b, int(n), int(w))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "shuffle: decode:") {
				t.Fatalf("error without layer: %v", err)
			}
			return
		}
		if !bytes.Equal(p.Encode(), b) {
			t.Fatal("decode∘encode is not the identity")
		}
	})
}

// TestEachEquation changes one point of the statement after the challenges
// are fixed, so that exactly the equations that use it fail: every
// equation, t4-beta included, is seen to catch a change of its own terms,
// and the batched check to agree.
func TestEachEquation(t *testing.T) {
	vc := newValidCase(t, 3, 2)
	G := crypto.Generator()
	bump := func(p crypto.Point) crypto.Point { return crypto.NewPoint().Add(p, G) }
	cases := []struct {
		want   string
		change func(st *statement)
	}{
		{"t1", func(st *statement) { st.hs[1] = bump(st.hs[1]) }},
		{"t2", func(st *statement) { st.uProd = crypto.NewScalar().Add(st.uProd, one) }},
		{"t3", func(st *statement) { st.u[2] = crypto.NewScalar().Add(st.u[2], one) }},
		{"t4-alpha[1]", func(st *statement) { st.in[2][1].Alpha = bump(st.in[2][1].Alpha) }},
		{"t4-beta[0]", func(st *statement) { st.in[0][0].Beta = bump(st.in[0][0].Beta) }},
		{"t4-beta[1]", func(st *statement) { st.out[1][1].Beta = bump(st.out[1][1].Beta) }},
		{"t4-beta[0]", func(st *statement) { st.pk = bump(st.pk) }},
		{"t2", func(st *statement) { st.h = bump(st.h) }},
		{"chain[0]", func(st *statement) { st.p.Chain[0] = bump(st.p.Chain[0]) }},
		{"chain[2]", func(st *statement) { st.p.TChain[2] = bump(st.p.TChain[2]) }},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			in, out := make([][]crypto.Ciphertext, vc.n), make([][]crypto.Ciphertext, vc.n)
			for i := range in {
				in[i] = append([]crypto.Ciphertext(nil), vc.f.in[i]...)
				out[i] = append([]crypto.Ciphertext(nil), vc.out[i]...)
			}
			st, err := newStatement(vc.ctx, vc.f.pk, in, out, vc.p)
			if err != nil {
				t.Fatal(err)
			}
			pc := *vc.p
			pc.Chain = append([]crypto.Point(nil), pc.Chain...)
			pc.TChain = append([]crypto.Point(nil), pc.TChain...)
			st.p = &pc
			st.hs = append([]crypto.Point(nil), st.hs...)
			st.u = append([]crypto.Scalar(nil), st.u...)
			c.change(st)
			err = st.unbatched(1)
			var eq *EquationError
			if !errors.As(err, &eq) || eq.Name != c.want {
				t.Fatalf("got %v, want equation %s", err, c.want)
			}
			if ok, _ := st.batched(newStream("w"), 1); ok {
				t.Fatal("batched check accepts")
			}
		})
	}
}
