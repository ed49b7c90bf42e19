// Package ballot holds the election's public definition, the manifest, and
// (as they are added) plaintext ballots, their encryption with proofs,
// tracking codes and voter credentials.
//
// # Manifest
//
// A Manifest lists the contests with their vote rules, the optional ballot
// styles, the trustees and their threshold, the authorities that run nodes,
// the officials' signing keys and the voter roll. Everything else in an
// election refers to it by its hash (Manifest.Hash), which is computed over
// one canonical JSON encoding (Manifest.CanonicalJSON, docs/spec-manifest.md).
// Manifests are usually written as YAML and read with package
// github.com/evote/evote/ballot/config, which reports every problem with its
// file, line and column.
//
// # Vote rules
//
// Each selection of a contest is marked 0 or 1; a contest's rule bounds the
// number of marked selections to [Contest.MinSelections,
// Contest.MaxSelections]. Ballot encryption proves exactly that: a 0/1 proof
// per selection and a range proof for the contest's sum.
//
// # Compatibility
//
// The canonical JSON encoding and the hash tag "evote/v1/manifest" are fixed;
// a known-answer test guards them. Any change to the encoding needs a new tag.
package ballot
