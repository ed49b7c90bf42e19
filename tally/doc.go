// Package tally is evote's tally service: it follows one authority node's
// chain and, independently of the node's application, runs the chain's
// rules (package rules) over one election's transactions in a store of its
// own, so that it holds the election's state, encrypted running totals
// included, as it derived it; at close it publishes the totals (the chain
// accepts them only if they equal its own), then it combines any k of the
// trustees' decryption shares, solves the discrete logarithms and publishes
// the result, which the chain checks again.
//
// # Threat model
//
// The service trusts nothing it has not derived: it applies every
// transaction of the election with the rules, which decode each ballot and
// verify its signature and proofs (one batch verification per block), apply
// the re-vote rule by credential and keep the totals; the outcome of every
// transaction by the rules must be the chain's result code for it. It
// checks that each block extends the last one it processed and that the
// chain's result is its own decryption of its own totals. It never reads
// the node's event attributes, which are not part of consensus. Any
// disagreement is an *AlarmError, logged loudly, after which the service
// stops and reports the alarm in /progress and /healthz. It does trust the
// node for the authenticity of blocks (it does not verify the validators'
// commit signatures) and for the chain's genesis.
//
// # State and resume
//
// The state (the rules' buckets, holding the election's values only, and
// the service's progress) lives in a store.Store, committed once per chain
// height with a state hash that chains the service's own state changes. A
// service killed at any moment resumes from its last committed height with
// exactly the same state. See docs/tally.md.
package tally
