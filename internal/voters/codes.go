package voters

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/evote/evote/ballot/credential"
)

// Code is one voter's credential code read from a codes file, with the line
// it is on.
type Code struct {
	Line int
	Code credential.Code
}

// Range is the rows of a codes file a simulation takes: From to To, counted
// from 1 after the header, both included. Zero values mean the first and
// the last row. Several `evote load` processes given disjoint ranges cast
// for disjoint voters.
type Range struct {
	From, To int
}

// ParseRange reads a range written FROM-TO ("1-100"), FROM- (from FROM to
// the last row) or -TO.
func ParseRange(s string) (Range, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok || from == "" && to == "" {
		return Range{}, fmt.Errorf("range %q is not FROM-TO, such as 1-100 (rows of the codes file, from 1, both included)", s)
	}
	var r Range
	for _, p := range []struct {
		text string
		v    *int
	}{{from, &r.From}, {to, &r.To}} {
		if p.text == "" {
			continue
		}
		n, err := strconv.Atoi(p.text)
		if err != nil || n < 1 {
			return Range{}, fmt.Errorf("range %q: %q is not a row number (1 or more)", s, p.text)
		}
		*p.v = n
	}
	if r.To != 0 && r.From > r.To {
		return Range{}, fmt.Errorf("range %q is empty: row %d is after row %d", s, r.From, r.To)
	}
	return r, nil
}

// String writes the range as ParseRange reads it.
func (r Range) String() string {
	s := ""
	if r.From != 0 {
		s = strconv.Itoa(r.From)
	}
	s += "-"
	if r.To != 0 {
		s += strconv.Itoa(r.To)
	}
	return s
}

// ReadCodes reads the rows r of a codes file (codes.csv of `evote
// credentials generate`: a header "card,code,…" and one card per line, the
// code in the second column; name is the file's name in errors). A range
// beyond the file's rows is an error that says how many rows it has.
func ReadCodes(in io.Reader, name string, r Range) ([]Code, error) {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	first := true
	var out []Code
	row := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if rec[0] == "card" || rec[0] == "voter" {
				continue
			}
		}
		row++
		if row < r.From || r.To != 0 && row > r.To {
			continue
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("%s: line %d: no code", name, line)
		}
		code, err := credential.ParseCode(rec[1])
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		out = append(out, Code{Line: line, Code: code})
	}
	switch {
	case row == 0:
		return nil, fmt.Errorf("%s holds no code", name)
	case r.From > row || r.To > row:
		return nil, fmt.Errorf("%s has %d codes (rows 1 to %d): range %s goes past its end", name, row, row, r)
	}
	return out, nil
}
