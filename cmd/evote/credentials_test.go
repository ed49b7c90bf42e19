package main

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	stdhtml "html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/ballot/credential"
)

// TestCredentialsGenerateFiles checks what the scripts cannot: file modes,
// that every code of codes.csv derives a key of the roll, that the printed
// hashes are the roll's, and that no code reaches the output.
func TestCredentialsGenerateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := run([]string{"evote", "credentials", "generate", "--election-id", "demo-2026", "--count", "4",
		"--out", dir, "--kdf-memory", "64", "--kdf-time", "1", "--workers", "2"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for name, want := range map[string]os.FileMode{"roll.json": 0o644, "codes.csv": 0o600, "codes.html": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode: %v %v", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	roll, err := credential.Load(filepath.Join(dir, "roll.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := roll.Hash()
	if !strings.Contains(stdout.String(), "Roll hash:         "+hex.EncodeToString(h[:])) {
		t.Errorf("summary does not give the roll hash %x:\n%s", h, stdout.String())
	}
	f, err := os.ReadFile(filepath.Join(dir, "codes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("codes.csv: %d rows, %v", len(rows), err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "codes.html"))
	for i, row := range rows[1:] {
		c, err := credential.ParseCode(row[1])
		if err != nil {
			t.Fatal(err)
		}
		cred, err := credential.Derive(c, "demo-2026", credential.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := roll.Index(cred.PublicKey()); !ok || !cardNumber.MatchString(row[0]) || (i > 0 && rows[i][0] >= row[0]) {
			t.Errorf("card %s (line %d): key on the roll %v, or the cards are not in card-number order", row[0], i+2, ok)
		}
		out := stdout.String() + stderr.String()
		if strings.Contains(out, row[1]) || strings.Contains(out, row[1][:9]) {
			t.Errorf("a code reached the output")
		}
		if !bytes.Contains(html, []byte(`<p class="code">`+row[1]+`</p>`)) {
			t.Errorf("codes.html lacks the card of voter %s", row[0])
		}
	}

	// roll-hash prints the same hash.
	stdout.Reset()
	if code := run([]string{"evote", "credentials", "roll-hash", filepath.Join(dir, "roll.json")}, &stdout, &stderr); code != 0 ||
		stdout.String() != hex.EncodeToString(h[:])+"\n" {
		t.Errorf("roll-hash: exit %d, %q", code, stdout.String())
	}

	// --force replaces a private file that had looser permissions, with mode 0600.
	os.Chmod(filepath.Join(dir, "codes.csv"), 0o644)
	stdout.Reset()
	if code := run([]string{"evote", "credentials", "generate", "--election-id", "demo-2026", "--count", "1",
		"--out", dir, "--kdf-memory", "64", "--kdf-time", "1", "--force"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr.String())
	}
	if fi, _ := os.Stat(filepath.Join(dir, "codes.csv")); fi.Mode().Perm() != 0o600 {
		t.Errorf("codes.csv after --force has mode %v", fi.Mode().Perm())
	}
}

// cardNumber is the form of a card number: ten random digits.
var cardNumber = regexp.MustCompile(`^[0-9]{5}-[0-9]{5}$`)

// TestCredentialsCardsUnlinkable: nothing that an official, a printer or a
// postman sees of a card without reading its code links it to a place on the
// public roll. The cards carry only the election id, the code and a random
// card number; the files list them in card-number order; the roll is sorted
// by key, not in the order the codes were made. With the old "Voter N" cards
// (N-1 the key's place on the roll) and a roll in generation order, every
// check fails.
func TestCredentialsCardsUnlinkable(t *testing.T) {
	const n = 16
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"evote", "credentials", "generate", "--election-id", "demo-2026", "--count", strconv.Itoa(n),
		"--out", dir, "--kdf-memory", "64", "--kdf-time", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	roll, err := credential.Load(filepath.Join(dir, "roll.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if bytes.Compare(roll.Key(i-1), roll.Key(i)) >= 0 {
			t.Fatalf("roll.json: keys %d and %d are not in ascending order: the roll shows the order of generation", i-1, i)
		}
	}
	csvData, _ := os.ReadFile(filepath.Join(dir, "codes.csv"))
	rows, err := csv.NewReader(bytes.NewReader(csvData)).ReadAll()
	if err != nil || len(rows) != n+1 || rows[0][0] != "card" || rows[0][1] != "code" {
		t.Fatalf("codes.csv: %d rows, header %v, %v", len(rows), rows[0], err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "codes.html"))
	sections := regexp.MustCompile(`(?s)<section class="card">.*?</section>`).FindAllString(string(html), -1)
	if len(sections) != n {
		t.Fatalf("codes.html has %d cards, want %d", len(sections), n)
	}
	inOrder := 0
	var template string
	for i, row := range rows[1:] {
		number, text := row[0], row[1]
		c, err := credential.ParseCode(text)
		if err != nil {
			t.Fatal(err)
		}
		cred, err := credential.Derive(c, "demo-2026", credential.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		pos, ok := roll.Index(cred.PublicKey())
		if !ok {
			t.Fatalf("card %s: key not on the roll", number)
		}
		if pos == i {
			inOrder++
		}
		if !cardNumber.MatchString(number) {
			t.Fatalf("card number %q is not ten digits", number)
		}
		// The card number is not the roll position, counted from 0 or 1.
		if v, _ := strconv.Atoi(strings.ReplaceAll(number, "-", "")); v == pos || v == pos+1 {
			t.Errorf("card %s is numbered by its key's place %d on the roll", number, pos)
		}
		// The i-th card printed is the i-th line, and apart from its number
		// and code it is the same as every other card: it carries nothing
		// else that could be matched to the roll.
		sec := sections[i]
		if !strings.Contains(sec, "Card "+number) || !strings.Contains(sec, `<p class="code">`+text+`</p>`) {
			t.Fatalf("card %d of codes.html is not line %d of codes.csv:\n%s", i, i+2, sec)
		}
		rest := strings.Replace(strings.Replace(sec, text, "CODE", 1), number, "NUMBER", 1)
		if template == "" {
			template = rest
		} else if rest != template {
			t.Fatalf("card %s differs from the others in more than its number and code:\n%s\nvs\n%s", number, rest, template)
		}
		for _, s := range []string{"Voter", strconv.Itoa(pos), strconv.Itoa(pos + 1)} {
			if regexp.MustCompile(`\b` + s + `\b`).MatchString(rest) {
				t.Errorf("card %s carries %q (its key is at %d on the roll):\n%s", number, s, pos, rest)
			}
		}
	}
	if inOrder == n {
		t.Error("the n-th card holds the code of the n-th key of the roll: the files list the cards in roll order")
	}
	// Nothing printed links a card number to a place on the roll.
	for _, row := range rows[1:] {
		if out := stdout.String() + stderr.String(); strings.Contains(out, row[0]) || strings.Contains(out, row[1]) {
			t.Errorf("the output names card %s or its code:\n%s", row[0], out)
		}
	}
	// No other file is written: in particular no list from card to roll
	// position.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("the output folder holds %d files, want roll.json, codes.csv, codes.html", len(entries))
	}
}

// TestCredentialsGenerateWeighted: with --config, each voter of the voter
// list gets a code whose key is on the roll with the voter's ballot style
// and weight, and a card that says both.
func TestCredentialsGenerateWeighted(t *testing.T) {
	for _, cfg := range []string{"general-assembly-weighted.yaml", "municipal-voter-list.yaml"} {
		t.Run(cfg, func(t *testing.T) {
			path := filepath.Join("..", "..", "election-configs", cfg)
			m, a, err := config.LoadAssignment(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			var stdout, stderr bytes.Buffer
			if code := run([]string{"evote", "credentials", "generate", "--config", path, "--out", dir, "--kdf-memory", "64", "--kdf-time", "1"}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if !strings.Contains(stdout.String(), fmt.Sprintf("total weight %d", a.TotalWeight)) {
				t.Errorf("the summary does not give the total weight %d:\n%s", a.TotalWeight, stdout.String())
			}
			roll, err := credential.Load(filepath.Join(dir, "roll.json"))
			if err != nil {
				t.Fatal(err)
			}
			if roll.Len() != len(a.Voters) || roll.Header().TotalWeight != a.TotalWeight {
				t.Fatalf("roll of %d entries of weight %d, want %d of %d", roll.Len(), roll.Header().TotalWeight, len(a.Voters), a.TotalWeight)
			}
			csvData, _ := os.ReadFile(filepath.Join(dir, "codes.csv"))
			rows, err := csv.NewReader(bytes.NewReader(csvData)).ReadAll()
			if err != nil || len(rows) != len(a.Voters)+1 || strings.Join(rows[0], ",") != "card,code,voter,style,weight" {
				t.Fatalf("codes.csv: %d rows, header %v, %v", len(rows), rows[0], err)
			}
			want := map[string]config.Voter{}
			for _, v := range a.Voters {
				want[v.Label] = v
			}
			html, _ := os.ReadFile(filepath.Join(dir, "codes.html"))
			for _, row := range rows[1:] {
				v, ok := want[row[2]]
				if !ok || row[3] != v.Style || row[4] != strconv.FormatUint(v.Weight, 10) {
					t.Fatalf("codes.csv line %v is not a voter of the list", row)
				}
				c, err := credential.ParseCode(row[1])
				if err != nil {
					t.Fatal(err)
				}
				cred, err := credential.Derive(c, m.ElectionID, credential.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})
				if err != nil {
					t.Fatal(err)
				}
				e, ok := roll.Lookup(cred.PublicKey())
				if !ok || e.Style != v.Style || e.Weight != v.Weight {
					t.Fatalf("voter %q: roll entry %+v, %v; want style %q weight %d", v.Label, e, ok, v.Style, v.Weight)
				}
				if v.Weight != 1 && !strings.Contains(string(html), fmt.Sprintf("Your vote counts %d times (weight %d).", v.Weight, v.Weight)) {
					t.Fatalf("no card says the weight %d of %q", v.Weight, v.Label)
				}
				if len(m.BallotStyles()) > 1 && !strings.Contains(string(html), "Ballot: "+v.Style) {
					t.Fatalf("no card says the style %q", v.Style)
				}
			}
		})
	}
}

// TestCredentialsCardsSay: a card gives the election's title, the voting
// addresses, the voting period in the election's time zone and the
// instructions of the configuration, every hostile character of them
// escaped in codes.html and read back literally.
func TestCredentialsCardsSay(t *testing.T) {
	for _, c := range []struct {
		cfg, period string
	}{
		{"hostile-names.yaml", "from Friday 1 January 2027 09:00 to Saturday 2 January 2027 09:00 JST (UTC+9)"},
		{"general-assembly-weighted.yaml", "from Monday 1 March 2027 09:00 to Monday 15 March 2027 18:00 CET (UTC+1)"},
	} {
		t.Run(c.cfg, func(t *testing.T) {
			path := filepath.Join("..", "..", "election-configs", c.cfg)
			m, settings, err := config.LoadCards(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := settings.Period(); got != c.period {
				t.Fatalf("period %q, want %q", got, c.period)
			}
			dir := filepath.Join(t.TempDir(), "out")
			var stdout, stderr bytes.Buffer
			if code := run([]string{"evote", "credentials", "generate", "--config", path, "--out", dir, "--kdf-memory", "64", "--kdf-time", "1"}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			data, _ := os.ReadFile(filepath.Join(dir, "codes.html"))
			page := string(data)
			// What the page shows, each part read back as text.
			texts := func(re string) []string {
				var out []string
				for _, sm := range regexp.MustCompile(re).FindAllStringSubmatch(page, -1) {
					if strings.ContainsAny(sm[1], `<>"'`) {
						t.Errorf("unescaped markup or quote in %q", sm[1])
					}
					out = append(out, stdhtml.UnescapeString(sm[1]))
				}
				return out
			}
			sections := regexp.MustCompile(`(?s)<section class="card">.*?</section>`).FindAllString(page, -1)
			if len(sections) != m.Voters.RollSize {
				t.Fatalf("%d cards, want %d", len(sections), m.Voters.RollSize)
			}
			want := map[string][]string{
				`<title>(.*?)</title>`:                 {"Credential codes: " + m.Title + " (" + m.ElectionID + ") (PRIVATE)"},
				`<strong class="title">(.*?)</strong>`: {m.Title},
				`<span class="url">(.*?)</span>`:       settings.URLs,
				`<p class="when">(.*?)</p>`:            {"Voting is open " + c.period + "."},
				`(?s)<p class="how">(.*?)</p>`:         {settings.Instructions},
			}
			for re, parts := range want {
				got := texts(re)
				if len(got) != len(parts)*len(sections) && !(re == `<title>(.*?)</title>` && len(got) == 1) {
					t.Fatalf("%s: %d matches, want %d per card", re, len(got), len(parts))
				}
				for i, g := range got {
					if w := parts[i%len(parts)]; g != w {
						t.Errorf("%s: shows %q, want %q", re, g, w)
					}
				}
			}
			if len(settings.URLs) == 0 || len(settings.Instructions) == 0 {
				t.Fatalf("the example gives no addresses or no instructions: %+v", settings)
			}
		})
	}
	// Without a configuration a card has the default instructions and no
	// period or address.
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"evote", "credentials", "generate", "--election-id", "demo-2026", "--count", "1", "--out", dir, "--kdf-memory", "64", "--kdf-time", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, _ := os.ReadFile(filepath.Join(dir, "codes.html"))
	if page := string(data); !strings.Contains(page, stdhtml.EscapeString(config.DefaultInstructions(false))) ||
		strings.Contains(page, `class="when"`) || strings.Contains(page, `class="url"`) || !strings.Contains(page, `<strong class="title">Election demo-2026</strong>`) {
		t.Errorf("card without a configuration:\n%s", page)
	}
}
