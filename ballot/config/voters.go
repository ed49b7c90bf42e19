package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/internal/filekind"
	"gopkg.in/yaml.v3"
)

// Limits of a voter list file (voters.voter_list).
const (
	// MaxVoterListSize is the largest voter list, in bytes (1 GiB).
	MaxVoterListSize = 1 << 30
	// MaxVoterListLine is the longest line of a voter list, in bytes,
	// without its line end.
	MaxVoterListLine = 4096
	// MaxVoterLabel is the longest voter label, in bytes of UTF-8.
	MaxVoterLabel = 200
	// MaxListProblems is the number of problems of a voter list reported
	// one by one; one more line says how many more there are.
	MaxListProblems = 100
)

// Voter is one credential to make: the official's label for its voter ("" for
// counts per style), its ballot style and its weight.
type Voter struct {
	Label  string
	Style  string
	Weight uint64
}

// Assignment is who gets which ballot style and weight.
type Assignment struct {
	// Voters are roll_size of them: the voter list's order, or each style's
	// count in manifest style order.
	Voters      []Voter
	TotalWeight uint64
	Weighted    bool   // some weight is not 1
	ListFile    string // the voter list's path as opened, "" without one
}

// votersSpec is what the voters section says about the assignment of ballot
// styles, for LoadAssignment.
type votersSpec struct {
	// counts is voters.styles in the manifest's style order (styles left out
	// are absent); nil without voters.styles.
	counts []styleCount
	// listPath is voters.voter_list as written, "" without one, and
	// listLine, listCol its position in the configuration.
	listPath          string
	listLine, listCol int
}

type styleCount struct {
	style string
	count int
}

// LoadAssignment reads the configuration at path and, if it names one, its
// voter list, and returns the manifest and the assignment. For a
// configuration with a credential_roll the assignment is nil: the roll has
// it. Problems of the configuration are a *Problems error naming path as
// given; problems of the voter list are a *Problems error naming the list as
// opened (Assignment.ListFile: voter_list relative to path's folder).
//
// The voter list is the official's file but is read as hostile input: only
// a regular file (or a symbolic link to one) is opened, without blocking on
// a named pipe; at most MaxVoterListSize bytes are read, a line at a time,
// and a line longer than MaxVoterListLine is skipped. The assignment holds
// roll_size voters in memory (about 40 bytes each, plus their labels).
func LoadAssignment(path string) (*ballot.Manifest, *Assignment, error) {
	m, spec, _, err := loadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if m.Voters.CredentialRoll != nil {
		return m, nil, nil
	}
	styles := styleIDs(m)
	if spec.listPath != "" {
		a, err := loadVoterList(path, spec, styles, m.Voters.RollSize)
		if err != nil {
			return nil, nil, err
		}
		return m, a, nil
	}
	counts := spec.counts
	if counts == nil {
		// Parse accepts roll_size alone only for a one-style election.
		counts = []styleCount{{styles[0], m.Voters.RollSize}}
	}
	a := &Assignment{Voters: make([]Voter, 0, m.Voters.RollSize), TotalWeight: uint64(m.Voters.RollSize)}
	for _, c := range counts {
		for range c.count {
			a.Voters = append(a.Voters, Voter{Style: c.style, Weight: 1})
		}
	}
	return m, a, nil
}

// styleIDs lists the manifest's ballot style ids in order, each once (a
// duplicate id is Validate's problem).
func styleIDs(m *ballot.Manifest) []string {
	var ids []string
	for _, s := range m.BallotStyles() {
		if !slices.Contains(ids, s.ID) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// styleChoice names the election's ballot styles for messages, at most ten.
func styleChoice(ids []string) string {
	if len(ids) == 1 {
		return fmt.Sprintf("the election has one ballot style, %q", ids[0])
	}
	const shown = 10
	if len(ids) > shown {
		return fmt.Sprintf("the election's ballot styles are %s, … (%d more)", strings.Join(ids[:shown], ", "), len(ids)-shown)
	}
	return "the election's ballot styles are " + strings.Join(ids, ", ")
}

// suggestStyle returns ` (did you mean "x"?)` for the one ballot style id
// closest to a misspelt one, or "" when none is close or two are as close
// (district-3 is as close to district-1 as to district-2).
func suggestStyle(id string, ids []string) string {
	best, bestDist, ties := "", 3, 0
	for _, s := range ids {
		switch dist := editDistance(strings.ToLower(id), s); {
		case dist < bestDist:
			best, bestDist, ties = s, dist, 0
		case dist == bestDist:
			ties++
		}
	}
	if best == "" || ties > 0 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// assignment checks voters.styles and voters.voter_list (f holds the voters
// section's values, n is its node) and records them in d.spec.
func (d *decoder) assignment(n *yaml.Node, f map[string]*yaml.Node, m *ballot.Manifest, rollSize int, hasRoll bool) {
	sn, hasStyles := f["styles"]
	ln, hasList := f["voter_list"]
	if hasRoll {
		for _, k := range []string{"styles", "voter_list"} {
			if _, ok := f[k]; ok {
				d.errorf(keyNode(n, k), "voters: a credential_roll already gives each credential its ballot style and weight; remove %s", k)
			}
		}
		return
	}
	ids := styleIDs(m)
	// The election's styles are known unless the styles section could not
	// be read; Validate reports duplicate and malformed style ids.
	stylesRead := !d.badUnder("styles")
	switch {
	case hasStyles && hasList:
		d.errorf(keyNode(n, "voter_list"), "voters: give styles (a count per ballot style) or voter_list (a file), not both")
	case !hasStyles && !hasList && len(ids) > 1 && stylesRead:
		d.errorf(n, "voters: the election has %d ballot styles; say which voters get which: voters.styles (a count per style) or voters.voter_list (a file)", len(ids))
		d.bad["voters"] = true
	}
	if hasStyles {
		checkSum := rollSize >= 1 && !d.isBad("voters.roll_size")
		d.spec.counts = d.styleCounts(keyNode(n, "styles"), sn, ids, stylesRead, rollSize, checkSum)
	}
	if hasList {
		s := d.str(ln, "voters.voter_list", "voters: voter list file")
		switch {
		case d.bad["voters.voter_list"]:
		case s == "":
			d.errorf(ln, "voters: voter list file name is empty")
		case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
			d.errorf(ln, "voters: voter list file name %q is not a valid file name", s)
		default:
			d.spec.listPath, d.spec.listLine, d.spec.listCol = s, ln.Line, ln.Column
		}
	}
}

// badUnder reports whether prefix or a path under it is bad.
func (d *decoder) badUnder(prefix string) bool {
	for p := range d.bad {
		if p == prefix || strings.HasPrefix(p, prefix+".") || strings.HasPrefix(p, prefix+"[") {
			return true
		}
	}
	return false
}

// styleCounts reads voters.styles (key is its key node, n its value), a
// mapping from ballot style id to number of voters, and returns the counts
// in the order of ids. checkSum asks that they add up to rollSize.
func (d *decoder) styleCounts(key, n *yaml.Node, ids []string, checkKnown bool, rollSize int, checkSum bool) []styleCount {
	const path = "voters.styles"
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "voters: styles must be a mapping from ballot style id to number of voters, such as {district-1: 50000, district-2: 34215}, not %s", describe(n))
		d.bad[path] = true
		return nil
	}
	if len(n.Content) == 0 {
		d.errorf(n, "voters: styles is empty; give the number of voters of each ballot style")
		d.bad[path] = true
		return nil
	}
	counts := map[string]int{}
	lines := map[string]int{}
	sum, ok := 0, true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "voters: styles: a key must be a ballot style id, not %s", describe(k))
			ok = false
			continue
		}
		id := k.Value
		if first, dup := lines[id]; dup {
			d.errorf(k, "voters: styles: style %q appears twice (first at line %d)", id, first)
			ok = false
			continue
		}
		lines[id] = k.Line
		if checkKnown && !slices.Contains(ids, id) {
			d.errorf(k, "voters: styles: unknown ballot style %q%s; %s", id, suggestStyle(id, ids), styleChoice(ids))
			ok = false
		}
		vp := path + "." + id
		c := d.integer(v, vp, fmt.Sprintf("voters: styles: number of voters of style %q", id))
		switch {
		case d.bad[vp]:
			ok = false
		case c < 1:
			d.errorf(v, "voters: styles: style %q has %d voters; a count must be at least 1 (leave a style out to give it no voters)", id, c)
			ok = false
		default:
			counts[id] = c
			sum += c
		}
	}
	if !ok {
		d.bad[path] = true
		return nil
	}
	if checkSum && sum != rollSize {
		d.errorf(key, "voters: styles: the counts add up to %d voters, but roll_size is %d", sum, rollSize)
		d.bad[path] = true
		return nil
	}
	var out []styleCount
	for _, id := range ids {
		if c, ok := counts[id]; ok {
			out = append(out, styleCount{id, c})
		}
	}
	return out
}

// loadVoterList opens and reads the voter list that the configuration at
// configPath names. Problems of opening it are placed at voters.voter_list in
// the configuration; problems of its content in the list.
func loadVoterList(configPath string, spec *votersSpec, styles []string, rollSize int) (*Assignment, error) {
	name := filepath.FromSlash(spec.listPath)
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(configPath), name)
	}
	fail := func(format string, args ...any) error {
		msg := fmt.Sprintf("voters: voter list %s: ", name) + fmt.Sprintf(format, args...)
		return &Problems{List: []Problem{{File: configPath, Line: spec.listLine, Col: spec.listCol, Msg: msg}}}
	}
	// Stat first, so that a named pipe or a device is refused before it is
	// opened; O_NONBLOCK keeps the open from blocking if one is swapped in
	// after the check, and the opened file is checked again.
	fi, err := os.Stat(name)
	if err != nil {
		return nil, fail("%s", pathErrorText(err))
	}
	if kind := fileKind(fi.Mode()); kind != "" {
		return nil, fail("is %s, not a regular file", kind)
	}
	if fi.Size() > MaxVoterListSize {
		return nil, fail("is %d bytes, larger than the limit of %d bytes (1 GiB)", fi.Size(), MaxVoterListSize)
	}
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fail("%s", pathErrorText(err))
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, fail("%s", pathErrorText(err))
	}
	if kind := fileKind(fi.Mode()); kind != "" {
		return nil, fail("is %s, not a regular file", kind)
	}
	a, probs, err := readVoterList(name, f, styles, rollSize, MaxVoterListSize)
	if err != nil {
		return nil, fail("%s", pathErrorText(err))
	}
	if probs != nil {
		return nil, probs
	}
	a.ListFile = name
	return a, nil
}

// pathErrorText is err without the path that the messages already name.
func pathErrorText(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// fileKind names what a file that is not a regular file is, or "" for a
// regular file.
func fileKind(m fs.FileMode) string {
	if m.IsRegular() {
		return ""
	}
	if name, ok := filekind.Of(m); ok {
		return name
	}
	return "a special file"
}

// The columns of a voter list.
const (
	colVoter = iota
	colStyle
	colWeight
	numColumns
)

var columnNames = [numColumns]string{"voter", "style", "weight"}

// listReader reads one voter list.
type listReader struct {
	file     string
	styles   []string          // the election's ballot style ids, in manifest order
	styleOf  map[string]string // style id → the same id, interned
	rollSize int

	probs []Problem
	// more counts the problems beyond MaxListProblems; moreLine and moreCol
	// are the first one's position.
	more              int
	moreLine, moreCol int

	header bool // the header line has been read
	// index is the position of each column in a line, -1 when absent; width
	// is the number of fields of every line.
	index [numColumns]int
	width int

	labels  map[string]int // voter label → its line
	a       Assignment
	records int // voter lines, read or not
	// totalHi:a.TotalWeight is the 128-bit sum of the weights read.
	totalHi uint64
	// overLine, overCol place the weight where the total first exceeds
	// credential.MaxTotalWeight; extraLine is the line of voter roll_size+1.
	overLine, overCol int
	extraLine         int
	// badWeights counts the weights that could not be read.
	badWeights int

	// buf holds the unquoted text of a line's fields, fields their bounds.
	buf    []byte
	fields []field
}

type field struct {
	start, end int // in listReader.buf
	col        int // 1-based byte column of the field's first byte in the line
}

func (r *listReader) full() bool { return len(r.probs) >= MaxListProblems }

// add records a problem at line and col, or only counts it beyond
// MaxListProblems.
func (r *listReader) add(line, col int, format string, args ...any) {
	if r.full() {
		if r.more == 0 {
			r.moreLine, r.moreCol = line, col
		}
		r.more++
		return
	}
	r.probs = append(r.probs, Problem{File: r.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// readVoterList reads a voter list from in (file names it in problems),
// at most maxSize bytes of it. It returns the assignment, or the list's
// problems, or an error of reading in.
func readVoterList(file string, in io.Reader, styles []string, rollSize int, maxSize int64) (*Assignment, *Problems, error) {
	r := &listReader{file: file, styles: styles, styleOf: map[string]string{}, rollSize: rollSize}
	for _, id := range styles {
		r.styleOf[id] = id
	}
	// Preallocate for the roll, but not blindly: the size is the
	// configuration's word, the list may be much shorter.
	r.labels = make(map[string]int, min(rollSize, 1<<16))
	r.a.Voters = make([]Voter, 0, min(rollSize, 1<<16))

	// Room for the longest line with a BOM before it and CRLF after it; a
	// longer one fills the buffer and is skipped, never held.
	br := bufio.NewReaderSize(io.LimitReader(in, maxSize+1), MaxVoterListLine+len("\uFEFF\r\n"))
	var read int64
	line, endLine := 0, 1
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) == 0 && err == io.EOF {
			break
		}
		line++
		read += int64(len(chunk))
		if err == bufio.ErrBufferFull {
			r.add(line, 1, "line is longer than %d bytes", MaxVoterListLine)
			for err == bufio.ErrBufferFull {
				chunk, err = br.ReadSlice('\n')
				read += int64(len(chunk))
			}
			if err != nil && err != io.EOF {
				return nil, nil, err
			}
			if read > maxSize {
				r.add(line, 1, "the voter list is longer than %d bytes; the rest is not read", maxSize)
				return nil, r.problems(), nil
			}
			if !r.header {
				return nil, r.problems(), nil // no columns to read the rest by
			}
			r.countRecord(line)
		} else {
			if err != nil && err != io.EOF {
				return nil, nil, err
			}
			if read > maxSize {
				r.add(line, 1, "the voter list is longer than %d bytes; the rest is not read", maxSize)
				return nil, r.problems(), nil
			}
			text := bytes.TrimSuffix(bytes.TrimSuffix(chunk, []byte{'\n'}), []byte{'\r'})
			if line == 1 {
				if bytes.HasPrefix(text, []byte{0xFF, 0xFE}) || bytes.HasPrefix(text, []byte{0xFE, 0xFF}) {
					r.add(1, 1, "the voter list is in UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8")
					return nil, r.problems(), nil
				}
				text = bytes.TrimPrefix(text, []byte("\uFEFF"))
			}
			if !r.line(line, text) {
				return nil, r.problems(), nil
			}
		}
		if err == io.EOF {
			endLine = line
			break
		}
		endLine = line + 1
	}
	if !r.header {
		r.add(1, 1, "the voter list is empty: it needs a header line (voter,style,weight) and one line per voter")
		return nil, r.problems(), nil
	}
	r.summary(endLine)
	if len(r.probs) > 0 || r.more > 0 {
		return nil, r.problems(), nil
	}
	return &r.a, nil, nil
}

// countRecord counts a voter line at line.
func (r *listReader) countRecord(line int) {
	r.records++
	if r.records == r.rollSize+1 {
		r.extraLine = line
	}
}

// summary adds the problems of the whole list: its number of voters and
// total weight. endLine is the line at the end of the file.
func (r *listReader) summary(endLine int) {
	if r.overLine > 0 {
		total := new(big.Int).Lsh(new(big.Int).SetUint64(r.totalHi), 64)
		total.Add(total, new(big.Int).SetUint64(r.a.TotalWeight))
		also := ""
		if r.badWeights > 0 {
			also = " without the weights that could not be read"
		}
		r.probs = append(r.probs, Problem{File: r.file, Line: r.overLine, Col: r.overCol, Msg: fmt.Sprintf(
			"the weights add up to %s%s, more than the limit %d (2^40, credential.MaxTotalWeight); the total passes the limit at this voter",
			total, also, uint64(credential.MaxTotalWeight))})
	}
	switch {
	case r.records > r.rollSize:
		r.probs = append(r.probs, Problem{File: r.file, Line: r.extraLine, Col: 1, Msg: fmt.Sprintf(
			"the list has %d voters, more than voters.roll_size %d in the configuration; this line is voter %d", r.records, r.rollSize, r.rollSize+1)})
	case r.records < r.rollSize:
		r.probs = append(r.probs, Problem{File: r.file, Line: endLine, Col: 1, Msg: fmt.Sprintf(
			"the list has %d voters, fewer than voters.roll_size %d in the configuration", r.records, r.rollSize)})
	}
}

// problems returns the problems found, sorted by position, with a last line
// for those beyond MaxListProblems.
func (r *listReader) problems() *Problems {
	list := r.probs
	if r.more > 0 {
		list = append(list, Problem{File: r.file, Line: r.moreLine, Col: r.moreCol, Msg: fmt.Sprintf(
			"%d more problems in the voter list are not shown", r.more)})
	}
	slices.SortStableFunc(list, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return &Problems{List: list}
}

// line reads one line (without its line end). It returns false when the
// rest of the list cannot be read (a bad header).
func (r *listReader) line(line int, text []byte) bool {
	if len(text) > MaxVoterListLine {
		r.add(line, 1, "line is longer than %d bytes", MaxVoterListLine)
		if !r.header {
			return false
		}
		r.countRecord(line)
		return true
	}
	if len(text) == 0 {
		return true // blank lines are skipped
	}
	if r.header {
		r.countRecord(line)
	}
	if i := invalidUTF8(text); i >= 0 {
		r.add(line, i+1, "line is not valid UTF-8 (byte 0x%02x at column %d); save the list as UTF-8", text[i], i+1)
		return r.header
	}
	if !r.split(line, text) {
		return r.header
	}
	if !r.header {
		return r.readHeader(line)
	}
	r.voter(line)
	return true
}

// invalidUTF8 returns the offset of the first byte of b that is not valid
// UTF-8, or -1.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		c, size := utf8.DecodeRune(b[i:])
		if c == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// split parses the comma-separated fields of a line into r.buf and
// r.fields. A field is either plain text without a quote, or quoted: it
// starts with ", ends with " and writes a quote inside as "".
func (r *listReader) split(line int, text []byte) bool {
	r.buf, r.fields = r.buf[:0], r.fields[:0]
	i := 0
	for {
		f := field{start: len(r.buf), col: i + 1}
		if i < len(text) && text[i] == '"' {
			j := i + 1
			for {
				k := bytes.IndexByte(text[j:], '"')
				if k < 0 {
					r.add(line, i+1, "quoted field is not closed: a field that starts with a quote (\") ends with one")
					return false
				}
				r.buf = append(r.buf, text[j:j+k]...)
				j += k + 1
				if j < len(text) && text[j] == '"' {
					r.buf = append(r.buf, '"')
					j++
					continue
				}
				break
			}
			if j < len(text) && text[j] != ',' {
				r.add(line, j+1, "unexpected text after the closing quote of a field; a quote inside a quoted field is written twice (\"\")")
				return false
			}
			i = j
		} else {
			k := bytes.IndexByte(text[i:], ',')
			if k < 0 {
				k = len(text) - i
			}
			if q := bytes.IndexByte(text[i:i+k], '"'); q >= 0 {
				r.add(line, i+q+1, "a quote (\") inside a field that does not start with one; quote the whole field and write the quote twice (\"\")")
				return false
			}
			r.buf = append(r.buf, text[i:i+k]...)
			i += k
		}
		f.end = len(r.buf)
		r.fields = append(r.fields, f)
		if i >= len(text) {
			return true
		}
		i++ // the comma
	}
}

func (r *listReader) value(f field) []byte { return r.buf[f.start:f.end] }

// readHeader reads the header line from r.fields. It returns false when it
// is not a usable header.
func (r *listReader) readHeader(line int) bool {
	r.header = true
	for c := range r.index {
		r.index[c] = -1
	}
	r.width = len(r.fields)
	// A header names at least one column, perhaps in the wrong case (which
	// is then an unknown column, with a suggestion).
	known := 0
	for _, f := range r.fields {
		if slices.ContainsFunc(columnNames[:], func(c string) bool { return strings.EqualFold(c, string(r.value(f))) }) {
			known++
		}
	}
	if known == 0 {
		r.add(line, 1, "the first line must be the header naming the columns, voter,style,weight (or voter,style); this line names none of them")
		return false
	}
	ok := true
	var suggested [numColumns]bool // an unknown column is suggested to be this one
	for i, f := range r.fields {
		name := string(r.value(f))
		c := slices.Index(columnNames[:], name)
		switch {
		case c < 0:
			hint := ""
			if near := closestColumn(name); near >= 0 {
				hint = fmt.Sprintf(" (did you mean %q?)", columnNames[near])
				suggested[near] = true
			}
			r.add(line, f.col, "unknown column %s%s; the columns are voter, style and weight", quoteField([]byte(name)), hint)
			ok = false
		case r.index[c] >= 0:
			r.add(line, f.col, "column %q appears twice in the header (first at column %d)", name, r.fields[r.index[c]].col)
			ok = false
		default:
			r.index[c] = i
		}
	}
	// A missing column that an unknown one was suggested to be is not
	// reported again.
	if r.index[colVoter] < 0 && !suggested[colVoter] {
		r.add(line, 1, "the header has no \"voter\" column")
		ok = false
	}
	if r.index[colStyle] < 0 && len(r.styles) > 1 && !suggested[colStyle] {
		r.add(line, 1, "the header has no \"style\" column, but %s", styleChoice(r.styles))
		ok = false
	}
	return ok
}

// closestColumn returns the column whose name is closest to a misspelt one
// (at most two edits, in any case), or -1.
func closestColumn(name string) int {
	best, bestDist := -1, 3
	for c, col := range columnNames {
		if dist := editDistance(strings.ToLower(name), col); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

// voter reads one voter line from r.fields.
func (r *listReader) voter(line int) {
	if len(r.fields) != r.width {
		r.add(line, 1, "line has %d fields, but the header has %d", len(r.fields), r.width)
		return
	}
	ok := true
	v := Voter{Weight: 1}

	f := r.fields[r.index[colVoter]]
	label := r.value(f)
	switch {
	case len(label) == 0:
		r.add(line, f.col, "voter label is empty")
		ok = false
	case len(label) > MaxVoterLabel:
		r.add(line, f.col, "voter label is %d bytes long; the limit is %d", len(label), MaxVoterLabel)
		ok = false
	default:
		if i := bytes.IndexFunc(label, unicode.IsControl); i >= 0 {
			c, _ := utf8.DecodeRune(label[i:])
			r.add(line, f.col, "voter label holds the control character %U", c)
			ok = false
		} else if first, dup := r.labels[string(label)]; dup {
			r.add(line, f.col, "voter %q appears twice (first at line %d)", label, first)
			ok = false
		} else {
			v.Label = string(label)
			r.labels[v.Label] = line
		}
	}

	if c := r.index[colStyle]; c < 0 {
		v.Style = r.styles[0]
	} else {
		f := r.fields[c]
		s := r.value(f)
		if id, known := r.styleOf[string(s)]; known {
			v.Style = id
		} else if len(s) == 0 && len(r.styles) == 1 {
			v.Style = r.styles[0]
		} else {
			ok = false
			if len(s) == 0 {
				r.add(line, f.col, "style is empty; %s", styleChoice(r.styles))
			} else {
				hint := ""
				if !r.full() { // a suggestion costs; add only counts beyond the limit
					hint = suggestStyle(string(s), r.styles)
				}
				r.add(line, f.col, "unknown ballot style %s%s; %s", quoteField(s), hint, styleChoice(r.styles))
			}
		}
	}

	if c := r.index[colWeight]; c >= 0 {
		f := r.fields[c]
		w, msg := parseWeight(r.value(f))
		if msg != "" {
			r.add(line, f.col, "%s", msg)
			r.badWeights++
			ok = false
		} else {
			v.Weight = w
			var carry uint64
			r.a.TotalWeight, carry = bits.Add64(r.a.TotalWeight, w, 0)
			r.totalHi += carry
			if r.overLine == 0 && (r.totalHi > 0 || r.a.TotalWeight > credential.MaxTotalWeight) {
				r.overLine, r.overCol = line, f.col
			}
		}
	} else {
		r.a.TotalWeight++
	}
	if ok && len(r.probs) == 0 && r.more == 0 {
		// Voters are kept only while the list is good: a bad list returns
		// its problems, not an assignment.
		r.a.Voters = append(r.a.Voters, v)
		if v.Weight != 1 {
			r.a.Weighted = true
		}
	}
}

// parseWeight reads a weight: 1 to credential.MaxTotalWeight in plain decimal
// digits. It returns the weight, or a message saying what is wrong.
func parseWeight(b []byte) (uint64, string) {
	const limit = uint64(credential.MaxTotalWeight)
	q := quoteField(b)
	switch {
	case len(b) == 0:
		return 0, fmt.Sprintf("weight is empty; write a whole number from 1 to %d", limit)
	case bytes.ContainsFunc(b, unicode.IsSpace):
		return 0, fmt.Sprintf("weight %s holds a space; write the digits alone", q)
	case b[0] == '-':
		return 0, fmt.Sprintf("weight %s is negative; a weight is a whole number from 1 to %d", q, limit)
	case b[0] == '+':
		return 0, fmt.Sprintf("weight %s has a sign; write the digits alone", q)
	case bytes.ContainsFunc(b, func(c rune) bool { return c < '0' || c > '9' }):
		return 0, fmt.Sprintf("weight %s is not a whole number in plain decimal digits", q)
	case len(bytes.TrimLeft(b, "0")) == 0:
		return 0, fmt.Sprintf("weight %s must be at least 1", q)
	case b[0] == '0':
		return 0, fmt.Sprintf("weight %s has a leading zero; write %s", q, bytes.TrimLeft(b, "0"))
	}
	var w uint64
	for _, c := range b {
		if w > limit {
			break
		}
		w = w*10 + uint64(c-'0')
	}
	if w > limit {
		return 0, fmt.Sprintf("weight %s is larger than the limit %d (2^40, credential.MaxTotalWeight)", q, limit)
	}
	return w, ""
}

// quoteField quotes a field's text for a message, cut to 64 characters.
func quoteField(b []byte) string {
	const max = 64
	if utf8.RuneCount(b) <= max {
		return fmt.Sprintf("%q", b)
	}
	i := 0
	for range max {
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	return fmt.Sprintf("%q…", b[:i])
}
