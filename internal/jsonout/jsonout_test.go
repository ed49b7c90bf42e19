package jsonout

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestNoHTMLEscaping(t *testing.T) {
	raw := json.RawMessage(`{"name":"Smith & Jones <b> \"q\" ' \\ é 中 😀"}`)
	v := struct {
		M json.RawMessage `json:"m"`
		S string          `json:"s"`
	}{raw, "a&b<c>d"}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, raw) || !bytes.Contains(b, []byte(`"a&b<c>d"`)) {
		t.Fatalf("Marshal changed the embedded bytes: %s", b)
	}
	if std, _ := json.Marshal(v); bytes.Contains(std, raw) {
		t.Fatal("json.Marshal no longer escapes: this package may be unnecessary")
	}
	ind, err := MarshalIndent(map[string]string{"s": "<&>"}, "  ")
	if err != nil || string(ind) != "{\n  \"s\": \"<&>\"\n}" {
		t.Fatalf("MarshalIndent: %q, %v", ind, err)
	}
}
