package credential

// The check symbols (docs/credentials.md, §1.3) make a code a codeword of the
// shortened Reed-Solomon code RS(24, 21) over GF(32):
//
//   - GF(32) = GF(2)[x] / (x⁵ + x² + 1), an element a symbol value 0..31 whose
//     bit i is the coefficient of xⁱ; α = x (value 2) generates the
//     multiplicative group (order 31).
//   - Symbols c₀ … c₂₃ (in reading order) are the coefficients of
//     c(X) = c₀·X²³ + c₁·X²² + … + c₂₃, so c₀ has the highest degree.
//   - c is a codeword iff c(α) = c(α²) = c(α³) = 0, that is iff the generator
//     g(X) = (X+α)(X+α²)(X+α³) = X³ + 14·X² + 29·X + 10 divides c(X).
//   - The check symbols c₂₁ c₂₂ c₂₃ are the coefficients of
//     (c₀·X²⁰ + … + c₂₀)·X³ mod g(X) (systematic encoding).
//
// A Reed-Solomon code is MDS: its minimum distance is 3 + 1 = 4, so every
// error that changes one, two or three symbols is detected. In particular a
// substitution changes one symbol, and a swap of different neighbours two.
// With distance 4 a single wrong symbol is also located, and an error of two
// symbols is never mistaken for one of a single symbol.

// gfPoly is the reduction polynomial x⁵ + x² + 1.
const gfPoly = 0x25

// gen holds g's coefficients below the leading 1: g(X) = X³ + gen[0]·X² +
// gen[1]·X + gen[2]. TestGenerator recomputes them from the roots.
var gen = [CheckSymbols]byte{14, 29, 10}

// gfMulAlpha returns a·α, in constant time.
func gfMulAlpha(a byte) byte {
	a <<= 1
	return a ^ (gfPoly & -(a >> 5))
}

// gfMul returns a·b in GF(32), in constant time.
func gfMul(a, b byte) byte {
	var p byte
	for range 5 {
		p ^= a & -(b & 1)
		b >>= 1
		a = gfMulAlpha(a)
	}
	return p
}

// checkSymbols returns the check symbols of the DataSymbols symbols of data:
// the remainder of data(X)·X³ divided by g(X), computed as a linear feedback
// shift register, in constant time.
func checkSymbols(data []byte) (r0, r1, r2 byte) {
	for _, d := range data {
		fb := d ^ r0
		r0 = r1 ^ gfMul(fb, gen[0])
		r1 = r2 ^ gfMul(fb, gen[1])
		r2 = gfMul(fb, gen[2])
	}
	return r0, r1, r2
}

// syndromes returns (c(α), c(α²), c(α³)) of the symbols c by Horner's rule,
// in constant time. All three are zero iff c is a codeword.
func syndromes(c []byte) [CheckSymbols]byte {
	var s [CheckSymbols]byte
	for _, v := range c {
		for j := range CheckSymbols {
			x := s[j]
			for range j + 1 {
				x = gfMulAlpha(x)
			}
			s[j] = x ^ v
		}
	}
	return s
}

// gfExp and gfLog are the power and logarithm tables of α, for the
// variable-time typo location only.
var gfExp, gfLog = func() (exp [31]byte, log [32]int) {
	x := byte(1)
	for i := range 31 {
		exp[i] = x
		log[x] = i
		x = gfMulAlpha(x)
	}
	return exp, log
}()

// locateVarTime returns the symbol indexes where a code whose checksum fails
// is most likely wrong: the one wrong symbol if a single substitution explains
// the syndromes, else the pair of a single adjacent swap that gives a valid
// code when it is the only such swap, else nil. It runs in variable time: it
// is only called on codes already known to be mistyped.
func locateVarTime(c [CodeSymbols]byte) []int {
	s := syndromes(c[:])
	// One error of value e at degree p: s_j = e·α^(j·p), so s₂/s₁ = s₃/s₂ = α^p.
	if s[0] != 0 && s[1] != 0 && s[2] != 0 {
		p := (gfLog[s[1]] - gfLog[s[0]] + 31) % 31
		if p < CodeSymbols && gfLog[s[2]] == (gfLog[s[1]]+p)%31 {
			return []int{CodeSymbols - 1 - p}
		}
	}
	var found []int
	for i := 0; i+1 < CodeSymbols; i++ {
		if c[i] == c[i+1] {
			continue
		}
		c[i], c[i+1] = c[i+1], c[i]
		ok := syndromes(c[:]) == [CheckSymbols]byte{}
		c[i], c[i+1] = c[i+1], c[i]
		if ok {
			if found != nil {
				return nil // two swaps explain it: do not guess
			}
			found = []int{i, i + 1}
		}
	}
	return found
}
