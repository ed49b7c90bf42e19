package count

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrInvalidBallot is wrapped by every error about a malformed ballot.
var ErrInvalidBallot = errors.New("count: invalid ballot")

// Reason names why a ballot is not well-formed. It is the string a caller
// records beside each invalid ballot it counts.
type Reason string

// The reasons a ballot can be invalid.
const (
	ReasonWrongLength       Reason = "wrong-length"              // not one entry per candidate
	ReasonEmpty             Reason = "empty"                     // no candidate ranked
	ReasonCandidateRange    Reason = "candidate-out-of-range"    // a candidate index outside 0..n-1
	ReasonRepeatedCandidate Reason = "repeated-candidate"        // a candidate ranked twice
	ReasonRankRange         Reason = "rank-out-of-range"         // a rank outside 0..n
	ReasonRepeatedRank      Reason = "repeated-rank"             // two candidates with the same rank where ties are not allowed
	ReasonRankGap           Reason = "rank-gap"                  // a rank r>1 used without rank r-1
	ReasonGradeRange        Reason = "grade-out-of-range"        // a grade outside 0..g-1
	ReasonNoCandidates      Reason = "no-candidates"             // the contest has no candidate
	ReasonNoFirst           Reason = "no-first-preference"       // STV: no candidate has rank 1
	ReasonRepeatedFirst     Reason = "repeated-first-preference" // STV: rank 1 given to more than one candidate
)

// BallotError is the error for a malformed ballot: its Reason, the position
// in the ballot at fault and a human-readable detail.
type BallotError struct {
	Reason Reason
	Pos    int // index in the ballot at fault, -1 if none
	Detail string
}

func (e *BallotError) Error() string {
	return fmt.Sprintf("count: invalid ballot: %s: %s", e.Reason, e.Detail)
}

// Unwrap returns ErrInvalidBallot.
func (e *BallotError) Unwrap() error { return ErrInvalidBallot }

// ReasonOf returns the Reason of a ballot error, or "" if err is not one.
func ReasonOf(err error) Reason {
	var be *BallotError
	if errors.As(err, &be) {
		return be.Reason
	}
	return ""
}

func bad(r Reason, pos int, format string, a ...any) error {
	return &BallotError{Reason: r, Pos: pos, Detail: fmt.Sprintf(format, a...)}
}

// Ranking is a preferential ballot for IRV and STV: candidate indexes, most
// preferred first. It may rank fewer than all candidates.
type Ranking []int

// CheckRanking reports whether r is a well-formed ranking of candidates
// 0..candidates-1: at least one candidate (ReasonEmpty), no more than
// candidates entries (ReasonWrongLength), every index in range
// (ReasonCandidateRange), no candidate twice (ReasonRepeatedCandidate),
// checked in that order. It returns nil or a *BallotError.
func CheckRanking(r Ranking, candidates int) error {
	if candidates <= 0 {
		return bad(ReasonNoCandidates, -1, "%d candidates", candidates)
	}
	if len(r) == 0 {
		return bad(ReasonEmpty, -1, "no candidate ranked")
	}
	if len(r) > candidates {
		return bad(ReasonWrongLength, candidates, "%d preferences, %d candidates", len(r), candidates)
	}
	for i, c := range r {
		if c < 0 || c >= candidates {
			return bad(ReasonCandidateRange, i, "preference %d is candidate %d, candidates are 0..%d", i+1, c, candidates-1)
		}
	}
	seen := make([]bool, candidates)
	for i, c := range r {
		if seen[c] {
			return bad(ReasonRepeatedCandidate, i, "candidate %d ranked twice (again at preference %d)", c, i+1)
		}
		seen[c] = true
	}
	return nil
}

// Ranks is a ballot giving each candidate a rank: Ranks[c] is 1 for the
// most preferred, 2 for the next, and 0 for a candidate left unranked
// (below every ranked one). len(Ranks) is the number of candidates.
type Ranks []int

// CheckRanks reports whether r is a well-formed rank ballot for the given
// number of candidates: one entry per candidate (ReasonWrongLength), each
// rank in 0..candidates (ReasonRankRange), at least one rank given
// (ReasonEmpty), and the ranks used are exactly 1..m for some m
// (ReasonRankGap). If ties is false no rank may be used twice
// (ReasonRepeatedRank). The checks are made in the order: length, range,
// repeated rank, empty, gap. It returns nil or a *BallotError.
func CheckRanks(r Ranks, candidates int, ties bool) error {
	if candidates <= 0 {
		return bad(ReasonNoCandidates, -1, "%d candidates", candidates)
	}
	if len(r) != candidates {
		return bad(ReasonWrongLength, -1, "%d ranks, %d candidates", len(r), candidates)
	}
	for c, k := range r {
		if k < 0 || k > candidates {
			return bad(ReasonRankRange, c, "candidate %d has rank %d, ranks are 0..%d", c, k, candidates)
		}
	}
	used := make([]int, candidates+1)
	maxRank := 0
	for c, k := range r {
		if k == 0 {
			continue
		}
		used[k]++
		if used[k] > 1 && !ties {
			return bad(ReasonRepeatedRank, c, "rank %d given twice (again to candidate %d)", k, c)
		}
		maxRank = max(maxRank, k)
	}
	if maxRank == 0 {
		return bad(ReasonEmpty, -1, "no candidate ranked")
	}
	for k := 1; k <= maxRank; k++ {
		if used[k] == 0 {
			return bad(ReasonRankGap, -1, "rank %d used but rank %d missing", maxRank, k)
		}
	}
	return nil
}

// RankingFromRanks checks r with CheckRanks (no ties) and returns the same
// preferences as a Ranking.
func RankingFromRanks(r Ranks, candidates int) (Ranking, error) {
	if err := CheckRanks(r, candidates, false); err != nil {
		return nil, err
	}
	m := 0
	for _, k := range r {
		m = max(m, k)
	}
	out := make(Ranking, m)
	for c, k := range r {
		if k > 0 {
			out[k-1] = c
		}
	}
	return out, nil
}

// RanksOf returns the Ranks of a well-formed Ranking (unranked candidates 0).
func RanksOf(r Ranking, candidates int) Ranks {
	out := make(Ranks, candidates)
	for i, c := range r {
		out[c] = i + 1
	}
	return out
}

// IRVBallot checks a decrypted IRV ballot given as a rank per candidate
// (1 first preference, 0 not ranked) and returns its Ranking: CheckRanks
// without ties, so a repeated rank, a gap or no rank at all makes the
// ballot invalid.
func IRVBallot(r Ranks, candidates int) (Ranking, error) {
	return RankingFromRanks(r, candidates)
}

// STVBallot checks a decrypted STV ballot given as a rank per candidate and
// returns the preferences that count, following the Scottish rules: the
// ballot needs exactly one first preference (ReasonNoFirst,
// ReasonRepeatedFirst) and ranks in 0..candidates (ReasonWrongLength,
// ReasonRankRange); after it, preferences count only "in consecutive
// order" (the Order's definition of the next available preference), so the
// ranking stops before the first rank that is missing or given to more than
// one candidate. {1, 2, 4} counts as {1, 2}; {1, 2, 2, 3} as {1}.
func STVBallot(r Ranks, candidates int) (Ranking, error) {
	if candidates <= 0 {
		return nil, bad(ReasonNoCandidates, -1, "%d candidates", candidates)
	}
	if len(r) != candidates {
		return nil, bad(ReasonWrongLength, -1, "%d ranks, %d candidates", len(r), candidates)
	}
	at := make([]int, candidates+1) // at[k]: candidate with rank k, -1 none, -2 several
	for k := range at {
		at[k] = -1
	}
	for c, k := range r {
		if k < 0 || k > candidates {
			return nil, bad(ReasonRankRange, c, "candidate %d has rank %d, ranks are 0..%d", c, k, candidates)
		}
		if k == 0 {
			continue
		}
		if at[k] == -1 {
			at[k] = c
		} else {
			at[k] = -2
		}
	}
	switch at[1] {
	case -1:
		return nil, bad(ReasonNoFirst, -1, "no first preference")
	case -2:
		return nil, bad(ReasonRepeatedFirst, -1, "first preference given to more than one candidate")
	}
	var out Ranking
	for k := 1; k <= candidates && at[k] >= 0; k++ {
		out = append(out, at[k])
	}
	return out, nil
}

// SchulzeBallot checks a decrypted Schulze ballot: CheckRanks with ties
// allowed (equal ranks for indifference, 0 for unranked, no gap).
func SchulzeBallot(r Ranks, candidates int) error { return CheckRanks(r, candidates, true) }

// MJBallot checks a decrypted majority-judgment ballot: CheckGrades.
func MJBallot(g Grades, candidates, grades int) error { return CheckGrades(g, candidates, grades) }

// Grades is a majority-judgment ballot: Grades[c] is the index of the grade
// given to candidate c in the caller's list of grades, 0 for the best.
type Grades []int

// CheckGrades reports whether g grades every one of the candidates
// (ReasonWrongLength) with a grade index in 0..grades-1 (ReasonGradeRange).
// It returns nil or a *BallotError.
func CheckGrades(g Grades, candidates, grades int) error {
	if candidates <= 0 {
		return bad(ReasonNoCandidates, -1, "%d candidates", candidates)
	}
	if len(g) != candidates {
		return bad(ReasonWrongLength, -1, "%d grades, %d candidates", len(g), candidates)
	}
	for c, x := range g {
		if x < 0 || x >= grades {
			return bad(ReasonGradeRange, c, "candidate %d has grade %d, grades are 0..%d", c, x, grades-1)
		}
	}
	return nil
}

// Lot is a permutation of the candidates drawn before the count, used as the
// last tie-break of every method: a candidate earlier in the lot is
// favoured (elected, transferred first, ranked higher; excluded last).
// A nil Lot means candidate index order (0 first).
type Lot []int

func (l Lot) positions(candidates int) ([]int, error) {
	pos := make([]int, candidates)
	if l == nil {
		for i := range pos {
			pos[i] = i
		}
		return pos, nil
	}
	if len(l) != candidates {
		return nil, fmt.Errorf("count: lot has %d candidates, contest has %d", len(l), candidates)
	}
	for i := range pos {
		pos[i] = -1
	}
	for i, c := range l {
		if c < 0 || c >= candidates || pos[c] >= 0 {
			return nil, fmt.Errorf("count: lot is not a permutation of 0..%d (entry %d is %d)", candidates-1, i, c)
		}
		pos[c] = i
	}
	return pos, nil
}

// LotFromSeed derives a Lot from a public seed: a Fisher–Yates shuffle of
// 0..candidates-1 whose j-th draw (for i from candidates-1 down to 1) is
// the first value u < (2^64 - 2^64 mod (i+1)) of the stream
// u_k = big-endian uint64 of SHA-256("evote/count/v1/lot" || seed || uint64be(k))[:8],
// k = 0, 1, …, taken modulo i+1; the candidate at i is swapped with it.
func LotFromSeed(seed []byte, candidates int) Lot {
	l := make(Lot, candidates)
	for i := range l {
		l[i] = i
	}
	var k uint64
	next := func() uint64 {
		h := sha256.New()
		h.Write([]byte("evote/count/v1/lot"))
		h.Write(seed)
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], k)
		h.Write(b[:])
		k++
		return binary.BigEndian.Uint64(h.Sum(nil)[:8])
	}
	for i := candidates - 1; i >= 1; i-- {
		n := uint64(i + 1)
		rem := (^uint64(0)%n + 1) % n // 2^64 mod n
		var u uint64
		for {
			u = next()
			if rem == 0 || u < -rem { // -rem is 2^64 - rem
				break
			}
		}
		j := int(u % n)
		l[i], l[j] = l[j], l[i]
	}
	return l
}

// TieBreak records how a tie was settled.
type TieBreak struct {
	Tied   []int  `json:"tied"`            // the tied candidates, in index order
	Rule   string `json:"rule"`            // "earlier-stage" or "lot" (the rule that settled it)
	Stage  int    `json:"stage,omitempty"` // for "earlier-stage": the stage (1-based) whose counts settled it
	Chosen int    `json:"chosen"`          // the candidate chosen
}

// breakTie chooses one of tied (index order). history[s][c] is candidate c's
// count at the end of stage s+1; the tie is at the end of the last stage.
// Going back from the stage before the last, at the most recent stage at
// which the still-tied candidates had unequal counts, only those with the
// lowest (lowest=true) or highest count stay tied; this repeats on earlier
// stages; whoever is left is settled by the lot (lowest: the one latest in
// the lot; else the one earliest).
func breakTie(tied []int, history [][]int64, lowest bool, lotPos []int) (int, *TieBreak) {
	tb := &TieBreak{Tied: append([]int(nil), tied...)}
	set := append([]int(nil), tied...)
	for s := len(history) - 2; s >= 0 && len(set) > 1; s-- {
		h := history[s]
		best := h[set[0]]
		equal := true
		for _, c := range set[1:] {
			if h[c] != best {
				equal = false
			}
			if (lowest && h[c] < best) || (!lowest && h[c] > best) {
				best = h[c]
			}
		}
		if equal {
			continue
		}
		var keep []int
		for _, c := range set {
			if h[c] == best {
				keep = append(keep, c)
			}
		}
		set = keep
		tb.Rule, tb.Stage = "earlier-stage", s+1
	}
	if len(set) > 1 {
		pick := set[0]
		for _, c := range set[1:] {
			if (lowest && lotPos[c] > lotPos[pick]) || (!lowest && lotPos[c] < lotPos[pick]) {
				pick = c
			}
		}
		set = []int{pick}
		tb.Rule, tb.Stage = "lot", 0
	}
	tb.Chosen = set[0]
	return set[0], tb
}
