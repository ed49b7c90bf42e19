package credential

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
)

// seeded returns a deterministic byte stream for tests (never for codes in
// production, which come from crypto/rand).
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

func mustCode(t testing.TB, s string) Code {
	t.Helper()
	c, err := ParseCode(s)
	if err != nil {
		t.Fatalf("ParseCode(%q): %v", s, err)
	}
	return c
}

func TestAlphabet(t *testing.T) {
	if len(Alphabet) != 32 || strings.ContainsAny(Alphabet, "ILOU") {
		t.Fatalf("alphabet %q", Alphabet)
	}
	for v := range byte(32) {
		if got := encodeSymbol(v); got != Alphabet[v] {
			t.Errorf("encodeSymbol(%d) = %q, want %q", v, got, Alphabet[v])
		}
	}
	// decodeSymbol against a plain table, for every byte.
	want := map[byte]byte{'o': 0, 'O': 0, 'i': 1, 'I': 1, 'l': 1, 'L': 1}
	for v := range 32 {
		want[Alphabet[v]] = byte(v)
		want[strings.ToLower(Alphabet[v : v+1])[0]] = byte(v)
	}
	for c := range 256 {
		v, ok := decodeSymbol(byte(c))
		w, wok := want[byte(c)]
		if (ok == 0xff) != wok || (ok != 0 && ok != 0xff) || (wok && v != w) {
			t.Errorf("decodeSymbol(%q) = %d, %#x; want %d, %v", rune(c), v, ok, w, wok)
		}
	}
}

// TestGenerator recomputes g(X) = (X+α)(X+α²)(X+α³) and checks that α
// generates GF(32)*.
func TestGenerator(t *testing.T) {
	seen := map[byte]bool{}
	x := byte(1)
	for range 31 {
		if seen[x] {
			t.Fatalf("α has order < 31")
		}
		seen[x] = true
		x = gfMulAlpha(x)
	}
	if x != 1 {
		t.Fatalf("α³¹ = %d, want 1", x)
	}
	g := []byte{1} // highest degree first
	for j := 1; j <= CheckSymbols; j++ {
		root := gfExp[j]
		ng := make([]byte, len(g)+1)
		for i, c := range g {
			ng[i] ^= c
			ng[i+1] ^= gfMul(c, root)
		}
		g = ng
	}
	if !bytes.Equal(g[1:], gen[:]) {
		t.Fatalf("generator coefficients %v, want %v", g[1:], gen)
	}
	// gfMul against the log tables.
	for a := range byte(32) {
		for b := range byte(32) {
			want := byte(0)
			if a != 0 && b != 0 {
				want = gfExp[(gfLog[a]+gfLog[b])%31]
			}
			if got := gfMul(a, b); got != want {
				t.Fatalf("gfMul(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
	}
}

type codeVector struct {
	ID       string `json:"id"`
	Comment  string `json:"comment"`
	Input    string `json:"input"`
	Result   string `json:"result"`
	Text     string `json:"text"`
	Offset   *int   `json:"offset"`
	Symbols  *int   `json:"symbols"`
	Suspects []int  `json:"suspects"`
}

func loadCodeVectors(t testing.TB) []codeVector {
	t.Helper()
	b, err := os.ReadFile("testdata/codes.json")
	if err != nil {
		t.Fatal(err)
	}
	var suite struct{ Cases []codeVector }
	if err := json.Unmarshal(b, &suite); err != nil {
		t.Fatal(err)
	}
	return suite.Cases
}

var resultStates = map[string]State{"valid": Valid, "incomplete": Incomplete, "bad-character": BadCharacter, "bad-checksum": BadChecksum, "too-long": TooLong}

func TestCodeVectors(t *testing.T) {
	for _, v := range loadCodeVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			st := CheckPartial(v.Input)
			want, ok := resultStates[v.Result]
			if !ok {
				t.Fatalf("bad vector result %q", v.Result)
			}
			if st.State != want {
				t.Fatalf("%s: CheckPartial(%q) = %+v, want %s", v.Comment, v.Input, st, want)
			}
			if v.Offset != nil && st.Offset != *v.Offset {
				t.Errorf("offset %d, want %d", st.Offset, *v.Offset)
			}
			if v.Symbols != nil && st.Symbols != *v.Symbols {
				t.Errorf("symbols %d, want %d", st.Symbols, *v.Symbols)
			}
			if want == BadChecksum && !reflect.DeepEqual(st.Suspects, v.Suspects) {
				t.Errorf("suspects %v, want %v", st.Suspects, v.Suspects)
			}
			c, err := ParseCode(v.Input)
			if want != Valid {
				if err == nil || !c.IsZero() {
					t.Fatalf("ParseCode accepted %q", v.Input)
				}
				if err.Error() != st.Err().Error() {
					t.Errorf("ParseCode error %q, Status.Err %q", err, st.Err())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Text() != v.Text {
				t.Errorf("Text() = %q, want %q", c.Text(), v.Text)
			}
			if mustCode(t, c.Text()) != c {
				t.Errorf("Text does not parse back")
			}
		})
	}
}

func TestCodeErrors(t *testing.T) {
	for _, tc := range []struct {
		in       string
		sentinel error
		msg      string
	}{
		{"7KQ2-M9XH", ErrCodeIncomplete, "credential: code is incomplete: 8 of 24 symbols"},
		{"7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5-ZZ", ErrCodeTooLong, "credential: code is too long: 26 symbols, want 24"},
		{"7KQ2-M9XU", ErrCodeCharacter, "credential: code: character 9 is not in the code alphabet"},
		{"7KQ2-M8XH-3RTB-WZ0C-4NVA-EXG5", ErrCodeChecksum, "credential: code checksum does not match: symbol 6 (group 2, character 2) is probably mistyped"},
		{"7KQ2-M9XH-3TRB-WZ0C-4NVA-EXG5", ErrCodeChecksum, "credential: code checksum does not match: symbols 10 (group 3, character 2) and 11 (group 3, character 3) are probably swapped"},
		{"8KQ2-M8XH-3RTB-WZ0C-4NVA-EXG5", ErrCodeChecksum, "credential: code checksum does not match: the code is mistyped"},
	} {
		_, err := ParseCode(tc.in)
		if !errorsIs(err, tc.sentinel) || err.Error() != tc.msg {
			t.Errorf("ParseCode(%q) = %v, want %q wrapping %v", tc.in, err, tc.msg, tc.sentinel)
		}
	}
}

// TestTypingAlong checks CheckPartial on every prefix of a code, as a page
// calls it on every keystroke.
func TestTypingAlong(t *testing.T) {
	text := "7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5"
	for i := range len(text) {
		if st := CheckPartial(text[:i]); st.State != Incomplete || st.Offset != -1 {
			t.Fatalf("CheckPartial(%q) = %+v, want incomplete", text[:i], st)
		}
	}
	if st := CheckPartial(text); st.State != Valid || st.Symbols != CodeSymbols {
		t.Fatalf("CheckPartial(%q) = %+v", text, st)
	}
}

// checkTypos runs every single substitution and every adjacent swap of code c
// through the parser, on its text form, and requires each to be rejected: a
// substitution located at its symbol, a swap never taken for a substitution.
// It returns the number of typos tried.
func checkTypos(t *testing.T, c Code) int {
	t.Helper()
	n := 0
	for i := range CodeSymbols {
		for v := range byte(32) {
			if v == c.sym[i] {
				continue
			}
			typo := c
			typo.sym[i] = v
			st := CheckPartial(typo.Text())
			n++
			if st.State != BadChecksum || len(st.Suspects) != 1 || st.Suspects[0] != i {
				t.Fatalf("substitution at %d (%d→%d) of a code: %+v", i, c.sym[i], v, st)
			}
		}
	}
	for i := 0; i+1 < CodeSymbols; i++ {
		if c.sym[i] == c.sym[i+1] {
			continue // not a typo
		}
		typo := c
		typo.sym[i], typo.sym[i+1] = typo.sym[i+1], typo.sym[i]
		st := CheckPartial(typo.Text())
		n++
		if st.State != BadChecksum || len(st.Suspects) == 1 || (st.Suspects != nil && st.Suspects[0] != i) {
			t.Fatalf("swap at %d,%d of a code: %+v", i, i+1, st)
		}
	}
	return n
}

// TestTyposExhaustive: every single substitution and adjacent swap of one
// code.
func TestTyposExhaustive(t *testing.T) {
	c := mustCode(t, "7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5")
	if n := checkTypos(t, c); n != CodeSymbols*31+23 {
		t.Fatalf("%d typos tried", n)
	}
}

// TestTyposRandom: the same over many random codes, and random double and
// triple substitutions (always detected: the code's distance is 4).
func TestTyposRandom(t *testing.T) {
	codes := 300
	if testing.Short() {
		codes = 50
	}
	r := seeded(1)
	prng := rand.New(r)
	for range codes {
		c, err := NewCode(r)
		if err != nil {
			t.Fatal(err)
		}
		checkTypos(t, c)
		for k := 2; k <= 3; k++ {
			typo := c
			for _, i := range prng.Perm(CodeSymbols)[:k] {
				typo.sym[i] ^= byte(1 + prng.IntN(31))
			}
			if syndromes(typo.sym[:]) == [CheckSymbols]byte{} {
				t.Fatalf("%d substitutions undetected", k)
			}
			st := CheckPartial(typo.Text())
			if k == 2 && len(st.Suspects) == 1 {
				t.Fatalf("two substitutions located as one: %+v", st)
			}
		}
	}
}

func TestNewCode(t *testing.T) {
	seen := map[Code]bool{}
	for range 1000 {
		c, err := NewCode(cryptoRand)
		if err != nil {
			t.Fatal(err)
		}
		if seen[c] {
			t.Fatal("repeated code")
		}
		seen[c] = true
		if st := CheckPartial(c.Text()); st.State != Valid {
			t.Fatalf("fresh code does not check: %+v", st)
		}
		if mustCode(t, c.Text()) != c {
			t.Fatal("Text does not parse back")
		}
	}
	if _, err := NewCode(bytes.NewReader(make([]byte, DataSymbols-1))); err == nil {
		t.Fatal("NewCode with short randomness succeeded")
	}
}

// TestCodeRedacted: no way of printing or logging a code shows it.
func TestCodeRedacted(t *testing.T) {
	c := mustCode(t, "10AB-CDEF-GHJK-MNPQ-RSTV-WH38")
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("code", "code", c)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("code", "code", c)
	out := fmt.Sprintf("%v %+v %#v %s %q %x %X", c, c, c, c, c, c, c) + logged.String()
	for _, leak := range []string{"CDEF", "cdef", "GHJK", fmt.Sprint(c.sym[2:6])} {
		if strings.Contains(out, leak) {
			t.Fatalf("code leaked: %s", out)
		}
	}
	if !strings.Contains(out, "REDACTED") {
		t.Fatalf("no placeholder in %s", out)
	}
}
