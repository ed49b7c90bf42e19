package voters

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/evote/evote/ballot/credential"
)

// codesFile makes a codes.csv of n fresh codes, as credentials generate
// writes it, and returns it with its codes.
func codesFile(t *testing.T, n int) (string, []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("card,code,voter,style,weight\n")
	var codes []string
	for i := range n {
		c, err := credential.NewCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c.Text())
		fmt.Fprintf(&b, "%05d-%05d,%s,\"Voter, %d\",default,1\n", i, i, c.Text(), i)
	}
	return b.String(), codes
}

func TestParseRange(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Range
		err  string
	}{
		{"1-100", Range{1, 100}, ""},
		{"101-", Range{101, 0}, ""},
		{"-50", Range{0, 50}, ""},
		{"7-7", Range{7, 7}, ""},
		{"100", Range{}, `range "100" is not FROM-TO, such as 1-100 (rows of the codes file, from 1, both included)`},
		{"-", Range{}, `range "-" is not FROM-TO, such as 1-100 (rows of the codes file, from 1, both included)`},
		{"0-10", Range{}, `range "0-10": "0" is not a row number (1 or more)`},
		{"1-x", Range{}, `range "1-x": "x" is not a row number (1 or more)`},
		{"1--5", Range{}, `range "1--5": "-5" is not a row number (1 or more)`},
		{"20-10", Range{}, `range "20-10" is empty: row 20 is after row 10`},
	} {
		got, err := ParseRange(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParseRange(%q) = %v, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseRange(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if back, err := ParseRange(got.String()); err != nil || back != got {
			t.Errorf("ParseRange(%q.String() = %q) = %v, %v", c.in, got.String(), back, err)
		}
	}
}

// TestReadCodesRange: disjoint ranges read disjoint codes, together all of
// them, each with its line in the file.
func TestReadCodesRange(t *testing.T) {
	file, codes := codesFile(t, 10)
	read := func(r Range) []Code {
		t.Helper()
		got, err := ReadCodes(strings.NewReader(file), "codes.csv", r)
		if err != nil {
			t.Fatalf("ReadCodes(%v): %v", r, err)
		}
		return got
	}
	var all []string
	for _, r := range []Range{{1, 3}, {4, 9}, {10, 10}} {
		got := read(r)
		if len(got) != r.To-r.From+1 {
			t.Fatalf("range %v: %d codes", r, len(got))
		}
		for i, c := range got {
			if c.Line != r.From+i+1 {
				t.Errorf("range %v: code %d is on line %d, want %d", r, i, c.Line, r.From+i+1)
			}
			all = append(all, c.Code.Text())
		}
	}
	if strings.Join(all, " ") != strings.Join(codes, " ") {
		t.Errorf("the ranges read\n%v\nnot\n%v", all, codes)
	}
	if got := read(Range{}); len(got) != 10 || got[9].Code.Text() != codes[9] {
		t.Errorf("the whole file: %d codes", len(got))
	}
	if got := read(Range{From: 8}); len(got) != 3 || got[0].Code.Text() != codes[7] {
		t.Errorf("range 8-: %d codes", len(got))
	}
	for _, c := range []struct {
		file string
		r    Range
		err  string
	}{
		{file, Range{5, 11}, "codes.csv has 10 codes (rows 1 to 10): range 5-11 goes past its end"},
		{file, Range{From: 11}, "codes.csv has 10 codes (rows 1 to 10): range 11- goes past its end"},
		{"card,code,voter,style,weight\n", Range{}, "codes.csv holds no code"},
		{strings.Replace(file, codes[2], "7KQ2-M9XH", 1), Range{1, 5}, "codes.csv: line 4: "},
		{strings.Replace(file, codes[2], "7KQ2-M9XH", 1), Range{4, 10}, ""}, // a bad row outside the range is not read
		{"card,code\n12345-67890\n", Range{}, "codes.csv: line 2: no code"},
		{"card,code\n\"x,1\n", Range{}, "codes.csv: parse error on line 2, column 6: extraneous or missing \" in quoted-field"},
	} {
		_, err := ReadCodes(strings.NewReader(c.file), "codes.csv", c.r)
		if c.err == "" {
			if err != nil {
				t.Errorf("range %v: %v", c.r, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.err) {
			t.Errorf("range %v: error %v, want %q", c.r, err, c.err)
		}
	}
}
