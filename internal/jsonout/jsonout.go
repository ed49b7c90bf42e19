// Package jsonout writes JSON as evote publishes it: without the HTML
// escaping of encoding/json's Marshal, which turns &, < and > into \u0026,
// \u003c and \u003e, also inside an embedded json.RawMessage. A canonical
// manifest (or any canonical JSON) embedded in an answer or a file must keep
// its bytes, or its hash no longer matches: "Smith & Jones" in a name was
// enough to stop the tally and fail verification.
package jsonout

import (
	"bytes"
	"encoding/json"
	"io"
)

// Marshal is json.Marshal without HTML escaping.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := Encode(&b, v, ""); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// MarshalIndent is json.MarshalIndent (no prefix) without HTML escaping.
// Indenting reformats embedded raw JSON too: canonical bytes that must keep
// their form belong in Marshal's output, or in a file of their own.
func MarshalIndent(v any, indent string) ([]byte, error) {
	var b bytes.Buffer
	if err := Encode(&b, v, indent); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Encode writes v to w followed by a newline, indented by indent if it is
// not empty, without HTML escaping.
func Encode(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(v)
}
