package ballot

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/evote/evote/crypto"
)

// ManifestHashTag is the domain-separation tag of the manifest hash.
const ManifestHashTag = "evote/v1/manifest"

// MaxManifestSize is the largest canonical JSON manifest DecodeManifestJSON
// accepts, in bytes.
const MaxManifestSize = 4 << 20

// Prefixes of the textual key encodings, in YAML and in canonical JSON.
const (
	// Ed25519KeyPrefix starts an official's key: "ed25519:" and the standard
	// base64 (with padding) of the 32-byte public key.
	Ed25519KeyPrefix = "ed25519:"
	// RistrettoKeyPrefix starts a trustee's key: "ristretto255:" and the
	// standard base64 of the 32-byte canonical point encoding.
	RistrettoKeyPrefix = "ristretto255:"
)

// Hash returns the manifest hash: crypto.Hash(ManifestHashTag,
// m.CanonicalJSON()), that is SHA-256 over the length-prefixed tag and the
// length-prefixed canonical JSON (docs/spec-manifest.md).
func (m *Manifest) Hash() [32]byte {
	return crypto.Hash(ManifestHashTag, m.CanonicalJSON())
}

// CanonicalJSON returns the manifest's one canonical JSON encoding, in the
// manner of RFC 8785 (JCS): object keys sorted by UTF-16 code units, no
// insignificant whitespace, only strings, integers, arrays and objects, times
// as RFC 3339 UTC strings with whole seconds. docs/spec-manifest.md defines
// every key. The manifest should be valid (see Validate); invalid UTF-8 in a
// string is written as U+FFFD.
func (m *Manifest) CanonicalJSON() []byte {
	var b bytes.Buffer
	writeJSON(&b, m.jsonTree())
	return b.Bytes()
}

// obj is a JSON object of the canonical encoder; values are string, int,
// []any or obj.
type obj map[string]any

func (m *Manifest) jsonTree() obj {
	contests := make([]any, len(m.Contests))
	for i, c := range m.Contests {
		sels := make([]any, len(c.Selections))
		for j, s := range c.Selections {
			sels[j] = obj{"id": s.ID, "title": s.Title}
		}
		co := obj{"id": c.ID, "title": c.Title, "rule": c.Rule.jsonTree(), "selections": sels}
		if c.Description != "" {
			co["description"] = c.Description
		}
		contests[i] = co
	}
	members := make([]any, len(m.Trustees.Members))
	for i, t := range m.Trustees.Members {
		to := obj{"index": t.Index, "name": t.Name}
		if t.PublicKey != nil {
			to["public_key"] = RistrettoKeyPrefix + base64.StdEncoding.EncodeToString(t.PublicKey)
		}
		members[i] = to
	}
	auths := make([]any, len(m.Authorities))
	for i, a := range m.Authorities {
		auths[i] = obj{"id": a.ID, "name": a.Name}
	}
	offs := make([]any, len(m.Officials))
	for i, o := range m.Officials {
		offs[i] = obj{"name": o.Name, "public_key": FormatEd25519Key(o.PublicKey)}
	}
	voters := obj{}
	if r := m.Voters.CredentialRoll; r != nil {
		voters["credential_roll"] = obj{"file": r.File, "sha256": hex.EncodeToString(r.SHA256[:])}
	}
	if m.Voters.RollSize != 0 || m.Voters.CredentialRoll == nil {
		voters["roll_size"] = m.Voters.RollSize
	}
	root := obj{
		"election_id": m.ElectionID,
		"title":       m.Title,
		"start":       FormatTime(m.Start),
		"end":         FormatTime(m.End),
		"contests":    contests,
		"trustees":    obj{"threshold": m.Trustees.Threshold, "members": members},
		"authorities": auths,
		"officials":   offs,
		"voters":      voters,
	}
	if m.Description != "" {
		root["description"] = m.Description
	}
	if len(m.Styles) > 0 {
		styles := make([]any, len(m.Styles))
		for i, s := range m.Styles {
			ids := make([]any, len(s.Contests))
			for j, c := range s.Contests {
				ids[j] = c
			}
			styles[i] = obj{"id": s.ID, "contests": ids}
		}
		root["styles"] = styles
	}
	return root
}

func (r Rule) jsonTree() obj {
	o := obj{"kind": string(r.Kind)}
	switch r.Kind {
	case Exactly:
		o["count"] = r.Count
	case UpTo:
		o["max"] = r.Max
	case Range:
		o["min"] = r.Min
		o["max"] = r.Max
	case Approval:
	default:
		// Not valid; write every field so that nothing is lost.
		o["count"], o["min"], o["max"] = r.Count, r.Min, r.Max
	}
	return o
}

// FormatEd25519Key returns the textual form of an Ed25519 public key:
// "ed25519:" and its standard base64 encoding.
func FormatEd25519Key(k ed25519.PublicKey) string {
	return Ed25519KeyPrefix + base64.StdEncoding.EncodeToString(k)
}

// ParseEd25519Key parses the textual form of an Ed25519 public key written
// by FormatEd25519Key. It accepts only the canonical base64 of 32 bytes.
func ParseEd25519Key(s string) (ed25519.PublicKey, error) {
	b, err := parseKey(s, Ed25519KeyPrefix, "Ed25519")
	if err != nil {
		return nil, err
	}
	if bytes.Equal(b, make([]byte, ed25519.PublicKeySize)) {
		return nil, fmt.Errorf("ballot: Ed25519 public key is all zeros")
	}
	return ed25519.PublicKey(b), nil
}

// ParseRistrettoKey parses the textual form of a trustee's public key,
// "ristretto255:" and the standard base64 of its 32-byte encoding, and checks
// that it is a canonical encoding of a point other than the identity.
func ParseRistrettoKey(s string) ([]byte, error) {
	b, err := parseKey(s, RistrettoKeyPrefix, "ristretto255")
	if err != nil {
		return nil, err
	}
	if _, err := crypto.DecodeNonIdentityPoint(b); err != nil {
		return nil, fmt.Errorf("ballot: ristretto255 public key %q is not the canonical encoding of a point other than the identity", s)
	}
	return b, nil
}

func parseKey(s, prefix, kind string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return nil, fmt.Errorf("ballot: %s public key %q does not start with %q", kind, s, prefix)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(rest)
	// The decoder skips line breaks; only the one canonical text is accepted.
	if err != nil || base64.StdEncoding.EncodeToString(b) != rest {
		return nil, fmt.Errorf("ballot: %s public key %q is not valid standard base64", kind, s)
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("ballot: %s public key is %d bytes, want 32", kind, len(b))
	}
	return b, nil
}

// writeJSON writes v canonically.
func writeJSON(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case string:
		writeJSONString(b, v)
	case int:
		b.WriteString(strconv.Itoa(v))
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case obj:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareUTF16)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, v[k])
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("ballot: internal error: no canonical JSON for %T", v))
	}
}

// compareUTF16 orders strings by their UTF-16 code units (RFC 8785 §3.2.3).
func compareUTF16(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

// writeJSONString writes s as RFC 8785 §3.2.2.2 does: '"' and '\\' escaped,
// the control characters U+0000..U+001F as \b \t \n \f \r or \u00xx (lower
// case hex), everything else as its UTF-8 bytes.
func writeJSONString(b *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[r>>4])
			b.WriteByte(hexDigits[r&0xf])
		default:
			b.WriteRune(r) // utf8.RuneError for invalid bytes: U+FFFD
		}
	}
	b.WriteByte('"')
}

// Mirror types of the canonical JSON, for decoding.
type (
	jsonManifest struct {
		Authorities []jsonAuthority `json:"authorities"`
		Contests    []jsonContest   `json:"contests"`
		Description string          `json:"description"`
		ElectionID  string          `json:"election_id"`
		End         string          `json:"end"`
		Officials   []jsonOfficial  `json:"officials"`
		Start       string          `json:"start"`
		Styles      []jsonStyle     `json:"styles"`
		Title       string          `json:"title"`
		Trustees    jsonTrustees    `json:"trustees"`
		Voters      jsonVoters      `json:"voters"`
	}
	jsonContest struct {
		Description string          `json:"description"`
		ID          string          `json:"id"`
		Rule        jsonRule        `json:"rule"`
		Selections  []jsonSelection `json:"selections"`
		Title       string          `json:"title"`
	}
	jsonRule struct {
		Count int    `json:"count"`
		Kind  string `json:"kind"`
		Max   int    `json:"max"`
		Min   int    `json:"min"`
	}
	jsonSelection struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	jsonStyle struct {
		Contests []string `json:"contests"`
		ID       string   `json:"id"`
	}
	jsonTrustees struct {
		Members   []jsonTrustee `json:"members"`
		Threshold int           `json:"threshold"`
	}
	jsonTrustee struct {
		Index     int     `json:"index"`
		Name      string  `json:"name"`
		PublicKey *string `json:"public_key"`
	}
	jsonAuthority struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	jsonOfficial struct {
		Name      string `json:"name"`
		PublicKey string `json:"public_key"`
	}
	jsonVoters struct {
		CredentialRoll *jsonRoll `json:"credential_roll"`
		RollSize       int       `json:"roll_size"`
	}
	jsonRoll struct {
		File   string `json:"file"`
		SHA256 string `json:"sha256"`
	}
)

// DecodeManifestJSON decodes a manifest from its canonical JSON encoding and
// validates it. It accepts only the exact bytes CanonicalJSON writes: any
// other encoding of the same manifest (whitespace, key order, escapes,
// duplicate keys, extra keys) is an error, so that a manifest has one byte
// string and one hash.
func DecodeManifestJSON(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("ballot: manifest is %d bytes, more than the limit of %d", len(data), MaxManifestSize)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var j jsonManifest
	if err := d.Decode(&j); err != nil {
		return nil, fmt.Errorf("ballot: manifest JSON: %w", err)
	}
	if d.More() {
		return nil, fmt.Errorf("ballot: manifest JSON: data after the manifest object")
	}
	m, err := j.manifest()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(m.CanonicalJSON(), data) {
		return nil, fmt.Errorf("ballot: manifest JSON is not in canonical form (docs/spec-manifest.md)")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func parseCanonicalTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || FormatTime(t) != s {
		return time.Time{}, fmt.Errorf("ballot: manifest JSON: %s %q is not an RFC 3339 UTC time like 2026-03-01T08:00:00Z", field, s)
	}
	return t.UTC(), nil
}

func (j *jsonManifest) manifest() (*Manifest, error) {
	m := &Manifest{
		ElectionID:  j.ElectionID,
		Title:       j.Title,
		Description: j.Description,
	}
	var err error
	if m.Start, err = parseCanonicalTime("start", j.Start); err != nil {
		return nil, err
	}
	if m.End, err = parseCanonicalTime("end", j.End); err != nil {
		return nil, err
	}
	for _, c := range j.Contests {
		mc := Contest{
			ID:          c.ID,
			Title:       c.Title,
			Description: c.Description,
			Rule:        Rule{Kind: RuleKind(c.Rule.Kind), Count: c.Rule.Count, Min: c.Rule.Min, Max: c.Rule.Max},
		}
		for _, s := range c.Selections {
			mc.Selections = append(mc.Selections, Selection(s))
		}
		m.Contests = append(m.Contests, mc)
	}
	for _, s := range j.Styles {
		m.Styles = append(m.Styles, Style{ID: s.ID, Contests: s.Contests})
	}
	m.Trustees.Threshold = j.Trustees.Threshold
	for _, t := range j.Trustees.Members {
		mt := Trustee{Index: t.Index, Name: t.Name}
		if t.PublicKey != nil {
			if mt.PublicKey, err = ParseRistrettoKey(*t.PublicKey); err != nil {
				return nil, fmt.Errorf("ballot: manifest JSON: trustee %q: %s", t.Name, strings.TrimPrefix(err.Error(), "ballot: "))
			}
		}
		m.Trustees.Members = append(m.Trustees.Members, mt)
	}
	for _, a := range j.Authorities {
		m.Authorities = append(m.Authorities, Authority(a))
	}
	for _, o := range j.Officials {
		k, err := ParseEd25519Key(o.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("ballot: manifest JSON: official %q: %s", o.Name, strings.TrimPrefix(err.Error(), "ballot: "))
		}
		m.Officials = append(m.Officials, Official{Name: o.Name, PublicKey: k})
	}
	m.Voters.RollSize = j.Voters.RollSize
	if r := j.Voters.CredentialRoll; r != nil {
		sum, err := hex.DecodeString(r.SHA256)
		if err != nil || len(sum) != 32 {
			return nil, fmt.Errorf("ballot: manifest JSON: credential roll sha256 %q is not 64 hex digits", r.SHA256)
		}
		m.Voters.CredentialRoll = &CredentialRoll{File: r.File}
		copy(m.Voters.CredentialRoll.SHA256[:], sum)
	}
	return m, nil
}
