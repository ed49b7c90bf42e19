// Package trustee holds what a trustee of an evote election keeps and does:
// the trustee's key file (passphrase-encrypted), and the key ceremony as a
// transport-independent protocol of signed messages. The messages travel as
// files in a shared folder today; the authority nodes' chain carries the same
// messages.
//
// A trustee has two long-term keys: an identity key on ristretto255, whose
// public half the election configuration lists and which signs every
// ceremony message (a Schnorr signature), and an HPKE key on which the other
// trustees encrypt the shares they deal. After the ceremony the key file also
// holds the trustee's secret share of the election key.
package trustee

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/crypto/dkg"
	"github.com/evote/evote/internal/keyfile"
)

// keyFormat is the format name of a trustee's key file.
const keyFormat = "evote/v1/trustee-key"

// Public is the public part of a trustee's key, readable without the
// passphrase.
type Public struct {
	Name     string `json:"name"`
	Identity []byte `json:"identity"` // ristretto255 point
	HPKE     []byte `json:"hpke"`     // X25519 public key
}

// IdentityText returns the identity key as written in election
// configurations: "ristretto255:" and its base64.
func (p Public) IdentityText() string {
	return ballot.RistrettoKeyPrefix + base64.StdEncoding.EncodeToString(p.Identity)
}

// Key is a trustee's key with its secrets.
type Key struct {
	Public
	identity crypto.Scalar
	hpke     *dkg.HPKEPrivateKey
	// Ceremonies holds the trustee's state in each election's key ceremony,
	// by election id.
	Ceremonies map[string]*CeremonyState
}

// CeremonyState is what a trustee keeps across the rounds of one key
// ceremony, and its outcome.
type CeremonyState struct {
	ElectionID   string
	ManifestHash []byte
	Index        int
	// Coefficients of the trustee's polynomial (round 1), kept to answer
	// complaints (round 3).
	Coefficients [][]byte
	// Outcome, set by Finish: the trustee's secret share x_l and the public
	// results.
	Share            []byte   `json:",omitempty"`
	JointKey         []byte   `json:",omitempty"`
	VerificationKeys [][]byte `json:",omitempty"`
}

// secretPart is the encrypted part of the file.
type secretPart struct {
	Identity   []byte                    `json:"identity"`
	HPKE       []byte                    `json:"hpke"`
	Ceremonies map[string]*CeremonyState `json:"ceremonies,omitempty"`
}

// NewKey makes a trustee key with fresh identity and HPKE key pairs.
func NewKey(rand io.Reader, name string) (*Key, error) {
	if name == "" {
		return nil, fmt.Errorf("trustee: a name is required")
	}
	x, err := crypto.RandomNonZeroScalar(rand)
	if err != nil {
		return nil, err
	}
	h, err := dkg.GenerateHPKEKey(rand)
	if err != nil {
		return nil, err
	}
	id := crypto.EncodePoint(crypto.BaseMul(x))
	return &Key{Public: Public{Name: name, Identity: id[:], HPKE: h.Public().Encode()}, identity: x, hpke: h, Ceremonies: map[string]*CeremonyState{}}, nil
}

// Seal returns the key file's bytes, encrypted under passphrase.
func (k *Key) Seal(passphrase []byte, kdf keyfile.KDF) ([]byte, error) {
	id := crypto.EncodeScalar(k.identity)
	sec, err := json.Marshal(secretPart{Identity: id[:], HPKE: k.hpke.Encode(), Ceremonies: k.Ceremonies})
	if err != nil {
		return nil, err
	}
	return keyfile.Seal(keyFormat, k.Public, sec, passphrase, kdf)
}

// Save writes the key file, replacing an existing one only if overwrite.
func (k *Key) Save(path string, passphrase []byte, kdf keyfile.KDF, overwrite bool) error {
	data, err := k.Seal(passphrase, kdf)
	if err != nil {
		return err
	}
	return keyfile.Write(path, data, overwrite)
}

// Open decrypts a key file.
func Open(data, passphrase []byte) (*Key, error) {
	var pub Public
	raw, err := keyfile.Open(data, keyFormat, passphrase, &pub)
	if err != nil {
		return nil, fmt.Errorf("trustee: key file: %w", err)
	}
	var sec secretPart
	if err := json.Unmarshal(raw, &sec); err != nil {
		return nil, fmt.Errorf("trustee: key file: %w", err)
	}
	x, err := crypto.DecodeScalar(sec.Identity)
	if err != nil {
		return nil, fmt.Errorf("trustee: key file: identity key: %w", err)
	}
	h, err := dkg.DecodeHPKEPrivateKey(sec.HPKE)
	if err != nil {
		return nil, fmt.Errorf("trustee: key file: HPKE key: %w", err)
	}
	id := crypto.EncodePoint(crypto.BaseMul(x))
	if string(id[:]) != string(pub.Identity) || string(h.Public().Encode()) != string(pub.HPKE) {
		return nil, fmt.Errorf("trustee: key file: public keys do not match the secret keys")
	}
	return &Key{Public: pub, identity: x, hpke: h, Ceremonies: sec.Ceremonies}, nil
}

// Load reads and decrypts a key file.
func Load(path string, passphrase []byte) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trustee: %w", err)
	}
	return Open(data, passphrase)
}

// LoadPublic reads a key file's public part without the passphrase.
func LoadPublic(path string) (Public, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Public{}, fmt.Errorf("trustee: %w", err)
	}
	var p Public
	if err := keyfile.Public(data, keyFormat, &p); err != nil {
		return Public{}, fmt.Errorf("trustee: %s: %w", path, err)
	}
	return p, nil
}
