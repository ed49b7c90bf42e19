package shuffle

import (
	"fmt"

	"github.com/evote/evote/crypto"
)

// Encode returns the proof's encoding (docs/spec-shuffle.md, "Encoding"):
// the N commitments c_j, the N chain elements ĉ_i, T1, T2, T3, the w
// ciphertexts T4_k (α ‖ β), the N elements t̂_i, then s1, s2, s3, the w
// scalars s4_k, the N scalars ŝ_i and the N scalars s'_i; 32 bytes each.
func (p *Proof) Encode() []byte {
	out := make([]byte, 0, Size(len(p.Commitments), len(p.T4)))
	pts := func(ps []crypto.Point) {
		for _, x := range ps {
			out = crypto.AppendPoint(out, x)
		}
	}
	scs := func(ss []crypto.Scalar) {
		for _, x := range ss {
			out = crypto.AppendScalar(out, x)
		}
	}
	pts(p.Commitments)
	pts(p.Chain)
	pts([]crypto.Point{p.T1, p.T2, p.T3})
	for _, c := range p.T4 {
		out = append(out, c.Encode()...)
	}
	pts(p.TChain)
	scs([]crypto.Scalar{p.S1, p.S2, p.S3})
	scs(p.S4)
	scs(p.SChain)
	scs(p.SPrime)
	return out
}

// Decode decodes a proof for N rows of width w, which the caller knows from
// the statement. It accepts exactly Size(n, w) bytes of canonical
// encodings; errors name the field ("shuffle: decode: chain[3]: …") and
// wrap crypto.ErrDecode (or ErrShape for an N or w out of range).
func Decode(b []byte, n, w int) (*Proof, error) {
	if err := checkShape(n, w); err != nil {
		return nil, fmt.Errorf("shuffle: decode: %w", err)
	}
	if want := Size(n, w); len(b) != want {
		return nil, fmt.Errorf("shuffle: decode: %w: %d bytes for %d rows of width %d, want %d",
			crypto.ErrLength, len(b), n, w, want)
	}
	d := crypto.NewDecoder(b)
	pts := func(name string, k int) []crypto.Point {
		out := make([]crypto.Point, k)
		for i := range out {
			out[i] = d.Point(fmt.Sprintf("%s[%d]", name, i))
		}
		return out
	}
	scs := func(name string, k int) []crypto.Scalar {
		out := make([]crypto.Scalar, k)
		for i := range out {
			out[i] = d.Scalar(fmt.Sprintf("%s[%d]", name, i))
		}
		return out
	}
	p := &Proof{Commitments: pts("commitments", n), Chain: pts("chain", n)}
	p.T1, p.T2, p.T3 = d.Point("t1"), d.Point("t2"), d.Point("t3")
	p.T4 = make([]crypto.Ciphertext, w)
	for k := range p.T4 {
		p.T4[k] = crypto.Ciphertext{
			Alpha: d.Point(fmt.Sprintf("t4[%d].alpha", k)),
			Beta:  d.Point(fmt.Sprintf("t4[%d].beta", k)),
		}
	}
	p.TChain = pts("t-chain", n)
	p.S1, p.S2, p.S3 = d.Scalar("s1"), d.Scalar("s2"), d.Scalar("s3")
	p.S4 = scs("s4", w)
	p.SChain = scs("s-chain", n)
	p.SPrime = scs("s-prime", n)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("shuffle: decode: %w", err)
	}
	return p, nil
}
