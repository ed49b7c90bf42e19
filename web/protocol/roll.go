package protocol

// RollIndex is the answer of /api/elections/{id}/roll.
type RollIndex struct {
	Election string `json:"election"`
	// Header is the roll's binary header (docs/credentials.md §4.1), which
	// names the KDF parameters, the ballot styles and the total weight.
	Header   []byte `json:"header"`
	Complete bool   `json:"complete"`
	RollHash string `json:"roll_hash,omitempty"` // hex, once complete
	Count    int    `json:"count"`
	Weight   uint64 `json:"total_weight"`
	// Styles are the header's ballot styles, in order.
	Styles []string         `json:"styles"`
	Chunks []RollChunkEntry `json:"chunks"`
}

// RollChunkEntry is one loaded chunk of the roll: keys in hex.
type RollChunkEntry struct {
	Index uint64 `json:"index"`
	First string `json:"first"`
	Last  string `json:"last"`
	Hash  string `json:"hash"`
}
