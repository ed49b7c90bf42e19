// Package keyfile seals secrets (trustees' and officials' private keys) in
// passphrase-encrypted files.
//
// A file is JSON: a format name, a public part stored in the clear (so that
// anyone can read the public keys without the passphrase), and the secret
// part encrypted with XChaCha20-Poly1305 under a key derived from the
// passphrase with Argon2id. The public part is the AEAD's additional data, so
// it cannot be swapped or edited without the file failing to open.
package keyfile

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Errors of Open.
var (
	// ErrPassphrase is returned when the file does not open with the
	// passphrase (or its content was altered: the two cannot be told apart).
	ErrPassphrase = errors.New("keyfile: wrong passphrase, or the file was altered")
	// ErrFormat is returned for a file that is not a key file of the expected
	// format.
	ErrFormat = errors.New("keyfile: not a key file of the expected format")
)

// KDF holds the Argon2id parameters of a file.
type KDF struct {
	Name      string `json:"name"` // "argon2id"
	Salt      []byte `json:"salt"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

// DefaultKDF is the cost used for new files: Argon2id with 64 MiB and 3
// passes, about a quarter of a second here, so that a stolen file resists
// guessing of weak passphrases.
var DefaultKDF = KDF{Name: "argon2id", Time: 3, MemoryKiB: 64 * 1024, Threads: 1}

// TestKDF is a cheap cost for tests only.
var TestKDF = KDF{Name: "argon2id", Time: 1, MemoryKiB: 64, Threads: 1}

// file is the JSON layout.
type file struct {
	Format     string          `json:"format"`
	Public     json.RawMessage `json:"public"`
	KDF        KDF             `json:"kdf"`
	Nonce      []byte          `json:"nonce"`
	Ciphertext []byte          `json:"ciphertext"`
}

// MinPassphrase is the shortest passphrase Seal accepts.
const MinPassphrase = 12

func (k KDF) key(passphrase []byte) ([]byte, error) {
	if k.Name != "argon2id" || len(k.Salt) < 16 || k.Time < 1 || k.Time > 64 || k.MemoryKiB < 8 || k.MemoryKiB > 4<<20 || k.Threads < 1 {
		return nil, fmt.Errorf("%w: unsupported key derivation parameters", ErrFormat)
	}
	return argon2.IDKey(passphrase, k.Salt, k.Time, k.MemoryKiB, k.Threads, chacha20poly1305.KeySize), nil
}

// Seal encrypts secret under passphrase and returns the file's bytes. public
// is stored in the clear (it must marshal to JSON) and authenticated.
func Seal(format string, public any, secret []byte, passphrase []byte, kdf KDF) ([]byte, error) {
	if len(passphrase) < MinPassphrase {
		return nil, fmt.Errorf("keyfile: passphrase is %d characters, use at least %d", len(passphrase), MinPassphrase)
	}
	pub, err := json.Marshal(public)
	if err != nil {
		return nil, fmt.Errorf("keyfile: public part: %w", err)
	}
	kdf.Salt = make([]byte, 16)
	if _, err := rand.Read(kdf.Salt); err != nil {
		return nil, err
	}
	key, err := kdf.key(passphrase)
	if err != nil {
		return nil, err
	}
	aead, _ := chacha20poly1305.NewX(key)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	f := file{Format: format, Public: pub, KDF: kdf, Nonce: nonce}
	f.Ciphertext = aead.Seal(nil, nonce, secret, additionalData(format, pub))
	return json.MarshalIndent(f, "", "  ")
}

// additionalData binds the format and the public part, compacted so that
// re-indenting the file does not change it.
func additionalData(format string, public []byte) []byte {
	var b bytes.Buffer
	b.WriteString(format)
	b.WriteByte(0)
	if err := json.Compact(&b, public); err != nil {
		b.Write(public)
	}
	return b.Bytes()
}

// Public reads a file's public part into public without the passphrase.
func Public(data []byte, format string, public any) error {
	var f file
	if err := json.Unmarshal(data, &f); err != nil || f.Format != format {
		return fmt.Errorf("%w (want %q)", ErrFormat, format)
	}
	if err := json.Unmarshal(f.Public, public); err != nil {
		return fmt.Errorf("%w: public part: %v", ErrFormat, err)
	}
	return nil
}

// Open decrypts a file and returns its secret part; it also reads the public
// part into public if that is not nil.
func Open(data []byte, format string, passphrase []byte, public any) ([]byte, error) {
	var f file
	if err := json.Unmarshal(data, &f); err != nil || f.Format != format {
		return nil, fmt.Errorf("%w (want %q)", ErrFormat, format)
	}
	key, err := f.KDF.key(passphrase)
	if err != nil {
		return nil, err
	}
	aead, _ := chacha20poly1305.NewX(key)
	if len(f.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("%w: nonce", ErrFormat)
	}
	secret, err := aead.Open(nil, f.Nonce, f.Ciphertext, additionalData(format, f.Public))
	if err != nil {
		return nil, ErrPassphrase
	}
	if public != nil {
		if err := json.Unmarshal(f.Public, public); err != nil {
			return nil, fmt.Errorf("%w: public part: %v", ErrFormat, err)
		}
	}
	return secret, nil
}

// Write writes a file with owner-only permissions, refusing to replace an
// existing file unless overwrite is set.
func Write(path string, data []byte, overwrite bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !overwrite {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("keyfile: %s exists; not overwriting it", path)
		}
		return fmt.Errorf("keyfile: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("keyfile: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("keyfile: %w", err)
	}
	return f.Close()
}

// ReadPassphrase returns the passphrase from the file named by the
// environment variable envFile, or else from the environment variable env.
// It never reads a passphrase from a command-line argument, which other
// users of the machine could see.
func ReadPassphrase(env, envFile string) ([]byte, error) {
	if p := os.Getenv(envFile); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("keyfile: reading passphrase file: %w", err)
		}
		for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
			b = b[:len(b)-1]
		}
		return b, nil
	}
	if p := os.Getenv(env); p != "" {
		return []byte(p), nil
	}
	return nil, fmt.Errorf("keyfile: no passphrase: set %s to a file holding it, or %s", envFile, env)
}
