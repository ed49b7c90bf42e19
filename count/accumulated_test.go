package count

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// stream is a deterministic generator for TestAccumulated that does not
// depend on math/rand's algorithms: SHA-256 of a label and a counter.
type stream struct {
	k   uint64
	buf []byte
}

func (s *stream) intn(n int) int {
	if len(s.buf) < 8 {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], s.k)
		s.k++
		h := sha256.Sum256(append([]byte("evote/count/test/accumulated"), b[:]...))
		s.buf = h[:]
	}
	u := binary.BigEndian.Uint64(s.buf[:8])
	s.buf = s.buf[8:]
	return int(u % uint64(n)) // slight bias is harmless here
}

func (s *stream) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := s.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// TestAccumulated counts 400 pseudo-random elections with every method and
// hashes all the records (JSON) into one digest, in the manner of Go's
// ML-KEM TestAccumulated: any change to a rule, a tie-break or the record
// changes the digest. Update the digest only with a new version of
// docs/spec-count.md.
func TestAccumulated(t *testing.T) {
	const want = "3cdd0f4898f77805b1f54b465728475c88204bbb87c089f701cb0c1fb7dc1de4"
	s := &stream{}
	h := sha256.New()
	for range 400 {
		n := 1 + s.intn(7)
		nb := s.intn(40)
		rk := make([]Ranking, nb)
		rs := make([]Ranks, nb)
		gs := make([]Grades, nb)
		for i := range nb {
			p := s.perm(n)
			rk[i] = Ranking(p[:1+s.intn(n)])
			// Ranks with ties: levels from a random ranking, some merged.
			rs[i] = RanksOf(rk[i], n)
			if s.intn(3) == 0 {
				for c := range rs[i] {
					if rs[i][c] > 1 {
						rs[i][c]--
					}
				}
			}
			gs[i] = make(Grades, n)
			for c := range gs[i] {
				gs[i][c] = s.intn(4)
			}
		}
		lot := LotFromSeed([]byte{byte(s.intn(256))}, n)
		seats := 1 + s.intn(n)
		var out []any
		if r, err := IRV(n, rk, lot); err != nil {
			t.Fatal(err)
		} else {
			out = append(out, r)
		}
		if r, err := STV(n, seats, rk, lot); err != nil {
			t.Fatal(err)
		} else {
			out = append(out, r)
		}
		if r, err := Schulze(n, rs, lot); err != nil {
			t.Fatal(err)
		} else {
			out = append(out, r)
		}
		if r, err := MajorityJudgment([]string{"A", "B", "C", "D"}, n, gs, lot); err != nil {
			t.Fatal(err)
		} else {
			out = append(out, r)
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("accumulated digest %s, want %s", got, want)
	}
}
