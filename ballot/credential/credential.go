package credential

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/evote/evote/crypto"
	"golang.org/x/crypto/argon2"
)

// Domain-separation tags (docs/credentials.md).
const (
	tagKDF             = "evote/v1/credential-kdf"
	tagBallotSignature = "evote/v1/ballot-signature"
	tagRoll            = "evote/v1/credential-roll"
	tagRollChunk       = "evote/v1/credential-roll-chunk"
)

// Sizes of keys and signatures (Ed25519, RFC 8032).
const (
	PublicKeySize = ed25519.PublicKeySize
	SignatureSize = ed25519.SignatureSize
)

// Errors of signature verification.
var (
	// ErrBadSignature means the signature does not verify: wrong key, wrong
	// message or a forged or damaged signature.
	ErrBadSignature = errors.New("credential: ballot signature does not verify")
	// ErrPublicKeySize means a public key is not PublicKeySize bytes.
	ErrPublicKeySize = errors.New("credential: public key has the wrong length")
	// ErrSignatureSize means a signature is not SignatureSize bytes.
	ErrSignatureSize = errors.New("credential: signature has the wrong length")
)

// KDFParams are the Argon2id parameters of an election's credentials. They
// are recorded in the roll, so that every voter's device derives the same key.
type KDFParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes (the result depends on it; the derivation may still run on one core)
}

// DefaultKDF is OWASP's recommended Argon2id profile: 19 MiB, 2 passes, one
// lane. It costs some tens of milliseconds per derivation, on a phone too.
var DefaultKDF = KDFParams{Time: 2, MemoryKiB: 19456, Threads: 1}

// Bounds of acceptable KDF parameters: beyond them a voter's device (a phone
// running the page in WebAssembly) could not derive the key in reasonable time
// and memory, and below them Argon2 itself is not defined.
const (
	MaxKDFTime      = 16
	MaxKDFMemoryKiB = 1 << 20 // 1 GiB
	MaxKDFThreads   = 16
)

// Validate reports whether p can be used: 1 to MaxKDFTime passes, 1 to
// MaxKDFThreads lanes, and from 8 KiB per lane (Argon2's minimum) to
// MaxKDFMemoryKiB of memory.
func (p KDFParams) Validate() error {
	switch {
	case p.Time < 1 || p.Time > MaxKDFTime:
		return fmt.Errorf("credential: KDF time %d is out of range: want 1 to %d passes", p.Time, MaxKDFTime)
	case p.Threads < 1 || p.Threads > MaxKDFThreads:
		return fmt.Errorf("credential: KDF threads %d is out of range: want 1 to %d", p.Threads, MaxKDFThreads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > MaxKDFMemoryKiB:
		return fmt.Errorf("credential: KDF memory %d KiB is out of range: want %d to %d KiB with %d threads",
			p.MemoryKiB, 8*uint32(p.Threads), MaxKDFMemoryKiB, p.Threads)
	}
	return nil
}

// Weaker reports whether p costs an attacker less than DefaultKDF in time or
// memory. Such parameters are valid (tests use them) but unwise for an
// election.
func (p KDFParams) Weaker() bool {
	return p.MemoryKiB < DefaultKDF.MemoryKiB || uint64(p.Time)*uint64(p.MemoryKiB) < uint64(DefaultKDF.Time)*uint64(DefaultKDF.MemoryKiB)
}

// String describes p, such as "argon2id t=2 m=19456KiB p=1".
func (p KDFParams) String() string {
	return fmt.Sprintf("argon2id t=%d m=%dKiB p=%d", p.Time, p.MemoryKiB, p.Threads)
}

// MaxElectionIDLength is the longest election ID (the manifest's limit).
const MaxElectionIDLength = 64

// validElectionID reports whether id is a valid election ID: 1 to 64
// lower-case ASCII letters, digits and '-' (the manifest's rule).
func validElectionID(id string) bool {
	if len(id) == 0 || len(id) > MaxElectionIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkElectionID(id string) error {
	if !validElectionID(id) {
		return fmt.Errorf("credential: election id %q is not valid: use 1 to %d lowercase letters, digits and '-'", id, MaxElectionIDLength)
	}
	return nil
}

// kdfSalt returns the Argon2id salt of an election: the transcript
// len ‖ "evote/v1/credential-kdf" ‖ len ‖ electionID (docs/credentials.md, §2).
func kdfSalt(electionID string) []byte {
	return crypto.NewTranscript(tagKDF).AppendString(electionID).Bytes()
}

// Credential is a voter's signing key, derived from the voter's code. It is
// secret: it prints as its public key only. Only Derive makes a usable
// Credential; the methods of the zero Credential return nil.
type Credential struct {
	priv ed25519.PrivateKey
}

func (c Credential) pub() ed25519.PublicKey {
	if len(c.priv) != ed25519.PrivateKeySize {
		return nil
	}
	return c.priv.Public().(ed25519.PublicKey)
}

// Derive derives the credential of code in an election (docs/credentials.md,
// §2): seed = Argon2id(password = the code's CodeSymbols upper-case symbols,
// salt = kdfSalt(electionID), params, 32 bytes), key = Ed25519 key of seed.
// It is deliberately slow: it costs params' time and memory.
func Derive(code Code, electionID string, params KDFParams) (*Credential, error) {
	if err := checkElectionID(electionID); err != nil {
		return nil, err
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if code.IsZero() {
		return nil, errors.New("credential: derive: the zero Code is not a code")
	}
	pw := code.normalized()
	seed := argon2.IDKey(pw, kdfSalt(electionID), params.Time, params.MemoryKiB, params.Threads, ed25519.SeedSize)
	c := &Credential{priv: ed25519.NewKeyFromSeed(seed)}
	clear(pw)
	clear(seed)
	return c, nil
}

// PublicKey returns the credential's public key, the entry of the roll.
func (c *Credential) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), c.pub()...)
}

// Sign returns the Ed25519 signature of msg (RFC 8032, pure Ed25519).
func (c *Credential) Sign(msg []byte) []byte {
	if len(c.priv) != ed25519.PrivateKeySize {
		return nil
	}
	return ed25519.Sign(c.priv, msg)
}

// SignBallot signs BallotMessage(electionBaseHash, ballotHash).
func (c *Credential) SignBallot(electionBaseHash, ballotHash [32]byte) []byte {
	return c.Sign(BallotMessage(electionBaseHash, ballotHash))
}

// String returns "credential.Credential(PUBLIC-KEY-HEX)", never the private key.
func (c Credential) String() string {
	return "credential.Credential(" + hex.EncodeToString(c.pub()) + ")"
}

// GoString is String (for the %#v verb).
func (c Credential) GoString() string { return c.String() }

// BallotMessage returns the message a credential signs for a ballot
// (docs/credentials.md, §3): the transcript
// len ‖ "evote/v1/ballot-signature" ‖ len ‖ electionBaseHash ‖ len ‖ ballotHash,
// every len 8 bytes big-endian.
func BallotMessage(electionBaseHash, ballotHash [32]byte) []byte {
	return crypto.NewTranscript(tagBallotSignature).AppendBytes(electionBaseHash[:]).AppendBytes(ballotHash[:]).Bytes()
}

// VerifyBallot checks sig as pub's signature of BallotMessage(electionBaseHash,
// ballotHash). It returns ErrPublicKeySize or ErrSignatureSize (wrapped, with
// the length) for a malformed input and ErrBadSignature for a signature that
// does not verify. It does not check that pub is on the roll (Roll.Contains).
func VerifyBallot(pub ed25519.PublicKey, electionBaseHash, ballotHash [32]byte, sig []byte) error {
	if len(pub) != PublicKeySize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrPublicKeySize, len(pub), PublicKeySize)
	}
	if len(sig) != SignatureSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrSignatureSize, len(sig), SignatureSize)
	}
	if !ed25519.Verify(pub, BallotMessage(electionBaseHash, ballotHash), sig) {
		return ErrBadSignature
	}
	return nil
}
