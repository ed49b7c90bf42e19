// Package credential implements voter credentials: short private codes that a
// voter can type, the signing keys derived from them, the ballot signature,
// and the public credential roll that an election definition publishes
// (docs/credentials.md is the specification; every function that implements a
// step of it names the section).
//
// A Code is 24 symbols of the Crockford base32 alphabet, 21 of them random
// (105 bits from crypto/rand) and 3 check symbols of a shortened Reed-Solomon
// code over GF(32), shown as six groups of four, such as
// "7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5". The check symbols guarantee that any one
// mistyped symbol, any swap of two adjacent symbols and any two or three
// wrong symbols are detected; a single wrong symbol is also located, so that
// a voting page can point at it (CheckPartial).
//
// Derive turns a code into a Credential, an Ed25519 key pair: Argon2id over
// the code, salted with the election ID, gives the 32-byte Ed25519 seed. The
// voter's device derives the key when the voter types the code; the official
// derives all of them once, with Generate, to publish the public keys as a
// Roll. A ballot is signed over BallotMessage, which binds the election base
// hash and the ballot hash; VerifyBallot checks it and Roll.Contains checks
// that the key is on the roll. The roll lists its keys in ascending order,
// never in the order the codes were made or handed out, so that a key's place
// on the public roll cannot be matched to a voter by the order of a list.
//
// # Threat model
//
// The code is the voter's only secret: whoever holds it can cast a ballot in
// the voter's name (a later ballot replaces an earlier one, so a voter who
// still holds the code can always vote again). The roll is public, so an
// attacker can try to guess codes offline against it; 105 random bits make
// that hopeless even without the KDF, and the KDF (by default OWASP's
// Argon2id profile, m=19456 KiB, t=2, p=1) makes every guess cost tens of
// milliseconds and 19 MiB more. The salt binds a key to one election, so a
// code reused in another election gives an unrelated key.
//
// Codes and private keys are never formatted: Code and Credential print as
// redacted placeholders with fmt and log/slog, and no error message of this
// package contains a code, a bad character of a code, or a private key.
// Operations on a code (parsing, checksum, encoding) are constant-time for
// well-formed codes; locating a typo in a code whose checksum fails is not
// (the located position is shown to the user anyway). Go cannot guarantee
// that secrets are wiped from memory; the package does not try.
//
// # Compatibility
//
// The code alphabet and checksum, the KDF input and salt, the ballot message,
// and the roll's binary encoding, JSON form and hash are fixed by the
// version-1 domain-separation tags ("evote/v1/...") and the roll's format
// version 1. A change of any of them gets a new tag and version; codes and
// rolls already issued keep their meaning.
package credential
