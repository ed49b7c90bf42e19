package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// parseStream parses data as Parse does, through a Decoder that gets the
// input one byte at a time, so that every token crosses a buffer refill.
func parseStream(data []byte) (*Value, error) {
	d := NewDecoder(iotest.OneByteReader(bytes.NewReader(data)))
	v, err := d.ReadValue()
	if err != nil {
		return nil, err
	}
	return v, d.End()
}

// dump writes a tree in a form that shows every distinction Value makes.
func dump(v *Value) string {
	var b strings.Builder
	var walk func(v *Value)
	walk = func(v *Value) {
		switch v.Kind() {
		case Null:
			b.WriteString("null")
		case Bool:
			fmt.Fprint(&b, v.Bool())
		case Number:
			b.WriteString("#" + v.Text())
		case String:
			fmt.Fprintf(&b, "%q", v.Text())
		case Array:
			b.WriteString("[")
			for i := range v.Len() {
				if i > 0 {
					b.WriteString(",")
				}
				walk(v.Index(i))
			}
			b.WriteString("]")
		case Object:
			b.WriteString("{")
			for i := range v.Len() {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, "%q:", v.Name(i))
				walk(v.Index(i))
			}
			b.WriteString("}")
		default:
			b.WriteString("?")
		}
	}
	walk(v)
	return b.String()
}

func TestParseValid(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	for _, tc := range []struct{ in, want string }{
		{`0`, `#0`},
		{`-0`, `#-0`},
		{` 1.5e+10 `, `#1.5e+10`},
		{"\t\r\n-12.25E-3\n", `#-12.25E-3`},
		{`1e400`, `#1e400`},
		{`123456789012345678901234567890`, `#123456789012345678901234567890`},
		{`null`, `null`},
		{`true`, `true`},
		{`false`, `false`},
		{`""`, `""`},
		{`[]`, `[]`},
		{`{}`, `{}`},
		{`{"":0}`, `{"":#0}`},
		{` [ 1 , {"a" : [ ] } , "x" ] `, `[#1,{"a":[]},"x"]`},
		{`{"b":1,"a":2}`, `{"b":#1,"a":#2}`}, // document order
		{`{"a":1,"A":2}`, `{"a":#1,"A":#2}`}, // names are case-sensitive
		{`{"a":{"a":1}}`, `{"a":{"a":#1}}`},
		{`"\"\\\/\b\f\n\r\t"`, `"\"\\/\b\f\n\r\t"`},
		{`"\u0000\u001F\u00e9\u00E9"`, `"\x00\x1féé"`},
		{`"\ud83d\ude00 é 😀"`, `"😀 é 😀"`},
		{`"\uFFFF\uFFFE\uFDD0"`, `"\uffff\ufffe\ufdd0"`},
		{`"\uFFFD"`, `"�"`},
		{"\"\xef\xbf\xbd\"", `"�"`},
		{"\"\u2028\u2029<>&\x7f\"", `"\u2028\u2029<>&\x7f"`},
		{deep, strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)},
	} {
		for name, parse := range map[string]func([]byte) (*Value, error){"Parse": Parse, "stream": parseStream} {
			v, err := parse([]byte(tc.in))
			if err != nil {
				t.Errorf("%s(%q): %v", name, tc.in, err)
				continue
			}
			if got := dump(v); got != tc.want {
				t.Errorf("%s(%q) = %s, want %s", name, tc.in, got, tc.want)
			}
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, "byte 0: unexpected EOF"},
		{` `, "byte 1: unexpected EOF"},
		{`[`, "byte 1: unexpected EOF"},
		{`]`, "byte 0: invalid character ']' looking for the beginning of a value"},
		{`{`, "byte 1: unexpected EOF"},
		{`{]`, "byte 1: invalid character ']' looking for the name of an object member"},
		{`[1,]`, "byte 3: invalid character ']' looking for the beginning of a value"},
		{`[,1]`, "byte 1: invalid character ',' looking for the beginning of a value"},
		{`[1 2]`, "byte 3: invalid character '2' after an array element"},
		{`[1]]`, "byte 3: data after the value"},
		{`{"a"}`, "byte 4: invalid character '}' after the name of an object member"},
		{`{"a":}`, "byte 5: invalid character '}' looking for the beginning of a value"},
		{`{"a":1,}`, "byte 7: invalid character '}' looking for the name of an object member"},
		{`{"a":1 "b":2}`, `byte 7: invalid character '"' after an object member`},
		{`{,}`, "byte 1: invalid character ','"},
		{`{1:1}`, "byte 1: invalid character '1' looking for the name"},
		{`{'a':1}`, `byte 1: invalid character '\''`},
		{`['a']`, `byte 1: invalid character '\''`},
		{`01`, "byte 0: leading zero in a number"},
		{`-01`, "byte 1: leading zero in a number"},
		{`[00]`, "byte 1: leading zero in a number"},
		{`-`, "byte 1: unexpected EOF"},
		{`-a`, "byte 1: invalid character 'a' in a number, looking for a digit"},
		{`1.`, "byte 2: unexpected EOF"},
		{`1.e1`, "byte 2: invalid character 'e' after the decimal point"},
		{`.1`, "byte 0: invalid character '.'"},
		{`1e`, "byte 2: unexpected EOF"},
		{`1e+`, "byte 3: unexpected EOF"},
		{`1e+-1`, "byte 3: invalid character '-' in the exponent"},
		{`+1`, "byte 0: invalid character '+'"},
		{`0x1`, "byte 1: data after the value"},
		{`NaN`, "byte 0: invalid character 'N'"},
		{`Infinity`, "byte 0: invalid character 'I'"},
		{`-Infinity`, "byte 1: invalid character 'I'"},
		{`tru`, "byte 3: unexpected EOF"},
		{`truee`, "byte 4: data after the value"},
		{`True`, "byte 0: invalid character 'T'"},
		{`nul`, "byte 3: unexpected EOF"},
		{`nulL`, "byte 3: invalid character 'L' in literal null"},
		{`"abc`, "byte 4: unexpected EOF"},
		{`"\x"`, `byte 1: invalid escape \x in a string`},
		{`"\'"`, `byte 1: invalid escape \' in a string`},
		{`"\`, "byte 2: unexpected EOF"},
		{`"\u12"`, `byte 1: invalid \u escape`},
		{`"\u12`, "byte 5: unexpected EOF"},
		{`"\u12g4"`, `byte 1: invalid \u escape`},
		{`"\ud800"`, "byte 1: lone surrogate"},
		{`"\udc00"`, "byte 1: lone surrogate"},
		{`"\ud800\u0041"`, "byte 1: lone surrogate"},
		{`"\ud800\n"`, "byte 1: lone surrogate"},
		{`"\ud800x"`, "byte 1: lone surrogate"},
		{`"\ud800\ud800"`, "byte 1: lone surrogate"},
		{`"\udc00\ud800"`, "byte 1: lone surrogate"},
		{"\"\t\"", "byte 1: control character byte 0x9 in a string"},
		{"\"\x00\"", "byte 1: control character byte 0x0 in a string"},
		{"\"\n\"", "byte 1: control character"},
		{"\"\xff\"", "byte 1: invalid UTF-8"},
		{"\"a\xc3\"", "byte 2: invalid UTF-8"},
		{"\"\xc0\x80\"", "byte 1: invalid UTF-8"},     // overlong NUL
		{"\"\xed\xa0\x80\"", "byte 1: invalid UTF-8"}, // a surrogate in UTF-8
		{"\"\xf4\x90\x80\x80\"", "byte 1: invalid UTF-8"},
		{"\xef\xbb\xbf{}", "byte 0: invalid character byte 0xef"}, // BOM
		{"\xff", "byte 0: invalid character byte 0xff"},
		{"\f1", "byte 0: invalid character byte 0xc"},
		{"\u00a01", "byte 0: invalid character byte 0xc2"},
		{`{"a":1,"a":1}`, `byte 7: duplicate member name "a"`},
		{`{"a":1,"b":{"c":1,"c":2}}`, `byte 18: duplicate member name "c"`},
		{`{"\u0061":1,"a":2}`, `byte 12: duplicate member name "a"`},
		{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"a":19}`, `duplicate member name "a"`},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "byte 64: arrays and objects nest deeper than 64"},
		{strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1), "byte 320: arrays and objects nest deeper"},
		{`1 2`, "byte 2: data after the value"},
		{`{} x`, "byte 3: data after the value"},
		{"[1,\n]", "byte 4: invalid character ']'"},
		{`/**/{}`, "byte 0: invalid character '/'"},
		{`{}//`, "byte 2: data after the value"},
	} {
		for name, parse := range map[string]func([]byte) (*Value, error){"Parse": Parse, "stream": parseStream} {
			v, err := parse([]byte(tc.in))
			var se *SyntaxError
			if err == nil || !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s(%q) = %v, %v; want a SyntaxError with %q", name, tc.in, v, err, tc.want)
			}
		}
	}
	if _, err := Parse([]byte(`[1`)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated input: %v does not wrap io.ErrUnexpectedEOF", err)
	}
	if _, err := Parse([]byte(`[1] 2`)); !errors.Is(err, ErrTrailingData) {
		t.Errorf("trailing data: %v does not wrap ErrTrailingData", err)
	}
}

func TestIntegers(t *testing.T) {
	for _, tc := range []struct{ in, i64, u64 string }{
		{in: `0`, i64: "0", u64: "0"},
		{in: `-0`, i64: "0", u64: "want a non-negative integer, got -0"},
		{in: `42`, i64: "42", u64: "42"},
		{in: `-42`, i64: "-42", u64: "want a non-negative integer, got -42"},
		{in: `9223372036854775807`, i64: "9223372036854775807", u64: "9223372036854775807"},
		{in: `-9223372036854775808`, i64: "-9223372036854775808", u64: "want a non-negative integer, got -9223372036854775808"},
		{in: `9223372036854775808`, i64: "want an integer of at most 64 bits, got 9223372036854775808", u64: "9223372036854775808"},
		{in: `18446744073709551616`, i64: "want an integer of at most 64 bits, got 18446744073709551616", u64: "want an integer of at most 64 bits, got 18446744073709551616"},
		{in: `1.0`, i64: "want an integer, got 1.0", u64: "want an integer, got 1.0"},
		{in: `1e0`, i64: "want an integer, got 1e0", u64: "want an integer, got 1e0"},
		{in: `1E2`, i64: "want an integer, got 1E2", u64: "want an integer, got 1E2"},
		{in: `"1"`, i64: "want an integer, got a string", u64: "want an integer, got a string"},
		{in: `null`, i64: "want an integer, got null", u64: "want an integer, got null"},
	} {
		v, err := Parse([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		show := func(n any, err error) string {
			if err != nil {
				return err.Error()
			}
			return fmt.Sprint(n)
		}
		if got := show(v.Int64()); got != tc.i64 {
			t.Errorf("Int64(%s) = %s, want %s", tc.in, got, tc.i64)
		}
		if got := show(v.Uint64()); got != tc.u64 {
			t.Errorf("Uint64(%s) = %s, want %s", tc.in, got, tc.u64)
		}
	}
	v, _ := Parse([]byte(`2147483648`))
	var r Reader
	if n := r.Root(v).Int32(); n != 0 || r.Err() == nil || r.Err().Error() != "want an integer of at most 32 bits, got 2147483648" {
		t.Errorf("Int32(2147483648) = %d, %v", n, r.Err())
	}
	var r2 Reader
	if n := r2.Root(v).Uint32(); n != 1<<31 || r2.Err() != nil {
		t.Errorf("Uint32(2147483648) = %d, %v", n, r2.Err())
	}
}

// readContests is a decoder of the shape DecodeManifestJSON reads.
func readContests(data string) (ids []string, counts []int, err error) {
	v, err := Parse([]byte(data))
	if err != nil {
		return nil, nil, err
	}
	var r Reader
	root := r.Root(v).Object()
	for _, c := range root.Get("contests").Array() {
		co := c.Object()
		for _, s := range co.Get("selections").Array() {
			so := s.Object()
			ids = append(ids, so.Get("id").Str())
			so.End()
		}
		counts = append(counts, co.Opt("count").Int())
		co.End()
	}
	root.Opt("description").Str()
	root.End()
	return ids, counts, r.Err()
}

func TestReader(t *testing.T) {
	ids, counts, err := readContests(`{"contests":[{"selections":[{"id":"a"},{"id":"b"}],"count":2},{"selections":[]}]}`)
	if err != nil || fmt.Sprint(ids, counts) != "[a b] [2 0]" {
		t.Fatalf("readContests = %v %v, %v", ids, counts, err)
	}
	for _, tc := range []struct{ in, want string }{
		{`[]`, "want an object, got an array"},
		{`{}`, "contests: missing"},
		{`{"contests":null}`, ""}, // null reads as no array, as encoding/json writes a nil slice
		{`{"contests":{}}`, "contests: want an array, got an object"},
		{`{"contests":[{"selections":[{"id":"a"}]},{"selections":[{"id":"a"},{"id":7}]}]}`, "contests[1].selections[1].id: want a string, got a number"},
		{`{"contests":[{"selections":[{"id":"a","x":1}]}]}`, `contests[0].selections[0]: unknown field "x"`},
		{`{"contests":[],"extra":{"y":1}}`, `unknown field "extra"`},
		{`{"contests":[{"selections":[],"count":1.5}]}`, "contests[0].count: want an integer, got 1.5"},
		{`{"contests":[{"selections":[],"count":null}]}`, "contests[0].count: want an integer, got null"},
		{`{"contests":[{"selections":[]}],"description":1}`, "description: want a string, got a number"},
		{`{"contests":[{"selections":[{"id":1}],"count":"x"}]}`, "contests[0].selections[0].id: want a string, got a number"}, // the first error
		{`{"contests":[{"selections":[{}]}]}`, "contests[0].selections[0].id: missing"},
	} {
		_, _, err := readContests(tc.in)
		if fmt.Sprint(err) != tc.want && !(tc.want == "" && err == nil) {
			t.Errorf("readContests(%s) = %v, want %q", tc.in, err, tc.want)
		}
		var fe *FieldError
		if err != nil && !errors.As(err, &fe) {
			t.Errorf("readContests(%s): %T is not a *FieldError", tc.in, err)
		}
	}
}

func TestReaderKinds(t *testing.T) {
	v, err := Parse([]byte(`{"b":true,"bytes":"AAEC","nb":null,"s":["x","y"],"m":{"k":["v"]},"bad":"!!"}`))
	if err != nil {
		t.Fatal(err)
	}
	var r Reader
	o := r.Root(v).Object()
	if !o.Get("b").Bool() || !bytes.Equal(o.Get("bytes").Bytes(), []byte{0, 1, 2}) || o.Get("nb").Bytes() != nil ||
		fmt.Sprint(o.Get("s").Strings()) != "[x y]" || o.Opt("absent").Present() || !o.Get("nb").IsNull() {
		t.Fatalf("reads: %v", r.Err())
	}
	names, fields := o.Get("m").Object().Members()
	if fmt.Sprint(names) != "[k]" || fmt.Sprint(fields[0].Strings()) != "[v]" || fields[0].Path() != "m.k" {
		t.Fatalf("Members = %v %v", names, fields)
	}
	// An absent object's members are absent, without error.
	if ab := o.Opt("absent").Object(); ab.Get("x").Str() != "" || r.Err() != nil {
		t.Fatalf("absent object: %v", r.Err())
	}
	if o.End(); r.Err() == nil || r.Err().Error() != `unknown field "bad"` {
		t.Fatalf("End = %v", r.Err())
	}
	var r2 Reader
	if b := r2.Root(v).Object().Get("bad").Bytes(); b != nil || r2.Err() == nil || !strings.HasPrefix(r2.Err().Error(), "bad: want standard base64, ") {
		t.Fatalf("bad base64: %v", r2.Err())
	}
	var r3 Reader
	f := r3.Root(v).Object().Get("b")
	if f.Failf("not %s", "today"); r3.Err().Error() != "b: not today" {
		t.Fatalf("Failf: %v", r3.Err())
	}
	if f.Str(); r3.Err().Error() != "b: not today" {
		t.Fatalf("the first error is kept: %v", r3.Err())
	}
}

func TestIgnoreUnknown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1,"other":{},"b":2}`, ""},
		{`{"a":1,"A":2}`, `field "A" is "a" in another case`},
		{`{"a":1,"B":2}`, `field "B" is "b" in another case`},               // b was asked for, though absent
		{`{"a":1,"s":{"\u017f":1}}`, `s: field "ſ" is "s" in another case`}, // the long s folds to s
	} {
		v, err := Parse([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		var r Reader
		o := r.Root(v).Object()
		o.Get("a").Int()
		o.Opt("b").Int()
		s := o.Opt("s").Object()
		s.Opt("s").Int()
		s.IgnoreUnknown()
		o.IgnoreUnknown()
		if fmt.Sprint(r.Err()) != tc.want && !(tc.want == "" && r.Err() == nil) {
			t.Errorf("%s: %v, want %q", tc.in, r.Err(), tc.want)
		}
	}
}

func TestDecoderStream(t *testing.T) {
	// Reading a large array of strings as a stream, with a callback per
	// element, in a buffer far smaller than the input.
	var in bytes.Buffer
	in.WriteString(`{"n":3000,"keys":[`)
	for i := range 3000 {
		if i > 0 {
			in.WriteString(",")
		}
		fmt.Fprintf(&in, `"%064x"`, i)
	}
	in.WriteString("]}\n")
	d := NewDecoder(iotest.HalfReader(bytes.NewReader(in.Bytes())))
	var n string
	count := 0
	err := d.ReadObject(func(name string) error {
		switch name {
		case "n":
			var err error
			n, err = d.ReadNumber()
			return err
		case "keys":
			return d.ReadArray(func() error {
				s, err := d.ReadString()
				if err == nil && s != fmt.Sprintf("%064x", count) {
					return fmt.Errorf("key %d is %s", count, s)
				}
				count++
				return err
			})
		}
		return d.Skip()
	})
	if err != nil || d.End() != nil || n != "3000" || count != 3000 {
		t.Fatalf("stream: %v, n %s, %d keys", err, n, count)
	}
	if len(d.buf) > 256<<10 {
		t.Errorf("buffer grew to %d bytes", len(d.buf))
	}

	// A callback that does not read its value is a programming error.
	d = NewDecoder(strings.NewReader(`{"a":1}`))
	if err := d.ReadObject(func(string) error { return nil }); err == nil || !strings.Contains(err.Error(), "did not read") {
		t.Errorf("lazy callback: %v", err)
	}
	// Errors are sticky, and a callback's error is returned as it is.
	mine := errors.New("mine")
	d = NewDecoder(strings.NewReader(`[1,2]`))
	if err := d.ReadArray(func() error { return mine }); err != mine {
		t.Errorf("callback error: %v", err)
	}
	if _, err := d.ReadNumber(); err != mine {
		t.Errorf("sticky error: %v", err)
	}
	// A read error is reported as it is.
	d = NewDecoder(iotest.TimeoutReader(strings.NewReader(strings.Repeat(" ", 70000) + "[1]")))
	if _, err := d.ReadValue(); err != iotest.ErrTimeout {
		t.Errorf("read error: %v", err)
	}
	// The kind asked for is checked.
	d = NewDecoder(strings.NewReader(` "x"`))
	if k, err := d.Peek(); k != String || err != nil {
		t.Errorf("Peek = %v, %v", k, err)
	}
	if _, err := d.ReadNumber(); err == nil || err.Error() != "syntax error at byte 1: want a number, got a string" {
		t.Errorf("ReadNumber of a string: %v", err)
	}
}

// TestAppendString compares with encoding/json on the characters it
// escapes.
func TestAppendString(t *testing.T) {
	for _, s := range []string{
		"", "abc", `"\`, "\x00\x01\x07\b\t\n\v\f\r\x1f\x20\x7f", "<>&'", "\u2028\u2029\u2027\u202a",
		"é😀\ufffd", "\xff", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xef\xbf\xbd",
	} {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got[1:], want)
		}
	}
	for _, b := range [][]byte{nil, {}, {0}, []byte("hello, world")} {
		want, _ := json.Marshal(b)
		if got := AppendBytes(nil, b); string(got) != string(want) {
			t.Errorf("AppendBytes(%v) = %s, want %s", b, got, want)
		}
	}
}

// FuzzParse compares Parse with encoding/json: what encoding/json rejects
// is rejected; what Parse accepts, encoding/json decodes to the same
// values; and what encoding/json accepts and Parse rejects breaks one of
// the rules Parse adds (duplicate names, invalid UTF-8, lone surrogates,
// depth). The streaming Decoder, fed a byte at a time, agrees with Parse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,2.5e-3,"x",true,false,null,{}],"b":{"c":"\u00e9\ud83d\ude00"}}`,
		`{"a":1,"a":2}`, `"\ud800"`, "\"\xff\"", `[[[[[[]]]]]]`, `-0.0e+00`, ` 1 `, `01`, `"\/\b"`,
		strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		sv, serr := parseStream(data)
		if fmt.Sprint(err) != fmt.Sprint(serr) || (err == nil && dump(v) != dump(sv)) {
			t.Fatalf("Parse and the stream disagree: %v, %v", err, serr)
		}
		valid := json.Valid(data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%T %v is not a SyntaxError", err, err)
			}
			if !valid {
				return
			}
			switch msg := err.Error(); {
			case strings.Contains(msg, "invalid UTF-8"):
				if utf8.Valid(data) {
					t.Fatalf("%v for valid UTF-8", err)
				}
			case strings.Contains(msg, "duplicate member name"), strings.Contains(msg, "lone surrogate"),
				strings.Contains(msg, "nest deeper than"):
			default:
				t.Fatalf("encoding/json accepts what Parse rejects: %v", err)
			}
			return
		}
		if !valid {
			t.Fatalf("Parse accepts what encoding/json rejects: %s", dump(v))
		}
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var x any
		if err := d.Decode(&x); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if err := same(v, x); err != nil {
			t.Fatal(err)
		}
	})
}

// same compares a tree with encoding/json's decoding into any (with
// UseNumber).
func same(v *Value, x any) error {
	switch x := x.(type) {
	case nil:
		if v.Kind() == Null {
			return nil
		}
	case bool:
		if v.Kind() == Bool && v.Bool() == x {
			return nil
		}
	case json.Number:
		if v.Kind() == Number && v.Text() == string(x) {
			return nil
		}
	case string:
		if v.Kind() == String && v.Text() == x {
			return nil
		}
	case []any:
		if v.Kind() == Array && v.Len() == len(x) {
			for i, e := range x {
				if err := same(v.Index(i), e); err != nil {
					return err
				}
			}
			return nil
		}
	case map[string]any:
		if v.Kind() == Object && v.Len() == len(x) {
			for i := range v.Len() {
				e, ok := x[v.Name(i)]
				if !ok {
					return fmt.Errorf("member %q: encoding/json has none", v.Name(i))
				}
				if err := same(v.Index(i), e); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return fmt.Errorf("%s, encoding/json has %#v", dump(v), x)
}

// FuzzAppendString: AppendString writes what encoding/json writes, and
// Parse reads it back (to the string, when it is valid UTF-8).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", "\u2028\x00\"\\", "\xff\xc3", "é😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendString(nil, s)
		want, _ := json.Marshal(s)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, encoding/json writes %s", s, got, want)
		}
		v, err := Parse(got)
		if err != nil {
			t.Fatalf("Parse(%s): %v", got, err)
		}
		if utf8.ValidString(s) && v.Text() != s {
			t.Fatalf("Parse(%s) = %q, want %q", got, v.Text(), s)
		}
	})
}
