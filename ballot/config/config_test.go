package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
)

var update = flag.Bool("update", false, "rewrite the golden .err files of election-configs/broken")

// repoRoot is the repository root, relative to this package's directory.
const repoRoot = "../.."

// readConfig reads a file named relative to the repository root, so that the
// names in messages are the same whatever directory the test runs from.
func readConfig(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func configFiles(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, dir+"/"+filepath.Base(p))
	}
	return names
}

// TestExamples checks that every example configuration is valid.
func TestExamples(t *testing.T) {
	names := configFiles(t, "election-configs")
	if len(names) < 3 {
		t.Fatalf("found %d example configs, want at least 3", len(names))
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			m, err := Parse(name, readConfig(t, name))
			if err != nil {
				t.Fatalf("example does not validate:\n%v", err)
			}
			// The loaded manifest survives the canonical encoding.
			if _, err := ballot.DecodeManifestJSON(m.CanonicalJSON()); err != nil {
				t.Errorf("canonical round trip: %v", err)
			}
			checkAssignment(t, name, m)
		})
	}
}

// TestBroken checks the exact problems reported for every broken
// configuration against its golden .err file (go test -update rewrites them).
func TestBroken(t *testing.T) {
	names := configFiles(t, "election-configs/broken")
	if len(names) < 12 {
		t.Fatalf("found %d broken configs, want at least 12", len(names))
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			golden, err := filepath.Abs(filepath.Join(repoRoot, strings.TrimSuffix(name, ".yaml")+".err"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(name, readConfig(t, name))
			if err == nil {
				// The configuration is good; its problems are in its voter
				// list, which LoadAssignment reads. From the repository
				// root, so that the list's name is the same everywhere.
				t.Chdir(repoRoot)
				m, _, err = LoadAssignment(name)
			}
			var probs *Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Parse = %v, %v; want a *Problems error", m, err)
			}
			if m != nil {
				t.Errorf("Parse returned a manifest together with problems")
			}
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("problems of %s:\n--- got\n%s--- want\n%s", name, got, want)
			}
			for _, p := range probs.List {
				inDir := filepath.Dir(p.File) == filepath.Dir(name) || filepath.Dir(filepath.Dir(p.File)) == filepath.Dir(name)
				if !inDir || p.Line < 1 || p.Col < 1 || p.Msg == "" {
					t.Errorf("bad problem %+v", p)
				}
			}
		})
	}
}

// checkAssignment loads the example name (relative to the repository root)
// with LoadAssignment, and checks the assignment against the manifest m.
func checkAssignment(t *testing.T, name string, m *ballot.Manifest) {
	t.Helper()
	lm, a, err := LoadAssignment(filepath.Join(repoRoot, filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("LoadAssignment:\n%v", err)
	}
	if !bytes.Equal(lm.CanonicalJSON(), m.CanonicalJSON()) {
		t.Errorf("LoadAssignment's manifest differs from Parse's")
	}
	if m.Voters.CredentialRoll != nil {
		if a != nil {
			t.Errorf("an assignment %+v for a credential roll", a)
		}
		return
	}
	if len(a.Voters) != m.Voters.RollSize {
		t.Fatalf("%d voters, roll size %d", len(a.Voters), m.Voters.RollSize)
	}
	var styles []string
	for _, s := range m.BallotStyles() {
		styles = append(styles, s.ID)
	}
	var total uint64
	weighted := false
	for _, v := range a.Voters {
		if !slices.Contains(styles, v.Style) || v.Weight < 1 {
			t.Fatalf("bad voter %+v", v)
		}
		total += v.Weight
		weighted = weighted || v.Weight != 1
	}
	if total != a.TotalWeight || weighted != a.Weighted || total > credential.MaxTotalWeight {
		t.Errorf("total weight %d, weighted %v; the assignment says %d, %v", total, weighted, a.TotalWeight, a.Weighted)
	}
	if strings.Contains(string(readConfig(t, name)), "voter_list:") != (a.ListFile != "") {
		t.Errorf("list file %q", a.ListFile)
	}
}

const minimal = `election_id: tiny
title: Tiny
start: 2027-01-01T08:00:00Z
end: 2027-01-01T18:00:00Z
contests:
  - id: q
    title: Question
    rule: {kind: exactly, count: 1}
    selections:
      - {id: "yes", title: "Yes"}
      - {id: "no", title: "No"}
trustees:
  threshold: 1
  members:
    - {index: 1, name: T}
authorities:
  - {id: a, name: A}
officials:
  - {name: O, public_key: "ed25519:AgAc4WSN58H13WOl2yh1xUqfil6q2l1rslSi6yWI2i8="}
voters:
  roll_size: 10
`

func TestParse(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string // problem lines; none for a valid file
	}{
		{"minimal", minimal, nil},
		{"empty", "", []string{"f.yaml:1:1: file is empty: expected an election configuration (docs/election-config.md)"}},
		{"comment only", "# nothing\n", []string{"f.yaml:1:1: file is empty: expected an election configuration (docs/election-config.md)"}},
		{"scalar", "hello\n", []string{`f.yaml:1:1: the election configuration must be a mapping of keys (election_id, title, description, start, end, contests, styles, trustees, authorities, officials, voters, time_zone, cards), not "hello"`}},
		{"list", "- a\n", []string{"f.yaml:1:1: the election configuration must be a mapping of keys (election_id, title, description, start, end, contests, styles, trustees, authorities, officials, voters, time_zone, cards), not a list"}},
		{"two documents", minimal + "---\nx: 1\n", []string{`f.yaml:22:1: file holds more than one YAML document (after "---"); put one election in each file`}},
		{"alias", strings.Replace(minimal, "title: Tiny", "title: &t Tiny\ndescription: *t", 1), []string{
			"f.yaml:3:14: YAML alias *t is not supported here; write the value out"}},
		{"syntax", "a: [1\n", []string{"f.yaml:1:1: YAML syntax error: did not find expected ',' or ']'"}},
		{"offset time", strings.Replace(minimal, "08:00:00Z", "09:00:00+01:00", 1), nil},
		{"fraction", strings.Replace(minimal, "08:00:00Z", "08:00:00.5Z", 1), []string{
			"f.yaml:3:8: start time 2027-01-01T08:00:00.5Z has a fraction of a second; use whole seconds"}},
		{"duplicate key", strings.Replace(minimal, "title: Tiny\n", "title: Tiny\ntitle: Tiny\n", 1), []string{
			`f.yaml:3:1: the election configuration: key "title" appears twice (first at line 2)`}},
		{"null value", strings.Replace(minimal, "title: Tiny", "title:", 1), []string{
			"f.yaml:2:7: election title is empty"}},
		{"too large", strings.Repeat("#", MaxFileSize+1), []string{
			"f.yaml:1:1: file is larger than 1048576 bytes; an election configuration is much smaller"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse("f.yaml", []byte(c.in))
			if c.want == nil {
				if err != nil || m == nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted the file")
			}
			if got, want := err.Error(), strings.Join(c.want, "\n"); got != want {
				t.Errorf("problems:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	m, err := Parse("f.yaml", []byte(strings.Replace(minimal, "08:00:00Z", "09:00:00+01:00", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC); !m.Start.Equal(want) || m.Start.Location() != time.UTC {
		t.Errorf("Start = %v, want %v in UTC", m.Start, want)
	}
	c := m.Contests[0]
	if c.ID != "q" || c.Rule != (ballot.Rule{Kind: ballot.Exactly, Count: 1}) || len(c.Selections) != 2 || c.Selections[1].Title != "No" {
		t.Errorf("contest = %+v", c)
	}
	if m.Trustees.Threshold != 1 || m.Voters.RollSize != 10 || len(m.Officials[0].PublicKey) != 32 {
		t.Errorf("manifest = %+v", m)
	}
}

func TestLoad(t *testing.T) {
	m, err := Load(filepath.Join(repoRoot, "election-configs", "referendum.yaml"))
	if err != nil || m.ElectionID != "nordmark-referendum-2027" {
		t.Fatalf("Load = %v, %v", m, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"titel", "title", 2}, {"treshold", "threshold", 1}, {"abc", "", 3}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

// FuzzParse checks that no file makes Parse panic, that problems come with
// positions, and that whatever it accepts is a valid manifest.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	for _, dir := range []string{"election-configs", "election-configs/broken"} {
		paths, _ := filepath.Glob(filepath.Join(repoRoot, dir, "*.yaml"))
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("f.yaml", data)
		if err != nil {
			var probs *Problems
			if !errors.As(err, &probs) || len(probs.List) == 0 {
				t.Fatalf("error is not a non-empty *Problems: %v", err)
			}
			for _, p := range probs.List {
				if p.Line < 1 || p.Col < 1 {
					t.Fatalf("problem without a position: %+v", p)
				}
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted an invalid manifest: %v", err)
		}
	})
}
