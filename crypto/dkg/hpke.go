package dkg

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/evote/evote/crypto"
	"io"

	"github.com/cloudflare/circl/dh/x25519"
	"github.com/cloudflare/circl/hpke"
	"github.com/cloudflare/circl/kem"
	"golang.org/x/crypto/chacha20poly1305"
)

// Trustees receive their key-ceremony shares with HPKE (RFC 9180) in base
// mode, with the cipher suite
//
//	KEM  DHKEM(X25519, HKDF-SHA256)  0x0020
//	KDF  HKDF-SHA256                 0x0001
//	AEAD ChaCha20Poly1305            0x0003
//
// ChaCha20-Poly1305 is constant-time on every platform without hardware
// support, which is why it is chosen over AES-256-GCM. Encryption uses
// circl's hpke package. Decryption decapsulates with circl and then runs the
// key schedule of RFC 9180 §5.1 implemented here, so that the KEM shared
// secret a recipient publishes as evidence in a complaint is enough for
// anyone to repeat the decryption (docs/spec-threshold.md, "HPKE").

// Sizes of HPKE values.
const (
	HPKEPublicKeySize  = 32 // an X25519 public key (u-coordinate)
	HPKEPrivateKeySize = 32 // an X25519 private key
	hpkeEncSize        = 32 // the encapsulated key: an ephemeral X25519 public key
	hpkeSecretSize     = 32 // the KEM shared secret (Nsecret)
	hpkeKeySize        = chacha20poly1305.KeySize
	hpkeNonceSize      = chacha20poly1305.NonceSize
	hpkeTagSize        = chacha20poly1305.Overhead
	hpkeExporterSize   = 32 // Nh of HKDF-SHA256
)

// HPKE algorithm identifiers (RFC 9180 §7).
const (
	hpkeKEMID  = 0x0020
	hpkeKDFID  = 0x0001
	hpkeAEADID = 0x0003
)

var (
	hpkeSuite  = hpke.NewSuite(hpke.KEM_X25519_HKDF_SHA256, hpke.KDF_HKDF_SHA256, hpke.AEAD_ChaCha20Poly1305)
	hpkeScheme = hpke.KEM_X25519_HKDF_SHA256.Scheme()
)

// ErrHPKEKey is returned for 32 bytes that are not a usable X25519 public
// key: a non-canonical u-coordinate (top bit set or u ≥ 2²⁵⁵−19) or a point
// of small order, for which X25519 gives the all-zero shared secret.
var ErrHPKEKey = fmt.Errorf("%w: not a valid X25519 public key", crypto.ErrDecode)

// errHPKEOpen is returned when an HPKE ciphertext does not decrypt.
var errHPKEOpen = errors.New("crypto: HPKE ciphertext does not decrypt")

// HPKEPublicKey is a trustee's long-term X25519 public key, to which the other
// trustees encrypt its shares in the key ceremony.
type HPKEPublicKey [HPKEPublicKeySize]byte

// HPKEPrivateKey is a trustee's long-term X25519 private key.
type HPKEPrivateKey struct {
	sk  kem.PrivateKey
	pub HPKEPublicKey
}

// GenerateHPKEKey derives a new key pair from 32 bytes read from rand with the
// KEM's DeriveKeyPair (RFC 9180 §7.1.3).
func GenerateHPKEKey(rand io.Reader) (*HPKEPrivateKey, error) {
	seed := make([]byte, hpkeScheme.SeedSize())
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, fmt.Errorf("crypto: reading randomness: %w", err)
	}
	_, sk := hpkeScheme.DeriveKeyPair(seed)
	return newHPKEPrivateKey(sk)
}

func newHPKEPrivateKey(sk kem.PrivateKey) (*HPKEPrivateKey, error) {
	pb, err := sk.Public().MarshalBinary()
	if err != nil || len(pb) != HPKEPublicKeySize {
		return nil, fmt.Errorf("crypto: HPKE private key: %w", crypto.ErrLength)
	}
	pub := HPKEPublicKey(pb)
	if err := checkX25519Public(pub[:]); err != nil {
		// The all-zero or a small-order result can only come from a private
		// key that clamps to zero, which DeriveKeyPair never gives.
		return nil, fmt.Errorf("crypto: HPKE private key: %w", err)
	}
	return &HPKEPrivateKey{sk: sk, pub: pub}, nil
}

// Public returns the public key.
func (k *HPKEPrivateKey) Public() HPKEPublicKey { return k.pub }

// Encode returns the 32-byte private key (keep it secret).
func (k *HPKEPrivateKey) Encode() []byte {
	b, err := k.sk.MarshalBinary()
	if err != nil {
		panic("crypto: encoding an X25519 private key failed")
	}
	return b
}

// DecodeHPKEPrivateKey decodes a private key encoded by Encode.
func DecodeHPKEPrivateKey(b []byte) (*HPKEPrivateKey, error) {
	if len(b) != HPKEPrivateKeySize {
		return nil, fmt.Errorf("crypto: HPKE private key: %w: %d bytes, want %d", crypto.ErrLength, len(b), HPKEPrivateKeySize)
	}
	sk, err := hpkeScheme.UnmarshalBinaryPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("crypto: HPKE private key: %w", crypto.ErrDecode)
	}
	return newHPKEPrivateKey(sk)
}

// Encode returns the 32-byte public key.
func (p HPKEPublicKey) Encode() []byte { return append([]byte(nil), p[:]...) }

// DecodeHPKEPublicKey decodes a public key, rejecting non-canonical encodings
// and points of small order.
func DecodeHPKEPublicKey(b []byte) (HPKEPublicKey, error) {
	if len(b) != HPKEPublicKeySize {
		return HPKEPublicKey{}, fmt.Errorf("crypto: HPKE public key: %w: %d bytes, want %d", crypto.ErrLength, len(b), HPKEPublicKeySize)
	}
	if err := checkX25519Public(b); err != nil {
		return HPKEPublicKey{}, fmt.Errorf("crypto: HPKE public key: %w", err)
	}
	return HPKEPublicKey(b), nil
}

// checkX25519Public accepts exactly the canonical encodings (u < 2²⁵⁵−19, top
// bit clear) of X25519 public keys that are not of small order. It works on
// public data.
func checkX25519Public(b []byte) error {
	if len(b) != x25519.Size {
		return ErrHPKEKey
	}
	// u ≥ p = 2²⁵⁵−19 iff the top byte is 0x7f, the middle bytes are 0xff and
	// the low byte is ≥ 0xed; the top bit must be clear.
	if b[31]&0x80 != 0 {
		return ErrHPKEKey
	}
	if b[31] == 0x7f && b[0] >= 0xed {
		high := true
		for _, c := range b[1:31] {
			high = high && c == 0xff
		}
		if high {
			return ErrHPKEKey
		}
	}
	// A clamped scalar is a multiple of the cofactor 8, so X25519 with any
	// private key maps exactly the small-order points to zero.
	var out, sk, pk x25519.Key
	sk[0] = 1
	copy(pk[:], b)
	if !x25519.Shared(&out, &sk, &pk) {
		return ErrHPKEKey
	}
	return nil
}

func (p HPKEPublicKey) kem() (kem.PublicKey, error) {
	if err := checkX25519Public(p[:]); err != nil {
		return nil, err
	}
	return hpkeScheme.UnmarshalBinaryPublicKey(p[:])
}

// hpkeSuiteID is suite_id = "HPKE" ‖ I2OSP(kem_id, 2) ‖ I2OSP(kdf_id, 2) ‖
// I2OSP(aead_id, 2) (RFC 9180 §5.1).
var hpkeSuiteID = []byte{'H', 'P', 'K', 'E', hpkeKEMID >> 8, hpkeKEMID & 0xff, hpkeKDFID >> 8, hpkeKDFID & 0xff, hpkeAEADID >> 8, hpkeAEADID & 0xff}

const hpkeVersionLabel = "HPKE-v1"

// hpkeLabeledExtract is RFC 9180 §4 LabeledExtract(salt, label, ikm) =
// Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm).
func hpkeLabeledExtract(salt []byte, label string, ikm []byte) []byte {
	labeled := make([]byte, 0, len(hpkeVersionLabel)+len(hpkeSuiteID)+len(label)+len(ikm))
	labeled = append(labeled, hpkeVersionLabel...)
	labeled = append(labeled, hpkeSuiteID...)
	labeled = append(labeled, label...)
	labeled = append(labeled, ikm...)
	prk, err := hkdf.Extract(sha256.New, labeled, salt)
	if err != nil {
		panic("crypto: HKDF-Extract failed: " + err.Error())
	}
	return prk
}

// hpkeLabeledExpand is RFC 9180 §4 LabeledExpand(prk, label, info, L) =
// Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info, L).
// L is at most 32 here.
func hpkeLabeledExpand(prk []byte, label string, info []byte, length int) []byte {
	labeled := make([]byte, 2, 2+len(hpkeVersionLabel)+len(hpkeSuiteID)+len(label)+len(info))
	binary.BigEndian.PutUint16(labeled, uint16(length))
	labeled = append(labeled, hpkeVersionLabel...)
	labeled = append(labeled, hpkeSuiteID...)
	labeled = append(labeled, label...)
	labeled = append(labeled, info...)
	out, err := hkdf.Expand(sha256.New, prk, string(labeled), length)
	if err != nil {
		panic("crypto: HKDF-Expand failed: " + err.Error())
	}
	return out
}

// hpkeContext is the result of the base-mode key schedule.
type hpkeContext struct {
	key, baseNonce, exporterSecret []byte
}

// hpkeKeySchedule is RFC 9180 §5.1 KeySchedule for mode_base (0x00), with
// psk = psk_id = "" (default_psk, default_psk_id):
//
//	psk_id_hash = LabeledExtract("", "psk_id_hash", "")
//	info_hash   = LabeledExtract("", "info_hash", info)
//	ks_context  = 0x00 ‖ psk_id_hash ‖ info_hash
//	secret      = LabeledExtract(shared_secret, "secret", "")
//	key         = LabeledExpand(secret, "key", ks_context, Nk)
//	base_nonce  = LabeledExpand(secret, "base_nonce", ks_context, Nn)
//	exporter    = LabeledExpand(secret, "exp", ks_context, Nh)
func hpkeKeySchedule(sharedSecret, info []byte) hpkeContext {
	pskIDHash := hpkeLabeledExtract(nil, "psk_id_hash", nil)
	infoHash := hpkeLabeledExtract(nil, "info_hash", info)
	ksContext := make([]byte, 0, 1+len(pskIDHash)+len(infoHash))
	ksContext = append(ksContext, 0x00)
	ksContext = append(ksContext, pskIDHash...)
	ksContext = append(ksContext, infoHash...)
	secret := hpkeLabeledExtract(sharedSecret, "secret", nil)
	return hpkeContext{
		key:            hpkeLabeledExpand(secret, "key", ksContext, hpkeKeySize),
		baseNonce:      hpkeLabeledExpand(secret, "base_nonce", ksContext, hpkeNonceSize),
		exporterSecret: hpkeLabeledExpand(secret, "exp", ksContext, hpkeExporterSize),
	}
}

// open decrypts the first message of the context (sequence number 0, so the
// nonce is base_nonce itself; RFC 9180 §5.2 ContextR.Open).
func (c hpkeContext) open(ct, aad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.New(c.key)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, c.baseNonce, ct, aad)
	if err != nil {
		return nil, errHPKEOpen
	}
	return pt, nil
}

// seal encrypts the first message of the context (sequence number 0).
func (c hpkeContext) seal(pt, aad []byte) []byte {
	aead, err := chacha20poly1305.New(c.key)
	if err != nil {
		panic("crypto: ChaCha20-Poly1305 key of the wrong size")
	}
	return aead.Seal(nil, c.baseNonce, pt, aad)
}

// hpkeSeal encrypts one message to pk in base mode with circl's HPKE, reading
// the ephemeral key seed from rand, and returns enc ‖ ciphertext.
func hpkeSeal(rand io.Reader, pk HPKEPublicKey, info, aad, pt []byte) ([]byte, error) {
	kpk, err := pk.kem()
	if err != nil {
		return nil, err
	}
	sender, err := hpkeSuite.NewSender(kpk, info)
	if err != nil {
		return nil, err
	}
	enc, sealer, err := sender.Setup(rand)
	if err != nil {
		return nil, err
	}
	ct, err := sealer.Seal(pt, aad)
	if err != nil {
		return nil, err
	}
	return append(enc, ct...), nil
}

// decapsulate returns the KEM shared secret for the encapsulated key enc
// (RFC 9180 §4.1 Decap), computed by circl.
func (k *HPKEPrivateKey) decapsulate(enc []byte) ([]byte, error) {
	if err := checkX25519Public(enc); err != nil {
		return nil, err
	}
	ss, err := hpkeScheme.Decapsulate(k.sk, enc)
	if err != nil {
		return nil, err
	}
	return ss, nil
}

// hpkeOpenWithSecret repeats the receiver's side of base-mode HPKE from the
// KEM shared secret: key schedule, then AEAD decryption of the first message.
// Anyone holding the shared secret can run it.
func hpkeOpenWithSecret(sharedSecret, info, aad, ct []byte) ([]byte, error) {
	if len(sharedSecret) != hpkeSecretSize {
		return nil, errHPKEOpen
	}
	return hpkeKeySchedule(sharedSecret, info).open(ct, aad)
}
