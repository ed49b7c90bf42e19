package wire

import "fmt"

// Codespace is the codespace of evote's rejection codes in CometBFT results.
const Codespace = "evote"

// Code is the result code of a transaction: zero if it was accepted, else
// why it was rejected (docs/spec-chain.md §7).
type Code uint32

// Result codes.
const (
	OK                  Code = 0
	CodeMalformed       Code = 1  // the transaction or its content does not decode
	CodeUnknownElection Code = 2  // no such election on this chain
	CodeWrongPhase      Code = 3  // not allowed in the election's current phase
	CodeOutsideWindow   Code = 4  // ballot outside the voting window
	CodeBadSignature    Code = 5  // a signature does not verify
	CodeNotOnRoll       Code = 6  // the credential is not on the roll
	CodeInvalidProof    Code = 7  // a ballot proof does not verify
	CodeDuplicate       Code = 8  // already on the chain (replay)
	CodeAudited         Code = 9  // the ballot was audited and can never be cast
	CodeUnauthorized    Code = 10 // the signer is not an authorised official
	CodeCeremony        Code = 11 // an invalid key-ceremony message
	CodeRoll            Code = 12 // an invalid credential roll chunk
	CodeInvalidAudit    Code = 13 // an audited ballot that does not match its revealed choices
	CodeExists          Code = 14 // the election is already defined
	CodeNotFound        Code = 15 // (queries) nothing found
	CodeWrongTotals     Code = 16 // published totals differ from the chain's own
	CodeWrongResult     Code = 17 // a count is not the decryption of its total
	CodeAuditLimit      Code = 18 // the credential has published MaxAuditsPerCredential audits
	CodeWrongStyle      Code = 19 // the ballot's style is not the credential's
	CodeInternal        Code = 99 // the node could not read its own state
)

var codeNames = map[Code]string{
	OK:                  "ok",
	CodeMalformed:       "malformed",
	CodeUnknownElection: "unknown-election",
	CodeWrongPhase:      "wrong-phase",
	CodeOutsideWindow:   "outside-window",
	CodeBadSignature:    "bad-signature",
	CodeNotOnRoll:       "not-on-roll",
	CodeInvalidProof:    "invalid-proof",
	CodeDuplicate:       "duplicate",
	CodeAudited:         "audited",
	CodeUnauthorized:    "unauthorized",
	CodeCeremony:        "ceremony",
	CodeRoll:            "roll",
	CodeInvalidAudit:    "invalid-audit",
	CodeExists:          "exists",
	CodeNotFound:        "not-found",
	CodeWrongTotals:     "wrong-totals",
	CodeWrongResult:     "wrong-result",
	CodeAuditLimit:      "audit-limit",
	CodeWrongStyle:      "wrong-style",
	CodeInternal:        "internal",
}

// String returns the code's name, as docs/spec-chain.md §7 lists it.
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("code-%d", uint32(c))
}
