// Package web is evote's public API of an authority node: a websocket
// endpoint (/ws) over which voters cast and audit ballots and get receipts,
// subscriptions to blocks and ballots, and read-only HTTP JSON endpoints
// (/api/...). docs/api.md describes the protocol, every message, the
// receipt format and how to verify a receipt.
//
// # Receipts
//
// A Receipt carries everything a voter needs to check that a ballot is in a
// committed block without trusting the node that answered: the transaction,
// its Merkle inclusion proof, the block header and id, and the commit with
// the validators' signatures. VerifyReceipt checks it against the validator
// set, which a client pins (from the genesis, or /api/validators of a node it
// trusts); VerifyTrackingCode checks that the transaction holds the ballot
// with the claimed tracking code.
//
// # Threat model
//
// Clients are untrusted: every message is size- and rate-limited, checked
// and answered with a specific error; a bad message closes only its own
// connection and never changes state. The node is untrusted by clients:
// receipts are verifiable. Ballots carry no secret; an audited ballot's
// secrets are published on purpose. Credential codes never reach the server.
//
// # Compatibility
//
// The protocol is versioned by the "evote/v1/receipt" format string of
// receipts; new message fields may be added, and clients must ignore fields
// they do not know.
package web
