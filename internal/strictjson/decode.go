// Package strictjson reads JSON strictly and writes the little JSON that
// evote's own formats need, with one implementation for the server and
// the voter's browser (the WebAssembly module, which this package keeps
// free of encoding/json and its reflection).
//
// The reader accepts RFC 8259 JSON with the restrictions of I-JSON
// (RFC 7493): a document is one value with only whitespace around it; every
// string, and the document itself, is valid UTF-8 with no lone surrogate in
// a \u escape; an object never names a member twice; values nest at most
// MaxDepth deep. Numbers are kept as their text, so that an integer is read
// exactly or not at all (see Value.Int64). It reads a document either into
// a tree (Parse, Value), to be mapped to Go values with a Reader that names
// the path of the first wrong field, or as a stream (Decoder), for inputs
// too large to hold as a tree.
//
// AppendString writes a string exactly as encoding/json does, so that the
// formats evote wrote with encoding/json keep their bytes.
package strictjson

import (
	"errors"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is how deep arrays and objects may nest: [[1]] has depth 2.
const MaxDepth = 64

// A SyntaxError is input that is not strict JSON: not JSON at all, or JSON
// with a duplicate member name, invalid UTF-8, a lone surrogate, nesting
// deeper than MaxDepth or data after the value.
type SyntaxError struct {
	Offset int64 // of the offending byte in the input
	Msg    string
	err    error // wrapped: io.ErrUnexpectedEOF, ErrTrailingData or nil
}

func (e *SyntaxError) Error() string {
	return "syntax error at byte " + strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

// Unwrap returns io.ErrUnexpectedEOF for input that ends inside the value,
// ErrTrailingData for data after it.
func (e *SyntaxError) Unwrap() error { return e.err }

// ErrTrailingData is wrapped by the SyntaxError of data after the value.
var ErrTrailingData = errors.New("data after the value")

// A Decoder reads one JSON value from a stream, piece by piece: the caller
// asks for the value it expects next (ReadString, ReadObject, …) or for the
// kind of what comes (Peek). It holds only the piece being read, so it
// reads values of any size in little memory. The first error, of the input
// or of a callback, is sticky: every later call returns it.
type Decoder struct {
	r     io.Reader
	buf   []byte
	pos   int   // next byte to read in buf
	tok   int   // start of the token being read in buf, kept by fill; -1 when none
	base  int64 // offset in the input of buf[0]
	rerr  error // of r; io.EOF at the end
	err   error
	depth int
	reads uint64 // values begun, to check that callbacks read their value
	str   []byte // unescaped string being read
}

// NewDecoder returns a decoder reading from r. It reads ahead of the value
// it returns.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, buf: make([]byte, 0, 64<<10), tok: -1}
}

// newBytesDecoder reads data in place.
func newBytesDecoder(data []byte) *Decoder {
	return &Decoder{buf: data, tok: -1, rerr: io.EOF}
}

// Offset is the input offset of the next byte the decoder reads.
func (d *Decoder) Offset() int64 { return d.base + int64(d.pos) }

// fill reads more input, keeping the current token; it reports whether
// there is more.
func (d *Decoder) fill() bool {
	if d.rerr != nil {
		return false
	}
	keep := d.pos
	if d.tok >= 0 && d.tok < keep {
		keep = d.tok
	}
	if keep > 0 {
		n := copy(d.buf, d.buf[keep:])
		d.buf = d.buf[:n]
		d.pos -= keep
		if d.tok >= 0 {
			d.tok -= keep
		}
		d.base += int64(keep)
	}
	if cap(d.buf)-len(d.buf) < 4<<10 {
		grown := make([]byte, len(d.buf), 2*cap(d.buf)+4<<10)
		copy(grown, d.buf)
		d.buf = grown
	}
	for range 100 {
		n, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		d.buf = d.buf[:len(d.buf)+n]
		if err != nil {
			d.rerr = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	d.rerr = io.ErrNoProgress
	return false
}

// peek returns the next byte, or -1 at the end of the input.
func (d *Decoder) peek() int {
	if d.pos < len(d.buf) || d.fill() {
		return int(d.buf[d.pos])
	}
	return -1
}

// ensure reads until n bytes are buffered at pos, if the input has them.
func (d *Decoder) ensure(n int) bool {
	for len(d.buf)-d.pos < n {
		if !d.fill() {
			return false
		}
	}
	return true
}

// fail makes err sticky and returns it.
func (d *Decoder) fail(err error) error {
	if d.err == nil {
		d.err = err
	}
	return d.err
}

// syntax fails with a SyntaxError at input offset at.
func (d *Decoder) syntax(at int64, msg string) error {
	return d.fail(&SyntaxError{Offset: at, Msg: msg})
}

// unexpected fails on the byte at pos (or the end of the input) met while
// looking for what.
func (d *Decoder) unexpected(what string) error {
	c := d.peek()
	if c < 0 {
		if d.rerr != nil && d.rerr != io.EOF {
			return d.fail(d.rerr)
		}
		return d.fail(&SyntaxError{Offset: d.Offset(), Msg: "unexpected EOF", err: io.ErrUnexpectedEOF})
	}
	return d.syntax(d.Offset(), "invalid character "+quoteByte(byte(c))+" "+what)
}

func quoteByte(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

// space skips whitespace and returns the next byte, or -1 at the end.
func (d *Decoder) space() int {
	for {
		c := d.peek()
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c
		}
		d.pos++
	}
}

// Kind is the kind of a JSON value.
type Kind uint8

// The kinds of JSON values. Kind 0 is no value: a member that is absent.
const (
	Null Kind = iota + 1
	Bool
	Number
	String
	Array
	Object
)

// String names the kind as "want a string, got a number" does.
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "a boolean"
	case Number:
		return "a number"
	case String:
		return "a string"
	case Array:
		return "an array"
	case Object:
		return "an object"
	}
	return "nothing"
}

// Peek returns the kind of the next value without reading it.
func (d *Decoder) Peek() (Kind, error) {
	if d.err != nil {
		return 0, d.err
	}
	switch c := d.space(); {
	case c == '{':
		return Object, nil
	case c == '[':
		return Array, nil
	case c == '"':
		return String, nil
	case c == 't' || c == 'f':
		return Bool, nil
	case c == 'n':
		return Null, nil
	case c == '-' || '0' <= c && c <= '9':
		return Number, nil
	}
	return 0, d.unexpected("looking for the beginning of a value")
}

// begin starts reading a value of kind want.
func (d *Decoder) begin(want Kind) error {
	k, err := d.Peek()
	if err != nil {
		return err
	}
	if k != want {
		return d.syntax(d.Offset(), "want "+want.String()+", got "+k.String())
	}
	d.reads++
	return nil
}

// ReadNull reads null.
func (d *Decoder) ReadNull() error {
	if err := d.begin(Null); err != nil {
		return err
	}
	return d.literal("null")
}

// ReadBool reads true or false.
func (d *Decoder) ReadBool() (bool, error) {
	if err := d.begin(Bool); err != nil {
		return false, err
	}
	if d.buf[d.pos] == 't' {
		return true, d.literal("true")
	}
	return false, d.literal("false")
}

func (d *Decoder) literal(lit string) error {
	d.ensure(len(lit))
	for i := 0; i < len(lit); i++ {
		if d.pos >= len(d.buf) || d.buf[d.pos] != lit[i] {
			return d.unexpected("in literal " + lit)
		}
		d.pos++
	}
	return nil
}

// ReadNumber reads a number and returns its text, which has the grammar of
// RFC 8259 §6.
func (d *Decoder) ReadNumber() (string, error) {
	if err := d.begin(Number); err != nil {
		return "", err
	}
	d.tok = d.pos
	defer func() { d.tok = -1 }()
	if d.peek() == '-' {
		d.pos++
	}
	switch c := d.peek(); {
	case c == '0':
		d.pos++
		if c := d.peek(); '0' <= c && c <= '9' {
			return "", d.syntax(d.Offset()-1, "leading zero in a number")
		}
	case '1' <= c && c <= '9':
		d.digits()
	default:
		return "", d.unexpected("in a number, looking for a digit")
	}
	if d.peek() == '.' {
		d.pos++
		if c := d.peek(); c < '0' || c > '9' {
			return "", d.unexpected("after the decimal point of a number")
		}
		d.digits()
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if c := d.peek(); c < '0' || c > '9' {
			return "", d.unexpected("in the exponent of a number")
		}
		d.digits()
	}
	return string(d.buf[d.tok:d.pos]), nil
}

func (d *Decoder) digits() {
	for {
		if c := d.peek(); c < '0' || c > '9' {
			return
		}
		d.pos++
	}
}

// ReadString reads a string and returns it unescaped.
func (d *Decoder) ReadString() (string, error) {
	if err := d.begin(String); err != nil {
		return "", err
	}
	return d.string()
}

// string reads the string at pos.
func (d *Decoder) string() (string, error) {
	d.pos++ // '"'
	d.tok = d.pos
	defer func() { d.tok = -1 }()
	d.str = d.str[:0]
	for {
		if d.pos == len(d.buf) && !d.fill() {
			return "", d.unexpected("in a string")
		}
		c := d.buf[d.pos]
		switch {
		case c == '"':
			var s string
			if len(d.str) == 0 {
				s = string(d.buf[d.tok:d.pos])
			} else {
				s = string(append(d.str, d.buf[d.tok:d.pos]...))
			}
			d.pos++
			return s, nil
		case c == '\\':
			d.str = append(d.str, d.buf[d.tok:d.pos]...)
			d.tok = d.pos
			if err := d.escape(); err != nil {
				return "", err
			}
			d.tok = d.pos
		case c < 0x20:
			return "", d.syntax(d.Offset(), "control character "+quoteByte(c)+" in a string")
		case c < utf8.RuneSelf:
			d.pos++
		default:
			d.ensure(utf8.UTFMax)
			r, size := utf8.DecodeRune(d.buf[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", d.syntax(d.Offset(), "invalid UTF-8 in a string")
			}
			d.pos += size
		}
	}
}

// escape reads the escape sequence at pos into d.str.
func (d *Decoder) escape() error {
	at := d.Offset()
	d.ensure(2)
	if d.pos+1 >= len(d.buf) {
		d.pos++
		return d.unexpected("in a string escape")
	}
	c := d.buf[d.pos+1]
	if c != 'u' {
		switch c {
		case '"', '\\', '/':
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		default:
			return d.syntax(at, "invalid escape \\"+quoteEscape(c)+" in a string")
		}
		d.str = append(d.str, c)
		d.pos += 2
		return nil
	}
	r, err := d.hex4()
	if err != nil {
		return err
	}
	if utf16.IsSurrogate(r) {
		if r >= 0xdc00 {
			return d.syntax(at, "lone surrogate in a \\u escape")
		}
		d.ensure(2)
		if d.pos+1 >= len(d.buf) || d.buf[d.pos] != '\\' || d.buf[d.pos+1] != 'u' {
			return d.syntax(at, "lone surrogate in a \\u escape")
		}
		lo, err := d.hex4()
		if err != nil {
			return err
		}
		if r = utf16.DecodeRune(r, lo); r == utf8.RuneError {
			return d.syntax(at, "lone surrogate in a \\u escape")
		}
	}
	d.str = utf8.AppendRune(d.str, r)
	return nil
}

func quoteEscape(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return string(rune(c))
	}
	return quoteByte(c)
}

// hex4 reads \uXXXX at pos.
func (d *Decoder) hex4() (rune, error) {
	at := d.Offset()
	d.ensure(6)
	var r rune
	for i := 2; i < 6; i++ {
		if d.pos+i >= len(d.buf) {
			d.pos += i
			return 0, d.unexpected("in a \\u escape")
		}
		c := d.buf[d.pos+i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, d.syntax(at, "invalid \\u escape in a string")
		}
		r = r<<4 | rune(c)
	}
	d.pos += 6
	return r, nil
}

// ReadArray reads an array, calling elem for each element; elem must read
// exactly that element (Skip reads a value of any kind).
func (d *Decoder) ReadArray(elem func() error) error {
	if err := d.begin(Array); err != nil {
		return err
	}
	if err := d.open(); err != nil {
		return err
	}
	d.pos++
	if d.space() == ']' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		if err := d.call(elem); err != nil {
			return err
		}
		switch d.space() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return nil
		default:
			return d.unexpected("after an array element")
		}
	}
}

// ReadObject reads an object, calling member with each member's name;
// member must read exactly that member's value (Skip reads a value of any
// kind). A name that appears twice is a SyntaxError.
func (d *Decoder) ReadObject(member func(name string) error) error {
	if err := d.begin(Object); err != nil {
		return err
	}
	if err := d.open(); err != nil {
		return err
	}
	d.pos++
	if d.space() == '}' {
		d.pos++
		d.depth--
		return nil
	}
	var seen []string
	var seenSet map[string]bool
	for {
		if d.space() != '"' {
			return d.unexpected("looking for the name of an object member")
		}
		at := d.Offset()
		name, err := d.string()
		if err != nil {
			return err
		}
		dup := false
		if seenSet != nil {
			dup = seenSet[name]
			seenSet[name] = true
		} else {
			for _, s := range seen {
				dup = dup || s == name
			}
			if seen = append(seen, name); len(seen) > 16 {
				seenSet = make(map[string]bool, 2*len(seen))
				for _, s := range seen {
					seenSet[s] = true
				}
			}
		}
		if dup {
			return d.syntax(at, "duplicate member name "+strconv.Quote(name))
		}
		if d.space() != ':' {
			return d.unexpected("after the name of an object member")
		}
		d.pos++
		if err := d.call(func() error { return member(name) }); err != nil {
			return err
		}
		switch d.space() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return nil
		default:
			return d.unexpected("after an object member")
		}
	}
}

func (d *Decoder) open() error {
	if d.depth++; d.depth > MaxDepth {
		return d.syntax(d.Offset(), "arrays and objects nest deeper than "+strconv.Itoa(MaxDepth))
	}
	return nil
}

// call calls f to read one value and checks that it did.
func (d *Decoder) call(f func() error) error {
	n := d.reads
	if err := f(); err != nil {
		return d.fail(err)
	}
	if d.err == nil && d.reads == n {
		return d.fail(errors.New("strictjson: a callback did not read its value"))
	}
	return d.err
}

// Skip reads a value of any kind.
func (d *Decoder) Skip() error {
	_, err := d.ReadValue()
	return err
}

// ReadValue reads a value of any kind into a tree.
func (d *Decoder) ReadValue() (*Value, error) {
	v := new(Value)
	if err := d.readValue(v); err != nil {
		return nil, err
	}
	return v, nil
}

func (d *Decoder) readValue(v *Value) error {
	k, err := d.Peek()
	if err != nil {
		return err
	}
	*v = Value{kind: k, Offset: d.Offset()}
	switch k {
	case Null:
		return d.ReadNull()
	case Bool:
		v.b, err = d.ReadBool()
	case Number:
		v.s, err = d.ReadNumber()
	case String:
		v.s, err = d.ReadString()
	case Array:
		err = d.ReadArray(func() error {
			v.elems = append(v.elems, Value{})
			return d.readValue(&v.elems[len(v.elems)-1])
		})
	case Object:
		err = d.ReadObject(func(name string) error {
			v.names = append(v.names, name)
			v.elems = append(v.elems, Value{})
			return d.readValue(&v.elems[len(v.elems)-1])
		})
	}
	return err
}

// End checks that only whitespace follows the value read.
func (d *Decoder) End() error {
	if d.err != nil {
		return d.err
	}
	if d.space() < 0 {
		if d.rerr != io.EOF {
			return d.fail(d.rerr)
		}
		return nil
	}
	return d.fail(&SyntaxError{Offset: d.Offset(), Msg: "data after the value", err: ErrTrailingData})
}
