package credential

import "github.com/evote/evote/crypto"

// MaxTotalWeight is the largest total weight of a roll: the sum of its
// credentials' weights. A selection's count is at most the total weight of
// the counted ballots, and the tally finds it with a bounded discrete
// logarithm whose bound is at most crypto.MaxDlogBound (2^40), so a roll
// that weighs more could give a count no one can decrypt.
const MaxTotalWeight = crypto.MaxDlogBound

// DefaultStyle is the id of the one implicit ballot style of an election
// that defines none (ballot.DefaultStyleID).
const DefaultStyle = "all"
