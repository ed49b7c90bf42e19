package trustee

import (
	cryptorand "crypto/rand"
	"fmt"

	"github.com/evote/evote/crypto"
)

// Tags of decryption-share signatures (docs/spec-chain.md §5).
const (
	tagShare        = "evote/v1/decryption-share"
	tagShareContext = "decryption-share"
)

// shareContext binds a trustee's signature to the election, the trustee and
// the exact share.
func shareContext(baseHash crypto.Context, l int, share []byte) crypto.Context {
	h := crypto.Hash(tagShare, share)
	return baseHash.Derive(tagShareContext, u64(l), h[:])
}

// Decrypt computes the trustee's partial decryption of the encrypted totals
// of an election, with a Chaum-Pedersen proof per ciphertext in the context
// baseHash (the election base hash), and signs it with the trustee's identity
// key. It needs the trustee's share from the key ceremony.
func (k *Key) Decrypt(baseHash crypto.Context, totals []crypto.Ciphertext) (crypto.DecryptionShare, crypto.SchnorrProof, error) {
	x, l, err := k.SecretShare()
	if err != nil {
		return crypto.DecryptionShare{}, crypto.SchnorrProof{}, err
	}
	if l < 1 || l > len(k.Ceremony.VerificationKeys) {
		return crypto.DecryptionShare{}, crypto.SchnorrProof{}, fmt.Errorf("trustee: key file: no verification key for trustee %d", l)
	}
	kl, err := crypto.DecodeNonIdentityPoint(k.Ceremony.VerificationKeys[l-1])
	if err != nil {
		return crypto.DecryptionShare{}, crypto.SchnorrProof{}, fmt.Errorf("trustee: key file: verification key: %w", err)
	}
	share, err := crypto.PartialDecrypt(cryptorand.Reader, baseHash, l, x, kl, totals)
	if err != nil {
		return crypto.DecryptionShare{}, crypto.SchnorrProof{}, err
	}
	sig, err := crypto.ProveSchnorr(cryptorand.Reader, shareContext(baseHash, l, share.Encode()), k.identity, crypto.BaseMul(k.identity))
	return share, sig, err
}

// VerifyShareSignature checks trustee l's signature on its decryption share
// against its identity key.
func VerifyShareSignature(identity crypto.Point, baseHash crypto.Context, l int, share []byte, sig crypto.SchnorrProof) error {
	if sig.Commitment == nil || sig.Verify(shareContext(baseHash, l, share), identity) != nil {
		return fmt.Errorf("trustee %d: decryption share: %w", l, ErrSignature)
	}
	return nil
}

// IdentityKey returns trustee l's identity key.
func (c *Ceremony) IdentityKey(l int) (crypto.Point, error) {
	if l < 1 || l > len(c.identity) {
		return nil, fmt.Errorf("trustee: no trustee %d", l)
	}
	return c.identity[l-1], nil
}
