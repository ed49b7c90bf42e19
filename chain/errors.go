package chain

import (
	"errors"
	"fmt"
)

// Codespace is the codespace of evote's rejection codes.
const Codespace = "evote"

// Rejection codes of CheckTx and FinalizeBlock results (docs/spec-chain.md).
// Zero is success.
const (
	CodeMalformed       uint32 = 1  // the transaction or its content does not decode
	CodeUnknownElection uint32 = 2  // no such election on this chain
	CodeWrongPhase      uint32 = 3  // not allowed in the election's current phase
	CodeOutsideWindow   uint32 = 4  // ballot outside the voting window
	CodeBadSignature    uint32 = 5  // a signature does not verify
	CodeNotOnRoll       uint32 = 6  // the credential is not on the roll
	CodeInvalidProof    uint32 = 7  // a ballot proof does not verify
	CodeDuplicate       uint32 = 8  // already on the chain (replay)
	CodeAudited         uint32 = 9  // the ballot was audited and can never be cast
	CodeUnauthorized    uint32 = 10 // the signer is not an authorised official
	CodeCeremony        uint32 = 11 // an invalid key-ceremony message
	CodeRoll            uint32 = 12 // an invalid credential roll chunk
	CodeInvalidAudit    uint32 = 13 // an audited ballot that does not match its revealed choices
	CodeExists          uint32 = 14 // the election is already defined
	CodeNotFound        uint32 = 15 // (queries) nothing found
	CodeWrongTotals     uint32 = 16 // published totals differ from the chain's own
	CodeWrongResult     uint32 = 17 // a count is not the decryption of its total
	CodeAuditLimit      uint32 = 18 // the credential has published MaxAuditsPerCredential audits
	CodeInternal        uint32 = 99 // the node could not read its own state
)

// TxError is a rejection with its code.
type TxError struct {
	Code uint32
	Msg  string
}

func (e *TxError) Error() string { return e.Msg }

func txErr(code uint32, format string, args ...any) error {
	return &TxError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// StorageError is a failure of the node's own store, not of a transaction:
// a read that returned neither a value nor store.ErrNotFound, or a write that
// did not happen. During FinalizeBlock or Commit it stops the node (the block
// is not stored and is executed again after a restart, once the store is
// back); in CheckTx and queries it is answered with CodeInternal.
type StorageError struct {
	Op  string // what the node was doing: "read ballot", "commit block 12"
	Err error
}

func (e *StorageError) Error() string { return "chain: storage: " + e.Op + ": " + e.Err.Error() }
func (e *StorageError) Unwrap() error { return e.Err }

// IsStorageError reports whether err is (or wraps) a StorageError.
func IsStorageError(err error) bool {
	var se *StorageError
	return errors.As(err, &se)
}

// txErrorCode maps an error to its rejection code and message.
func txErrorCode(err error) (uint32, string) {
	var te *TxError
	if errors.As(err, &te) {
		return te.Code, te.Msg
	}
	if errors.Is(err, ErrMalformedTx) {
		return CodeMalformed, err.Error()
	}
	return CodeInternal, "internal error: " + err.Error()
}
