package chain

import "github.com/evote/evote/ballot"

// addToBatchRejection is the rejection of a cast whose contests could not be
// added to a batch: a ciphertext or proof that does not decode is an invalid
// proof of its contest (7), as when two contests' data are swapped; anything
// else is malformed (1).
func addToBatchRejection(err error) *pureResult {
	if ballot.IsProofError(err) {
		return &pureResult{err: txErr(CodeInvalidProof, "%v", err)}
	}
	return &pureResult{err: txErr(CodeMalformed, "ballot: %v", err)}
}
