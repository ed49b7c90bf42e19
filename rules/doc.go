// Package rules is the election's state machine: what every transaction may
// do, in which phase, with which rejection code and message, and what it
// writes. It is pure code over a small key-value State: the authority nodes
// run it on a block's overlay of their store (package chain), the verifier
// on its own in-memory state (package verify), so that there is one
// definition of every rule and the verifier recomputes the very state (and
// app hash) that the authorities signed.
//
// Every value the rules write has a canonical encoding (docs/spec-chain.md
// §6): a record is the concatenation of its fields, each length-prefixed
// (wire.LP), integers as 8-byte big-endian values, lists as the
// length-prefixed concatenation of their length-prefixed items.
//
// Errors: Apply returns a *Rejection for a fault of the transaction, and any
// other error for a fault of the State (a read that failed). The caller must
// never turn the latter into a rejection: its state for the block is unknown.
package rules
