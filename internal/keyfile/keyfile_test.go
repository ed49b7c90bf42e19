package keyfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
)

type pub struct {
	Name string `json:"name"`
	Key  []byte `json:"key"`
}

func TestSealOpen(t *testing.T) {
	p := pub{Name: "Ada", Key: []byte{1, 2, 3}}
	pass := []byte("correct horse battery")
	data, err := Seal("evote/v1/test-key", p, []byte("secret scalar"), pass, TestKDF)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("secret scalar")) {
		t.Fatal("secret stored in the clear")
	}
	var got pub
	secret, err := Open(data, "evote/v1/test-key", pass, &got)
	if err != nil || string(secret) != "secret scalar" || got.Name != "Ada" {
		t.Fatalf("open: %q %v %+v", secret, err, got)
	}
	var onlyPub pub
	if err := Public(data, "evote/v1/test-key", &onlyPub); err != nil || onlyPub.Name != "Ada" {
		t.Fatalf("public: %v", err)
	}
	if _, err := Open(data, "evote/v1/test-key", []byte("wrong passphrase!"), nil); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := Open(data, "evote/v1/other", pass, nil); !errors.Is(err, ErrFormat) {
		t.Fatalf("wrong format: %v", err)
	}
	// Editing the public part breaks the file.
	var f map[string]any
	_ = json.Unmarshal(data, &f)
	f["public"] = map[string]any{"name": "Mallory", "key": "AQID"}
	edited, _ := json.Marshal(f)
	if _, err := Open(edited, "evote/v1/test-key", pass, nil); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("edited public part: %v", err)
	}
	if _, err := Seal("x", p, nil, []byte("short"), TestKDF); err == nil {
		t.Fatal("short passphrase accepted")
	}
}

func TestWriteRefusesOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.json")
	if err := Write(path, []byte("a"), false); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("b"), false); err == nil {
		t.Fatal("overwrote an existing key file")
	}
	if err := Write(path, []byte("b"), true); err != nil {
		t.Fatal(err)
	}
}

func TestReadPassphrase(t *testing.T) {
	t.Setenv("T_PASS", "")
	t.Setenv("T_PASS_FILE", "")
	if _, err := ReadPassphrase("T_PASS", "T_PASS_FILE"); err == nil {
		t.Fatal("no passphrase accepted")
	}
	t.Setenv("T_PASS", "from env")
	if p, _ := ReadPassphrase("T_PASS", "T_PASS_FILE"); string(p) != "from env" {
		t.Fatal(string(p))
	}
	path := filepath.Join(t.TempDir(), "p")
	_ = Write(path, []byte("from file\n"), false)
	t.Setenv("T_PASS_FILE", path)
	if p, _ := ReadPassphrase("T_PASS", "T_PASS_FILE"); string(p) != "from file" {
		t.Fatal(string(p))
	}
}
