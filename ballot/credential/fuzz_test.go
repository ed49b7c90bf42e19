package credential

import (
	"bytes"
	"testing"
)

// FuzzParseCode: the parser never panics; CheckPartial and ParseCode agree;
// a parsed code's text parses to the same code.
func FuzzParseCode(f *testing.F) {
	for _, v := range loadCodeVectors(f) {
		f.Add(v.Input)
	}
	f.Add("7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5\x00")
	f.Add("\xff\xfe7KQ2")
	f.Fuzz(func(t *testing.T, s string) {
		st := CheckPartial(s)
		c, err := ParseCode(s)
		if (err == nil) != (st.State == Valid) {
			t.Fatalf("ParseCode error %v, CheckPartial %+v", err, st)
		}
		switch st.State {
		case Valid:
			if c2, err := ParseCode(c.Text()); err != nil || c2 != c {
				t.Fatalf("Text does not parse back: %v", err)
			}
		case BadChecksum:
			for _, i := range st.Suspects {
				if i < 0 || i >= CodeSymbols {
					t.Fatalf("suspect %d", i)
				}
			}
		case BadCharacter, TooLong:
			if st.Offset < 0 || st.Offset >= len([]rune(s)) {
				t.Fatalf("offset %d", st.Offset)
			}
		}
	})
}

// FuzzDecodeRoll: bad bytes give an error, never a panic; a roll that decodes
// encodes to the same bytes, and its JSON form reads back to the same roll.
func FuzzDecodeRoll(f *testing.F) {
	for _, n := range []int{1, 2, 3} {
		f.Add(mustRoll(f, n, uint64(n)).Encode())
	}
	dup := mustRoll(f, 2, 1).Encode()
	copy(dup[len(dup)-32:], dup[len(dup)-64:])
	f.Add(dup)
	f.Add([]byte("EVCR"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Encode(), b) {
			t.Fatalf("decode→encode changed the bytes")
		}
		var js bytes.Buffer
		if err := r.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		j, err := ReadJSON(&js)
		if err != nil || j.Hash() != r.Hash() {
			t.Fatalf("JSON form does not read back: %v", err)
		}
	})
}

// FuzzReadJSON: the JSON reader never panics, and a roll it accepts writes
// a JSON form that reads back to the same roll.
func FuzzReadJSON(f *testing.F) {
	for _, n := range []int{1, 2} {
		var buf bytes.Buffer
		mustRoll(f, n, uint64(n)).WriteJSON(&buf)
		f.Add(buf.Bytes())
	}
	f.Add([]byte(`{"format":"evote-credential-roll","version":1,"election_id":"x","kdf":{"algorithm":"argon2id","time":1,"memory_kib":8,"threads":1},"count":1,"keys":["` +
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" + `"]}`))
	f.Add([]byte(`{"count":1,"count":2}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadJSON(bytes.NewReader(b))
		if err != nil {
			return
		}
		var js bytes.Buffer
		if err := r.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		j, err := ReadJSON(&js)
		if err != nil || j.Hash() != r.Hash() {
			t.Fatalf("JSON form does not read back: %v", err)
		}
		if d, err := Decode(r.Encode()); err != nil || d.Hash() != r.Hash() {
			t.Fatalf("binary form does not read back: %v", err)
		}
	})
}
