// Package count implements deterministic counting methods for decrypted
// preferential and graded ballots: instant-runoff voting ([IRV]), the single
// transferable vote under the Scottish rules ([STV]), the Condorcet–Schulze
// method ([Schulze]) and majority judgment ([MajorityJudgment]).
//
// Each method returns its winners together with a round-by-round record that
// marshals to JSON and can be shown to observers: the counts of every round,
// what was transferred and why, and every tie-break with the rule that
// settled it. docs/spec-count.md is the reference for the rules; each
// function's comment states the rule it applies.
//
// # Ballots
//
// Candidates are numbered 0..n-1. A [Ranking] lists candidate indexes, most
// preferred first (IRV and STV); [Ranks] gives each candidate a rank, 1 for
// the best, 0 for unranked, ties allowed (Schulze); [Grades] gives each
// candidate a grade index, 0 for the best grade (majority judgment).
//
// The counting functions take only well-formed ballots. The caller checks
// each decrypted ballot with the check of its method — [IRVBallot],
// [STVBallot], [SchulzeBallot], [MJBallot] (built on [CheckRanking],
// [CheckRanks] and [CheckGrades]) — counts the invalid ones with the
// [Reason] of each, and passes the valid ones on. A counting function given
// an invalid ballot returns an error wrapping [ErrInvalidBallot]; it never
// panics on its input.
//
// # Determinism
//
// Every result depends only on the multiset of ballots and on the [Lot]: the
// order of the ballots does not matter, arithmetic is exact (integers; STV
// values are integers in units of 0.00001), and every tie is broken by a
// stated rule that ends with the lot. A lot is a permutation of the
// candidates drawn before the count (for example by [LotFromSeed] from a
// public seed); earlier in the lot means favoured.
//
// # Compatibility
//
// The JSON field names of the result types are part of the election record
// and change only with a new version of docs/spec-count.md.
package count
