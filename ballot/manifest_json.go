package ballot

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/strictjson"
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
// bool, []any or obj.
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
		if c.CountBlank {
			co["count_blank"] = true
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
	case bool:
		b.WriteString(strconv.FormatBool(v))
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

// DecodeManifestJSON decodes a manifest from its canonical JSON encoding and
// validates it. It accepts only the exact bytes CanonicalJSON writes: any
// other encoding of the same manifest (whitespace, key order, escapes,
// duplicate keys, extra keys) is an error, so that a manifest has one byte
// string and one hash. Errors name the first member that is wrong
// ("ballot: manifest JSON: contests[2].selections[0].id: want a string, got
// a number").
func DecodeManifestJSON(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("ballot: manifest is %d bytes, more than the limit of %d", len(data), MaxManifestSize)
	}
	v, err := strictjson.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("ballot: manifest JSON: %w", err)
	}
	var r strictjson.Reader
	m := readManifest(r.Root(v).Object())
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("ballot: manifest JSON: %w", err)
	}
	if !bytes.Equal(m.CanonicalJSON(), data) {
		return nil, fmt.Errorf("ballot: manifest JSON is not in canonical form (docs/spec-manifest.md)")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// readTime reads an RFC 3339 UTC time with whole seconds.
func readTime(f strictjson.Field) time.Time {
	s := f.Str()
	if f.Value() == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || FormatTime(t) != s {
		f.Failf("%q is not an RFC 3339 UTC time like 2026-03-01T08:00:00Z", s)
	}
	return t.UTC()
}

// readManifest reads the members that jsonTree writes, and no others.
func readManifest(o *strictjson.Fields) *Manifest {
	m := &Manifest{
		ElectionID:  o.Get("election_id").Str(),
		Title:       o.Get("title").Str(),
		Description: o.Opt("description").Str(),
		Start:       readTime(o.Get("start")),
		End:         readTime(o.Get("end")),
	}
	for _, f := range o.Get("contests").Array() {
		co := f.Object()
		c := Contest{ID: co.Get("id").Str(), Title: co.Get("title").Str(), Description: co.Opt("description").Str(), CountBlank: co.Opt("count_blank").Bool()}
		ro := co.Get("rule").Object()
		c.Rule = Rule{Kind: RuleKind(ro.Get("kind").Str()), Count: ro.Opt("count").Int(), Min: ro.Opt("min").Int(), Max: ro.Opt("max").Int()}
		ro.End()
		for _, f := range co.Get("selections").Array() {
			so := f.Object()
			c.Selections = append(c.Selections, Selection{ID: so.Get("id").Str(), Title: so.Get("title").Str()})
			so.End()
		}
		co.End()
		m.Contests = append(m.Contests, c)
	}
	for _, f := range o.Opt("styles").Array() {
		so := f.Object()
		m.Styles = append(m.Styles, Style{ID: so.Get("id").Str(), Contests: so.Get("contests").Strings()})
		so.End()
	}
	to := o.Get("trustees").Object()
	m.Trustees.Threshold = to.Get("threshold").Int()
	for _, f := range to.Get("members").Array() {
		mo := f.Object()
		t := Trustee{Index: mo.Get("index").Int(), Name: mo.Get("name").Str()}
		if k := mo.Opt("public_key"); k.Present() {
			t.PublicKey = readKey(k, ParseRistrettoKey)
		}
		mo.End()
		m.Trustees.Members = append(m.Trustees.Members, t)
	}
	to.End()
	for _, f := range o.Get("authorities").Array() {
		ao := f.Object()
		m.Authorities = append(m.Authorities, Authority{ID: ao.Get("id").Str(), Name: ao.Get("name").Str()})
		ao.End()
	}
	for _, f := range o.Get("officials").Array() {
		oo := f.Object()
		off := Official{Name: oo.Get("name").Str()}
		off.PublicKey = readKey(oo.Get("public_key"), ParseEd25519Key)
		oo.End()
		m.Officials = append(m.Officials, off)
	}
	vo := o.Get("voters").Object()
	m.Voters.RollSize = vo.Opt("roll_size").Int()
	if f := vo.Opt("credential_roll"); f.Present() {
		ro := f.Object()
		m.Voters.CredentialRoll = &CredentialRoll{File: ro.Get("file").Str()}
		sf := ro.Get("sha256")
		if sum, err := hex.DecodeString(sf.Str()); sf.Value() != nil && (err != nil || len(sum) != 32) {
			sf.Failf("%q is not 64 hex digits", sf.Str())
		} else {
			copy(m.Voters.CredentialRoll.SHA256[:], sum)
		}
		ro.End()
	}
	vo.End()
	o.End()
	return m
}

// readKey reads a key in its textual form.
func readKey[K ~[]byte](f strictjson.Field, parse func(string) (K, error)) K {
	s := f.Str()
	if f.Value() == nil {
		return nil
	}
	k, err := parse(s)
	if err != nil {
		f.Failf("%s", strings.TrimPrefix(err.Error(), "ballot: "))
	}
	return k
}
