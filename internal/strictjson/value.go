package strictjson

import (
	"strconv"
	"strings"
)

// A Value is a node of a parsed document: null, a boolean, a number (kept
// as its text), a string (unescaped), an array, or an object (its members
// in document order, each name once).
type Value struct {
	Offset int64 // of the value's first byte in the document
	kind   Kind
	b      bool
	s      string   // a string's text, a number's literal
	names  []string // an object's member names
	elems  []Value  // an array's elements, an object's member values
}

// Parse parses a document: exactly one value, with only whitespace around
// it. Every way in which data is not strict JSON (see the package
// documentation) is a *SyntaxError.
func Parse(data []byte) (*Value, error) {
	d := newBytesDecoder(data)
	v, err := d.ReadValue()
	if err != nil {
		return nil, err
	}
	if err := d.End(); err != nil {
		return nil, err
	}
	return v, nil
}

// Kind returns the value's kind; a nil *Value has kind 0.
func (v *Value) Kind() Kind {
	if v == nil {
		return 0
	}
	return v.kind
}

// Bool returns a boolean's value.
func (v *Value) Bool() bool { return v.b }

// Text returns a string's unescaped text or a number's literal.
func (v *Value) Text() string { return v.s }

// Len returns the number of an array's elements or of an object's members.
func (v *Value) Len() int { return len(v.elems) }

// Index returns an array's i-th element, or an object's i-th member value.
func (v *Value) Index(i int) *Value { return &v.elems[i] }

// Name returns the name of an object's i-th member.
func (v *Value) Name(i int) string { return v.names[i] }

// Member returns the value of the object's member name, or nil.
func (v *Value) Member(name string) *Value {
	for i, n := range v.names {
		if n == name {
			return &v.elems[i]
		}
	}
	return nil
}

// Int64 returns an integer: a number without fraction or exponent that fits
// in 64 bits. Other values are errors that say what they are.
func (v *Value) Int64() (int64, error) {
	return v.intN(64)
}

// Int returns an integer that fits in an int.
func (v *Value) Int() (int, error) {
	n, err := v.intN(strconv.IntSize)
	return int(n), err
}

// Uint64 returns a non-negative integer that fits in 64 bits.
func (v *Value) Uint64() (uint64, error) {
	return v.uintN(64)
}

func (v *Value) intN(bits int) (int64, error) {
	if err := v.integer(); err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v.s, 10, bits)
	if err != nil {
		return 0, &ValueError{"want an integer of at most " + strconv.Itoa(bits) + " bits, got " + v.s}
	}
	return n, nil
}

func (v *Value) uintN(bits int) (uint64, error) {
	if err := v.integer(); err != nil {
		return 0, err
	}
	if strings.HasPrefix(v.s, "-") {
		return 0, &ValueError{"want a non-negative integer, got " + v.s}
	}
	n, err := strconv.ParseUint(v.s, 10, bits)
	if err != nil {
		return 0, &ValueError{"want an integer of at most " + strconv.Itoa(bits) + " bits, got " + v.s}
	}
	return n, nil
}

// integer checks that v is a number without fraction or exponent.
func (v *Value) integer() error {
	if k := v.Kind(); k != Number {
		return &ValueError{"want an integer, got " + k.String()}
	}
	if strings.ContainsAny(v.s, ".eE") {
		return &ValueError{"want an integer, got " + v.s}
	}
	return nil
}

// A ValueError is a value of the wrong kind or range.
type ValueError struct{ Msg string }

func (e *ValueError) Error() string { return e.Msg }
