// Package keyfile seals secrets (trustees' and officials' private keys) in
// passphrase-encrypted files.
//
// A file is JSON: a format name, a public part stored in the clear (so that
// anyone can read the public keys without the passphrase), and the secret
// part encrypted with XChaCha20-Poly1305 under a key derived from the
// passphrase with Argon2id. The public part is the AEAD's additional data, so
// it cannot be swapped or edited without the file failing to open.
//
// The Argon2id parameters are bounded, when a file is sealed and when it is
// opened (docs/keyfile.md): below the floor a stolen file gives up a weak
// passphrase too cheaply; above the cap a hostile file would make its reader
// allocate gigabytes or compute for hours. There is no way to lower the floor,
// for tests either: tests use MinKDF, which costs some tens of milliseconds.
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
// passes (RFC 9106's second recommended option, with one lane), about a
// quarter of a second here, so that a stolen file resists guessing of weak
// passphrases.
var DefaultKDF = KDF{Name: "argon2id", Time: 3, MemoryKiB: 64 * 1024, Threads: 1}

// Bounds of the Argon2id parameters of a key file (docs/keyfile.md). The
// floor is OWASP's minimum Argon2id profile (19 MiB, 2 passes, 1 lane); the
// caps bound what opening a file can cost: 1 GiB and 16 passes.
const (
	MinKDFMemoryKiB = 19456   // 19 MiB
	MaxKDFMemoryKiB = 1 << 20 // 1 GiB
	MinKDFTime      = 2
	MaxKDFTime      = 16
	MaxKDFThreads   = 16
	MinSaltSize     = 16
	MaxSaltSize     = 64
)

// MinKDF is the cheapest cost accepted: the floor. Tests use it (TestKDF).
var MinKDF = KDF{Name: "argon2id", Time: MinKDFTime, MemoryKiB: MinKDFMemoryKiB, Threads: 1}

// TestKDF is the cost of key files made by tests: the floor, MinKDF, some
// tens of milliseconds per derivation. Nothing cheaper is accepted.
var TestKDF = MinKDF

// ErrKDF is wrapped by the errors of Argon2id parameters outside the bounds.
var ErrKDF = errors.New("keyfile: Argon2id parameters out of bounds")

// Validate checks the parameters against the bounds, naming the parameter
// and the bound it crosses. The salt is checked only if it is set (Seal
// draws it).
func (k KDF) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s (docs/keyfile.md)", ErrKDF, fmt.Sprintf(format, args...))
	}
	switch {
	case k.Name != "argon2id":
		return bad("key derivation %q, want \"argon2id\"", k.Name)
	case k.MemoryKiB < MinKDFMemoryKiB:
		return bad("memory %d KiB is below the floor of %d KiB", k.MemoryKiB, MinKDFMemoryKiB)
	case k.MemoryKiB > MaxKDFMemoryKiB:
		return bad("memory %d KiB is above the cap of %d KiB", k.MemoryKiB, MaxKDFMemoryKiB)
	case k.Time < MinKDFTime:
		return bad("time %d passes is below the floor of %d passes", k.Time, MinKDFTime)
	case k.Time > MaxKDFTime:
		return bad("time %d passes is above the cap of %d passes", k.Time, MaxKDFTime)
	case k.Threads < 1 || k.Threads > MaxKDFThreads:
		return bad("threads %d is out of range: want 1 to %d", k.Threads, MaxKDFThreads)
	case k.Salt != nil && (len(k.Salt) < MinSaltSize || len(k.Salt) > MaxSaltSize):
		return bad("salt of %d bytes, want %d to %d", len(k.Salt), MinSaltSize, MaxSaltSize)
	}
	return nil
}

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

// key derives the file key, after checking the parameters and the salt.
func (k KDF) key(passphrase []byte) ([]byte, error) {
	if k.Salt == nil {
		k.Salt = []byte{}
	}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	return argon2.IDKey(passphrase, k.Salt, k.Time, k.MemoryKiB, k.Threads, chacha20poly1305.KeySize), nil
}

// Seal encrypts secret under passphrase and returns the file's bytes. public
// is stored in the clear (it must marshal to JSON) and authenticated. It
// refuses parameters outside the bounds (ErrKDF).
func Seal(format string, public any, secret []byte, passphrase []byte, kdf KDF) ([]byte, error) {
	if len(passphrase) < MinPassphrase {
		return nil, fmt.Errorf("keyfile: passphrase is %d characters, use at least %d", len(passphrase), MinPassphrase)
	}
	kdf.Salt = nil
	if err := kdf.Validate(); err != nil {
		return nil, err
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
// part into public if that is not nil. A file whose parameters are outside
// the bounds is refused (ErrKDF) before any memory is allocated for them.
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
