// Package wire is evote's transaction format: every transaction kind as a
// typed value with its encoding and decoding, the rejection codes the nodes
// answer with, and the phases of an election (docs/spec-chain.md §2).
//
// It imports nothing but the standard library, so that every program that
// reads transactions (the nodes, the tally service, the verifier, the record
// exporter, the web server and the browser's receipt check) decodes them with
// the same code.
package wire
