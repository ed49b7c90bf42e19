package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evote/evote/ballot/credential"
)

// twoStyles are the ballot styles of the voter lists of these tests.
var twoStyles = []string{"district-1", "district-2"}

func readList(t *testing.T, styles []string, rollSize int, list string) (*Assignment, []string) {
	t.Helper()
	a, probs, err := readVoterList("v.csv", strings.NewReader(list), styles, rollSize, MaxVoterListSize)
	if err != nil {
		t.Fatalf("readVoterList: %v", err)
	}
	if (a == nil) == (probs == nil) {
		t.Fatalf("readVoterList = %v, %v: want exactly one of an assignment and problems", a, probs)
	}
	if probs == nil {
		return a, nil
	}
	lines := strings.Split(probs.Error(), "\n")
	return nil, lines
}

func TestVoterList(t *testing.T) {
	cases := []struct {
		name   string
		styles []string // twoStyles if nil
		roll   int
		in     string
		want   []Voter // the assignment, when there are no problems
	}{
		{"weights", nil, 3, "voter,style,weight\nA,district-1,1\nB,district-2,3\nC,district-1,1099511627772\n",
			[]Voter{{"A", "district-1", 1}, {"B", "district-2", 3}, {"C", "district-1", 1<<40 - 4}}},
		{"no weight column", nil, 2, "voter,style\nA,district-2\nB,district-1\n",
			[]Voter{{"A", "district-2", 1}, {"B", "district-1", 1}}},
		{"columns in any order", nil, 1, "weight,voter,style\n12,A,district-2\n", []Voter{{"A", "district-2", 12}}},
		{"BOM and CRLF", nil, 2, "\uFEFFvoter,style,weight\r\nA,district-1,2\r\nB,district-2,1\r\n",
			[]Voter{{"A", "district-1", 2}, {"B", "district-2", 1}}},
		{"no final line end", nil, 1, "voter,style\nA,district-1", []Voter{{"A", "district-1", 1}}},
		{"blank lines", nil, 2, "\nvoter,style\n\nA,district-1\n\nB,district-1\n\n", []Voter{{"A", "district-1", 1}, {"B", "district-1", 1}}},
		{"quoted fields", nil, 2, "\"voter\",\"style\",\"weight\"\n\"A, B\",\"district-1\",\"7\"\n\"\"\",\"\"\",district-2,1\n",
			[]Voter{{"A, B", "district-1", 7}, {`","`, "district-2", 1}}},
		{"hostile labels", nil, 6, strings.Join([]string{"voter,style",
			`Smith & Sons <Ltd>,district-1`,
			`"O'Neill, ""Paddy"" \ Jr.",district-2`,
			`王秀英,district-1`,
			`محمد الحسن,district-2`,
			`Αικατερίνη Νικολάου,district-1`,
			`<script>alert(1)</script>,district-2`}, "\n"),
			[]Voter{{"Smith & Sons <Ltd>", "district-1", 1}, {`O'Neill, "Paddy" \ Jr.`, "district-2", 1}, {"王秀英", "district-1", 1},
				{"محمد الحسن", "district-2", 1}, {"Αικατερίνη Νικολάου", "district-1", 1}, {"<script>alert(1)</script>", "district-2", 1}}},
		{"label of 200 bytes", nil, 1, "voter,style\n" + strings.Repeat("é", 100) + ",district-1\n",
			[]Voter{{strings.Repeat("é", 100), "district-1", 1}}},
		{"one style, empty style", []string{"all"}, 2, "voter,style,weight\nA,,3\nB,all,1\n", []Voter{{"A", "all", 3}, {"B", "all", 1}}},
		{"one style, no style column", []string{"assembly"}, 2, "voter,weight\nA,250\nB,1\n", []Voter{{"A", "assembly", 250}, {"B", "assembly", 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			styles := c.styles
			if styles == nil {
				styles = twoStyles
			}
			a, probs := readList(t, styles, c.roll, c.in)
			if probs != nil {
				t.Fatalf("problems:\n%s", strings.Join(probs, "\n"))
			}
			if !slices.Equal(a.Voters, c.want) {
				t.Errorf("voters = %+v\nwant %+v", a.Voters, c.want)
			}
			var total uint64
			weighted := false
			for _, v := range c.want {
				total += v.Weight
				weighted = weighted || v.Weight != 1
			}
			if a.TotalWeight != total || a.Weighted != weighted {
				t.Errorf("total %d weighted %v, want %d %v", a.TotalWeight, a.Weighted, total, weighted)
			}
		})
	}
}

func TestVoterListProblems(t *testing.T) {
	const h = "voter,style,weight\n"
	cases := []struct {
		name   string
		styles []string // twoStyles if nil
		roll   int
		in     string
		want   []string
	}{
		{"weight 0", nil, 1, h + "A,district-1,0\n", []string{`v.csv:2:14: weight "0" must be at least 1`}},
		{"weight 000", nil, 1, h + "A,district-1,000\n", []string{`v.csv:2:14: weight "000" must be at least 1`}},
		{"negative weight", nil, 1, h + "A,district-1,-3\n", []string{`v.csv:2:14: weight "-3" is negative; a weight is a whole number from 1 to 1099511627776`}},
		{"signed weight", nil, 1, h + "A,district-1,+3\n", []string{`v.csv:2:14: weight "+3" has a sign; write the digits alone`}},
		{"leading zero", nil, 1, h + "A,district-1,007\n", []string{`v.csv:2:14: weight "007" has a leading zero; write 7`}},
		{"spaces", nil, 1, h + "A,district-1, 3\n", []string{`v.csv:2:14: weight " 3" holds a space; write the digits alone`}},
		{"fraction", nil, 1, h + "A,district-1,1.5\n", []string{`v.csv:2:14: weight "1.5" is not a whole number in plain decimal digits`}},
		{"exponent", nil, 1, h + "A,district-1,1e3\n", []string{`v.csv:2:14: weight "1e3" is not a whole number in plain decimal digits`}},
		{"other digits", nil, 1, h + "A,district-1,١٢\n", []string{`v.csv:2:14: weight "١٢" is not a whole number in plain decimal digits`}},
		{"empty weight", nil, 1, h + "A,district-1,\n", []string{`v.csv:2:14: weight is empty; write a whole number from 1 to 1099511627776`}},
		{"weight over the limit", nil, 1, h + "A,district-1,1099511627777\n", []string{
			`v.csv:2:14: weight "1099511627777" is larger than the limit 1099511627776 (2^40, credential.MaxTotalWeight)`}},
		{"huge weight", nil, 1, h + "A,district-1,99999999999999999999999999\n", []string{
			`v.csv:2:14: weight "99999999999999999999999999" is larger than the limit 1099511627776 (2^40, credential.MaxTotalWeight)`}},
		{"total over the limit", nil, 4, h + "A,district-1,1099511627776\nB,district-1,1\nC,district-2,1099511627776\nD,district-2,5\n", []string{
			`v.csv:3:14: the weights add up to 2199023255558, more than the limit 1099511627776 (2^40, credential.MaxTotalWeight); the total passes the limit at this voter`}},
		{"unknown style", nil, 2, h + "A,distrct-1,1\nB,north,1\n", []string{
			`v.csv:2:3: unknown ballot style "distrct-1" (did you mean "district-1"?); the election's ballot styles are district-1, district-2`,
			`v.csv:3:3: unknown ballot style "north"; the election's ballot styles are district-1, district-2`}},
		{"unknown style, one style", []string{"all"}, 1, h + "A,al,1\n", []string{
			`v.csv:2:3: unknown ballot style "al" (did you mean "all"?); the election has one ballot style, "all"`}},
		{"style case", nil, 1, h + "A,District-1,1\n", []string{
			`v.csv:2:3: unknown ballot style "District-1" (did you mean "district-1"?); the election's ballot styles are district-1, district-2`}},
		{"empty style", nil, 1, h + "A,,1\n", []string{`v.csv:2:3: style is empty; the election's ballot styles are district-1, district-2`}},
		{"duplicate label", nil, 3, h + "A,district-1,1\nB,district-1,1\n\"A\",district-2,1\n", []string{`v.csv:4:1: voter "A" appears twice (first at line 2)`}},
		{"empty label", nil, 1, h + ",district-1,1\n", []string{`v.csv:2:1: voter label is empty`}},
		{"long label", nil, 1, h + strings.Repeat("x", 201) + ",district-1,1\n", []string{`v.csv:2:1: voter label is 201 bytes long; the limit is 200`}},
		{"tab in label", nil, 1, h + "A\tB,district-1,1\n", []string{`v.csv:2:1: voter label holds the control character U+0009`}},
		{"NUL in label", nil, 1, h + "A\x00B,district-1,1\n", []string{`v.csv:2:1: voter label holds the control character U+0000`}},
		{"CR in label", nil, 1, h + "A\rB,district-1,1\n", []string{`v.csv:2:1: voter label holds the control character U+000D`}},
		{"NUL bytes", nil, 1, h + "\x00\x00\x00\n", []string{`v.csv:2:1: line has 1 fields, but the header has 3`}},
		{"too few fields", nil, 2, h + "A,district-1\nB,district-1,1,\n", []string{
			`v.csv:2:1: line has 2 fields, but the header has 3`,
			`v.csv:3:1: line has 4 fields, but the header has 3`}},
		{"invalid UTF-8", nil, 1, h + "Ren\xe9,district-1,1\n", []string{`v.csv:2:4: line is not valid UTF-8 (byte 0xe9 at column 4); save the list as UTF-8`}},
		{"invalid UTF-8 header", nil, 1, "voter,style\xff\n", []string{`v.csv:1:12: line is not valid UTF-8 (byte 0xff at column 12); save the list as UTF-8`}},
		{"UTF-16", nil, 1, "\xff\xfev\x00o\x00t\x00e\x00r\x00\n\x00", []string{
			`v.csv:1:1: the voter list is in UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8`}},
		{"unclosed quote", nil, 1, h + "\"A,district-1,1\n", []string{
			`v.csv:2:1: quoted field is not closed: a field that starts with a quote (") ends with one`}},
		{"text after quote", nil, 1, h + "\"A\"B,district-1,1\n", []string{
			`v.csv:2:4: unexpected text after the closing quote of a field; a quote inside a quoted field is written twice ("")`}},
		{"bare quote", nil, 1, h + "A \"B\",district-1,1\n", []string{
			`v.csv:2:3: a quote (") inside a field that does not start with one; quote the whole field and write the quote twice ("")`}},
		{"empty file", nil, 1, "", []string{`v.csv:1:1: the voter list is empty: it needs a header line (voter,style,weight) and one line per voter`}},
		{"BOM only", nil, 1, "\uFEFF", []string{`v.csv:1:1: the voter list is empty: it needs a header line (voter,style,weight) and one line per voter`}},
		{"blank lines only", nil, 1, "\n\r\n\n", []string{`v.csv:1:1: the voter list is empty: it needs a header line (voter,style,weight) and one line per voter`}},
		{"header only", nil, 2, h, []string{`v.csv:2:1: the list has 0 voters, fewer than voters.roll_size 2 in the configuration`}},
		{"missing header", nil, 1, "A,district-1,1\n", []string{
			`v.csv:1:1: the first line must be the header naming the columns, voter,style,weight (or voter,style); this line names none of them`}},
		{"unknown column", nil, 1, "voter,style,wieght\nA,district-1,1\n", []string{
			`v.csv:1:13: unknown column "wieght" (did you mean "weight"?); the columns are voter, style and weight`}},
		{"capitals", nil, 1, "Voter,Style,Weight\nA,district-1,1\n", []string{
			`v.csv:1:1: unknown column "Voter" (did you mean "voter"?); the columns are voter, style and weight`,
			`v.csv:1:7: unknown column "Style" (did you mean "style"?); the columns are voter, style and weight`,
			`v.csv:1:13: unknown column "Weight" (did you mean "weight"?); the columns are voter, style and weight`}},
		{"misspelt and missing", nil, 1, "votr,weight\nA,1\n", []string{
			`v.csv:1:1: unknown column "votr" (did you mean "voter"?); the columns are voter, style and weight`,
			`v.csv:1:1: the header has no "style" column, but the election's ballot styles are district-1, district-2`}},
		{"column twice", nil, 1, "voter,style,voter\n", []string{`v.csv:1:13: column "voter" appears twice in the header (first at column 1)`}},
		{"no voter column", nil, 1, "style,weight\n", []string{`v.csv:1:1: the header has no "voter" column`}},
		{"no style column", nil, 1, "voter,weight\nA,1\n", []string{
			`v.csv:1:1: the header has no "style" column, but the election's ballot styles are district-1, district-2`}},
		{"fewer voters", nil, 3, h + "A,district-1,1\nB,district-2,1\n", []string{`v.csv:4:1: the list has 2 voters, fewer than voters.roll_size 3 in the configuration`}},
		{"fewer voters, no final line end", nil, 3, h + "A,district-1,1\nB,district-2,1", []string{`v.csv:3:1: the list has 2 voters, fewer than voters.roll_size 3 in the configuration`}},
		{"more voters", nil, 1, h + "A,district-1,1\nB,district-2,1\nC,district-2,1\n", []string{
			`v.csv:3:1: the list has 3 voters, more than voters.roll_size 1 in the configuration; this line is voter 2`}},
		{"line of 4096 bytes", nil, 1, h + strings.Repeat("x", 4096-len(",district-1,1")) + ",district-1,1\n", []string{
			`v.csv:2:1: voter label is 4083 bytes long; the limit is 200`}},
		{"BOM and a line of 4096 bytes", nil, 1, "\uFEFF" + strings.Repeat("x", 4096-len(",style")) + ",style\r\n", []string{
			`v.csv:1:1: unknown column "` + strings.Repeat("x", 64) + `"…; the columns are voter, style and weight`,
			`v.csv:1:1: the header has no "voter" column`}},
		{"line of 4097 bytes", nil, 2, h + strings.Repeat("x", 4097-len(",district-1,1")) + ",district-1,1\r\nB,district-1,1\n", []string{
			`v.csv:2:1: line is longer than 4096 bytes`}},
		{"line of a megabyte", nil, 2, h + strings.Repeat("x", 1<<20) + "\nB,district-1,1\n", []string{
			`v.csv:2:1: line is longer than 4096 bytes`}},
		{"long header", nil, 1, strings.Repeat("voter,", 1000) + "\nA,district-1,1\n", []string{
			`v.csv:1:1: line is longer than 4096 bytes`}},
		{"long style", nil, 1, h + "A," + strings.Repeat("д", 100) + ",1\n", []string{
			`v.csv:2:3: unknown ballot style "` + strings.Repeat("д", 64) + `"…; the election's ballot styles are district-1, district-2`}},
		{"every problem of a line", nil, 2, h + "A,district-1,1\nA,distrct-2,0\n", []string{
			`v.csv:3:1: voter "A" appears twice (first at line 2)`,
			`v.csv:3:3: unknown ballot style "distrct-2" (did you mean "district-2"?); the election's ballot styles are district-1, district-2`,
			`v.csv:3:13: weight "0" must be at least 1`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			styles := c.styles
			if styles == nil {
				styles = twoStyles
			}
			_, got := readList(t, styles, c.roll, c.in)
			if got == nil {
				t.Fatal("the list was accepted")
			}
			if g, w := strings.Join(got, "\n"), strings.Join(c.want, "\n"); g != w {
				t.Errorf("problems:\n got %s\nwant %s", g, w)
			}
		})
	}
}

// TestVoterListCap checks that the problems of a list are reported one by
// one up to MaxListProblems, then counted, and that the count of voters is
// still checked.
func TestVoterListCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("voter,style,weight\n")
	for i := range 250 {
		fmt.Fprintf(&b, "v%d,nowhere,1\n", i)
	}
	_, got := readList(t, twoStyles, 300, b.String())
	if len(got) != MaxListProblems+2 {
		t.Fatalf("%d problem lines, want %d", len(got), MaxListProblems+2)
	}
	for i, line := range got[:MaxListProblems] {
		if want := fmt.Sprintf("v.csv:%d:", i+2); !strings.HasPrefix(line, want) || !strings.Contains(line, `unknown ballot style "nowhere"`) {
			t.Fatalf("problem %d: %s", i, line)
		}
	}
	if want := "v.csv:102:6: 150 more problems in the voter list are not shown"; got[MaxListProblems] != want {
		t.Errorf("got  %s\nwant %s", got[MaxListProblems], want)
	}
	if want := "v.csv:252:1: the list has 250 voters, fewer than voters.roll_size 300 in the configuration"; got[MaxListProblems+1] != want {
		t.Errorf("got  %s\nwant %s", got[MaxListProblems+1], want)
	}
}

func TestVoterListSizeLimit(t *testing.T) {
	in := "voter,style\nA,district-1\nB,district-1\nC,district-1\n"
	_, probs, err := readVoterList("v.csv", strings.NewReader(in), twoStyles, 3, 30)
	if err != nil || probs == nil {
		t.Fatalf("readVoterList = %v, %v", probs, err)
	}
	if got, want := probs.Error(), "v.csv:3:1: the voter list is longer than 30 bytes; the rest is not read"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if a, probs, err := readVoterList("v.csv", strings.NewReader(in), twoStyles, 3, int64(len(in))); err != nil || probs != nil || len(a.Voters) != 3 {
		t.Errorf("a list of exactly the limit: %v, %v", probs, err)
	}
}

// TestVoterListLarge reads a list of 100 000 voters: it must take well under
// a second (duplicates are found with a map, not by comparing every pair).
func TestVoterListLarge(t *testing.T) {
	const n = 100_000
	var b bytes.Buffer
	b.WriteString("voter,style,weight\n")
	for i := range n {
		fmt.Fprintf(&b, "member %06d,%s,%d\n", i, twoStyles[i%2], 1+i%250)
	}
	start := time.Now()
	a, probs, err := readVoterList("v.csv", &b, twoStyles, n, MaxVoterListSize)
	elapsed := time.Since(start)
	if err != nil || probs != nil {
		t.Fatalf("readVoterList: %v %v", probs, err)
	}
	if len(a.Voters) != n || a.Voters[n-1].Label != "member 099999" || a.Voters[n-1].Style != "district-2" {
		t.Fatalf("read %d voters, last %+v", len(a.Voters), a.Voters[len(a.Voters)-1])
	}
	if elapsed > 5*time.Second {
		t.Errorf("reading %d voters took %v", n, elapsed)
	}
	t.Logf("%d voters in %v", n, elapsed)

	// The same list with one duplicate at the end is found, naming the line.
	b.Reset()
	b.WriteString("voter,style\n")
	for i := range n {
		fmt.Fprintf(&b, "member %06d,district-1\n", i)
	}
	b.WriteString("member 000007,district-1\n")
	_, probs, _ = readVoterList("v.csv", &b, twoStyles, n+1, MaxVoterListSize)
	if probs == nil || probs.Error() != `v.csv:100002:1: voter "member 000007" appears twice (first at line 9)` {
		t.Errorf("problems: %v", probs)
	}
}

// votersConfig is minimal with two ballot styles, north and south, and the
// given voters section.
func votersConfig(voters string) string {
	s := strings.Replace(minimal, "trustees:", "styles:\n  - {id: north, contests: [q]}\n  - {id: south, contests: [q]}\ntrustees:", 1)
	i := strings.Index(s, "voters:\n")
	return s[:i] + voters
}

func TestParseVoters(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"counts", votersConfig("voters:\n  roll_size: 10\n  styles: {north: 4, south: 6}\n"), nil},
		{"one style counted", votersConfig("voters:\n  roll_size: 10\n  styles: {south: 10}\n"), nil},
		{"voter list", votersConfig("voters:\n  roll_size: 10\n  voter_list: lists/v.csv\n"), nil},
		{"one style, roll size alone", minimal, nil},
		{"one style, counted", strings.Replace(minimal, "roll_size: 10\n", "roll_size: 10\n  styles: {all: 10}\n", 1), nil},
		{"no assignment", votersConfig("voters:\n  roll_size: 10\n"), []string{
			"f.yaml:24:3: voters: the election has 2 ballot styles; say which voters get which: voters.styles (a count per style) or voters.voter_list (a file)"}},
		{"unknown style", votersConfig("voters:\n  roll_size: 10\n  styles:\n    nroth: 4\n    east: 6\n"), []string{
			`f.yaml:26:5: voters: styles: unknown ballot style "nroth" (did you mean "north"?); the election's ballot styles are north, south`,
			`f.yaml:27:5: voters: styles: unknown ballot style "east"; the election's ballot styles are north, south`}},
		{"unknown style, one style", strings.Replace(minimal, "roll_size: 10\n", "roll_size: 10\n  styles: {north: 10}\n", 1), []string{
			`f.yaml:22:12: voters: styles: unknown ballot style "north"; the election has one ballot style, "all"`}},
		{"count 0", votersConfig("voters:\n  roll_size: 10\n  styles: {north: 0, south: 10}\n"), []string{
			`f.yaml:25:19: voters: styles: style "north" has 0 voters; a count must be at least 1 (leave a style out to give it no voters)`}},
		{"negative count", votersConfig("voters:\n  roll_size: 10\n  styles: {north: -2, south: 12}\n"), []string{
			`f.yaml:25:19: voters: styles: style "north" has -2 voters; a count must be at least 1 (leave a style out to give it no voters)`}},
		{"count as text", votersConfig("voters:\n  roll_size: 10\n  styles: {north: \"4\", south: 6}\n"), []string{
			`f.yaml:25:19: voters: styles: number of voters of style "north" must be a whole number, not "4"`}},
		{"style twice", votersConfig("voters:\n  roll_size: 10\n  styles:\n    north: 4\n    north: 6\n"), []string{
			`f.yaml:27:5: voters: styles: style "north" appears twice (first at line 26)`}},
		{"sum", votersConfig("voters:\n  roll_size: 10\n  styles: {north: 4, south: 5}\n"), []string{
			`f.yaml:25:3: voters: styles: the counts add up to 9 voters, but roll_size is 10`}},
		{"sum with a bad roll size", votersConfig("voters:\n  roll_size: 0\n  styles: {north: 4, south: 5}\n"), []string{
			`f.yaml:24:14: voter roll size 0 must be at least 1`}},
		{"styles list", votersConfig("voters:\n  roll_size: 10\n  styles: [north, south]\n"), []string{
			`f.yaml:25:11: voters: styles must be a mapping from ballot style id to number of voters, such as {district-1: 50000, district-2: 34215}, not a list`}},
		{"styles empty", votersConfig("voters:\n  roll_size: 10\n  styles: {}\n"), []string{
			`f.yaml:25:11: voters: styles is empty; give the number of voters of each ballot style`}},
		{"styles null", votersConfig("voters:\n  roll_size: 10\n  styles:\n"), []string{
			`f.yaml:25:10: voters: styles must be a mapping from ballot style id to number of voters, such as {district-1: 50000, district-2: 34215}, not empty`}},
		{"both", votersConfig("voters:\n  roll_size: 10\n  styles: {north: 4, south: 6}\n  voter_list: v.csv\n"), []string{
			`f.yaml:26:3: voters: give styles (a count per ballot style) or voter_list (a file), not both`}},
		{"empty list name", votersConfig("voters:\n  roll_size: 10\n  voter_list: \"\"\n"), []string{
			`f.yaml:25:15: voters: voter list file name is empty`}},
		{"list name with a NUL", votersConfig("voters:\n  roll_size: 10\n  voter_list: \"v\\0.csv\"\n"), []string{
			`f.yaml:25:15: voters: voter list file name "v\x00.csv" is not a valid file name`}},
		{"list name not text", votersConfig("voters:\n  roll_size: 10\n  voter_list: [a, b]\n"), []string{
			`f.yaml:25:15: voters: voter list file must be text, not a list`}},
		{"credential roll with styles", votersConfig("voters:\n  credential_roll: {file: r.json, sha256: \"" + strings.Repeat("ab", 32) + "\"}\n  styles: {north: 4}\n  voter_list: v.csv\n"), []string{
			`f.yaml:25:3: voters: a credential_roll already gives each credential its ballot style and weight; remove styles`,
			`f.yaml:26:3: voters: a credential_roll already gives each credential its ballot style and weight; remove voter_list`}},
		{"credential roll", votersConfig("voters:\n  credential_roll: {file: r.json, sha256: \"" + strings.Repeat("ab", 32) + "\"}\n"), nil},
		{"typo", votersConfig("voters:\n  roll_size: 10\n  voterlist: v.csv\n"), []string{
			"f.yaml:24:3: voters: the election has 2 ballot styles; say which voters get which: voters.styles (a count per style) or voters.voter_list (a file)",
			`f.yaml:25:3: voters: unknown key "voterlist" (did you mean "voter_list"?); allowed keys are roll_size, styles, voter_list, credential_roll`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(c.in))
			if c.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Parse accepted the file")
			}
			if got, want := err.Error(), strings.Join(c.want, "\n"); got != want {
				t.Errorf("problems:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// writeElection writes a configuration with the given voters section, and
// the files of files (name → content), into a new folder, and returns the
// configuration's path.
func writeElection(t *testing.T, config string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "election.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadAssignment(t *testing.T) {
	t.Run("counts", func(t *testing.T) {
		path := writeElection(t, votersConfig("voters:\n  roll_size: 5\n  styles: {south: 3, north: 2}\n"), nil)
		m, a, err := LoadAssignment(path)
		if err != nil {
			t.Fatal(err)
		}
		want := []Voter{{"", "north", 1}, {"", "north", 1}, {"", "south", 1}, {"", "south", 1}, {"", "south", 1}}
		if m.ElectionID != "tiny" || !slices.Equal(a.Voters, want) || a.TotalWeight != 5 || a.Weighted || a.ListFile != "" {
			t.Errorf("assignment = %+v", a)
		}
	})
	t.Run("one style", func(t *testing.T) {
		path := writeElection(t, minimal, nil)
		_, a, err := LoadAssignment(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Voters) != 10 || a.Voters[9] != (Voter{"", "all", 1}) || a.TotalWeight != 10 || a.Weighted {
			t.Errorf("assignment = %+v", a)
		}
	})
	t.Run("credential roll", func(t *testing.T) {
		path := writeElection(t, votersConfig("voters:\n  credential_roll: {file: r.json, sha256: \""+strings.Repeat("ab", 32)+"\"}\n"), nil)
		m, a, err := LoadAssignment(path)
		if err != nil || m == nil || a != nil {
			t.Errorf("LoadAssignment = %v, %+v, %v; want the manifest and no assignment", m, a, err)
		}
	})
	t.Run("voter list", func(t *testing.T) {
		path := writeElection(t, votersConfig("voters:\n  roll_size: 3\n  voter_list: lists/v.csv\n"), map[string]string{
			"lists/v.csv": "voter,style,weight\nM-1 Zoë,south,12\nM-2 O'Hara & Co,north,1\nM-3 李,south,250\n",
		})
		_, a, err := LoadAssignment(path)
		if err != nil {
			t.Fatal(err)
		}
		want := []Voter{{"M-1 Zoë", "south", 12}, {"M-2 O'Hara & Co", "north", 1}, {"M-3 李", "south", 250}}
		if !slices.Equal(a.Voters, want) || a.TotalWeight != 263 || !a.Weighted || a.ListFile != filepath.Join(filepath.Dir(path), "lists", "v.csv") {
			t.Errorf("assignment = %+v", a)
		}
	})
	t.Run("absolute path", func(t *testing.T) {
		list := filepath.Join(t.TempDir(), "v.csv")
		if err := os.WriteFile(list, []byte("voter,style\nA,north\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		path := writeElection(t, votersConfig(fmt.Sprintf("voters:\n  roll_size: 1\n  voter_list: %q\n", list)), nil)
		if _, a, err := LoadAssignment(path); err != nil || a.ListFile != list {
			t.Errorf("LoadAssignment = %+v, %v", a, err)
		}
	})
	t.Run("problems of the list", func(t *testing.T) {
		path := writeElection(t, votersConfig("voters:\n  roll_size: 2\n  voter_list: v.csv\n"), map[string]string{
			"v.csv": "voter,style,weight\nA,north,0\nB,est,1\n",
		})
		_, a, err := LoadAssignment(path)
		var probs *Problems
		if !errors.As(err, &probs) || a != nil {
			t.Fatalf("LoadAssignment = %+v, %v", a, err)
		}
		list := filepath.Join(filepath.Dir(path), "v.csv")
		want := list + `:2:9: weight "0" must be at least 1` + "\n" +
			list + `:3:3: unknown ballot style "est"; the election's ballot styles are north, south`
		if err.Error() != want {
			t.Errorf("problems:\n got %s\nwant %s", err, want)
		}
	})
	t.Run("problems of the configuration", func(t *testing.T) {
		path := writeElection(t, votersConfig("voters:\n  roll_size: 2\n"), nil)
		_, _, err := LoadAssignment(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+":24:3: voters: the election has 2 ballot styles") {
			t.Errorf("LoadAssignment: %v", err)
		}
		if _, _, err := LoadAssignment(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.HasPrefix(err.Error(), "config: ") {
			t.Errorf("LoadAssignment of a missing file: %v", err)
		}
	})
	t.Run("missing list", func(t *testing.T) {
		path := writeElection(t, votersConfig("voters:\n  roll_size: 2\n  voter_list: nowhere.csv\n"), nil)
		_, _, err := LoadAssignment(path)
		want := fmt.Sprintf("%s:25:15: voters: voter list %s: no such file", path, filepath.Join(filepath.Dir(path), "nowhere.csv"))
		if err == nil || err.Error() != want {
			t.Errorf("LoadAssignment:\n got %v\nwant %s", err, want)
		}
	})
}

// TestVoterListFiles checks the files a voter list may not be: each is
// refused, at once, with what it is.
func TestVoterListFiles(t *testing.T) {
	dir := t.TempDir()
	good := "voter,style\nA,north\n"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "good.csv"), []byte(good), 0o644))
	must(os.Symlink("good.csv", filepath.Join(dir, "link.csv")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo.csv"), 0o644))
	must(os.Symlink("fifo.csv", filepath.Join(dir, "link-to-fifo.csv")))
	must(os.Mkdir(filepath.Join(dir, "folder.csv"), 0o755))
	must(os.Symlink("loop.csv", filepath.Join(dir, "loop.csv")))
	f, err := os.Create(filepath.Join(dir, "huge.csv"))
	must(err)
	must(f.Truncate(MaxVoterListSize + 1)) // sparse: no disk space used
	must(f.Close())

	cases := []struct{ list, want string }{
		{"good.csv", ""},
		{"link.csv", ""}, // a symbolic link to a regular file is fine
		{"fifo.csv", "is a named pipe (FIFO), not a regular file"},
		{"link-to-fifo.csv", "is a named pipe (FIFO), not a regular file"},
		{"folder.csv", "is a directory, not a regular file"},
		{"loop.csv", "stat: too many levels of symbolic links"},
		{"huge.csv", "is 1073741825 bytes, larger than the limit of 1073741824 bytes (1 GiB)"},
		{"/dev/null", "is a character device, not a regular file"},
	}
	for _, c := range cases {
		t.Run(c.list, func(t *testing.T) {
			if c.list == "/dev/null" {
				if _, err := os.Stat(c.list); err != nil {
					t.Skip(err)
				}
			}
			path := filepath.Join(dir, "election.yaml")
			must(os.WriteFile(path, []byte(votersConfig(fmt.Sprintf("voters:\n  roll_size: 1\n  voter_list: %q\n", c.list))), 0o644))
			type result struct {
				a   *Assignment
				err error
			}
			done := make(chan result, 1)
			go func() {
				_, a, err := LoadAssignment(path)
				done <- result{a, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("LoadAssignment of %s did not return: it blocks", c.list)
			}
			if c.want == "" {
				if r.err != nil || len(r.a.Voters) != 1 {
					t.Errorf("LoadAssignment = %+v, %v", r.a, r.err)
				}
				return
			}
			name := c.list
			if !filepath.IsAbs(name) {
				name = filepath.Join(dir, name)
			}
			want := fmt.Sprintf("%s:25:15: voters: voter list %s: %s", path, name, c.want)
			if r.err == nil || r.err.Error() != want {
				t.Errorf("LoadAssignment:\n got %v\nwant %s", r.err, want)
			}
		})
	}
}

// FuzzVoterList checks that no list makes the reader panic, that problems
// come with positions, and that whatever it accepts keeps the rules: the
// roll's size, known styles, weights in range, unique labels.
func FuzzVoterList(f *testing.F) {
	f.Add([]byte("voter,style,weight\nA,district-1,3\nB,district-2,1\n"), false)
	f.Add([]byte("\uFEFFvoter,style\r\n\"A, \"\"B\"\"\",district-1\r\nB,,\r\n"), false)
	f.Add([]byte("voter,weight\nA,250\nB,1099511627776\n"), true)
	f.Add([]byte("voter,style,weight\nA,all,0\nA,al,-1\n\"x\ny\",,1\n"), true)
	for _, dir := range []string{"election-configs/voter-lists", "election-configs/broken/voter-lists"} {
		paths, _ := filepath.Glob(filepath.Join(repoRoot, dir, "*.csv"))
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data, false)
				f.Add(data, true)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, oneStyle bool) {
		styles := twoStyles
		if oneStyle {
			styles = []string{"all"}
		}
		const roll = 2
		a, probs, err := readVoterList("v.csv", bytes.NewReader(data), styles, roll, 1<<20)
		if err != nil {
			t.Fatalf("error reading from memory: %v", err)
		}
		if probs != nil {
			if a != nil || len(probs.List) == 0 || len(probs.List) > MaxListProblems+3 {
				t.Fatalf("assignment %v with %d problems", a, len(probs.List))
			}
			for _, p := range probs.List {
				if p.File != "v.csv" || p.Line < 1 || p.Col < 1 || p.Msg == "" {
					t.Fatalf("problem without a position: %+v", p)
				}
			}
			return
		}
		if len(a.Voters) != roll {
			t.Fatalf("%d voters, want %d", len(a.Voters), roll)
		}
		var total uint64
		weighted := false
		seen := map[string]bool{}
		for _, v := range a.Voters {
			if !slices.Contains(styles, v.Style) || v.Weight < 1 || v.Weight > credential.MaxTotalWeight ||
				v.Label == "" || len(v.Label) > MaxVoterLabel || seen[v.Label] || strings.ContainsFunc(v.Label, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("bad voter %+v", v)
			}
			seen[v.Label] = true
			total += v.Weight
			weighted = weighted || v.Weight != 1
		}
		if total != a.TotalWeight || total > credential.MaxTotalWeight || weighted != a.Weighted {
			t.Fatalf("total %d weighted %v, assignment says %d %v", total, weighted, a.TotalWeight, a.Weighted)
		}
	})
}
