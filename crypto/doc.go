// Package crypto is evote's cryptographic core on the ristretto255 group
// (RFC 9496), through github.com/cloudflare/circl/group.
//
// It provides exponential ElGamal encryption, the zero-knowledge proofs that
// make ballots and decryptions checkable (Schnorr, Chaum-Pedersen, disjunctive
// 0/1 and range proofs), batch verification of many proofs with one
// multi-scalar multiplication, threshold key generation (Joint-Feldman, k of
// n, shares encrypted with HPKE), partial decryption with proofs, Lagrange
// combination of shares, and a bounded discrete logarithm for totals.
//
// # Encodings
//
// Points and scalars have exactly one 32-byte encoding each; decoders reject
// everything else (non-canonical field elements, non-reduced scalars, and the
// identity where it is not a valid value). Proofs and ciphertexts are fixed-size
// concatenations of those encodings. docs/spec.md defines every encoding, hash
// input and verification equation.
//
// # Fiat-Shamir
//
// Every challenge is derived from a distinct, versioned domain-separation tag,
// a context hash (the election's base hash), the full statement and all
// commitments, length-prefixed (see Transcript).
//
// # Threat model
//
// Secret-dependent computations (encryption, proving, partial decryption, key
// generation) use constant-time group and scalar arithmetic. Verification works
// only on public data and may be variable-time; functions that are
// variable-time say so in their names or docs.
package crypto
