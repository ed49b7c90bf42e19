// Package tally is evote's tally service: it follows one authority node's
// chain and keeps, independently of the chain's application, the encrypted
// running totals of one election; at close it publishes them (the chain
// accepts them only if they equal its own), then it gathers the trustees'
// decryption shares, combines any k of them, solves the discrete logarithms
// and publishes the result, which the chain checks again.
//
// # Threat model
//
// The service trusts nothing it has not checked: it decodes every ballot the
// chain accepted, verifies its signature and proofs again (one batch
// verification per block), adds it to its own totals and takes a replaced
// ballot out; it checks that each block extends the last one it processed,
// that the totals the chain accepted are its own, that each decryption share
// verifies against its own totals and that the chain's result is its own
// decryption. Any disagreement is an *AlarmError, logged loudly, after which
// the service stops and reports the alarm in /progress and /healthz.
// It does trust the node for the authenticity of blocks (it does not verify
// the validators' commit signatures) and for the trustees' verification keys
// in the election record.
//
// # State and resume
//
// The state (totals, counters, the ciphertexts of every counted ballot by
// tracking code) lives in a store.Store, committed once per chain height with
// an app hash that chains the service's own state changes. A service killed
// at any moment resumes from its last committed height with exactly the same
// totals. See docs/tally.md.
package tally
