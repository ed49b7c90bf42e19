package ballot

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/crypto"
)

// testManifest returns a fixed, valid manifest. Its canonical JSON and hash
// are known answers below: do not change it.
func testManifest() *Manifest {
	off1 := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey)
	off2 := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32)).Public().(ed25519.PublicKey)
	tk := crypto.EncodePoint(crypto.BaseMul(crypto.ScalarFromUint64(7)))
	return &Manifest{
		ElectionID:  "lakeside-2026",
		Title:       "Lakeside Town Election 2026",
		Description: "Town council and one ballot measure.\n\"Vote\" early.",
		Start:       time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC),
		End:         time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC),
		Contests: []Contest{
			{
				ID: "mayor", Title: "Mayor", Rule: Rule{Kind: Exactly, Count: 1},
				Selections: []Selection{{"ada-lind", "Ada Lind"}, {"bo-kerr", "Bo Kerr"}, {"cy-ortiz", "Cy Ortiz"}},
			},
			{
				ID: "council", Title: "Town Council", Description: "Three seats.", Rule: Rule{Kind: UpTo, Max: 2},
				Selections: []Selection{{"dee", "Dee Park"}, {"eli", "Eli Novak"}, {"fay", "Fay Ueda"}},
			},
			{
				ID: "measure-1", Title: "Measure 1: Library bond", Rule: Rule{Kind: Range, Min: 0, Max: 1},
				Selections: []Selection{{"yes", "Yes"}, {"no", "No"}},
			},
			{
				ID: "parks", Title: "Parks committee (approve any)", Rule: Rule{Kind: Approval},
				Selections: []Selection{{"gus", "Gus Åberg"}, {"hal", "Hal Øst"}},
			},
		},
		Styles: []Style{
			{ID: "north", Contests: []string{"mayor", "council", "measure-1"}},
			{ID: "south", Contests: []string{"mayor", "parks"}},
		},
		Trustees: Trustees{Threshold: 2, Members: []Trustee{
			{Index: 1, Name: "Ines Ruiz", PublicKey: tk[:]},
			{Index: 2, Name: "Jon Baker"},
			{Index: 3, Name: "Kai Moreau"},
		}},
		Authorities: []Authority{{"town-clerk", "Lakeside Town Clerk"}, {"league", "League of Voters, Lakeside"}},
		Officials:   []Official{{"Lee Chen", off1}, {"Mia Patel", off2}},
		Voters:      Voters{RollSize: 4210},
	}
}

// The canonical form of testManifest, and its hash. If either changes, every
// stored manifest hash changes: that needs a new hash tag, not a new answer.
const (
	knownCanonicalJSON = `{"authorities":[{"id":"town-clerk","name":"Lakeside Town Clerk"},{"id":"league","name":"League of Voters, Lakeside"}],` +
		`"contests":[{"id":"mayor","rule":{"count":1,"kind":"exactly"},"selections":[{"id":"ada-lind","title":"Ada Lind"},{"id":"bo-kerr","title":"Bo Kerr"},{"id":"cy-ortiz","title":"Cy Ortiz"}],"title":"Mayor"},` +
		`{"description":"Three seats.","id":"council","rule":{"kind":"up-to","max":2},"selections":[{"id":"dee","title":"Dee Park"},{"id":"eli","title":"Eli Novak"},{"id":"fay","title":"Fay Ueda"}],"title":"Town Council"},` +
		`{"id":"measure-1","rule":{"kind":"range","max":1,"min":0},"selections":[{"id":"yes","title":"Yes"},{"id":"no","title":"No"}],"title":"Measure 1: Library bond"},` +
		`{"id":"parks","rule":{"kind":"approval"},"selections":[{"id":"gus","title":"Gus Åberg"},{"id":"hal","title":"Hal Øst"}],"title":"Parks committee (approve any)"}],` +
		`"description":"Town council and one ballot measure.\n\"Vote\" early.",` +
		`"election_id":"lakeside-2026","end":"2026-03-01T20:00:00Z",` +
		`"officials":[{"name":"Lee Chen","public_key":"ed25519:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w="},{"name":"Mia Patel","public_key":"ed25519:gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q="}],` +
		`"start":"2026-03-01T08:00:00Z",` +
		`"styles":[{"contests":["mayor","council","measure-1"],"id":"north"},{"contests":["mayor","parks"],"id":"south"}],` +
		`"title":"Lakeside Town Election 2026",` +
		`"trustees":{"members":[{"index":1,"name":"Ines Ruiz","public_key":"ristretto255:RPU1IJJuyB+9Wjh4Rb6334WpaiTs4Yc4vc+mp4IqF20="},{"index":2,"name":"Jon Baker"},{"index":3,"name":"Kai Moreau"}],"threshold":2},` +
		`"voters":{"roll_size":4210}}`
	knownHash = "6ee45e35b47815a39cb17f4ba30b7a932e0960834105d08d2b59296c2614dee0"
)

func TestManifestKnownAnswer(t *testing.T) {
	m := testManifest()
	if err := m.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	got := m.CanonicalJSON()
	if string(got) != knownCanonicalJSON {
		t.Errorf("CanonicalJSON:\n got %s\nwant %s", got, knownCanonicalJSON)
	}
	h := m.Hash()
	if hex.EncodeToString(h[:]) != knownHash {
		t.Errorf("Hash = %x, want %s", h, knownHash)
	}
	// The hash is the length-prefixed SHA-256 of docs/spec-manifest.md,
	// spelled out here without the crypto package.
	var in []byte
	for _, part := range [][]byte{[]byte(ManifestHashTag), got} {
		n := uint64(len(part))
		in = append(in, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		in = append(in, part...)
	}
	if sha256.Sum256(in) != h {
		t.Errorf("Hash is not SHA-256(len(tag) ‖ tag ‖ len(json) ‖ json)")
	}
}

func TestCanonicalJSONRoundTrip(t *testing.T) {
	manifests := map[string]*Manifest{"test": testManifest()}
	m := testManifest()
	m.Styles = nil
	m.Description = ""
	m.Voters = Voters{CredentialRoll: &CredentialRoll{File: "rolls/lakeside.json", SHA256: sha256.Sum256([]byte("roll"))}}
	manifests["no-styles-credential-roll"] = m
	for name, m := range manifests {
		t.Run(name, func(t *testing.T) {
			enc := m.CanonicalJSON()
			dec, err := DecodeManifestJSON(enc)
			if err != nil {
				t.Fatalf("DecodeManifestJSON: %v", err)
			}
			if !reflect.DeepEqual(dec, m) {
				t.Errorf("decode(encode(m)) != m\n got %#v\nwant %#v", dec, m)
			}
			if re := dec.CanonicalJSON(); !bytes.Equal(re, enc) {
				t.Errorf("re-encoding differs:\n got %s\nwant %s", re, enc)
			}
			if dec.Hash() != m.Hash() {
				t.Errorf("hash differs after round trip")
			}
		})
	}
}

func TestDecodeManifestJSONRejectsNonCanonical(t *testing.T) {
	enc := string(testManifest().CanonicalJSON())
	const nonCanonical = "ballot: manifest JSON is not in canonical form"
	// Each case, and the error it must give: the first wrong member, by its
	// path, or the canonical form.
	cases := map[string]struct{ in, want string }{
		"whitespace":        {strings.Replace(enc, `{"authorities"`, `{ "authorities"`, 1), nonCanonical},
		"trailing newline":  {enc + "\n", nonCanonical},
		"trailing data":     {enc + "{}", "ballot: manifest JSON: syntax error at byte 1594: data after the value"},
		"key order":         {strings.Replace(enc, `{"id":"town-clerk","name":"Lakeside Town Clerk"}`, `{"name":"Lakeside Town Clerk","id":"town-clerk"}`, 1), nonCanonical},
		"unknown key":       {strings.Replace(enc, `"title":"Mayor"}`, `"title":"Mayor","x":1}`, 1), `ballot: manifest JSON: contests[0]: unknown field "x"`},
		"unknown top key":   {strings.Replace(enc, `{"authorities"`, `{"a":{},"authorities"`, 1), `ballot: manifest JSON: unknown field "a"`},
		"duplicate key":     {strings.Replace(enc, `"title":"Mayor"}`, `"title":"Mayor","title":"Mayor"}`, 1), `ballot: manifest JSON: syntax error at byte 320: duplicate member name "title"`},
		"case-folded key":   {strings.Replace(enc, `"title":"Mayor"}`, `"Title":"Mayor"}`, 1), "ballot: manifest JSON: contests[0].title: missing"},
		"missing member":    {strings.Replace(enc, `{"id":"yes",`, `{`, 1), "ballot: manifest JSON: contests[2].selections[0].id: missing"},
		"wrong type":        {strings.Replace(enc, `{"id":"no"`, `{"id":7`, 1), "ballot: manifest JSON: contests[2].selections[1].id: want a string, got a number"},
		"null member":       {strings.Replace(enc, `"threshold":2`, `"threshold":null`, 1), "ballot: manifest JSON: trustees.threshold: want an integer, got null"},
		"needless escape":   {strings.Replace(enc, `"Mayor"`, `"M\u0061yor"`, 1), nonCanonical},
		"escaped solidus":   {strings.Replace(enc, `"Mayor"`, `"Mayor\/"`, 1), nonCanonical},
		"time offset":       {strings.Replace(enc, `"2026-03-01T08:00:00Z"`, `"2026-03-01T09:00:00+01:00"`, 1), `ballot: manifest JSON: start: "2026-03-01T09:00:00+01:00" is not an RFC 3339 UTC time`},
		"time fraction":     {strings.Replace(enc, `"2026-03-01T08:00:00Z"`, `"2026-03-01T08:00:00.000Z"`, 1), `start: "2026-03-01T08:00:00.000Z" is not an RFC 3339 UTC time`},
		"number form":       {strings.Replace(enc, `"roll_size":4210`, `"roll_size":4.21e3`, 1), "ballot: manifest JSON: voters.roll_size: want an integer, got 4.21e3"},
		"leading zero":      {strings.Replace(enc, `"threshold":2`, `"threshold":02`, 1), "leading zero in a number"},
		"overflow":          {strings.Replace(enc, `"threshold":2`, `"threshold":9223372036854775808`, 1), "trustees.threshold: want an integer of at most 64 bits"},
		"empty description": {strings.Replace(enc, `{"id":"mayor"`, `{"description":"","id":"mayor"`, 1), nonCanonical},
		"null styles":       {strings.Replace(enc, `"styles":[{"contests":["mayor","council","measure-1"],"id":"north"},{"contests":["mayor","parks"],"id":"south"}]`, `"styles":null`, 1), nonCanonical},
		"null key":          {strings.Replace(enc, `{"index":2,"name":"Jon Baker"}`, `{"index":2,"name":"Jon Baker","public_key":null}`, 1), "trustees.members[1].public_key: want a string, got null"},
		"key padding":       {strings.Replace(enc, `iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=`, `iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w`, 1), `ballot: manifest JSON: officials[0].public_key: Ed25519 public key "ed25519:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w" is not valid standard base64`},
		"roll sha256":       {strings.Replace(enc, `"voters":{"roll_size":4210}`, `"voters":{"credential_roll":{"file":"r","sha256":"00"},"roll_size":4210}`, 1), `voters.credential_roll.sha256: "00" is not 64 hex digits`},
		"invalid utf-8":     {strings.Replace(enc, `"Mayor"`, "\"May\xffor\"", 1), "invalid UTF-8 in a string"},
		"lone surrogate":    {strings.Replace(enc, `"Mayor"`, `"May\udc00or"`, 1), "lone surrogate"},
		"not an object":     {`[]`, "ballot: manifest JSON: want an object, got an array"},
		"empty":             {``, "ballot: manifest JSON: syntax error at byte 0: unexpected EOF"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.in == enc {
				t.Fatal("test case did not change the encoding")
			}
			m, err := DecodeManifestJSON([]byte(tc.in))
			if err == nil {
				t.Fatalf("DecodeManifestJSON accepted %s: %+v", tc.in, m)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DecodeManifestJSON: %v, want %q", err, tc.want)
			}
		})
	}
	// A canonical but invalid manifest is rejected by validation.
	m := testManifest()
	m.Trustees.Threshold = 4
	if _, err := DecodeManifestJSON(m.CanonicalJSON()); err == nil || !strings.Contains(err.Error(), "threshold 4") {
		t.Errorf("DecodeManifestJSON of an invalid manifest: err = %v", err)
	}
}

func TestWriteJSONString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `""`},
		{"a\"b\\c/", `"a\"b\\c/"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f\""},
		{"€\u2028😀", "\"€\u2028😀\""},
		{"bad\xff", "\"bad\uFFFD\""},
	}
	for _, c := range cases {
		var b bytes.Buffer
		writeJSONString(&b, c.in)
		if b.String() != c.want {
			t.Errorf("writeJSONString(%q) = %s, want %s", c.in, b.String(), c.want)
		}
	}
}

func TestCompareUTF16(t *testing.T) {
	// U+FF61 sorts after U+1F600 in code points and UTF-8, but before it in
	// UTF-16 code units (0xFF61 > 0xD83D): RFC 8785 §3.2.3.
	if compareUTF16("\U0001F600", "\uff61") >= 0 {
		t.Error("U+1F600 must sort before U+FF61 by UTF-16 code units")
	}
	var b bytes.Buffer
	writeJSON(&b, obj{"b": 1, "a": 2, "\uff61": 3, "\U0001F600": 4, "aa": []any{"x", obj{}}})
	if want := "{\"a\":2,\"aa\":[\"x\",{}],\"b\":1,\"\U0001F600\":4,\"\uff61\":3}"; b.String() != want {
		t.Errorf("writeJSON = %s, want %s", b.String(), want)
	}
}

func TestSelectionBounds(t *testing.T) {
	sel := []Selection{{"a", "A"}, {"b", "B"}, {"c", "C"}, {"d", "D"}}
	cases := []struct {
		rule     Rule
		min, max int
		words    string
	}{
		{Rule{Kind: Exactly, Count: 1}, 1, 1, "choose exactly 1 of 4"},
		{Rule{Kind: Exactly, Count: 2}, 2, 2, "choose exactly 2 of 4"},
		{Rule{Kind: UpTo, Max: 3}, 0, 3, "choose up to 3 of 4"},
		{Rule{Kind: Range, Min: 1, Max: 3}, 1, 3, "choose from 1 to 3 of 4"},
		{Rule{Kind: Range, Min: 2, Max: 2}, 2, 2, "choose exactly 2 of 4"},
		{Rule{Kind: Approval}, 0, 4, "approve any number of the 4"},
		{Rule{Kind: "pick"}, 0, 0, `unknown rule "pick"`},
	}
	for _, c := range cases {
		ct := &Contest{ID: "x", Title: "X", Rule: c.rule, Selections: sel}
		if ct.MinSelections() != c.min || ct.MaxSelections() != c.max {
			t.Errorf("%v: bounds [%d,%d], want [%d,%d]", c.rule, ct.MinSelections(), ct.MaxSelections(), c.min, c.max)
		}
		if got := ct.Instructions(); got != c.words {
			t.Errorf("%v: Instructions() = %q, want %q", c.rule, got, c.words)
		}
	}
}

func TestValidateProblems(t *testing.T) {
	cases := []struct {
		name   string
		modify func(m *Manifest)
		// want holds one "path: message" per expected problem, in order.
		want []string
	}{
		{"bad election id", func(m *Manifest) { m.ElectionID = "Lakeside 2026" },
			[]string{`election_id: election id "Lakeside 2026" is not valid: use 1 to 64 lowercase letters, digits and '-'`}},
		{"long election id", func(m *Manifest) { m.ElectionID = strings.Repeat("a", 65) },
			[]string{`election_id: election id "` + strings.Repeat("a", 65) + `" is not valid: use 1 to 64 lowercase letters, digits and '-'`}},
		{"empty title", func(m *Manifest) { m.Title = " " }, []string{`title: election title is empty`}},
		{"title line break", func(m *Manifest) { m.Title = "a\nb" }, []string{`title: election title "a\nb" holds a control character or line break`}},
		{"window", func(m *Manifest) { m.End = m.Start }, []string{
			`end: voting window ends at 2026-03-01T08:00:00Z, which is not after its start at 2026-03-01T08:00:00Z`}},
		{"fraction", func(m *Manifest) { m.Start = m.Start.Add(time.Millisecond) }, []string{
			`start: start time 2026-03-01T08:00:00.001Z has a fraction of a second; use whole seconds`}},
		{"missing time", func(m *Manifest) { m.Start = time.Time{} }, []string{`start: start time is missing`}},
		{"no contests", func(m *Manifest) { m.Contests = nil; m.Styles = nil }, []string{`contests: no contests: an election needs at least one`}},
		{"duplicate contest", func(m *Manifest) { m.Contests[1].ID = "mayor" }, []string{
			`contests[1].id: contest id "mayor" appears twice (first at contests[0].id)`,
			`styles[0].contests[1]: ballot style "north": unknown contest "council"`}},
		{"duplicate selection", func(m *Manifest) { m.Contests[0].Selections[2].ID = "ada-lind" }, []string{
			`contests[0].selections[2].id: contest "mayor": selection id "ada-lind" appears twice (first at contests[0].selections[0].id)`}},
		{"empty contest", func(m *Manifest) { m.Contests[0].Selections = nil }, []string{`contests[0].selections: contest "mayor": no selections`}},
		{"exactly too many", func(m *Manifest) { m.Contests[0].Rule.Count = 4 }, []string{
			`contests[0].rule.count: contest "mayor": rule "exactly 4" allows 4 selections, but the contest has only 3`}},
		{"exactly all", func(m *Manifest) { m.Contests[0].Rule.Count = 3 }, []string{
			`contests[0].rule.count: contest "mayor": rule "exactly 3" with 3 selections forces the voter to mark every one`}},
		{"exactly one of one", func(m *Manifest) { m.Contests[0].Selections = m.Contests[0].Selections[:1] }, []string{
			`contests[0].rule.count: contest "mayor": rule "exactly 1" with only one selection forces the voter to mark it; add selections or use "up-to 1"`}},
		{"up-to 1 of one is fine", func(m *Manifest) {
			m.Contests[1].Selections = m.Contests[1].Selections[:1]
			m.Contests[1].Rule.Max = 1
		}, nil},
		{"exactly zero", func(m *Manifest) { m.Contests[0].Rule.Count = 0 }, []string{`contests[0].rule.count: contest "mayor": rule "exactly 0": count must be at least 1`}},
		{"up-to too many", func(m *Manifest) { m.Contests[1].Rule.Max = 5 }, []string{
			`contests[1].rule.max: contest "council": rule "up-to 5" allows 5 selections, but the contest has only 3`}},
		{"range min > max", func(m *Manifest) { m.Contests[2].Rule = Rule{Kind: Range, Min: 2, Max: 1} }, []string{
			`contests[2].rule.min: contest "measure-1": rule "range 2 to 1": min 2 is larger than max 1`}},
		{"range negative", func(m *Manifest) { m.Contests[2].Rule.Min = -1 }, []string{
			`contests[2].rule.min: contest "measure-1": rule "range -1 to 1": min must not be negative`}},
		{"unused field", func(m *Manifest) { m.Contests[3].Rule.Max = 2 }, []string{`contests[3].rule.max: contest "parks": rule "approval" does not use max (it is 2)`}},
		{"unknown rule", func(m *Manifest) { m.Contests[3].Rule.Kind = "ranked" }, []string{
			`contests[3].rule.kind: contest "parks": unknown rule kind "ranked"; use exactly, up-to, range or approval`}},
		{"style unknown contest", func(m *Manifest) { m.Styles[1].Contests = append(m.Styles[1].Contests, "sheriff") }, []string{
			`styles[1].contests[2]: ballot style "south": unknown contest "sheriff"`}},
		{"style empty", func(m *Manifest) { m.Styles[1].Contests = nil }, []string{
			`styles[1].contests: ballot style "south": no contests`,
			`contests[3].id: contest "parks" is in no ballot style, so no voter would see it`}},
		{"style duplicate", func(m *Manifest) { m.Styles[1].ID = "north" }, []string{`styles[1].id: ballot style id "north" appears twice (first at styles[0].id)`}},
		{"threshold zero", func(m *Manifest) { m.Trustees.Threshold = 0 }, []string{`trustees.threshold: trustee threshold 0 must be at least 1`}},
		{"threshold > n", func(m *Manifest) { m.Trustees.Threshold = 4 }, []string{
			`trustees.threshold: trustee threshold 4 is larger than the number of trustees, 3`}},
		{"trustee index", func(m *Manifest) { m.Trustees.Members[2].Index = 4 }, []string{
			`trustees.members[2].index: trustee "Kai Moreau": index 4, expected 3 (trustee indices run 1, 2, … n in order)`}},
		{"trustee name", func(m *Manifest) { m.Trustees.Members[2].Name = "Jon Baker" }, []string{
			`trustees.members[2].name: trustee name "Jon Baker" appears twice (first at trustees.members[1].name)`}},
		{"trustee key", func(m *Manifest) { m.Trustees.Members[1].PublicKey = make([]byte, 32) }, []string{
			`trustees.members[1].public_key: trustee "Jon Baker": public key is not a valid ristretto255 point`}},
		{"no authorities", func(m *Manifest) { m.Authorities = nil }, []string{`authorities: no authorities: at least one organisation must run a node`}},
		{"duplicate authority", func(m *Manifest) { m.Authorities[1].ID = "town-clerk" }, []string{
			`authorities[1].id: authority id "town-clerk" appears twice (first at authorities[0].id)`}},
		{"no officials", func(m *Manifest) { m.Officials = nil }, []string{`officials: no officials: at least one official key must sign the election definition`}},
		{"official key length", func(m *Manifest) { m.Officials[0].PublicKey = m.Officials[0].PublicKey[:31] }, []string{
			`officials[0].public_key: official "Lee Chen": Ed25519 public key is 31 bytes, want 32`}},
		{"official key twice", func(m *Manifest) { m.Officials[1].PublicKey = m.Officials[0].PublicKey }, []string{
			`officials[1].public_key: official "Mia Patel": same public key as official "Lee Chen" (first at officials[0].public_key)`}},
		{"roll size", func(m *Manifest) { m.Voters.RollSize = 0 }, []string{`voters.roll_size: voter roll size 0 must be at least 1`}},
		{"roll both", func(m *Manifest) { m.Voters.CredentialRoll = &CredentialRoll{File: "x", SHA256: [32]byte{1}} }, []string{
			`voters: voters: give roll_size or credential_roll, not both`}},
		{"several", func(m *Manifest) { m.Title = ""; m.Authorities = nil; m.Voters.RollSize = -1 }, []string{
			`title: election title is empty`,
			`authorities: no authorities: at least one organisation must run a node`,
			`voters.roll_size: voter roll size -1 must be at least 1`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := testManifest()
			c.modify(m)
			err := m.Validate()
			var got []string
			for _, fe := range FieldErrors(err) {
				if !strings.HasPrefix(fe.Error(), "ballot: ") {
					t.Errorf("error %q does not start with the package name", fe)
				}
				got = append(got, strings.TrimPrefix(fe.Error(), "ballot: "))
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Validate problems:\n got %q\nwant %q", got, c.want)
			}
			if (err == nil) != (len(c.want) == 0) {
				t.Errorf("Validate error = %v", err)
			}
		})
	}
}

func TestStyles(t *testing.T) {
	m := testManifest()
	cs, err := m.StyleContests("south")
	if err != nil || len(cs) != 2 || cs[0].ID != "mayor" || cs[1].ID != "parks" {
		t.Errorf("StyleContests(south) = %v, %v", cs, err)
	}
	if _, err := m.StyleContests(DefaultStyleID); err == nil {
		t.Errorf("StyleContests(%q) of a manifest with styles: no error", DefaultStyleID)
	}
	m.Styles = nil
	cs, err = m.StyleContests(DefaultStyleID)
	if err != nil || len(cs) != len(m.Contests) {
		t.Errorf("implicit style: %v, %v", cs, err)
	}
	if c, ok := m.Contest("parks"); !ok || c.Title != "Parks committee (approve any)" {
		t.Errorf("Contest(parks) = %v, %v", c, ok)
	}
}

func TestKeyParsing(t *testing.T) {
	good := "ed25519:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w="
	if k, err := ParseEd25519Key(good); err != nil || FormatEd25519Key(k) != good {
		t.Errorf("ParseEd25519Key(%q) = %x, %v", good, k, err)
	}
	for _, bad := range []string{
		"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=",           // no prefix
		"ed25519:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w",    // no padding
		"ed25519:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1x=",   // non-zero trailing bits
		"ed25519:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQP",       // 30 bytes
		"ed25519:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=\n", // trailing newline
		"ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",   // all zeros
		"ed25519:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w_=",  // url alphabet
	} {
		if _, err := ParseEd25519Key(bad); err == nil || !strings.HasPrefix(err.Error(), "ballot: ") {
			t.Errorf("ParseEd25519Key(%q): err = %v", bad, err)
		}
	}
	if _, err := ParseRistrettoKey("ristretto255:" + strings.Repeat("A", 43) + "="); err == nil {
		t.Error("ParseRistrettoKey accepted the identity")
	}
}

// FuzzDecodeManifestJSON checks that decoding never panics and that whatever
// it accepts is canonical: encode(decode(b)) == b.
func FuzzDecodeManifestJSON(f *testing.F) {
	f.Add(testManifest().CanonicalJSON())
	m := testManifest()
	m.Styles = nil
	m.Voters = Voters{CredentialRoll: &CredentialRoll{File: "r.json", SHA256: [32]byte{9}}}
	f.Add(m.CanonicalJSON())
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifestJSON(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.CanonicalJSON(), b) {
			t.Fatalf("accepted non-canonical input %q", b)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted invalid manifest: %v", err)
		}
	})
}
