// Package config reads an election's YAML configuration into a
// ballot.Manifest, and reports every problem of the file with its position.
//
// The YAML format is documented in docs/election-config.md. Parse reports
// all problems it finds, not only the first: YAML syntax errors, unknown and
// missing keys, values of the wrong type, malformed keys and times, and every
// rule that (*ballot.Manifest).Validate checks, each with the file, line and
// column of the offending key or value. The error is then a *Problems.
//
// # Threat model
//
// A configuration file is written by an election official and may hold
// mistakes of any kind; nothing in it makes Parse panic or run for long.
// Files larger than MaxFileSize are refused, and YAML aliases (which could
// expand a small file into a huge tree) are not accepted.
package config

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evote/evote/ballot"
	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest configuration file Parse reads, in bytes.
const MaxFileSize = 1 << 20

// Problem is one problem of a configuration file, at a 1-based line and
// column.
type Problem struct {
	File      string
	Line, Col int
	Msg       string
}

// String formats the problem as FILE:LINE:COL: message.
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
}

// Problems is the error of a configuration file with problems: all of them,
// sorted by position.
type Problems struct {
	List []Problem
}

// Error returns one line per problem, FILE:LINE:COL: message, without a
// trailing newline.
func (p *Problems) Error() string {
	lines := make([]string, len(p.List))
	for i, q := range p.List {
		lines[i] = q.String()
	}
	return strings.Join(lines, "\n")
}

// Load reads the configuration file at path and returns its manifest. A file
// with problems gives a *Problems error whose file names are path as given.
func Load(path string) (*ballot.Manifest, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// readFile reads a configuration file, at most MaxFileSize+1 bytes of it.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return data, nil
}

// Parse reads a configuration from data; filename is used in the problems'
// positions only. It returns the manifest, valid by
// (*ballot.Manifest).Validate, or a *Problems error listing every problem.
func Parse(filename string, data []byte) (*ballot.Manifest, error) {
	m, _, _, err := parse(filename, data)
	return m, err
}

// parse is Parse, returning also what the voters section says about who gets
// which ballot style (for LoadAssignment) and what the cards say (LoadCards).
func parse(filename string, data []byte) (m *ballot.Manifest, spec *votersSpec, cards *Cards, err error) {
	d := &decoder{
		file:  filename,
		nodes: map[string]*yaml.Node{},
		bad:   map[string]bool{},
	}
	defer func() {
		// yaml.v3 has panicked on malformed input in the past; a file must
		// never crash the caller.
		if r := recover(); r != nil {
			m, spec, cards = nil, nil, nil
			err = &Problems{List: []Problem{{File: filename, Line: 1, Col: 1, Msg: fmt.Sprintf("cannot read the file as YAML (%v)", r)}}}
		}
	}()
	m = d.parse(data)
	if len(d.probs) > 0 {
		return nil, nil, nil, d.problems()
	}
	return m, &d.spec, d.cardSettings, nil
}

// decoder walks the YAML tree of one file.
type decoder struct {
	file  string
	probs []Problem
	root  *yaml.Node
	// nodes maps the path of every value read ("contests[1].rule.max") to
	// its node, to place the problems Validate finds.
	nodes map[string]*yaml.Node
	// bad holds the paths of values that could not be read (wrong type,
	// missing, malformed). Validate's problems at or under these paths are
	// not reported: the file's real mistake already is.
	bad map[string]bool
	// spec is the voters section's assignment of ballot styles.
	spec votersSpec
	// cardSettings is what the voters' cards say (cards.go).
	cardSettings *Cards
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	d.probs = append(d.probs, Problem{File: d.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) problems() *Problems {
	slices.SortStableFunc(d.probs, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	d.probs = slices.Compact(d.probs)
	return &Problems{List: d.probs}
}

// yamlLine finds the line number in a yaml.v3 syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (d *decoder) syntaxError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
			line = n
		}
		msg = m[2]
	}
	// yaml.v3 reports the line of a syntax error but not its column.
	d.probs = append(d.probs, Problem{File: d.file, Line: line, Col: 1, Msg: "YAML syntax error: " + msg})
}

func (d *decoder) parse(data []byte) *ballot.Manifest {
	if len(data) > MaxFileSize {
		d.errorf(nil, "file is larger than %d bytes; an election configuration is much smaller", MaxFileSize)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorf(nil, "file is empty: expected an election configuration (docs/election-config.md)")
		} else {
			d.syntaxError(err)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		d.errorf(&next, "file holds more than one YAML document (after \"---\"); put one election in each file")
		return nil
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(err)
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d.root = root
	if d.checkAliases(root); len(d.probs) > 0 {
		return nil
	}
	m := d.manifest(root)
	if m == nil {
		return nil
	}
	for _, fe := range ballot.FieldErrors(m.Validate()) {
		if d.isBad(fe.Path) {
			continue
		}
		msg := fe.Msg
		if fe.First != "" {
			msg += fmt.Sprintf(" (first at line %d)", d.node(fe.First).Line)
		}
		d.errorf(d.node(fe.Path), "%s", msg)
	}
	return m
}

// checkAliases reports every alias: they are not needed in a configuration,
// and a few nested ones could expand into a huge tree.
func (d *decoder) checkAliases(n *yaml.Node) {
	if n.Kind == yaml.AliasNode {
		d.errorf(n, "YAML alias *%s is not supported here; write the value out", n.Value)
		return
	}
	for _, c := range n.Content {
		d.checkAliases(c)
	}
}

// node returns the node of path, or of its nearest ancestor that has one.
func (d *decoder) node(path string) *yaml.Node {
	for {
		if n, ok := d.nodes[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return d.root
		}
		path = path[:i]
	}
}

// isBad reports whether path or one of its ancestors is bad.
func (d *decoder) isBad(path string) bool {
	for {
		if d.bad[path] {
			return true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return false
		}
		path = path[:i]
	}
}

// describe names the kind of value a node holds, for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping of keys"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "empty"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!timestamp":
			return "the time " + n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected YAML node"
}

// mapping checks that n is a mapping with only the allowed keys, each at most
// once, and the required ones; it records and returns the value nodes by key.
// what names the mapping in messages ("contest \"mayor\"").
func (d *decoder) mapping(n *yaml.Node, path, what string, allowed, required []string) map[string]*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping of keys (%s), not %s", what, strings.Join(allowed, ", "), describe(n))
		d.bad[path] = true
		return nil
	}
	vals := map[string]*yaml.Node{}
	keys := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: a key must be a plain name, not %s", what, describe(k))
			continue
		}
		if first, ok := keys[k.Value]; ok {
			d.errorf(k, "%s: key %q appears twice (first at line %d)", what, k.Value, first.Line)
			continue
		}
		keys[k.Value] = k
		if !slices.Contains(allowed, k.Value) {
			d.errorf(k, "%s: unknown key %q%s; allowed keys are %s", what, k.Value, suggest(k.Value, allowed), strings.Join(allowed, ", "))
			continue
		}
		vals[k.Value] = v
		d.nodes[join(path, k.Value)] = v
	}
	for _, r := range required {
		if _, ok := keys[r]; !ok {
			d.errorf(n, "%s: missing required key %q", what, r)
			d.bad[join(path, r)] = true
		}
	}
	return vals
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest returns ` (did you mean "x"?)` for the allowed key closest to a
// misspelt one, or "".
func suggest(key string, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if dist := editDistance(strings.ToLower(key), a); dist < bestDist {
			best, bestDist = a, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// str reads a text value. Numbers and booleans are taken as written (a
// title may be "2027"); an empty value is "" and left to Validate.
func (d *decoder) str(n *yaml.Node, path, what string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s must be text, not %s", what, describe(n))
		d.bad[path] = true
		return ""
	}
	switch n.Tag {
	case "!!null":
		return ""
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		return n.Value
	}
	d.errorf(n, "%s has the unsupported YAML tag %s", what, n.Tag)
	d.bad[path] = true
	return ""
}

// integer reads a whole number.
func (d *decoder) integer(n *yaml.Node, path, what string) int {
	if n == nil {
		return 0
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, "%s must be a whole number, not %s", what, describe(n))
		d.bad[path] = true
		return 0
	}
	var v int64
	if err := n.Decode(&v); err != nil || v < -1<<31 || v > 1<<40 {
		d.errorf(n, "%s %s is out of range", what, n.Value)
		d.bad[path] = true
		return 0
	}
	return int(v)
}

// boolean reads true or false; an absent value is false.
func (d *decoder) boolean(n *yaml.Node, path, what string) bool {
	if n == nil {
		return false
	}
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		d.errorf(n, "%s must be true or false, not %s", what, describe(n))
		d.bad[path] = true
		return false
	}
	return v
}

// list reads a list; an empty value is an empty list.
func (d *decoder) list(n *yaml.Node, path, what string) []*yaml.Node {
	if n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list, not %s", what, describe(n))
		d.bad[path] = true
		return nil
	}
	for i, e := range n.Content {
		d.nodes[fmt.Sprintf("%s[%d]", path, i)] = e
	}
	return n.Content
}

// time reads an RFC 3339 time and returns it in UTC.
func (d *decoder) time(n *yaml.Node, path, what string) time.Time {
	s := d.str(n, path, what)
	if s == "" || d.bad[path] {
		if n != nil && !d.bad[path] {
			d.errorf(n, "%s is empty; write an RFC 3339 time such as 2027-05-02T07:00:00Z", what)
			d.bad[path] = true
		}
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		hint := ""
		if _, err := time.Parse(time.DateOnly, s); err == nil {
			hint = " (a date alone is not enough: give the time of day and the zone)"
		}
		d.errorf(n, "%s %q is not an RFC 3339 time such as 2027-05-02T07:00:00Z or 2027-05-02T09:00:00+02:00%s", what, s, hint)
		d.bad[path] = true
		return time.Time{}
	}
	return t.UTC()
}

func (d *decoder) manifest(root *yaml.Node) *ballot.Manifest {
	top := d.mapping(root, "", "the election configuration",
		[]string{"election_id", "title", "description", "start", "end", "contests", "styles", "trustees", "authorities", "officials", "voters", "time_zone", "cards"},
		[]string{"election_id", "title", "start", "end", "contests", "trustees", "authorities", "officials", "voters"})
	if top == nil {
		return nil
	}
	m := &ballot.Manifest{
		ElectionID:  d.str(top["election_id"], "election_id", "election id"),
		Title:       d.str(top["title"], "title", "election title"),
		Description: d.str(top["description"], "description", "election description"),
		Start:       d.time(top["start"], "start", "start time"),
		End:         d.time(top["end"], "end", "end time"),
	}
	for i, n := range d.list(top["contests"], "contests", "contests") {
		m.Contests = append(m.Contests, d.contest(n, fmt.Sprintf("contests[%d]", i), i))
	}
	for i, n := range d.list(top["styles"], "styles", "styles") {
		m.Styles = append(m.Styles, d.style(n, fmt.Sprintf("styles[%d]", i), i))
	}
	m.Trustees = d.trustees(top["trustees"])
	for i, n := range d.list(top["authorities"], "authorities", "authorities") {
		p := fmt.Sprintf("authorities[%d]", i)
		f := d.mapping(n, p, fmt.Sprintf("authority #%d", i+1), []string{"id", "name"}, []string{"id", "name"})
		m.Authorities = append(m.Authorities, ballot.Authority{
			ID:   d.str(f["id"], p+".id", "authority id"),
			Name: d.str(f["name"], p+".name", "authority name"),
		})
	}
	for i, n := range d.list(top["officials"], "officials", "officials") {
		m.Officials = append(m.Officials, d.official(n, fmt.Sprintf("officials[%d]", i), i))
	}
	m.Voters = d.voters(top["voters"], m)
	d.cards(top["time_zone"], top["cards"], m)
	return m
}

func (d *decoder) contest(n *yaml.Node, p string, i int) ballot.Contest {
	what := fmt.Sprintf("contest #%d", i+1)
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if k, v := n.Content[j], n.Content[j+1]; k.Value == "id" && v.Kind == yaml.ScalarNode && ballot.ValidID(v.Value) {
				what = fmt.Sprintf("contest %q", v.Value)
			}
		}
	}
	f := d.mapping(n, p, what, []string{"id", "title", "description", "rule", "count_blank", "selections"}, []string{"id", "title", "rule", "selections"})
	c := ballot.Contest{
		ID:          d.str(f["id"], p+".id", what+": id"),
		Title:       d.str(f["title"], p+".title", what+": title"),
		Description: d.str(f["description"], p+".description", what+": description"),
		Rule:        d.rule(f["rule"], p+".rule", what),
		CountBlank:  d.boolean(f["count_blank"], p+".count_blank", what+": count_blank"),
	}
	for j, sn := range d.list(f["selections"], p+".selections", what+": selections") {
		sp := fmt.Sprintf("%s.selections[%d]", p, j)
		sf := d.mapping(sn, sp, fmt.Sprintf("%s: selection #%d", what, j+1), []string{"id", "title"}, []string{"id", "title"})
		c.Selections = append(c.Selections, ballot.Selection{
			ID:    d.str(sf["id"], sp+".id", what+": selection id"),
			Title: d.str(sf["title"], sp+".title", what+": selection title"),
		})
	}
	return c
}

// ruleKeys lists the keys each rule kind takes besides kind.
var ruleKeys = map[ballot.RuleKind][]string{
	ballot.Exactly:  {"count"},
	ballot.UpTo:     {"max"},
	ballot.Range:    {"min", "max"},
	ballot.Approval: nil,
}

func (d *decoder) rule(n *yaml.Node, p, what string) ballot.Rule {
	f := d.mapping(n, p, what+": rule", []string{"kind", "count", "min", "max"}, []string{"kind"})
	if f == nil {
		return ballot.Rule{}
	}
	kind := ballot.RuleKind(d.str(f["kind"], p+".kind", what+": rule kind"))
	r := ballot.Rule{Kind: kind}
	takes, known := ruleKeys[kind]
	if !known {
		return r // Validate names the unknown kind.
	}
	for _, k := range []string{"count", "min", "max"} {
		v, given := f[k]
		switch {
		case given && !slices.Contains(takes, k):
			d.errorf(keyNode(n, k), "%s: rule %q does not take %q%s", what, string(kind), k, takesText(takes))
		case !given && slices.Contains(takes, k):
			d.errorf(n, "%s: rule %q needs %s", what, string(kind), strings.Join(takes, " and "))
			d.bad[p+"."+k] = true
		case given:
			val := d.integer(v, p+"."+k, fmt.Sprintf("%s: rule %s", what, k))
			switch k {
			case "count":
				r.Count = val
			case "min":
				r.Min = val
			case "max":
				r.Max = val
			}
		}
	}
	return r
}

func takesText(takes []string) string {
	if len(takes) == 0 {
		return "; it takes no limits"
	}
	return "; it takes " + strings.Join(takes, " and ")
}

// keyNode returns the key node of key in mapping n.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return n
}

func (d *decoder) style(n *yaml.Node, p string, i int) ballot.Style {
	what := fmt.Sprintf("ballot style #%d", i+1)
	f := d.mapping(n, p, what, []string{"id", "contests"}, []string{"id", "contests"})
	s := ballot.Style{ID: d.str(f["id"], p+".id", what+": id")}
	if ballot.ValidID(s.ID) {
		what = fmt.Sprintf("ballot style %q", s.ID)
	}
	for j, cn := range d.list(f["contests"], p+".contests", what+": contests") {
		s.Contests = append(s.Contests, d.str(cn, fmt.Sprintf("%s.contests[%d]", p, j), what+": contest id"))
	}
	return s
}

func (d *decoder) trustees(n *yaml.Node) ballot.Trustees {
	f := d.mapping(n, "trustees", "trustees", []string{"threshold", "members"}, []string{"threshold", "members"})
	t := ballot.Trustees{Threshold: d.integer(f["threshold"], "trustees.threshold", "trustee threshold")}
	for i, mn := range d.list(f["members"], "trustees.members", "trustee members") {
		p := fmt.Sprintf("trustees.members[%d]", i)
		mf := d.mapping(mn, p, fmt.Sprintf("trustee #%d", i+1), []string{"index", "name", "public_key"}, []string{"index", "name"})
		m := ballot.Trustee{
			Index: d.integer(mf["index"], p+".index", fmt.Sprintf("trustee #%d: index", i+1)),
			Name:  d.str(mf["name"], p+".name", fmt.Sprintf("trustee #%d: name", i+1)),
		}
		if kn := mf["public_key"]; kn != nil {
			who := fmt.Sprintf("trustee %q", m.Name)
			s := d.str(kn, p+".public_key", who+": public key")
			if !d.bad[p+".public_key"] {
				k, err := ballot.ParseRistrettoKey(s)
				if err != nil {
					d.errorf(kn, "%s: %s", who, strings.TrimPrefix(err.Error(), "ballot: "))
					d.bad[p+".public_key"] = true
				}
				m.PublicKey = k
			}
		}
		t.Members = append(t.Members, m)
	}
	return t
}

func (d *decoder) official(n *yaml.Node, p string, i int) ballot.Official {
	f := d.mapping(n, p, fmt.Sprintf("official #%d", i+1), []string{"name", "public_key"}, []string{"name", "public_key"})
	o := ballot.Official{Name: d.str(f["name"], p+".name", fmt.Sprintf("official #%d: name", i+1))}
	who := fmt.Sprintf("official %q", o.Name)
	if o.Name == "" {
		who = fmt.Sprintf("official #%d", i+1)
	}
	if kn := f["public_key"]; kn != nil {
		s := d.str(kn, p+".public_key", who+": public key")
		if !d.bad[p+".public_key"] {
			k, err := ballot.ParseEd25519Key(s)
			if err != nil {
				d.errorf(kn, "%s: %s", who, strings.TrimPrefix(err.Error(), "ballot: "))
				d.bad[p+".public_key"] = true
			}
			o.PublicKey = k
		}
	}
	return o
}

// voters reads the voters section: the roll (its size, or a credential roll
// already generated) and, with a size, who gets which ballot style and weight
// (d.spec; see assignment).
func (d *decoder) voters(n *yaml.Node, m *ballot.Manifest) ballot.Voters {
	f := d.mapping(n, "voters", "voters", []string{"roll_size", "styles", "voter_list", "credential_roll"}, nil)
	if f == nil {
		return ballot.Voters{}
	}
	var v ballot.Voters
	rn, hasRoll := f["credential_roll"]
	if _, ok := f["roll_size"]; !ok && !hasRoll {
		d.errorf(n, "voters: give roll_size (the number of voters) or credential_roll (file and sha256)")
		d.bad["voters"] = true
		return v
	}
	if _, ok := f["roll_size"]; ok && hasRoll {
		d.errorf(keyNode(n, "roll_size"), "voters: give roll_size or credential_roll, not both")
		d.bad["voters"] = true
	}
	v.RollSize = d.integer(f["roll_size"], "voters.roll_size", "voter roll size")
	if hasRoll {
		rf := d.mapping(rn, "voters.credential_roll", "voters: credential_roll", []string{"file", "sha256"}, []string{"file", "sha256"})
		r := &ballot.CredentialRoll{File: d.str(rf["file"], "voters.credential_roll.file", "voters: credential roll file")}
		if sn := rf["sha256"]; sn != nil {
			s := d.str(sn, "voters.credential_roll.sha256", "voters: credential roll sha256")
			if b, err := hex.DecodeString(s); err != nil || len(b) != 32 {
				if !d.bad["voters.credential_roll.sha256"] {
					d.errorf(sn, "voters: credential roll sha256 %q is not 64 hex digits (a SHA-256 hash)", s)
					d.bad["voters.credential_roll.sha256"] = true
				}
			} else {
				copy(r.SHA256[:], b)
			}
		}
		if rf != nil {
			v.CredentialRoll = r
		} else {
			d.bad["voters"] = true
		}
	}
	d.assignment(n, f, m, v.RollSize, hasRoll)
	return v
}
