package trustee

import (
	cryptorand "crypto/rand"
	"fmt"

	"github.com/evote/evote/ballot"
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

// StateFor returns the ceremony state of the election with the given base
// hash: the one whose manifest hash and joint key hash to it.
func (k *Key) StateFor(baseHash crypto.Context) (*CeremonyState, error) {
	for _, st := range k.Ceremonies {
		if st.JointKey != nil && ballot.BaseHash(st.ManifestHash, st.JointKey) == baseHash {
			return st, nil
		}
	}
	return nil, fmt.Errorf("trustee: %q holds no share of the key of the election with base hash %s (finish its key ceremony first)", k.Name, baseHash)
}

// Decrypt computes the trustee's partial decryption of the encrypted totals
// of an election, with a Chaum-Pedersen proof per ciphertext in the context
// baseHash (the election base hash, which names the election and its key),
// and signs it with the trustee's identity key. It needs the trustee's share
// from that election's key ceremony.
func (k *Key) Decrypt(baseHash crypto.Context, totals []crypto.Ciphertext) (crypto.DecryptionShare, crypto.SchnorrProof, error) {
	st, err := k.StateFor(baseHash)
	if err != nil {
		return crypto.DecryptionShare{}, crypto.SchnorrProof{}, err
	}
	x, l, err := k.SecretShare(st.ElectionID)
	if err != nil {
		return crypto.DecryptionShare{}, crypto.SchnorrProof{}, err
	}
	if l < 1 || l > len(st.VerificationKeys) {
		return crypto.DecryptionShare{}, crypto.SchnorrProof{}, fmt.Errorf("trustee: key file: no verification key for trustee %d", l)
	}
	kl, err := crypto.DecodeNonIdentityPoint(st.VerificationKeys[l-1])
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
