package keyfile

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
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

// sealWith builds a key file as Seal would, but with any parameters (as an
// old version of evote, or an attacker, could write): the reader must refuse
// what Seal would not write.
func sealWith(t *testing.T, kdf KDF, pass []byte) []byte {
	t.Helper()
	kdf.Salt = make([]byte, 16)
	rand.Read(kdf.Salt)
	pub := []byte(`{"name":"Ada"}`)
	var key []byte
	if kdf.MemoryKiB <= 64 && kdf.Time <= 2 && kdf.Threads >= 1 {
		key = argon2.IDKey(pass, kdf.Salt, kdf.Time, kdf.MemoryKiB, kdf.Threads, chacha20poly1305.KeySize)
	} else {
		key = make([]byte, chacha20poly1305.KeySize) // never derived: the reader must refuse first
	}
	aead, _ := chacha20poly1305.NewX(key)
	nonce := make([]byte, aead.NonceSize())
	f := file{Format: "evote/v1/test-key", Public: pub, KDF: kdf, Nonce: nonce,
		Ciphertext: aead.Seal(nil, nonce, []byte("secret"), additionalData("evote/v1/test-key", pub))}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestKDFBounds: a key file with Argon2id parameters below the floor (a
// stolen file would give up its passphrase cheaply) or above the cap (a
// hostile file would make its reader allocate gigabytes or compute for
// hours) is refused when sealed and when opened, with an error naming the
// parameter and the bound; the floor itself is accepted.
func TestKDFBounds(t *testing.T) {
	pass := []byte("correct horse battery")
	for _, tc := range []struct {
		kdf  KDF
		want string
	}{
		{KDF{Name: "argon2id", Time: 1, MemoryKiB: 8, Threads: 1}, "memory 8 KiB is below the floor of 19456 KiB"},
		{KDF{Name: "argon2id", Time: 1, MemoryKiB: 19456, Threads: 1}, "time 1 passes is below the floor of 2 passes"},
		{KDF{Name: "argon2id", Time: 2, MemoryKiB: 19455, Threads: 1}, "memory 19455 KiB is below the floor of 19456 KiB"},
		{KDF{Name: "argon2id", Time: 3, MemoryKiB: 4 << 20, Threads: 1}, "memory 4194304 KiB is above the cap of 1048576 KiB"},
		{KDF{Name: "argon2id", Time: 64, MemoryKiB: 65536, Threads: 1}, "time 64 passes is above the cap of 16 passes"},
		{KDF{Name: "argon2id", Time: 3, MemoryKiB: 65536, Threads: 0}, "threads 0 is out of range: want 1 to 16"},
		{KDF{Name: "argon2id", Time: 3, MemoryKiB: 65536, Threads: 255}, "threads 255 is out of range: want 1 to 16"},
		{KDF{Name: "scrypt", Time: 3, MemoryKiB: 65536, Threads: 1}, `key derivation "scrypt", want "argon2id"`},
	} {
		want := "keyfile: Argon2id parameters out of bounds: " + tc.want + " (docs/keyfile.md)"
		if _, err := Seal("evote/v1/test-key", pub{Name: "Ada"}, []byte("secret"), pass, tc.kdf); !errors.Is(err, ErrKDF) || err.Error() != want {
			t.Errorf("Seal(%+v) = %v, want %q", tc.kdf, err, want)
		}
		data := sealWith(t, tc.kdf, pass)
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := Open(data, "evote/v1/test-key", pass, nil)
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrKDF) || err.Error() != want {
			t.Errorf("Open(%+v) = %v, want %q", tc.kdf, err, want)
		}
		// Refused before anything is derived: no Argon2 memory, no time.
		if d, alloc := time.Since(start), after.TotalAlloc-before.TotalAlloc; d > 5*time.Second || alloc > 1<<20 {
			t.Errorf("Open(%+v) took %v and allocated %d bytes before refusing", tc.kdf, d, alloc)
		}
	}
	// A salt too short or too long, or none.
	for _, n := range []int{0, 15, 65} {
		data := sealWith(t, MinKDF, pass)
		var f map[string]any
		json.Unmarshal(data, &f)
		f["kdf"].(map[string]any)["salt"] = make([]byte, n)
		data, _ = json.Marshal(f)
		if _, err := Open(data, "evote/v1/test-key", pass, nil); !errors.Is(err, ErrKDF) || !strings.Contains(err.Error(), "salt of ") {
			t.Errorf("salt of %d bytes: %v", n, err)
		}
	}
	// The floor and the default are accepted, and a file sealed at the floor
	// opens.
	for _, k := range []KDF{MinKDF, DefaultKDF, TestKDF} {
		if err := k.Validate(); err != nil {
			t.Errorf("%+v: %v", k, err)
		}
	}
	data, err := Seal("evote/v1/test-key", pub{Name: "Ada"}, []byte("secret"), pass, MinKDF)
	if err != nil {
		t.Fatal(err)
	}
	if secret, err := Open(data, "evote/v1/test-key", pass, nil); err != nil || string(secret) != "secret" {
		t.Fatalf("a file at the floor: %q, %v", secret, err)
	}
}
