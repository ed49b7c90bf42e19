package credential

import (
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"
)

// Code layout (docs/credentials.md, §1).
const (
	// CodeSymbols is the number of symbols of a code.
	CodeSymbols = DataSymbols + CheckSymbols
	// DataSymbols is the number of random symbols of a code (5 bits each,
	// 105 bits in all).
	DataSymbols = 21
	// CheckSymbols is the number of check symbols at the end of a code.
	CheckSymbols = 3
	// GroupSize is the number of symbols per dash-separated group of a
	// code's text form.
	GroupSize = 4
)

// Alphabet is the code alphabet, in symbol-value order: Crockford's base32,
// without I, L, O and U.
const Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Errors of parsing a code. A *CodeError wraps one of them.
var (
	// ErrCodeIncomplete means fewer than CodeSymbols symbols were given.
	ErrCodeIncomplete = errors.New("credential: code is incomplete")
	// ErrCodeTooLong means more than CodeSymbols symbols were given.
	ErrCodeTooLong = errors.New("credential: code is too long")
	// ErrCodeCharacter means a character is neither a code symbol nor a
	// separator.
	ErrCodeCharacter = errors.New("credential: code has a character that is not in the code alphabet")
	// ErrCodeChecksum means every character is a code symbol but the check
	// symbols do not match: the code was mistyped.
	ErrCodeChecksum = errors.New("credential: code checksum does not match (mistyped code)")
)

// Code is a voter's private credential code. It is secret: its String,
// GoString and LogValue methods print a redacted placeholder; Text gives the
// code itself. Only NewCode and ParseCode make a Code; the zero Code is not a
// code. Codes compare with ==.
type Code struct {
	sym [CodeSymbols]byte // symbol values 0..31, data then check symbols
	ok  bool              // set by NewCode and ParseCode
}

// NewCode returns a fresh code: DataSymbols random symbols read from rand
// (normally crypto/rand.Reader) and the check symbols (docs/credentials.md,
// §1.3).
func NewCode(rand io.Reader) (Code, error) {
	var buf [DataSymbols]byte
	if _, err := io.ReadFull(rand, buf[:]); err != nil {
		return Code{}, fmt.Errorf("credential: reading randomness: %w", err)
	}
	var c Code
	for i, b := range buf {
		c.sym[i] = b & 31 // 256 is a multiple of 32: uniform
	}
	clear(buf[:])
	c.sym[DataSymbols], c.sym[DataSymbols+1], c.sym[DataSymbols+2] = checkSymbols(c.sym[:DataSymbols])
	c.ok = true
	return c, nil
}

// ParseCode parses a typed code. It ignores case, white space and dashes,
// reads o as 0 and i and l as 1, and requires exactly CodeSymbols symbols
// with matching check symbols. The error is a *CodeError.
func ParseCode(s string) (Code, error) {
	var c Code
	st := scan(s, &c)
	if err := st.Err(); err != nil {
		return Code{}, err
	}
	c.ok = true
	return c, nil
}

// Text returns the code in its canonical text form: upper-case symbols in
// groups of GroupSize joined by dashes, such as "7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5".
// This is the secret itself; never log it. The zero Code's text is "".
func (c Code) Text() string {
	if !c.ok {
		return ""
	}
	b := make([]byte, 0, CodeSymbols+CodeSymbols/GroupSize-1)
	for i, v := range c.sym {
		if i > 0 && i%GroupSize == 0 {
			b = append(b, '-')
		}
		b = append(b, encodeSymbol(v))
	}
	return string(b)
}

// normalized returns the KDF input: the CodeSymbols upper-case symbols, with
// no separators (docs/credentials.md, §2).
func (c Code) normalized() []byte {
	b := make([]byte, CodeSymbols)
	for i, v := range c.sym {
		b[i] = encodeSymbol(v)
	}
	return b
}

// IsZero reports whether c is the zero Code, which is not a code at all
// (unlike "0000-0000-0000-0000-0000-0000", which NewCode returns with
// probability 2⁻¹⁰⁵).
func (c Code) IsZero() bool { return !c.ok }

const redacted = "credential.Code(REDACTED)"

// String returns a redacted placeholder, so that a code never reaches a log
// or an error message by accident. Use Text for the code.
func (Code) String() string { return redacted }

// GoString returns a redacted placeholder (for the %#v verb).
func (Code) GoString() string { return redacted }

// State is the state of a code being typed, as CheckPartial reports it.
type State int

// States of a typed code.
const (
	// Incomplete: every character so far is valid, and fewer than
	// CodeSymbols symbols were typed.
	Incomplete State = iota
	// Valid: a complete code with matching check symbols.
	Valid
	// BadCharacter: a character is neither a symbol nor a separator.
	BadCharacter
	// BadChecksum: CodeSymbols symbols whose check symbols do not match.
	BadChecksum
	// TooLong: more than CodeSymbols symbols.
	TooLong
)

var stateNames = [...]string{"incomplete", "valid", "bad character", "bad checksum", "too long"}

// String returns the state in words.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return stateNames[s]
}

// Status describes a typed code. It holds positions only, never symbols.
type Status struct {
	State State
	// Symbols is the number of code symbols in the input (separators and
	// characters that are not symbols are not counted).
	Symbols int
	// Offset, for BadCharacter, is the position in the input, counted in
	// characters (runes) from 0, of the first character that is not a
	// symbol; for TooLong, the position of the first symbol too many.
	// Otherwise it is -1.
	Offset int
	// Suspects, for BadChecksum, holds the symbol indexes (0 to
	// CodeSymbols-1, separators not counted) where the mistake most likely
	// is: one index when exactly one symbol is wrong (always found), two
	// adjacent indexes when two neighbours were swapped (found when no other
	// swap explains the input). It is nil when the mistake could not be
	// located.
	Suspects []int
}

// CheckPartial checks a code as it is being typed (for a voting page that
// checks on every keystroke). It never fails: the Status says whether s is a
// valid complete code, a valid beginning, or where it is wrong.
func CheckPartial(s string) Status {
	var c Code
	return scan(s, &c)
}

// Err returns nil for a Valid status and otherwise a *CodeError.
func (st Status) Err() error {
	var sentinel error
	switch st.State {
	case Valid:
		return nil
	case Incomplete:
		sentinel = ErrCodeIncomplete
	case BadCharacter:
		sentinel = ErrCodeCharacter
	case BadChecksum:
		sentinel = ErrCodeChecksum
	case TooLong:
		sentinel = ErrCodeTooLong
	default:
		sentinel = errors.New("credential: code: unknown state")
	}
	return &CodeError{Err: sentinel, Status: st}
}

// CodeError is the error of a code that does not parse. It names positions,
// never characters.
type CodeError struct {
	Err    error // ErrCodeIncomplete, ErrCodeTooLong, ErrCodeCharacter or ErrCodeChecksum
	Status Status
}

func (e *CodeError) Error() string {
	st := e.Status
	switch st.State {
	case Incomplete:
		return fmt.Sprintf("credential: code is incomplete: %d of %d symbols", st.Symbols, CodeSymbols)
	case TooLong:
		return fmt.Sprintf("credential: code is too long: %d symbols, want %d", st.Symbols, CodeSymbols)
	case BadCharacter:
		return fmt.Sprintf("credential: code: character %d is not in the code alphabet", st.Offset+1)
	case BadChecksum:
		switch len(st.Suspects) {
		case 1:
			return fmt.Sprintf("credential: code checksum does not match: symbol %s is probably mistyped", SymbolPosition(st.Suspects[0]))
		case 2:
			return fmt.Sprintf("credential: code checksum does not match: symbols %s and %s are probably swapped",
				SymbolPosition(st.Suspects[0]), SymbolPosition(st.Suspects[1]))
		}
		return "credential: code checksum does not match: the code is mistyped"
	}
	return e.Err.Error()
}

func (e *CodeError) Unwrap() error { return e.Err }

// SymbolPosition describes symbol index i (from 0) for a person:
// "7 (group 2, character 3)".
func SymbolPosition(i int) string {
	return fmt.Sprintf("%d (group %d, character %d)", i+1, i/GroupSize+1, i%GroupSize+1)
}

// scan reads s into c and reports its state (docs/credentials.md, §1.2).
// Branches depend only on whether a character is a separator, a symbol or
// neither, never on a symbol's value.
func scan(s string, c *Code) Status {
	st := Status{Offset: -1}
	pos := 0 // rune index in s
	for _, r := range s {
		if isSeparator(r) {
			pos++
			continue
		}
		var v, ok byte
		if r < utf8.RuneSelf {
			v, ok = decodeSymbol(byte(r))
		}
		switch {
		case ok == 0 && st.State != TooLong:
			*c = Code{}
			return Status{State: BadCharacter, Symbols: st.Symbols, Offset: pos}
		case ok == 0:
			// After too many symbols, only their number matters.
		case st.Symbols < CodeSymbols:
			c.sym[st.Symbols] = v
			st.Symbols++
		default:
			if st.State != TooLong {
				st.State, st.Offset = TooLong, pos
			}
			st.Symbols++
		}
		pos++
	}
	switch {
	case st.State == TooLong:
		*c = Code{}
		return st
	case st.Symbols < CodeSymbols:
		st.State = Incomplete
		return st
	case syndromes(c.sym[:]) == [CheckSymbols]byte{}:
		st.State = Valid
		return st
	}
	st.State = BadChecksum
	st.Suspects = locateVarTime(c.sym)
	*c = Code{}
	return st
}

// isSeparator reports whether r is ignored between symbols: white space and
// dashes (ASCII hyphen-minus and the Unicode hyphens, dashes and minus that
// copying from documents produces).
func isSeparator(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212':
		return true
	}
	return unicode.IsSpace(r)
}

// inRange returns 0xff if lo <= c <= hi and 0 otherwise, without branches.
func inRange(c, lo, hi byte) byte {
	t := (int32(c) - int32(lo)) | (int32(hi) - int32(c))
	return byte(^(t >> 31))
}

// decodeSymbol returns the value of ASCII character c and ok = 0xff, or
// ok = 0 if c is not a symbol. It folds case and reads O as 0 and I, L as 1,
// in constant time.
func decodeSymbol(c byte) (v, ok byte) {
	u := c - inRange(c, 'a', 'z')&0x20
	add := func(m, val byte) {
		v |= m & val
		ok |= m
	}
	add(inRange(u, '0', '9'), u-'0')
	add(inRange(u, 'A', 'H'), u-'A'+10)
	add(inRange(u, 'J', 'K'), u-'J'+18)
	add(inRange(u, 'M', 'N'), u-'M'+20)
	add(inRange(u, 'P', 'T'), u-'P'+22)
	add(inRange(u, 'V', 'Z'), u-'V'+27)
	add(inRange(u, 'O', 'O'), 0)
	add(inRange(u, 'I', 'I'), 1)
	add(inRange(u, 'L', 'L'), 1)
	return v, ok
}

// encodeSymbol returns the character of symbol value v (0..31), in constant
// time.
func encodeSymbol(v byte) byte {
	c := v + '0'
	c += inRange(v, 10, 31) & ('A' - '0' - 10)
	c += inRange(v, 18, 31) & 1 // skip I
	c += inRange(v, 20, 31) & 1 // skip L
	c += inRange(v, 22, 31) & 1 // skip O
	c += inRange(v, 27, 31) & 1 // skip U
	return c
}
