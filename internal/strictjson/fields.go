package strictjson

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// A Reader maps a tree to Go values, field by field, and keeps the first
// error, which names the field's path ("contests[2].selections[0].id: want
// a string, got a number"). After an error every read returns a zero value,
// so a decoder reads all its fields and checks Err once.
//
//	var r strictjson.Reader
//	o := r.Root(v).Object()
//	id := o.Get("id").Str()
//	n := o.Opt("count").Int()   // 0 when absent
//	o.End()                     // no member was left unread
//	if err := r.Err(); err != nil { … }
type Reader struct{ err error }

// A FieldError is the first error of a Reader.
type FieldError struct {
	Path string // "" for the root
	Msg  string
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Err returns the first error, a *FieldError, or nil.
func (r *Reader) Err() error {
	if r.err == nil {
		return nil // not a nil *FieldError
	}
	return r.err
}

// Root returns the document's root, of path "".
func (r *Reader) Root(v *Value) Field { return Field{r: r, v: v} }

// A Field is a value to read, at a path, or an absent member (Present is
// false): reading an absent member gives a zero value and no error.
type Field struct {
	r    *Reader
	v    *Value
	path string
}

// Path is the field's path, as errors name it.
func (f Field) Path() string { return f.path }

// Value is the field's value: nil when absent or after an error.
func (f Field) Value() *Value {
	if f.r == nil || f.r.err != nil {
		return nil
	}
	return f.v
}

// Present reports whether the member is there, null or not.
func (f Field) Present() bool { return f.v != nil }

// IsNull reports whether the field is null.
func (f Field) IsNull() bool { return f.v != nil && f.v.kind == Null }

// Failf records an error at the field's path, unless the reader has one.
func (f Field) Failf(format string, args ...any) {
	if f.r.err == nil {
		f.r.err = &FieldError{Path: f.path, Msg: fmt.Sprintf(format, args...)}
	}
}

func (f Field) fail(msg string) {
	if f.r.err == nil {
		f.r.err = &FieldError{Path: f.path, Msg: msg}
	}
}

// is reports whether the field can be read as kind k, recording an error
// if it is of another kind.
func (f Field) is(k Kind) bool {
	if f.v == nil || f.r.err != nil {
		return false
	}
	if f.v.kind != k {
		f.fail("want " + k.String() + ", got " + f.v.kind.String())
		return false
	}
	return true
}

// Str reads a string.
func (f Field) Str() string {
	if !f.is(String) {
		return ""
	}
	return f.v.s
}

// Bool reads a boolean.
func (f Field) Bool() bool {
	return f.is(Bool) && f.v.b
}

// Int64 reads an integer (see Value.Int64).
func (f Field) Int64() int64 { return f.intN(64) }

// Int reads an integer that fits in an int.
func (f Field) Int() int { return int(f.intN(strconv.IntSize)) }

// Int32 reads an integer that fits in an int32.
func (f Field) Int32() int32 { return int32(f.intN(32)) }

// Uint64 reads a non-negative integer.
func (f Field) Uint64() uint64 { return f.uintN(64) }

// Uint32 reads a non-negative integer that fits in a uint32.
func (f Field) Uint32() uint32 { return uint32(f.uintN(32)) }

func (f Field) intN(bits int) int64 {
	if f.v == nil || f.r.err != nil {
		return 0
	}
	n, err := f.v.intN(bits)
	if err != nil {
		f.fail(err.Error())
	}
	return n
}

func (f Field) uintN(bits int) uint64 {
	if f.v == nil || f.r.err != nil {
		return 0
	}
	n, err := f.v.uintN(bits)
	if err != nil {
		f.fail(err.Error())
	}
	return n
}

// Bytes reads bytes as encoding/json writes them: the standard base64 of
// the bytes (RFC 4648 §4, padded; line breaks are ignored), or null for
// none (nil).
func (f Field) Bytes() []byte {
	if f.IsNull() || !f.is(String) {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(f.v.s)
	if err != nil {
		f.fail("want standard base64, " + err.Error())
		return nil
	}
	return b
}

// Array reads an array (or null, for none) as its elements.
func (f Field) Array() []Field {
	if f.IsNull() || !f.is(Array) {
		return nil
	}
	out := make([]Field, len(f.v.elems))
	for i := range f.v.elems {
		out[i] = Field{r: f.r, v: &f.v.elems[i], path: f.path + "[" + strconv.Itoa(i) + "]"}
	}
	return out
}

// Strings reads an array of strings (or null, for none).
func (f Field) Strings() []string {
	var out []string
	for _, e := range f.Array() {
		out = append(out, e.Str())
	}
	return out
}

// Object reads an object. Read its members with Get and Opt, then call End
// to reject the members that were not read.
func (f Field) Object() *Fields {
	if !f.is(Object) {
		return &Fields{r: f.r, path: f.path}
	}
	return &Fields{r: f.r, v: f.v, path: f.path, read: make([]bool, len(f.v.elems))}
}

// Fields are the members of an object being read (or of an absent one,
// whose members are all absent).
type Fields struct {
	r     *Reader
	v     *Value
	path  string
	read  []bool
	asked []string // names asked for with Get and Opt
}

// Path is the object's path.
func (o *Fields) Path() string { return o.path }

func (o *Fields) member(name string) (Field, bool) {
	f := Field{r: o.r, path: o.path + "." + name}
	if o.path == "" {
		f.path = name
	}
	if o.v == nil {
		return f, true // absent object, or after an error
	}
	o.asked = append(o.asked, name)
	for i, n := range o.v.names {
		if n == name {
			o.read[i] = true
			f.v = &o.v.elems[i]
			return f, true
		}
	}
	return f, false
}

// Get returns the member name; its absence is an error ("path: missing").
func (o *Fields) Get(name string) Field {
	f, ok := o.member(name)
	if !ok {
		f.fail("missing")
	}
	return f
}

// Opt returns the member name, or an absent field.
func (o *Fields) Opt(name string) Field {
	f, _ := o.member(name)
	return f
}

// Members returns every member, in document order, as read.
func (o *Fields) Members() (names []string, fields []Field) {
	if o.v == nil || o.r.err != nil {
		return nil, nil
	}
	for i, n := range o.v.names {
		f, _ := o.member(n)
		o.read[i] = true
		names = append(names, n)
		fields = append(fields, f)
	}
	return names, fields
}

// End records an error for the first member that was not read: "path:
// unknown field "name"". Call End or IgnoreUnknown after the reads.
func (o *Fields) End() {
	if o.v == nil {
		return
	}
	for i, read := range o.read {
		if !read {
			f := Field{r: o.r, path: o.path}
			f.fail("unknown field " + strconv.Quote(o.v.names[i]))
			return
		}
	}
}

// IgnoreUnknown accepts the members that were not read, except one whose
// name is that of a member asked for (with Get or Opt) in all but case,
// which encoding/json would have read as that member: "path: field "Name"
// is "name" in another case".
func (o *Fields) IgnoreUnknown() {
	if o.v == nil {
		return
	}
	for i, read := range o.read {
		if read {
			continue
		}
		for _, a := range o.asked {
			if strings.EqualFold(o.v.names[i], a) {
				f := Field{r: o.r, path: o.path}
				f.fail("field " + strconv.Quote(o.v.names[i]) + " is " + strconv.Quote(a) + " in another case")
				return
			}
		}
	}
}
