package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // a configuration's time zone is valid on every machine alike
	"unicode"
	"unicode/utf8"

	"github.com/evote/evote/ballot"
	"gopkg.in/yaml.v3"
)

// Limits of the cards section and of the time zone.
const (
	// MaxCardURLs is the number of voting addresses a card lists at most.
	MaxCardURLs = 3
	// MaxCardURL is the longest voting address, in bytes.
	MaxCardURL = 120
	// MaxCardInstructions is the longest instruction text, in characters.
	MaxCardInstructions = 400
	// MaxCardInstructionLines is the number of lines of the instructions.
	MaxCardInstructionLines = 6
	// MaxTimeZone is the longest time zone name, in bytes.
	MaxTimeZone = 64
)

// Cards is what a voter's credential card says besides the code: the
// election's title, where and when to vote and how.
type Cards struct {
	Title string
	// URLs are the voting page's addresses (cards.urls), none if not given.
	URLs []string
	// Instructions are cards.instructions, or DefaultInstructions.
	Instructions string
	// Zone is the election's time zone (time_zone; UTC if not given), in
	// which the card gives Start and End.
	Zone       *time.Location
	Start, End time.Time
}

// DefaultInstructions are the instructions of a card whose configuration
// gives none; withURL says whether the card lists the voting page's address.
func DefaultInstructions(withURL bool) string {
	where := "Open the voting page that your election office gives you"
	if withURL {
		where = "Open the voting page at the address above"
	}
	return where + " on a phone or a computer, and type this code when the page asks for it." +
		" Choose in each contest, check your choices, then cast your ballot." +
		" The page shows a tracking code: note it to find your ballot later."
}

// LoadCards reads the configuration at path and returns its manifest and
// what its voters' cards say. Problems are a *Problems error, as for Load.
func LoadCards(path string) (*ballot.Manifest, *Cards, error) {
	m, _, cards, err := loadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return m, cards, nil
}

// loadFile reads the configuration at path and parses it.
func loadFile(path string) (*ballot.Manifest, *votersSpec, *Cards, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	return parse(path, data)
}

// Period gives the voting period in the cards' time zone, such as "from
// Sunday 6 December 2026 08:00 to 18:00 CET (UTC+1)".
func (c *Cards) Period() string {
	return Period(c.Start, c.End, c.Zone)
}

// Period gives the period from start to end in the time zone loc (UTC if
// nil): the day of end only if it is not start's, the zone once if it is
// the same at both ends.
func Period(start, end time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	start, end = start.In(loc), end.In(loc)
	const day = "Monday 2 January 2006 15:04"
	from, to := start.Format(day), end.Format(day)
	if start.Format(time.DateOnly) == end.Format(time.DateOnly) {
		to = end.Format("15:04")
	}
	if zs, ze := zoneLabel(start), zoneLabel(end); zs != ze {
		return fmt.Sprintf("from %s %s to %s %s", from, zs, to, ze)
	}
	return fmt.Sprintf("from %s to %s %s", from, to, zoneLabel(end))
}

// zoneLabel names t's zone: "UTC", or its abbreviation and offset ("CET
// (UTC+1)"), or the offset alone for a zone without an abbreviation.
func zoneLabel(t time.Time) string {
	abbr, off := t.Zone()
	if abbr == "UTC" && off == 0 {
		return "UTC"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	utc := fmt.Sprintf("UTC%s%d", sign, off/3600)
	if m := off % 3600 / 60; m != 0 {
		utc += fmt.Sprintf(":%02d", m)
	}
	if abbr == "" || strings.ContainsAny(abbr[:1], "+-0123456789") {
		return utc
	}
	return abbr + " (" + utc + ")"
}

// cards reads time_zone and the cards section into d.cards, for the
// manifest m (its title and voting window).
func (d *decoder) cards(zone, section *yaml.Node, m *ballot.Manifest) {
	c := &Cards{Title: m.Title, Zone: time.UTC, Start: m.Start, End: m.End}
	d.cardSettings = c
	if zone != nil {
		c.Zone = d.timeZone(zone)
	}
	f := d.mapping(section, "cards", "cards", []string{"urls", "instructions"}, nil)
	for i, n := range d.list(f["urls"], "cards.urls", "cards: urls") {
		if i == MaxCardURLs {
			d.errorf(n, "cards: urls lists more than %d addresses; a card has room for %d", MaxCardURLs, MaxCardURLs)
		}
		if u := d.cardURL(n, fmt.Sprintf("cards.urls[%d]", i)); u != "" {
			c.URLs = append(c.URLs, u)
		}
	}
	c.Instructions = DefaultInstructions(len(c.URLs) > 0)
	if n := f["instructions"]; n != nil {
		c.Instructions = d.instructions(n)
	}
}

// timeZone reads time_zone, an IANA time zone name.
func (d *decoder) timeZone(n *yaml.Node) *time.Location {
	s := d.str(n, "time_zone", "time zone")
	switch {
	case d.bad["time_zone"]:
		return time.UTC
	case s == "":
		d.errorf(n, "time zone is empty; write an IANA time zone name such as Europe/Paris, or leave time_zone out for UTC")
		return time.UTC
	case len(s) > MaxTimeZone:
		d.errorf(n, "time zone is %d bytes long, more than %d", len(s), MaxTimeZone)
		return time.UTC
	case s == "Local":
		d.errorf(n, "time zone \"Local\" is this machine's zone, which another machine does not share; write the IANA name such as Europe/Paris")
		return time.UTC
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		d.errorf(n, "time zone %q is unknown: write an IANA time zone name such as Europe/Paris, America/New_York or UTC", s)
		return time.UTC
	}
	return loc
}

// cardURL reads one voting address: an absolute http or https URL of
// printable ASCII without user name or password.
func (d *decoder) cardURL(n *yaml.Node, path string) string {
	s := d.str(n, path, "cards: url")
	if d.bad[path] {
		return ""
	}
	bad := func(why string) string {
		d.errorf(n, "cards: url %q %s", s, why)
		return ""
	}
	if len(s) > MaxCardURL {
		return bad(fmt.Sprintf("is %d bytes long, more than %d (a voter types it from the card)", len(s), MaxCardURL))
	}
	for _, r := range s {
		switch {
		case r <= ' ' || r >= 0x7f:
			return bad("holds a space, a control or a non-ASCII character; write a host name in its ASCII (xn--) form and escape the rest with %XX")
		case strings.ContainsRune(`<>"\^`+"`"+`{|}`, r):
			return bad(fmt.Sprintf("holds %q, which a URL does not (RFC 3986); escape it as %%%02X", r, r))
		}
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return bad("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("is not an absolute http:// or https:// address")
	case u.Host == "" || u.Hostname() == "":
		return bad("has no host name")
	case u.User != nil:
		return bad("names a user before the host (\"…@\"); a card gives the voting page's address only")
	case u.Fragment != "" || strings.HasSuffix(s, "#"):
		return bad("has a fragment (\"#…\"); give the page's address without it")
	}
	return s
}

// instructions reads cards.instructions: text of at most
// MaxCardInstructions characters on at most MaxCardInstructionLines lines.
func (d *decoder) instructions(n *yaml.Node) string {
	s := d.str(n, "cards.instructions", "cards: instructions")
	s = strings.TrimRight(s, "\n")
	switch {
	case d.bad["cards.instructions"]:
	case strings.TrimSpace(s) == "":
		d.errorf(n, "cards: instructions are empty; leave the key out for the default instructions")
	case !utf8.ValidString(s):
		d.errorf(n, "cards: instructions are not valid UTF-8")
	case utf8.RuneCountInString(s) > MaxCardInstructions:
		d.errorf(n, "cards: instructions are %d characters long, more than %d (they must fit on the card)", utf8.RuneCountInString(s), MaxCardInstructions)
	case strings.Count(s, "\n")+1 > MaxCardInstructionLines:
		d.errorf(n, "cards: instructions have %d lines, more than %d", strings.Count(s, "\n")+1, MaxCardInstructionLines)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0:
		d.errorf(n, "cards: instructions hold a control character other than a line break")
	case strings.IndexFunc(s, isBidiControl) >= 0:
		d.errorf(n, "cards: instructions hold a Unicode direction control (U+202A–U+202E, U+2066–U+2069), which could make the printed text read otherwise than written")
	default:
		return s
	}
	return DefaultInstructions(false)
}

// isBidiControl reports the explicit direction embeddings, overrides and
// isolates.
func isBidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}
