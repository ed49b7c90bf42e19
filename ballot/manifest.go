package ballot

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evote/evote/crypto"
)

// Limits on the sizes of a manifest's fields. They keep a manifest small
// enough to travel in one chain transaction and to show on a ballot.
const (
	// MaxIDLength is the longest id (election, contest, selection, style,
	// authority), in bytes.
	MaxIDLength = 64
	// MaxTitleLength is the longest title or name, in characters.
	MaxTitleLength = 200
	// MaxDescriptionLength is the longest description, in characters.
	MaxDescriptionLength = 10000
	// MaxRollSize is the largest voter roll.
	MaxRollSize = 1 << 32
)

// DefaultStyleID is the id of the implicit ballot style, holding every
// contest, of a manifest that defines no styles.
const DefaultStyleID = "all"

// Manifest is the public definition of one election. Every other part of the
// election (ballots, chain transactions, the tally, the record) refers to it
// by its Hash.
type Manifest struct {
	// ElectionID is a slug: 1 to 64 lowercase letters, digits and '-'.
	ElectionID  string
	Title       string
	Description string // optional
	// Start and End bound the voting window [Start, End), in whole seconds.
	// The canonical form holds them in UTC.
	Start, End time.Time
	// Contests in ballot order.
	Contests []Contest
	// Styles are the ballot styles. When empty there is one implicit style,
	// DefaultStyleID, with all contests (see BallotStyles).
	Styles      []Style
	Trustees    Trustees
	Authorities []Authority
	// Officials hold the keys that may sign the election definition and its
	// open and close transactions.
	Officials []Official
	Voters    Voters
}

// Contest is one question on the ballot.
type Contest struct {
	ID          string
	Title       string
	Description string // optional
	Rule        Rule
	// CountBlank asks for the number of blank ballots of the contest (no
	// selection marked) to be counted, encrypted: each ballot then carries
	// one more ciphertext, 1 iff it is blank, with its proofs
	// (docs/spec-ballot.md §3). It needs a rule that allows a blank ballot
	// (min 0), and is for contests whose blank count cannot be derived from
	// the counts (see BlankDerivable).
	CountBlank bool
	// Selections in ballot order. Each is marked 0 or 1.
	Selections []Selection
}

// Selection is one option of a contest: a candidate, "yes", "no", …
type Selection struct {
	ID    string
	Title string
}

// RuleKind names a vote rule.
type RuleKind string

// The vote rules. Each selection is marked 0 or 1; the rule bounds the number
// of marked selections of a contest.
const (
	// Exactly: exactly Rule.Count selections.
	Exactly RuleKind = "exactly"
	// UpTo: from 0 to Rule.Max selections.
	UpTo RuleKind = "up-to"
	// Range: from Rule.Min to Rule.Max selections.
	Range RuleKind = "range"
	// Approval: any number of selections, from 0 to all of them.
	Approval RuleKind = "approval"
)

// Rule is a contest's vote rule. Only the fields of its Kind are set; the
// others are zero.
type Rule struct {
	Kind RuleKind
	// Count is k of "exactly k".
	Count int
	// Min is the least number of selections of "range".
	Min int
	// Max is k of "up-to k" and the most number of selections of "range".
	Max int
}

// String returns the rule as written in messages: "exactly 1", "up-to 3",
// "range 1 to 3", "approval".
func (r Rule) String() string {
	switch r.Kind {
	case Exactly:
		return fmt.Sprintf("exactly %d", r.Count)
	case UpTo:
		return fmt.Sprintf("up-to %d", r.Max)
	case Range:
		return fmt.Sprintf("range %d to %d", r.Min, r.Max)
	case Approval:
		return "approval"
	}
	return fmt.Sprintf("unknown rule %q", string(r.Kind))
}

// MinSelections returns the least number of selections a voter must mark in
// the contest. Ballot encryption proves the contest's sum is at least this.
func (c *Contest) MinSelections() int {
	switch c.Rule.Kind {
	case Exactly:
		return c.Rule.Count
	case Range:
		return c.Rule.Min
	}
	return 0
}

// MaxSelections returns the most selections a voter may mark in the contest.
// Ballot encryption proves the contest's sum is at most this.
func (c *Contest) MaxSelections() int {
	switch c.Rule.Kind {
	case Exactly:
		return c.Rule.Count
	case UpTo, Range:
		return c.Rule.Max
	case Approval:
		return len(c.Selections)
	}
	return 0
}

// BlankSlots is 1 for a contest that counts its blank ballots (CountBlank),
// else 0: the number of values the contest has in the totals besides one
// per selection.
func (c *Contest) BlankSlots() int {
	if c.CountBlank {
		return 1
	}
	return 0
}

// OnEveryStyle reports whether every ballot style holds contest id, so
// that every counted ballot carries it.
func (m *Manifest) OnEveryStyle(id string) bool {
	for _, s := range m.BallotStyles() {
		if !slices.Contains(s.Contests, id) {
			return false
		}
	}
	return true
}

// BlankDerivable reports whether the blank count of contest c follows from
// the counts without a ciphertext of its own: its rule allows a blank ballot
// and at most one mark, and every counted ballot carries it, so that the
// blank count is the weight counted less the sum of its counts.
func (m *Manifest) BlankDerivable(c *Contest) bool {
	return c.MinSelections() == 0 && c.MaxSelections() == 1 && m.OnEveryStyle(c.ID)
}

// Instructions returns the rule in words for the voter, such as
// "choose exactly 1 of 4" or "choose up to 3 of 7".
func (c *Contest) Instructions() string {
	n := len(c.Selections)
	switch c.Rule.Kind {
	case Exactly:
		return fmt.Sprintf("choose exactly %d of %d", c.Rule.Count, n)
	case UpTo:
		return fmt.Sprintf("choose up to %d of %d", c.Rule.Max, n)
	case Range:
		if c.Rule.Min == c.Rule.Max {
			return fmt.Sprintf("choose exactly %d of %d", c.Rule.Min, n)
		}
		return fmt.Sprintf("choose from %d to %d of %d", c.Rule.Min, c.Rule.Max, n)
	case Approval:
		return fmt.Sprintf("approve any number of the %d", n)
	}
	return c.Rule.String()
}

// Style is a ballot style: the contests a voter of that style sees, for
// example those of one district.
type Style struct {
	ID string
	// Contests holds contest ids. The ballot shows them in the manifest's
	// contest order.
	Contests []string
}

// Trustees are the holders of the election key shares: any Threshold of
// them can decrypt the totals, fewer cannot.
type Trustees struct {
	Threshold int
	// Members in order of Index, which runs 1..n.
	Members []Trustee
}

// Trustee is one holder of a share of the election key.
type Trustee struct {
	// Index is the trustee's share index, 1..n.
	Index int
	Name  string
	// PublicKey is optional: the trustee's ristretto255 public key
	// (32 bytes, canonical encoding), when known before the key ceremony.
	PublicKey []byte
}

// Authority is an organisation that runs an authority node.
type Authority struct {
	ID   string
	Name string
}

// Official is a person whose Ed25519 key may sign the election definition.
type Official struct {
	Name      string
	PublicKey ed25519.PublicKey
}

// Voters describes the voter roll: either its size, when credentials are
// generated later, or the credential roll file with its SHA-256. Exactly one
// of RollSize and CredentialRoll is set.
type Voters struct {
	RollSize       int
	CredentialRoll *CredentialRoll
}

// CredentialRoll names the file of voters' public credentials and fixes its
// content by SHA-256.
type CredentialRoll struct {
	File   string
	SHA256 [32]byte
}

// Contest returns the contest with the given id.
func (m *Manifest) Contest(id string) (*Contest, bool) {
	for i := range m.Contests {
		if m.Contests[i].ID == id {
			return &m.Contests[i], true
		}
	}
	return nil, false
}

// BallotStyles returns the manifest's ballot styles, or when it defines none,
// the one implicit style DefaultStyleID with every contest.
func (m *Manifest) BallotStyles() []Style {
	if len(m.Styles) > 0 {
		return m.Styles
	}
	ids := make([]string, len(m.Contests))
	for i, c := range m.Contests {
		ids[i] = c.ID
	}
	return []Style{{ID: DefaultStyleID, Contests: ids}}
}

// StyleIDs returns the ids of BallotStyles, in order: the styles a
// credential roll of the election lists (docs/credentials.md §4).
func (m *Manifest) StyleIDs() []string {
	var ids []string
	for _, s := range m.BallotStyles() {
		ids = append(ids, s.ID)
	}
	return ids
}

// StyleContests returns the contests of ballot style id, in manifest order.
func (m *Manifest) StyleContests(id string) ([]*Contest, error) {
	for _, s := range m.BallotStyles() {
		if s.ID != id {
			continue
		}
		in := make(map[string]bool, len(s.Contests))
		for _, c := range s.Contests {
			in[c] = true
		}
		var cs []*Contest
		for i := range m.Contests {
			if in[m.Contests[i].ID] {
				cs = append(cs, &m.Contests[i])
			}
		}
		return cs, nil
	}
	return nil, fmt.Errorf("ballot: election %q has no ballot style %q", m.ElectionID, id)
}

// FieldError is one problem Validate finds. Path names the offending field the
// way the YAML and canonical JSON keys do, such as
// "contests[2].selections[0].id", so that a reader of the manifest's source
// can point at it. For a duplicate, First is the path of the first occurrence.
type FieldError struct {
	Path  string
	First string
	// Msg says what is wrong in plain words, naming the offending value.
	Msg string
}

func (e *FieldError) Error() string {
	s := "ballot: " + e.Path + ": " + e.Msg
	if e.First != "" {
		s += " (first at " + e.First + ")"
	}
	return s
}

// FieldErrors returns the FieldErrors in err, as returned by Validate: err
// itself, or those joined in it.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		var fe *FieldError
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		} else if errors.As(err, &fe) {
			out = append(out, fe)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// validator collects the problems of one manifest.
type validator struct {
	errs []error
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) dup(path, first, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, First: first, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks every rule of a well-formed manifest and returns all
// problems found, joined, each a *FieldError (see FieldErrors); nil if there
// are none. docs/election-config.md lists the rules.
func (m *Manifest) Validate() error {
	v := &validator{}
	v.id("election_id", "election id", m.ElectionID)
	v.title("title", "election title", m.Title)
	v.description("description", "election description", m.Description)
	v.time("start", "start", m.Start)
	v.time("end", "end", m.End)
	if !m.Start.IsZero() && !m.End.IsZero() && !m.End.After(m.Start) {
		v.add("end", "voting window ends at %s, which is not after its start at %s",
			FormatTime(m.End), FormatTime(m.Start))
	}
	v.contests(m.Contests)
	v.styles(m.Styles, m.Contests)
	v.countBlank(m)
	v.trustees(&m.Trustees)
	v.authorities(m.Authorities)
	v.officials(m.Officials)
	v.voters(&m.Voters)
	return errors.Join(v.errs...)
}

// FormatTime formats t as the canonical form does: RFC 3339 in UTC with
// whole seconds, such as "2026-03-01T08:00:00Z".
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ValidID reports whether s is a valid id: 1 to 64 lowercase ASCII letters,
// digits and '-'.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (v *validator) id(path, what, s string) {
	switch {
	case s == "":
		v.add(path, "%s is empty", what)
	case !ValidID(s):
		v.add(path, "%s %q is not valid: use 1 to %d lowercase letters, digits and '-'", what, s, MaxIDLength)
	}
}

// text checks a title or name: present, one line, valid UTF-8, not too long.
func (v *validator) title(path, what, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		v.add(path, "%s is empty", what)
	case !utf8.ValidString(s):
		v.add(path, "%s is not valid UTF-8", what)
	case utf8.RuneCountInString(s) > MaxTitleLength:
		v.add(path, "%s is %d characters long, more than %d", what, utf8.RuneCountInString(s), MaxTitleLength)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.add(path, "%s %q holds a control character or line break", what, s)
	}
}

func (v *validator) description(path, what, s string) {
	switch {
	case !utf8.ValidString(s):
		v.add(path, "%s is not valid UTF-8", what)
	case utf8.RuneCountInString(s) > MaxDescriptionLength:
		v.add(path, "%s is %d characters long, more than %d", what, utf8.RuneCountInString(s), MaxDescriptionLength)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0:
		v.add(path, "%s holds a control character", what)
	}
}

func (v *validator) time(path, what string, t time.Time) {
	switch {
	case t.IsZero():
		v.add(path, "%s time is missing", what)
	case t.UTC().Year() < 1970 || t.UTC().Year() > 9999:
		v.add(path, "%s time %s is out of range (years 1970 to 9999)", what, t.Format(time.RFC3339Nano))
	case t.Nanosecond() != 0:
		v.add(path, "%s time %s has a fraction of a second; use whole seconds", what, t.Format(time.RFC3339Nano))
	}
}

func contestName(c *Contest, i int) string {
	if ValidID(c.ID) {
		return fmt.Sprintf("contest %q", c.ID)
	}
	return fmt.Sprintf("contest #%d", i+1)
}

func (v *validator) contests(cs []Contest) {
	if len(cs) == 0 {
		v.add("contests", "no contests: an election needs at least one")
		return
	}
	seen := map[string]int{}
	for i := range cs {
		c := &cs[i]
		p := fmt.Sprintf("contests[%d]", i)
		name := contestName(c, i)
		v.id(p+".id", "contest id", c.ID)
		if j, ok := seen[c.ID]; ok && c.ID != "" {
			v.dup(p+".id", fmt.Sprintf("contests[%d].id", j), "contest id %q appears twice", c.ID)
		} else {
			seen[c.ID] = i
		}
		v.title(p+".title", name+": title", c.Title)
		v.description(p+".description", name+": description", c.Description)
		v.selections(p, name, c.Selections)
		v.rule(p, name, c)
	}
}

func (v *validator) selections(p, name string, ss []Selection) {
	if len(ss) == 0 {
		v.add(p+".selections", "%s: no selections", name)
		return
	}
	seen := map[string]int{}
	for i, s := range ss {
		sp := fmt.Sprintf("%s.selections[%d]", p, i)
		v.id(sp+".id", name+": selection id", s.ID)
		if j, ok := seen[s.ID]; ok && s.ID != "" {
			v.dup(sp+".id", fmt.Sprintf("%s.selections[%d].id", p, j), "%s: selection id %q appears twice", name, s.ID)
		} else {
			seen[s.ID] = i
		}
		what := fmt.Sprintf("%s: selection %q: title", name, s.ID)
		if !ValidID(s.ID) {
			what = fmt.Sprintf("%s: selection #%d: title", name, i+1)
		}
		v.title(sp+".title", what, s.Title)
	}
}

// rule checks the contest's rule against its selections. A rule that forces
// the voter to mark every selection is an error: the contest would decide
// nothing. So is, in particular, "exactly 1" with only one selection; but
// "up-to 1" or "approval" with one selection (mark it or leave it blank) is
// allowed.
func (v *validator) rule(p, name string, c *Contest) {
	r := c.Rule
	rp := p + ".rule"
	n := len(c.Selections)
	unused := func(field string, val int) {
		if val != 0 {
			v.add(rp+"."+field, "%s: rule %q does not use %s (it is %d)", name, string(r.Kind), field, val)
		}
	}
	tooMany := func(field string, k int) {
		v.add(rp+"."+field, "%s: rule %q allows %d selections, but the contest has only %d", name, r.String(), k, n)
	}
	forced := func(field string) {
		if n == 1 {
			v.add(rp+"."+field, "%s: rule %q with only one selection forces the voter to mark it; add selections or use \"up-to 1\"", name, r.String())
		} else {
			v.add(rp+"."+field, "%s: rule %q with %d selections forces the voter to mark every one", name, r.String(), n)
		}
	}
	switch r.Kind {
	case Exactly:
		unused("min", r.Min)
		unused("max", r.Max)
		switch {
		case r.Count < 1:
			v.add(rp+".count", "%s: rule %q: count must be at least 1", name, r.String())
		case n > 0 && r.Count > n:
			tooMany("count", r.Count)
		case n > 0 && r.Count == n:
			forced("count")
		}
	case UpTo:
		unused("count", r.Count)
		unused("min", r.Min)
		switch {
		case r.Max < 1:
			v.add(rp+".max", "%s: rule %q: max must be at least 1", name, r.String())
		case n > 0 && r.Max > n:
			tooMany("max", r.Max)
		}
	case Range:
		unused("count", r.Count)
		switch {
		case r.Min < 0:
			v.add(rp+".min", "%s: rule %q: min must not be negative", name, r.String())
		case r.Max < 1:
			v.add(rp+".max", "%s: rule %q: max must be at least 1", name, r.String())
		case r.Min > r.Max:
			v.add(rp+".min", "%s: rule %q: min %d is larger than max %d", name, r.String(), r.Min, r.Max)
		case n > 0 && r.Max > n:
			tooMany("max", r.Max)
		case n > 0 && r.Min == n:
			forced("min")
		}
	case Approval:
		unused("count", r.Count)
		unused("min", r.Min)
		unused("max", r.Max)
	case "":
		v.add(rp+".kind", "%s: rule kind is missing; use exactly, up-to, range or approval", name)
	default:
		v.add(rp+".kind", "%s: unknown rule kind %q; use exactly, up-to, range or approval", name, string(r.Kind))
	}
}

// countBlank checks that every contest with CountBlank may have blank
// ballots and needs the encrypted count: one with a rule that forbids blank
// ballots has none, and one whose blank count is derived from the counts
// (BlankDerivable) would carry a ciphertext for nothing.
func (v *validator) countBlank(m *Manifest) {
	for i := range m.Contests {
		c := &m.Contests[i]
		if !c.CountBlank {
			continue
		}
		p := fmt.Sprintf("contests[%d].count_blank", i)
		name := contestName(c, i)
		switch {
		case c.MinSelections() > 0:
			marks := fmt.Sprintf("%d marks", c.MinSelections())
			if c.MinSelections() == 1 {
				marks = "one mark"
			}
			v.add(p, "%s: count_blank needs a rule that allows a blank ballot (min 0), but rule %q asks for at least %s, so no ballot is blank", name, c.Rule.String(), marks)
		case m.BlankDerivable(c):
			v.add(p, "%s: count_blank is not needed: rule %q allows at most one mark, so the blank count is exact without it (the weight counted less the selections' counts); remove count_blank", name, c.Rule.String())
		}
	}
}

func (v *validator) styles(ss []Style, cs []Contest) {
	if len(ss) == 0 {
		return
	}
	contests := map[string]bool{}
	for _, c := range cs {
		contests[c.ID] = true
	}
	used := map[string]bool{}
	seen := map[string]int{}
	for i, s := range ss {
		p := fmt.Sprintf("styles[%d]", i)
		v.id(p+".id", "ballot style id", s.ID)
		if j, ok := seen[s.ID]; ok && s.ID != "" {
			v.dup(p+".id", fmt.Sprintf("styles[%d].id", j), "ballot style id %q appears twice", s.ID)
		} else {
			seen[s.ID] = i
		}
		name := fmt.Sprintf("ballot style %q", s.ID)
		if !ValidID(s.ID) {
			name = fmt.Sprintf("ballot style #%d", i+1)
		}
		if len(s.Contests) == 0 {
			v.add(p+".contests", "%s: no contests", name)
			continue
		}
		in := map[string]int{}
		for j, c := range s.Contests {
			cp := fmt.Sprintf("%s.contests[%d]", p, j)
			if k, ok := in[c]; ok {
				v.dup(cp, fmt.Sprintf("%s.contests[%d]", p, k), "%s: contest %q is listed twice", name, c)
				continue
			}
			in[c] = j
			if !contests[c] {
				v.add(cp, "%s: unknown contest %q", name, c)
			}
			used[c] = true
		}
	}
	for i, c := range cs {
		if ValidID(c.ID) && !used[c.ID] {
			v.add(fmt.Sprintf("contests[%d].id", i), "contest %q is in no ballot style, so no voter would see it", c.ID)
		}
	}
}

func (v *validator) trustees(t *Trustees) {
	n := len(t.Members)
	if n == 0 {
		v.add("trustees.members", "no trustees: an election needs at least one")
	}
	switch {
	case t.Threshold < 1:
		v.add("trustees.threshold", "trustee threshold %d must be at least 1", t.Threshold)
	case n > 0 && t.Threshold > n:
		v.add("trustees.threshold", "trustee threshold %d is larger than the number of trustees, %d", t.Threshold, n)
	}
	names := map[string]int{}
	keys := map[string]int{}
	for i, m := range t.Members {
		p := fmt.Sprintf("trustees.members[%d]", i)
		name := fmt.Sprintf("trustee %q", m.Name)
		if m.Name == "" {
			name = fmt.Sprintf("trustee #%d", i+1)
		}
		if m.Index != i+1 {
			v.add(p+".index", "%s: index %d, expected %d (trustee indices run 1, 2, … n in order)", name, m.Index, i+1)
		}
		v.title(p+".name", name+": name", m.Name)
		if j, ok := names[m.Name]; ok && m.Name != "" {
			v.dup(p+".name", fmt.Sprintf("trustees.members[%d].name", j), "trustee name %q appears twice", m.Name)
		} else {
			names[m.Name] = i
		}
		if m.PublicKey == nil {
			continue
		}
		if _, err := crypto.DecodeNonIdentityPoint(m.PublicKey); err != nil {
			v.add(p+".public_key", "%s: public key is not a valid ristretto255 point", name)
		} else if j, ok := keys[string(m.PublicKey)]; ok {
			v.dup(p+".public_key", fmt.Sprintf("trustees.members[%d].public_key", j), "%s: same public key as trustee %q", name, t.Members[j].Name)
		} else {
			keys[string(m.PublicKey)] = i
		}
	}
}

func (v *validator) authorities(as []Authority) {
	if len(as) == 0 {
		v.add("authorities", "no authorities: at least one organisation must run a node")
		return
	}
	ids := map[string]int{}
	names := map[string]int{}
	for i, a := range as {
		p := fmt.Sprintf("authorities[%d]", i)
		v.id(p+".id", "authority id", a.ID)
		if j, ok := ids[a.ID]; ok && a.ID != "" {
			v.dup(p+".id", fmt.Sprintf("authorities[%d].id", j), "authority id %q appears twice", a.ID)
		} else {
			ids[a.ID] = i
		}
		name := fmt.Sprintf("authority %q", a.ID)
		if !ValidID(a.ID) {
			name = fmt.Sprintf("authority #%d", i+1)
		}
		v.title(p+".name", name+": name", a.Name)
		if j, ok := names[a.Name]; ok && a.Name != "" {
			v.dup(p+".name", fmt.Sprintf("authorities[%d].name", j), "authority name %q appears twice", a.Name)
		} else {
			names[a.Name] = i
		}
	}
}

func (v *validator) officials(os []Official) {
	if len(os) == 0 {
		v.add("officials", "no officials: at least one official key must sign the election definition")
		return
	}
	keys := map[string]int{}
	for i, o := range os {
		p := fmt.Sprintf("officials[%d]", i)
		name := fmt.Sprintf("official %q", o.Name)
		if o.Name == "" {
			name = fmt.Sprintf("official #%d", i+1)
		}
		v.title(p+".name", name+": name", o.Name)
		switch {
		case len(o.PublicKey) != ed25519.PublicKeySize:
			v.add(p+".public_key", "%s: Ed25519 public key is %d bytes, want %d", name, len(o.PublicKey), ed25519.PublicKeySize)
		case bytes.Equal(o.PublicKey, make([]byte, ed25519.PublicKeySize)):
			v.add(p+".public_key", "%s: Ed25519 public key is all zeros", name)
		default:
			if j, ok := keys[string(o.PublicKey)]; ok {
				v.dup(p+".public_key", fmt.Sprintf("officials[%d].public_key", j), "%s: same public key as official %q", name, os[j].Name)
			} else {
				keys[string(o.PublicKey)] = i
			}
		}
	}
}

func (v *validator) voters(vs *Voters) {
	switch {
	case vs.CredentialRoll != nil && vs.RollSize != 0:
		v.add("voters", "voters: give roll_size or credential_roll, not both")
	case vs.CredentialRoll != nil:
		r := vs.CredentialRoll
		switch {
		case r.File == "":
			v.add("voters.credential_roll.file", "voters: credential roll file name is empty")
		case !utf8.ValidString(r.File) || strings.IndexFunc(r.File, unicode.IsControl) >= 0:
			v.add("voters.credential_roll.file", "voters: credential roll file name %q is not a valid file name", r.File)
		}
		if r.SHA256 == [32]byte{} {
			v.add("voters.credential_roll.sha256", "voters: credential roll SHA-256 is missing (all zeros)")
		}
	case vs.RollSize < 1:
		v.add("voters.roll_size", "voter roll size %d must be at least 1", vs.RollSize)
	case vs.RollSize > MaxRollSize:
		v.add("voters.roll_size", "voter roll size %d is larger than the limit %d", vs.RollSize, MaxRollSize)
	}
}
