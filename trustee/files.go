package trustee

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evote/evote/crypto"
)

// messageFormat is the format name of a ceremony message file.
const messageFormat = "evote/v1/ceremony-message"

// messageFile is the JSON layout of a message file.
type messageFile struct {
	Format     string `json:"format"`
	Kind       string `json:"kind"`
	ElectionID string `json:"election_id"`
	From       int    `json:"from"`
	Payload    []byte `json:"payload"`
	Signature  []byte `json:"signature"`
}

// FileName returns the name of a message's file in the shared folder, such
// as "dealing-2.json".
func FileName(kind string, from int) string { return fmt.Sprintf("%s-%d.json", kind, from) }

// EncodeMessage returns the message as a JSON file.
func EncodeMessage(m *Message) ([]byte, error) {
	return json.MarshalIndent(messageFile{Format: messageFormat, Kind: m.Kind, ElectionID: m.ElectionID, From: m.From,
		Payload: m.Payload, Signature: m.Signature.Encode()}, "", "  ")
}

// DecodeMessage reads a message file. It does not verify the signature (see
// Ceremony.Verify).
func DecodeMessage(data []byte) (*Message, error) {
	var f messageFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("trustee: message file: %w", err)
	}
	if f.Format != messageFormat {
		return nil, fmt.Errorf("trustee: message file of format %q, want %q", f.Format, messageFormat)
	}
	sig, err := crypto.DecodeSchnorrProof(f.Signature)
	if err != nil {
		return nil, fmt.Errorf("trustee: %s message from trustee %d: signature: %w", f.Kind, f.From, err)
	}
	return &Message{Kind: f.Kind, ElectionID: f.ElectionID, From: f.From, Payload: f.Payload, Signature: sig}, nil
}

// WriteMessage writes a message into the shared folder dir. It never
// replaces a different message already there (that would be equivocation);
// writing the same message again is harmless.
func WriteMessage(dir string, m *Message) (string, error) {
	data, err := EncodeMessage(m)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, FileName(m.Kind, m.From))
	if old, err := os.ReadFile(path); err == nil {
		if prev, derr := DecodeMessage(old); derr == nil && bytes.Equal(prev.Payload, m.Payload) {
			return path, nil
		}
		return "", fmt.Errorf("trustee: %s already holds a different %s message from trustee %d; a trustee sends each message once", path, m.Kind, m.From)
	}
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		return "", fmt.Errorf("trustee: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return "", fmt.Errorf("trustee: %w", err)
	}
	return path, nil
}

// ReadMessages reads every message file of the shared folder dir, in name
// order. A file that cannot be read as a message is reported in the returned
// problems and left out; other files are ignored.
func ReadMessages(dir string) ([]*Message, []error, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("trustee: shared folder: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && indexOf(kindOrder, strings.SplitN(e.Name(), "-", 2)[0]) < len(kindOrder) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var msgs []*Message
	var problems []error
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, nil, fmt.Errorf("trustee: %w", err)
		}
		m, err := DecodeMessage(data)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", n, err))
			continue
		}
		if n != FileName(m.Kind, m.From) {
			problems = append(problems, fmt.Errorf("%s: holds a %s message from trustee %d; file renamed?", n, m.Kind, m.From))
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, problems, nil
}

// Load reads the shared folder and collects the transcript, with the
// problems of unreadable files first.
func (c *Ceremony) Load(dir string) (*Transcript, error) {
	msgs, problems, err := ReadMessages(dir)
	if err != nil {
		return nil, err
	}
	t := c.Collect(msgs)
	t.Problems = append(problems, t.Problems...)
	return t, nil
}
