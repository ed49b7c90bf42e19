package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPeriod(t *testing.T) {
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		start, end string
		loc        *time.Location
		want       string
	}{
		{"2026-12-06T07:00:00Z", "2026-12-06T17:00:00Z", zone("Europe/Paris"), "from Sunday 6 December 2026 08:00 to 18:00 CET (UTC+1)"},
		{"2026-12-06T07:00:00Z", "2026-12-06T17:00:00Z", nil, "from Sunday 6 December 2026 07:00 to 17:00 UTC"},
		{"2026-12-06T07:00:00Z", "2026-12-06T17:00:00Z", time.UTC, "from Sunday 6 December 2026 07:00 to 17:00 UTC"},
		{"2027-05-02T05:00:00Z", "2027-05-03T18:00:00Z", zone("Europe/Berlin"), "from Sunday 2 May 2027 07:00 to Monday 3 May 2027 20:00 CEST (UTC+2)"},
		// The clocks go back during the voting period: each end has its zone.
		{"2026-10-24T06:00:00Z", "2026-10-25T17:00:00Z", zone("Europe/Paris"), "from Saturday 24 October 2026 08:00 CEST (UTC+2) to Sunday 25 October 2026 18:00 CET (UTC+1)"},
		{"2027-03-01T03:30:00Z", "2027-03-01T12:30:00Z", zone("Asia/Kolkata"), "from Monday 1 March 2027 09:00 to 18:00 IST (UTC+5:30)"},
		{"2027-03-01T04:00:00Z", "2027-03-01T14:00:00Z", zone("Asia/Dubai"), "from Monday 1 March 2027 08:00 to 18:00 UTC+4"},
		{"2027-11-09T12:00:00Z", "2027-11-10T01:00:00Z", zone("America/New_York"), "from Tuesday 9 November 2027 07:00 to 20:00 EST (UTC-5)"},
	} {
		if got := Period(at(c.start), at(c.end), c.loc); got != c.want {
			t.Errorf("Period(%s, %s, %v) =\n %q, want\n %q", c.start, c.end, c.loc, got, c.want)
		}
	}
}

// cardsConfig is the minimal configuration with extra top-level keys.
func cardsConfig(extra string) string {
	return strings.Replace(minimal, "contests:\n", extra+"contests:\n", 1)
}

func TestLoadCards(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	load := func(cfg string) *Cards {
		t.Helper()
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		m, c, err := LoadCards(path)
		if err != nil {
			t.Fatalf("LoadCards:\n%v", err)
		}
		if c.Title != m.Title || !c.Start.Equal(m.Start) || !c.End.Equal(m.End) {
			t.Errorf("cards %+v do not follow the manifest %+v", c, m)
		}
		return c
	}
	// Without time_zone and cards: UTC, no address, the default text.
	c := load(minimal)
	if c.Zone != time.UTC || c.URLs != nil || c.Instructions != DefaultInstructions(false) {
		t.Errorf("defaults: %+v", c)
	}
	if got, want := c.Period(), "from Friday 1 January 2027 08:00 to 18:00 UTC"; got != want {
		t.Errorf("Period = %q, want %q", got, want)
	}
	// Addresses without instructions: the default text points at them.
	c = load(cardsConfig("time_zone: Europe/Paris\ncards:\n  urls: [\"https://vote.example.org/\", \"http://127.0.0.1:8080/?lang=fr\"]\n"))
	if c.Zone.String() != "Europe/Paris" || len(c.URLs) != 2 || c.URLs[1] != "http://127.0.0.1:8080/?lang=fr" || c.Instructions != DefaultInstructions(true) {
		t.Errorf("urls: %+v", c)
	}
	if !strings.Contains(DefaultInstructions(true), "address above") || strings.Contains(DefaultInstructions(false), "address above") {
		t.Errorf("default instructions do not follow the addresses")
	}
	// Hostile but allowed text comes through as written.
	hostile := `Fill & sign <b>"here"</b> — it's \n literal; Ελλάδα, 東京, עברית`
	c = load(cardsConfig("cards:\n  instructions: |\n    " + hostile + "\n    second line\n"))
	if want := hostile + "\nsecond line"; c.Instructions != want {
		t.Errorf("instructions = %q, want %q", c.Instructions, want)
	}
}

func TestCardsProblems(t *testing.T) {
	for _, c := range []struct {
		name, extra, want string
	}{
		{"empty zone", "time_zone: \"\"\n", "f.yaml:5:12: time zone is empty; write an IANA time zone name such as Europe/Paris, or leave time_zone out for UTC"},
		{"local zone", "time_zone: Local\n", `f.yaml:5:12: time zone "Local" is this machine's zone, which another machine does not share; write the IANA name such as Europe/Paris`},
		{"zone path", "time_zone: ../../etc/passwd\n", `f.yaml:5:12: time zone "../../etc/passwd" is unknown: write an IANA time zone name such as Europe/Paris, America/New_York or UTC`},
		{"zone list", "time_zone: [Europe/Paris]\n", "f.yaml:5:12: time zone must be text, not a list"},
		{"long zone", "time_zone: " + strings.Repeat("a", 65) + "\n", "f.yaml:5:12: time zone is 65 bytes long, more than 64"},
		{"cards list", "cards: [x]\n", "f.yaml:5:8: cards must be a mapping of keys (urls, instructions), not a list"},
		{"url list", "cards: {urls: https://a.example/}\n", `f.yaml:5:15: cards: urls must be a list, not "https://a.example/"`},
		{"url space", "cards: {urls: [\"https://a.example/a b\"]}\n", `f.yaml:5:16: cards: url "https://a.example/a b" holds a space, a control or a non-ASCII character; write a host name in its ASCII (xn--) form and escape the rest with %XX`},
		{"url quote", "cards: {urls: ['https://a.example/\"x']}\n", `f.yaml:5:16: cards: url "https://a.example/\"x" holds '"', which a URL does not (RFC 3986); escape it as %22`},
		{"url angle", "cards: {urls: ['https://a.example/?<b>']}\n", `f.yaml:5:16: cards: url "https://a.example/?<b>" holds '<', which a URL does not (RFC 3986); escape it as %3C`},
		{"url script", "cards: {urls: [\"javascript:alert(1)\"]}\n", `f.yaml:5:16: cards: url "javascript:alert(1)" is not an absolute http:// or https:// address`},
		{"url bad port", "cards: {urls: [\"https://a.example:x/\"]}\n", `f.yaml:5:16: cards: url "https://a.example:x/" is not a URL`},
		{"empty instructions", "cards: {instructions: \" \"}\n", "f.yaml:5:23: cards: instructions are empty; leave the key out for the default instructions"},
		{"instruction lines", "cards:\n  instructions: \"1\\n2\\n3\\n4\\n5\\n6\\n7\"\n", "f.yaml:6:17: cards: instructions have 7 lines, more than 6"},
		{"instruction tab", "cards:\n  instructions: \"a\\tb\"\n", "f.yaml:6:17: cards: instructions hold a control character other than a line break"},
		{"instruction bidi", "cards:\n  instructions: \"vote at \\u202Egro.elpmaxe\"\n", "f.yaml:6:17: cards: instructions hold a Unicode direction control (U+202A–U+202E, U+2066–U+2069), which could make the printed text read otherwise than written"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(cardsConfig(c.extra)))
			if err == nil {
				t.Fatal("Parse accepted the file")
			}
			if got := err.Error(); got != c.want {
				t.Errorf("problems:\n got %s\nwant %s", got, c.want)
			}
		})
	}
}
