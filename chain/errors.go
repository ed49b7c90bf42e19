package chain

import "errors"

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
