package uitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/evote/evote/wire"
)

// languages are the pages' languages, each complete.
var languages = []string{"en", "fr", "de", "es"}

// readStrings reads the string tables of web/ui/static/i18n.js (strict
// JSON after "window.EVOTE_STRINGS ="), in the order of the file, and
// fails on a key given twice in a table.
func readStrings(t *testing.T) map[string]map[string]string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "ui", "static", "i18n.js"))
	if err != nil {
		t.Fatal(err)
	}
	const start = "window.EVOTE_STRINGS = "
	i := bytes.Index(src, []byte(start))
	j := bytes.LastIndex(src, []byte("};"))
	if i < 0 || j < i {
		t.Fatalf("i18n.js: no %q … \"};\"", start)
	}
	body := src[i+len(start) : j+1]
	var tables map[string]map[string]string
	if err := json.Unmarshal(body, &tables); err != nil {
		t.Fatalf("i18n.js: the tables are not strict JSON: %v", err)
	}
	// Duplicates: encoding/json keeps the last silently.
	dec := json.NewDecoder(bytes.NewReader(body))
	depth, lang, key := 0, "", true
	seen := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' {
				depth++
				key = true
			} else {
				depth--
				key = depth == 1
			}
			continue
		case string:
			if key {
				if depth == 1 {
					lang = v
				} else if seen[lang+" "+v] {
					t.Errorf("i18n.js: %s has %q twice", lang, v)
				} else {
					seen[lang+" "+v] = true
				}
			}
		}
		if depth == 2 {
			key = !key
		}
	}
	return tables
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// TestTranslations: every language has every key of English, no key that
// English lacks, the same {placeholders} in each text, no text left
// empty, and its own name for the picker.
func TestTranslations(t *testing.T) {
	tables := readStrings(t)
	for l := range tables {
		if !slices.Contains(languages, l) {
			t.Errorf("i18n.js has a table %q that the tests do not know", l)
		}
	}
	en := tables["en"]
	for _, l := range languages {
		tb, ok := tables[l]
		if !ok {
			t.Errorf("i18n.js has no table %q", l)
			continue
		}
		for k, v := range en {
			tr, ok := tb[k]
			switch {
			case !ok:
				t.Errorf("%s lacks %q (en: %q)", l, k, v)
			case strings.TrimSpace(tr) == "":
				t.Errorf("%s: %q is empty", l, k)
			case !slices.Equal(placeholders(tr), placeholders(v)):
				t.Errorf("%s: %q has the placeholders %v, en %v", l, k, placeholders(tr), placeholders(v))
			}
		}
		for k := range tb {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %q, which en lacks", l, k)
			}
		}
		if l != "en" && tb["lang.name"] == en["lang.name"] {
			t.Errorf("%s: lang.name is English's", l)
		}
	}
}

// TestRefusalSentences: every rejection code of package wire (the ones
// the chain and the node send, read from wire.Code's names, so that a new
// code without a sentence fails here), every websocket close code of
// web/protocol, every transaction kind and every HTTP error status the
// node answers with has a plain sentence ("rej.N", "ws.N", "kind.NAME",
// "http.N"); the pages show the node's own words only under "Technical
// details".
func TestRefusalSentences(t *testing.T) {
	en := readStrings(t)["en"]
	need := func(key, what string) {
		if _, ok := en[key]; !ok {
			t.Errorf("i18n.js: no sentence %q for %s", key, what)
		}
	}
	codes := 0
	for c := wire.Code(1); c < 1000; c++ {
		if c.String() != fmt.Sprintf("code-%d", uint32(c)) {
			need("rej."+strconv.Itoa(int(c)), "rejection code "+c.String())
			codes++
		}
	}
	if codes < 20 {
		t.Fatalf("found %d rejection codes in package wire", codes)
	}
	kinds := 0
	for k := wire.Kind(1); k < 255; k++ {
		if s := k.String(); s != fmt.Sprintf("type-%d", uint8(k)) {
			need("kind."+s, "transaction kind "+s)
			kinds++
		}
	}
	if kinds < 10 {
		t.Fatalf("found %d transaction kinds in package wire", kinds)
	}
	need("kind.malformed", "a transaction that does not decode")
	for _, c := range closeCodes(t) {
		need("ws."+strconv.Itoa(c), fmt.Sprintf("websocket close code %d", c))
	}
	for _, s := range httpStatuses(t) {
		need("http."+strconv.Itoa(s), fmt.Sprintf("HTTP status %d", s))
	}
	for _, k := range []string{"rej.other", "ws.other", "http.other", "tech.details", "err.allUnreachable", "err.unexpected"} {
		need(k, "the fallback")
	}
}

// closeCodes are the values of the Close* constants of web/protocol.
func closeCodes(t *testing.T) []int {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "protocol", "protocol.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if strings.HasPrefix(name.Name, "Close") && i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						v, _ := strconv.Atoi(lit.Value)
						out = append(out, v)
					}
				}
			}
		}
		return true
	})
	if len(out) < 5 {
		t.Fatalf("found close codes %v in web/protocol", out)
	}
	return out
}

// httpStatuses are the error statuses (4xx, 5xx) that package web writes
// (http.StatusXxx in its source), but for 405 and 403, which answer only
// requests that the pages never make (other methods, another site's
// origin).
func httpStatuses(t *testing.T) []int {
	files, err := filepath.Glob(filepath.Join("..", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{
		"StatusBadRequest": 400, "StatusNotFound": 404, "StatusMisdirectedRequest": 421, "StatusTooManyRequests": 429,
		"StatusInternalServerError": 500, "StatusServiceUnavailable": 503, "StatusMethodNotAllowed": 405, "StatusForbidden": 403,
		"StatusRequestEntityTooLarge": 413, "StatusGatewayTimeout": 504, "StatusBadGateway": 502, "StatusUnauthorized": 401,
	}
	used := map[int]bool{}
	re := regexp.MustCompile(`http\.(Status[A-Za-z]+)`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			code, ok := names[m[1]]
			if !ok && !slices.Contains([]string{"StatusOK", "StatusNoContent", "StatusSwitchingProtocols", "StatusNotModified", "StatusPartialContent"}, m[1]) {
				t.Errorf("package web answers with http.%s: add it to httpStatuses and a sentence to i18n.js", m[1])
			}
			if ok && code != 405 && code != 403 {
				used[code] = true
			}
		}
	}
	var out []int
	for c := range used {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
