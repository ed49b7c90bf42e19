package rules

// Read names one key of the state that a transaction reads.
type Read struct {
	Bucket string
	Key    []byte
}

// ElectionReads are the keys every transaction of election id reads, once
// per block: its record, its manifest and its running totals.
func ElectionReads(id string) []Read {
	return []Read{{BucketElection, []byte(id)}, {BucketManifest, []byte(id)}, {BucketTotals, []byte(id)}}
}

// BallotReads are the keys the execution of a ballot reads besides
// ElectionReads, known once its pure checks gave v: the credential's roll
// record and current ballot, and whether the ballot is already cast or
// audited. A re-vote then reads the replaced ballot too, which only the
// state names. A node whose store is across the network fetches these for a
// whole block in one request before executing it (chain's prefetch). The
// checks of ballot (voting.go) are the definition: TestBallotReads fails
// when ballot reads a key of the committed state that is not listed here.
func BallotReads(id string, v *Verified) []Read {
	return []Read{
		{BucketCred, Key(id, v.Credential)},
		{BucketBallot, Key(id, v.Hash[:])},
		{BucketAudited, Key(id, v.Hash[:])},
		{BucketCurrent, Key(id, v.Credential)},
	}
}
